#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this): install what is missing, build in Release
# and run every test, then build with AddressSanitizer + UndefinedBehaviorSanitizer and run the C++ tests again,
# then fuzz every decoder for a few seconds (libFuzzer, clang-14).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
.ci/install-deps
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBENCH_PYTHON=/usr/bin/python3
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j 1

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBENCH_SANITIZE=ON -DBENCH_PYTHON=/usr/bin/python3
cmake --build build-asan -j "$jobs"
# The chart, report and compare scripts do not change with the C++ build: they ran above.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j 1 -E '^plots'

# libFuzzer on every serializer's decoder, 5 s each from a seed corpus of valid messages, in its own clang-14
# build (build-fuzz/, ignored like every build folder). On the 2-vCPU development VM this step took 172 s, about
# 135 s of it the clang build. A crash, a sanitizer report, a hang or a runaway allocation fails CI (exit 1);
# the input that did it is kept under build-fuzz/fuzz-artifacts/.
tests/serializers/run_fuzz.sh 5 build-fuzz
echo "all tests passed (Release, AddressSanitizer + UndefinedBehaviorSanitizer, and 5 s of fuzzing per decoder)"
