#!/usr/bin/env bash
# Quick start, command one: installs the dependencies (Debian packages), builds the release
# binaries and starts the default market as local processes in the foreground (Ctrl-C stops it).
#
#   deploy/up.sh                                   # deploy/scenarios/default.yaml in ./run
#   deploy/up.sh deploy/scenarios/star.yaml        # another scenario
#   deploy/up.sh deploy/scenarios/mesh.yaml --detach   # in the background; `marketctl down`
#
# Each start is fresh: the run folder's journals and logs from an earlier start are replaced
# (`marketctl up --resume` continues from them instead). Arguments after the scenario go to
# `marketctl up` (see `marketctl up --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

scenario="${1:-deploy/scenarios/default.yaml}"
shift || true
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

deploy/install-deps.sh
deploy/install-web.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target marketctl exchanged validatord netproxy agentd monitord
marketctl=build/release/services/marketctl/marketctl
echo "operate it from another terminal: $marketctl status (see $marketctl --help)"
fresh=--fresh
for arg in "$@"; do [[ "$arg" == --resume ]] && fresh=; done
exec "$marketctl" up "$scenario" $fresh "$@"
