#!/usr/bin/env bash
# The test command: installs the dependencies (Debian packages), builds, and runs every test with
# CTest. PRESET=release (or asan) tests another build; the default is debug.
set -euo pipefail
cd "$(dirname "$0")/.."

preset="${PRESET:-debug}"
jobs="$(nproc)"

deploy/install-deps.sh
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$jobs"
ctest --preset "$preset" -j "$jobs"
