# netmarket's image: the six binaries (exchanged, netproxy, validatord, agentd, monitord,
# marketctl) on Debian 12, run as a non-root user. `docker build -t netmarket .`, then
# `docker run netmarket exchanged --help`.
#
# The builder installs the toolchain with deploy/install-deps.sh (a layer of its own, cached
# until that script changes) and compiles the release preset; the runtime stage has the stripped
# binaries and their shared libraries only. The base is debian:bookworm-slim, which
# `deploy/docker-engine.sh base-image` makes locally where no registry can be reached. Only the
# classic Dockerfile syntax is used, so `docker compose` (v2) and Debian's docker-compose (1.29)
# both build it.
FROM debian:bookworm-slim AS builder
COPY deploy/install-deps.sh /src/deploy/install-deps.sh
RUN NETMARKET_IMAGE=1 /src/deploy/install-deps.sh && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake --preset release -DNETMARKET_BENCHMARKS=OFF >/dev/null \
 && cmake --build --preset release -j "$(nproc)" \
      --target exchanged netproxy validatord agentd monitord marketctl \
 && mkdir /out \
 && for b in exchanged netproxy validatord agentd monitord marketctl; do \
      strip -o "/out/$b" "build/release/services/$b/$b"; \
    done

FROM debian:bookworm-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libspdlog1.10 libfmt9 libyaml-cpp0.7 \
      libboost-program-options1.81.0 libboost-json1.81.0 libssl3 zlib1g >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/*
# /market holds what every node of a compose market shares (accounts, addresses, epoch: written
# once by the setup service), /data a node's journal or write-ahead log. Both belong to the
# runtime user, so the named volumes mounted there do too.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home netmarket \
 && mkdir -p /market /data \
 && chown netmarket:netmarket /market /data
COPY --from=builder /out/ /usr/local/bin/
# The dashboard monitord serves (deploy/install-web.sh filled its lib/ on the host: npm does not
# run in the build).
COPY --from=builder /src/services/monitord/web/ /usr/local/share/netmarket/web/
COPY deploy/docker/entrypoint.sh /usr/local/bin/netmarket-entrypoint
USER netmarket
WORKDIR /data
ENTRYPOINT ["netmarket-entrypoint"]
CMD ["--help"]
