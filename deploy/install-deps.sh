#!/usr/bin/env bash
# Installs everything the project builds and tests with, from Debian 12 (bookworm) packages only.
# Idempotent: a second run installs nothing and takes a few seconds. Needs root or sudo.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps.sh: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi

# Catch2 v3 is only in bookworm-backports; everything else comes from bookworm itself.
BACKPORTS_LIST=/etc/apt/sources.list.d/bookworm-backports.list
BUILD_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang-format
  libboost1.81-dev libboost-program-options1.81-dev libboost-json1.81-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev libssl-dev libyaml-cpp-dev
  librapidcheck-dev libbenchmark-dev
  python3-grpcio python3-protobuf socat procps
)
BACKPORT_PACKAGES=(catch2)
# What only tests use: Debian's Chromium (the dashboard's browser test), prometheus (its
# promtool checks the metrics' names) and clang 16 with its libFuzzer and sanitizer runtimes (the
# fuzz preset: clang 14, bookworm's default, cannot compile libstdc++'s std::expected). The
# image's build needs none of them (NETMARKET_IMAGE=1 there).
if [ "${NETMARKET_IMAGE:-}" != "1" ]; then
  BUILD_PACKAGES+=(chromium prometheus clang-16 libclang-rt-16-dev)
fi

missing=()
for p in "${BUILD_PACKAGES[@]}" "${BACKPORT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# catch2 from bookworm itself is v2; we need v3 from backports.
if dpkg-query -W -f='${Version}' catch2 2>/dev/null | grep -q '^2\.'; then missing+=(catch2); fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all dependencies present"
  exit 0
fi
echo "install-deps.sh: installing ${missing[*]}"

if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo 'deb http://deb.debian.org/debian bookworm-backports main' | $SUDO tee "$BACKPORTS_LIST" >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${BUILD_PACKAGES[@]}"
$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports "${BACKPORT_PACKAGES[@]}"
echo "install-deps.sh: done"
