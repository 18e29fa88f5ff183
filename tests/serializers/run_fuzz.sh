#!/bin/bash
# Builds the decoders' libFuzzer targets with clang-14 (AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# each for a few seconds from a seed corpus of valid messages.
#
#   tests/serializers/run_fuzz.sh [SECONDS_PER_TARGET (default 10)] [BUILD_DIR (default build-fuzz)]
#
# Needs clang-14 and libclang-rt-14-dev (Debian packages). Exit status 0 when every target ran clean, 1 when one
# found a crash (the input is kept under BUILD_DIR/fuzz-artifacts/), 2 for bad usage or a missing compiler.
set -euo pipefail

seconds=${1:-10}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-build-fuzz}
[[ "$build" = /* ]] || build="$root/$build"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "run_fuzz.sh: SECONDS_PER_TARGET must be a positive whole number, not '$seconds'" >&2
  exit 2
fi
for tool in clang-14 clang++-14 cmake ninja; do
  if ! command -v "$tool" >/dev/null; then
    echo "run_fuzz.sh: $tool not found (apt-get install clang-14 libclang-rt-14-dev cmake ninja-build)" >&2
    exit 2
  fi
done

mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_CXX_COMPILER=clang++-14 -DBENCH_FUZZ=ON -DBENCH_SANITIZE=ON >"$build/configure.log" 2>&1 ||
  { echo "run_fuzz.sh: cmake failed, see $build/configure.log" >&2; exit 2; }
nice -n 10 ninja -C "$build" -j2 fuzz_decode
fuzz="$build/tests/serializers/fuzz_decode"

status=0
mkdir -p "$build/fuzz-artifacts"
for s in $(BENCH_FUZZ_LIST=1 "$fuzz"); do  # the registry's names, from the binary itself
  corpus="$build/fuzz-corpus/$s"
  mkdir -p "$corpus"
  BENCH_FUZZ_WRITE_SEEDS="$corpus" BENCH_FUZZ_SERIALIZER="$s" "$fuzz"
  log="$build/fuzz-artifacts/$s.log"
  # -rss_limit_mb: a decoder that allocates far beyond its input is a finding too; -timeout: so is one that hangs.
  if BENCH_FUZZ_SERIALIZER="$s" "$fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
       -max_len=65536 -artifact_prefix="$build/fuzz-artifacts/$s-" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
    echo "$s: clean, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') inputs in ${seconds} s"
  else
    echo "$s: FAILED (see $log):" >&2
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -5 >&2 || tail -5 "$log" >&2
    status=1
  fi
done
exit $status
