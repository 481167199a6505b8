# Prometheus from Debian's package, for a compose market's optional `prometheus` profile
# (`docker compose --profile prometheus up`): it reads the scrape configuration that the market's
# setup service writes from the scenario into the market volume (prometheus.yml), and keeps its
# data in /prometheus. The base is the same debian:bookworm-slim as netmarket's image.
FROM debian:bookworm-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus \
      >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/* \
 && mkdir -p /prometheus \
 && chown prometheus:prometheus /prometheus
USER prometheus
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
