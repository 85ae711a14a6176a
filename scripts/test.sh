#!/usr/bin/env bash
# Sets up the machine, builds tpufleet and runs the full test suite.
#   scripts/test.sh             the normal build, in build/
#   scripts/test.sh --sanitize  the same suite built with AddressSanitizer + UBSan, in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
cmake_args=()
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build-asan
  cmake_args+=(-DTPUFLEET_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi

scripts/bootstrap.sh
scripts/fetch_tflite.sh
cmake -S . -B "$build_dir" -G Ninja -DTPUFLEET_TESTS=ON "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j2
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$build_dir" -j2 --output-on-failure
