#!/usr/bin/env bash
# The container test: the image built from the Dockerfile (the whole multi-stage build), a small
# market (tests/drills/market.yaml) brought up with docker-compose and every link mutual TLS
# (`marketctl compose --tls`), trades committing, the
# monitor seeing every node up, the Python example trading from outside through the published
# proxy port,
# Prometheus (the compose file's `prometheus` profile, its own image) scraping every node, a drill
# (tests/drills/containers-plan.yaml: three leader kills, a paused follower, a disconnected
# leader, a majorities-ring partition, a killed exchange) that `marketctl verify` must pass, and
# `compose down -v` leaving nothing behind. Then the same market as a stack on a one-node swarm
# (`marketctl compose --swarm`, `docker stack deploy`): every service healthy, trades settling,
# the Python example trading through the proxy's published port, and nothing left after.
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

# Polls until `probe` succeeds, for at most $2 seconds; the state awaited is the engine's.
await() {
  local probe="$1" seconds="$2" deadline=$((SECONDS + $2))
  until eval "$probe"; do
    [ $SECONDS -lt $deadline ] || { say "FAILED: not within ${seconds} s: $probe"; return 1; }
    sleep 1
  done
}
# Waits until no container or network has the label (a removed stack goes down in the background).
wait_gone() {
  await "[ -z \"\$($DOCKER ps -aq --filter '$1')\$($DOCKER network ls -q --filter '$1')\" ]" 60
}

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
prometheus_image="netmarket-prometheus-test:$$"
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
  if [ -n "${stack:-}" ]; then
    $DOCKER stack rm "$stack" >/dev/null 2>&1 || true
    wait_gone "label=com.docker.stack.namespace=$stack" || true
    $DOCKER volume rm $($DOCKER volume ls -q --filter "label=com.docker.stack.namespace=$stack") \
      >/dev/null 2>&1 || true
  fi
  [ "${swarm_started:-}" = "yes" ] && $DOCKER swarm leave --force >/dev/null 2>&1
  $DOCKER image rm -f "$image" "$prometheus_image" >/dev/null 2>&1 || true
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
build_start=$SECONDS
$DOCKER build --quiet -t "$prometheus_image" -f "$repo/deploy/docker/prometheus.Dockerfile" \
  "$repo/deploy/docker" >/dev/null
say "Prometheus's image built in $((SECONDS - build_start)) s"
$DOCKER run --rm "$image" exchanged --help | grep -q "Usage: exchanged"
if $DOCKER run --rm "$image" frobnicate 2>/dev/null; then
  say "FAILED: the entrypoint ran an unknown command"
  exit 1
fi
[ "$($DOCKER run --rm --entrypoint id "$image" -u)" != "0" ] || { say "FAILED: the image runs as root"; exit 1; }

# With mutual TLS on every link (the swarm below runs without).
"$marketctl" compose "$repo/tests/drills/market.yaml" -o "$compose_file" --base-port 0 --tls \
  --image "$image" --prometheus-image "$prometheus_image" >/dev/null
