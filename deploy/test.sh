#!/usr/bin/env bash
# The test command: installs the dependencies (Debian packages), builds, and runs every test with
# CTest, then every fuzz target for FUZZ_SECONDS (10) each over its seed corpus and regression
# inputs (deploy/fuzz.sh; FUZZ_SECONDS=0 leaves that out). PRESET=release (or asan) tests another
# build; the default is debug.
set -euo pipefail
cd "$(dirname "$0")/.."

preset="${PRESET:-debug}"
# CI builds a fresh clone at a new path each time: make ccache entries independent of the path.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
jobs="$(nproc)"

deploy/install-deps.sh
deploy/install-web.sh
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$jobs"
ctest --preset "$preset" -j "$jobs"
if [ "${FUZZ_SECONDS:-10}" != "0" ]; then deploy/fuzz.sh --seconds "${FUZZ_SECONDS:-10}"; fi
