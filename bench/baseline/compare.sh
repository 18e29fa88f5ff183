#!/usr/bin/env bash
# Keeps the harness honest: bench's 64-byte round trip against a minimal hand-written C ping-pong
# (pingpong.c), same transport, same placement, same session. The issue's budget: agree within 15%.
#
# usage: bench/baseline/compare.sh [BUILD_DIR=build] [ROUNDS=5]
# Runs both alternately ROUNDS times (so drift hits both alike) and prints medians and the ratio.
set -euo pipefail
build=${1:-build}
rounds=${2:-5}
py=/usr/bin/python3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
declare -A base bench
for r in $(seq "$rounds"); do
  for t in pipe unix tcp; do
    b=$("$build/bin/pingpong_baseline" "$t" 64 0.5 0 1 | sed -E 's/.*median ([0-9]+) ns.*/\1/')
    base[$t]+="$b "
    "$build/bin/bench" run ipc --transports "$t" --models process --sizes 64 --duration 0.5s --reps 1 \
      --filter 'workload:latency.*pairs:1$' --no-plot --out "$out/$t-$r" >/dev/null 2>&1
    v=$($py -c "import json,sys; d=json.load(open(sys.argv[1])); print([b['rtt_p50_ns'] for b in d['benchmarks'] if b.get('run_type')=='iteration'][0])" "$out/$t-$r/results.json")
    bench[$t]+="$v "
  done
done
printf '%-6s %14s %14s %8s\n' transport "C ping-pong" "bench" "ratio"
for t in pipe unix tcp; do
  $py - "$t" ${base[$t]} -- ${bench[$t]} <<'PY'
import statistics, sys
t = sys.argv[1]; rest = sys.argv[2:]; i = rest.index('--')
b = statistics.median(map(float, rest[:i])); h = statistics.median(map(float, rest[i+1:]))
print(f"{t:<6} {b/1e3:11.1f} us {h/1e3:11.1f} us {h/b:8.2f}")
PY
done
echo "(medians of $rounds alternating rounds; bench uses a UNIX socket bound to a path, the C program a socketpair)"
