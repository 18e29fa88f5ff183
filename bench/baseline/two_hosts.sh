#!/usr/bin/env bash
# Two hosts on one machine, for the figures of the two-host mode: TCP round trip (64 B) and throughput (64 KiB
# messages) from bench across a veth pair between two network namespaces, beside bench on loopback (locally and
# through bench serve), and beside sockperf (round trip) and iperf3 (throughput) across the same pair.
# Needs root, iperf3 and sockperf (apt-get install -y iperf3 sockperf). The server side is pinned to CPU 1 and
# the client side to CPU 0 everywhere (taskset), the placement of a local `--placement cross` run.
# iperf3 runs with and without -N: bench's tcp sets TCP_NODELAY, so `iperf3 -N` is the like-for-like figure
# (plain iperf3 leaves Nagle's algorithm on: 21% fewer bytes/s than with -N across veth on the 2-vCPU VM).
#
# usage: sudo bench/baseline/two_hosts.sh [BUILD_DIR=build] [SECONDS=1]
set -euo pipefail
build=$(realpath "${1:-build}")
secs=${2:-1}
bench=$build/bin/bench
py=/usr/bin/python3
A=bench-fig-srv B=bench-fig-cli SA=10.233.0.1 CB=10.233.0.2
out=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del $A 2>/dev/null || true
  ip netns del $B 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
ip netns add $A && ip netns add $B
ip link add bfa type veth peer name bfb
ip link set bfa netns $A && ip link set bfb netns $B
ip -n $A addr add $SA/24 dev bfa && ip -n $B addr add $CB/24 dev bfb
ip -n $A link set bfa up && ip -n $B link set bfb up && ip -n $A link set lo up && ip -n $B link set lo up

# bench: p50 round trip of 64 B and msgs/s x bytes of 64 KiB, medians of 3 repetitions
bench_run() {  # name, the --peer flag's value or "", then the command's prefix (namespace, taskset, bench)
  local name=$1 peer=$2; shift 2
  "$@" run ipc --transports tcp --models thread --sizes 64,64K --duration "${secs}s" --reps 3 --no-plot \
    ${peer:+--peer "$peer"} --out "$out/$name" >/dev/null 2>&1
  $py - "$out/$name/results.json" "$name" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
med = {(b["workload"], b["msg_bytes"]): b for b in d["benchmarks"] if b.get("aggregate_name") == "median"}
lat, thr = med[("latency", 64)], med[("throughput", 65536)]
print(f"{sys.argv[2]:<34} rtt p50 {lat['rtt_p50_ns']/1e3:7.1f} us   64 KiB stream {thr['bytes_per_s']*8/1e9:6.2f} Gbit/s")
PY
}
serve_in() {  # namespace ("" for this one), address; starts bench serve, sets $peer to its address
  local ns=$1 addr=$2 log=$out/serve-$RANDOM
  if [ -n "$ns" ]; then ip netns exec "$ns" taskset -c 1 "$bench" serve --listen "$addr:0" >"$log" 2>&1 &
  else taskset -c 1 "$bench" serve --listen "$addr:0" >"$log" 2>&1 & fi
  pids+=($!)
  for _ in $(seq 100); do grep -sqo 'listening on [0-9.:]*' "$log" && break; sleep 0.05; done
  peer=$(grep -o 'listening on [0-9.:]*' "$log" | cut -d' ' -f3)
}

echo "TCP, 2 vCPUs, server on CPU 1, client on CPU 0; ${secs}s per case"
bench_run "bench, loopback (one process)" "" taskset -c 0,1 "$bench"
serve_in "" 127.0.0.1
bench_run "bench --peer, loopback" "$peer" taskset -c 0 "$bench"
serve_in $A $SA
bench_run "bench --peer, veth" "$peer" ip netns exec $B taskset -c 0 "$bench"

# sockperf: ping-pong, 64 B, TCP. It prints half the round trip ("avg-lat"); doubled here. Its median is in
# the percentiles' table: "<50.000> observation".
ip netns exec $A taskset -c 1 sockperf sr --tcp -i $SA -p 11111 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
ip netns exec $B taskset -c 0 sockperf pp --tcp -i $SA -p 11111 -m 64 -t "$((secs * 5))" >"$out/sp" 2>&1 || true
p50=$(grep -E '<MEDIAN>|percentile 50.000' "$out/sp" | grep -oE '[0-9]+\.[0-9]+' | tail -1)
printf '%-34s rtt p50 %7.1f us   (sockperf reports half: %s us)\n' "sockperf ping-pong, veth" "$($py -c "print(2*$p50)")" "$p50"
taskset -c 1 sockperf sr --tcp -i 127.0.0.1 -p 11112 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
taskset -c 0 sockperf pp --tcp -i 127.0.0.1 -p 11112 -m 64 -t "$((secs * 5))" >"$out/sp2" 2>&1 || true
p50=$(grep -E '<MEDIAN>|percentile 50.000' "$out/sp2" | grep -oE '[0-9]+\.[0-9]+' | tail -1)
printf '%-34s rtt p50 %7.1f us   (sockperf reports half: %s us)\n' "sockperf ping-pong, loopback" "$($py -c "print(2*$p50)")" "$p50"

# iperf3: one TCP stream of 64 KiB writes, receiver's figure; with -N too (TCP_NODELAY, as bench's tcp sets it)
iperf_run() {  # label, port, namespace of the server ("" for this one), address, then the client's extra flags
  local label=$1 port=$2 ns=$3 addr=$4; shift 4
  local in_ns=()
  [ -n "$ns" ] && in_ns=(ip netns exec "$ns")
  "${in_ns[@]}" taskset -c 1 iperf3 -s -1 -B "$addr" -p "$port" >/dev/null 2>&1 &
  pids+=($!)
  sleep 0.5
  [ -n "$ns" ] && in_ns=(ip netns exec $B)
  "${in_ns[@]}" taskset -c 0 iperf3 -c "$addr" -p "$port" -l 64K -t "$((secs * 5))" "$@" -J >"$out/ip-$port" 2>/dev/null
  printf '%-34s                        64 KiB stream %6.2f Gbit/s\n' "$label" \
    "$($py -c "import json;print(json.load(open('$out/ip-$port'))['end']['sum_received']['bits_per_second']/1e9)")"
}
iperf_run "iperf3, veth" 5399 $A $SA
iperf_run "iperf3 -N, veth" 5397 $A $SA -N
iperf_run "iperf3, loopback" 5398 "" 127.0.0.1
iperf_run "iperf3 -N, loopback" 5396 "" 127.0.0.1 -N
