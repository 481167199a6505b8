#!/usr/bin/env bash
# The container test: the image built from the Dockerfile (the whole multi-stage build), a small
# market (tests/drills/market.yaml) brought up with docker-compose, trades committing, the
# Python example trading from outside through the published proxy port, a drill
# (tests/drills/containers-plan.yaml: three leader kills, a paused follower, a disconnected
# leader, a majorities-ring partition, a killed exchange) that `marketctl verify` must pass, and
# `compose down -v` leaving nothing behind.
#
#   tests/containers/compose_test.sh <marketctl binary>
#
# Starts a Docker engine through deploy/docker-engine.sh when none answers (and stops the one it
# started). Where no engine can start it says so in one line and exits 77 (CTest: skipped),
# unless CI=true, where the test is required and that is a failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
marketctl="$(realpath "$1")"
export NETMARKET_DOCKER=/usr/bin/docker
DOCKER=/usr/bin/docker
COMPOSE=/usr/bin/docker-compose

say() { echo "containers: $*"; }

engine_log="$(mktemp)"
if ! started="$("$repo/deploy/docker-engine.sh" start 2>"$engine_log")"; then
  why="$(tail -n 1 "$engine_log")"
  rm -f "$engine_log"
  if [ "${CI:-}" = "true" ]; then
    say "FAILED: no Docker engine could start, and CI=true requires this test ($why)"
    exit 1
  fi
  say "skipped: no Docker engine could start here ($why)"
  exit 77
fi
rm -f "$engine_log"

work="$(mktemp -d /tmp/netmarket-containers.XXXXXX)"
project="nmtest$$"
image="netmarket-test:$$"
compose_file="$work/docker-compose.yml"
cleanup() {
  local code=$?
  if [ -f "$compose_file" ]; then
    $COMPOSE -p "$project" -f "$compose_file" logs --no-color >"$work/compose.log" 2>&1 || true
    $COMPOSE -p "$project" -f "$compose_file" down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  if [ "$code" -ne 0 ] && [ -f "$work/compose.log" ]; then
    say "the containers' logs end:"
    tail -n 60 "$work/compose.log"
  fi
  $DOCKER image rm -f "$image" >/dev/null 2>&1 || true
  [ "$started" = "started" ] && "$repo/deploy/docker-engine.sh" stop
  rm -rf "$work"
}
trap cleanup EXIT

"$repo/deploy/docker-engine.sh" base-image
if [ -n "${NETMARKET_TEST_IMAGE:-}" ]; then
  # For a developer iterating on the test itself: an image built before (CI never sets this).
  say "using the image $NETMARKET_TEST_IMAGE instead of building one"
  $DOCKER tag "$NETMARKET_TEST_IMAGE" "$image"
else
  say "building the image (the whole multi-stage build)"
  build_start=$SECONDS
  DOCKER_BUILDKIT=1 $DOCKER build --quiet -t "$image" "$repo" >/dev/null
  say "image built in $((SECONDS - build_start)) s"
fi
say "image size: $($DOCKER image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}')"
$DOCKER run --rm "$image" exchanged --help | grep -q "Usage: exchanged"
if $DOCKER run --rm "$image" frobnicate 2>/dev/null; then
  say "FAILED: the entrypoint ran an unknown command"
  exit 1
fi
[ "$($DOCKER run --rm --entrypoint id "$image" -u)" != "0" ] || { say "FAILED: the image runs as root"; exit 1; }

"$marketctl" compose "$repo/tests/drills/market.yaml" -o "$compose_file" --base-port 0 \
  --image "$image" >/dev/null
up_start=$SECONDS
$COMPOSE -p "$project" -f "$compose_file" up -d --no-build --quiet-pull 2>"$work/up.log" || {
  cat "$work/up.log"
  exit 1
}
say "compose up: every service healthy in $((SECONDS - up_start)) s"

# Trades flow and commit: the ledger's committed batches, as they commit, until 20 trades.
# (awk's verdict only: the stream it leaves ends by SIGPIPE)
if ! (set +o pipefail; timeout 90 "$marketctl" ledger tail --follow --compose "$project" |
  awk '/^    trade / { if (++n == 20) exit 0 } END { exit n < 20 }'); then
  say "FAILED: fewer than 20 trades settled within 90 s"
  "$marketctl" status --compose "$project" || true
  exit 1
fi
say "20 trades committed to the ledger"
"$marketctl" status --compose "$project"

# The Python example, outside the compose network, through the published proxy port.
"$repo/examples/python/make-stubs.sh" "$work/stubs" >/dev/null
$COMPOSE -p "$project" -f "$compose_file" exec -T netproxy cat /market/accounts >"$work/accounts"
proxy="$($COMPOSE -p "$project" -f "$compose_file" port netproxy 7000)"
PYTHONPATH="$work/stubs" timeout 60 /usr/bin/python3 "$repo/examples/python/custom_agent.py" \
  --exchange ex-a:7000 --proxy "$proxy" --node custom --accounts "$work/accounts" \
  --symbol ACME --orders 3

# The drill, while the agents trade; verify's verdict is the exit code.
"$marketctl" drill "$repo/tests/drills/containers-plan.yaml" --compose "$project" \
  --record "$work/drill.yaml" --verify | tee "$work/report.txt"
grep -q "^verify: OK" "$work/report.txt"
grep -q "^  disconnect " "$work/report.txt"

$COMPOSE -p "$project" -f "$compose_file" down -v --remove-orphans >/dev/null 2>&1
left="$($DOCKER ps -aq --filter "label=com.docker.compose.project=$project")"
left+="$($DOCKER network ls -q --filter "label=com.docker.compose.project=$project")"
left+="$($DOCKER volume ls -q --filter "label=com.docker.compose.project=$project")"
if [ -n "$left" ]; then
  say "FAILED: compose down -v left containers, networks or volumes: $left"
  exit 1
fi
rm -f "$compose_file"
say "OK"