up_start=$SECONDS
$COMPOSE -p "$project" -f "$compose_file" --profile prometheus up -d --no-build --quiet-pull \
  2>"$work/up.log" || {
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

# The monitor finds every node by its name on the compose network, and sees each up.
monitor="$($COMPOSE -p "$project" -f "$compose_file" port monitor 7001)"
monitor_sees_all() {
  /usr/bin/python3 -c '
import json, sys, urllib.request
nodes = json.load(urllib.request.urlopen("http://" + sys.argv[1] + "/api/state", timeout=2))["nodes"]
sys.exit(0 if nodes and all(n["up"] for n in nodes) else 1)' "$monitor" 2>/dev/null
}
await monitor_sees_all 30
say "monitor: every node up in its /api/state"

# Prometheus scrapes every node by its service name, with what the setup service wrote.
prometheus="$($COMPOSE -p "$project" -f "$compose_file" port prometheus 9090)"
# Every node's container has a health check; the setup and Prometheus have none.
nodes="$($DOCKER ps -q --filter "label=com.docker.compose.project=$project" --filter health=healthy | wc -l)"
prometheus_sees_all() {
  /usr/bin/python3 -c '
import json, sys, urllib.request
url = "http://" + sys.argv[1] + "/api/v1/targets?state=active"
active = json.load(urllib.request.urlopen(url, timeout=2))["data"]["activeTargets"]
jobs = {t["labels"]["job"] for t in active}
sys.exit(0 if len(active) == int(sys.argv[2]) and all(t["health"] == "up" for t in active) and
         jobs == {"exchange", "validator", "agent", "proxy", "monitor"} else 1)' \
    "$prometheus" "$nodes" 2>/dev/null
}
await prometheus_sees_all 60
say "prometheus: all $nodes nodes' targets up"

# The Python example, outside the compose network, through the published proxy port.
"$repo/examples/python/make-stubs.sh" "$work/stubs" >/dev/null
$COMPOSE -p "$project" -f "$compose_file" exec -T netproxy cat /market/accounts >"$work/accounts"
mkdir -p "$work/tls"
for leaf in ca.pem custom.pem custom.key; do
  $COMPOSE -p "$project" -f "$compose_file" exec -T netproxy cat "/market/tls/$leaf" >"$work/tls/$leaf"
done
proxy="$($COMPOSE -p "$project" -f "$compose_file" port netproxy 7000)"
PYTHONPATH="$work/stubs" timeout 60 /usr/bin/python3 "$repo/examples/python/custom_agent.py" \
  --exchange ex-a:7000 --proxy "$proxy" --node custom --accounts "$work/accounts" \
  --symbol ACME --orders 3 --tls-dir "$work/tls"

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
say "compose: OK"

# Beyond one machine: the same market as a stack on a one-node swarm.
if [ "$($DOCKER info --format '{{.Swarm.LocalNodeState}}')" != "active" ]; then
  $DOCKER swarm init --advertise-addr 127.0.0.1 >/dev/null
  swarm_started=yes
fi
stack="nmstack$$"
"$marketctl" compose "$repo/tests/drills/market.yaml" --swarm -o "$work/stack.yml" --base-port 0 \
  --image "$image" --market-dir "$work/market" >/dev/null 2>&1
# This one host holds every pinned node: the labels its placement constraints ask for.
labels=()
for label in $(grep -o 'node\.labels\.netmarket\.[a-z0-9-]*' "$work/stack.yml" | sort -u); do
  labels+=(--label-add "${label#node.labels.}=true")
done
$DOCKER node update "${labels[@]}" "$($DOCKER info --format '{{.Swarm.NodeID}}')" >/dev/null
deploy_start=$SECONDS
$DOCKER stack deploy -c "$work/stack.yml" "$stack" >/dev/null
services="$($DOCKER stack services -q "$stack" | wc -l)"
await "[ \"\$($DOCKER ps -q --filter label=com.docker.stack.namespace=$stack --filter health=healthy | wc -l)\" -eq $services ]" 180
say "swarm: $services services healthy in $((SECONDS - deploy_start)) s"
validator="$($DOCKER ps -q --filter "label=com.docker.swarm.service.name=${stack}_val-0")"
settled() {
  $DOCKER exec "$validator" marketctl probe val-1:7000 --ledger 2>/dev/null |
    sed -n 's/.* \([0-9][0-9]*\) trades settled/\1/p'
}
await '[ "$(settled)" -ge 20 ] 2>/dev/null' 90
say "swarm: $(settled) trades settled"
proxy_container="$($DOCKER ps -q --filter "label=com.docker.swarm.service.name=${stack}_netproxy")"
proxy="$($DOCKER port "$proxy_container" 7000 | sed -n 1p)"  # (sed reads it all: no SIGPIPE)
PYTHONPATH="$work/stubs" timeout 60 /usr/bin/python3 "$repo/examples/python/custom_agent.py" \
  --exchange ex-a:7000 --proxy "$proxy" --node custom --accounts "$work/market/accounts" \
  --symbol ACME --orders 2
$DOCKER stack rm "$stack" >/dev/null
wait_gone "label=com.docker.stack.namespace=$stack"
$DOCKER volume rm $($DOCKER volume ls -q --filter "label=com.docker.stack.namespace=$stack") >/dev/null
left="$($DOCKER volume ls -q --filter "label=com.docker.stack.namespace=$stack")"
[ -z "$left" ] || { say "FAILED: the stack left volumes: $left"; exit 1; }
stack=""
say "swarm: OK"
say "OK"
