#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang 16 with ASan and UBSan) and runs each for
# a bounded time over its seed corpus (`fuzz/corpus/<target>` beside its source, regression inputs
# included), then prints what each did. Exit 1 when a target crashed; the input that did it is in
# build/fuzz/runs/<target>/, to be kept as a regression input once fixed.
#
#   deploy/fuzz.sh [--seconds N] [target...]     N seconds per target (default 60)
#
# New inputs a run finds stay in build/fuzz/runs/<target>/corpus (to merge into the seed corpus
# by hand: <binary> -merge=1 <seed dir> <run dir>).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done

export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
command -v clang++-16 >/dev/null || deploy/install-deps.sh
mkdir -p build
# Two runs at once (say, two halves of the targets on two cores) build one at a time.
(
  flock 9
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$(nproc)"
) 9>build/fuzz.lock

list=build/fuzz/fuzz-targets.txt
runs=build/fuzz/runs
failed=0
printf '%-20s %8s %12s %10s %8s %8s %8s  %s\n' target seconds executions "per s" cov features corpus result
while read -r name binary corpus; do
  [ -n "$name" ] || continue
  if [ ${#targets[@]} -gt 0 ] && [[ ! " ${targets[*]} " =~ " $name " ]]; then continue; fi
  run="$runs/$name"
  mkdir -p "$run/corpus"
  log="$run/log"
  status=0
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$run/" "$run/corpus" "$corpus" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  rate=$(( ${execs:-0} / (seconds > 0 ? seconds : 1) ))
  result=ok
  if [ "$status" -ne 0 ]; then
    artifact=$(find "$run" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' \) -print -quit)
    result="CRASH (exit $status): ${artifact:-no artifact, see $log}"
    failed=1
  fi
  printf '%-20s %8s %12s %10s %8s %8s %8s  %s\n' "$name" "$seconds" "${execs:-?}" "$rate" \
      "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
  if [ "$status" -ne 0 ]; then
    grep -m 20 -E 'invariant|ERROR|SUMMARY|#[0-9]+ 0x' "$log" | sed 's/^/    /' || true
  fi
done <"$list"
exit "$failed"
