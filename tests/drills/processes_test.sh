#!/usr/bin/env bash
# A drill on local processes, then the checker: tests/drills/market.yaml started with
# `marketctl up`, three leader kills, a paused follower, a majorities-ring partition and a killed
# exchange while the agents trade, `marketctl drill --verify` (the checker's verdict is the exit
# code). Then the bad input: a plan with an unknown fault, and verify against a market that is down.
# Further arguments go to `marketctl up` (--tls: the same drill with every link mutual TLS).
#
#   tests/drills/processes_test.sh <marketctl binary> [up options]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
marketctl="$(realpath "$1")"
shift
run="$(mktemp -d /tmp/netmarket-drill.XXXXXX)"
cleanup() {
  "$marketctl" down --run "$run" >/dev/null 2>&1 || true
  rm -rf "$run"
}
trap cleanup EXIT
say() { echo "drill test: $*"; }

"$marketctl" up "$here/market.yaml" --detach --run "$run" "$@" >/dev/null
if [[ " $* " == *" --tls "* ]] && ! grep -q -- "--tls-dir=$run/tls" "$run/logs/val-0.log"; then
  say "FAILED: up --tls started a validator without its certificate"
  exit 1
fi
"$marketctl" drill --run "$run" --kill-leader 3 --pause-follower --ring --kill-exchange \
  --duration 2s --rest 1s --seed 11 --record "$run/drill.yaml" --verify | tee "$run/report.txt"
grep -q "^verify: OK" "$run/report.txt"
[ "$(grep -c "^  kill  *val-" "$run/report.txt")" -ge 3 ] || { say "FAILED: fewer than 3 kills"; exit 1; }
# Healed: nothing partitioned, nothing paused, every node running.
"$marketctl" status --run "$run" --interval 200 >"$run/status.txt"
grep -q "0 partitions" "$run/status.txt"
if grep -Eq "paused|exited|killed" "$run/status.txt"; then
  say "FAILED: the drill left something down"
  cat "$run/status.txt"
  exit 1
fi

printf 'faults:\n  - {fault: kil, target: leader}\n' >"$run/bad-plan.yaml"
if "$marketctl" drill "$run/bad-plan.yaml" --run "$run" 2>"$run/err.txt"; then
  say "FAILED: a plan with an unknown fault ran"
  exit 1
fi
grep -q "^marketctl drill: .*bad-plan.yaml:2: faults\[0\].fault: unknown fault 'kil'" "$run/err.txt"

"$marketctl" down --run "$run" >/dev/null
if "$marketctl" verify --run "$run" 2>"$run/err.txt"; then
  say "FAILED: verify passed on a market that is down"
  exit 1
fi
[ "$(wc -l <"$run/err.txt")" -eq 1 ] && grep -q "^marketctl verify: the market in .* is not running" "$run/err.txt"
say "OK"
