#!/usr/bin/env bash
# Sets up the machine, builds tpufleet and runs the full test suite.
#   scripts/test.sh             the normal build, in build/
#   scripts/test.sh --sanitize  the same suite built with AddressSanitizer + UBSan, in build-asan/
#   scripts/test.sh --tsan      the same suite built with ThreadSanitizer, in build-tsan/
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
cmake_args=()
case "${1:-}" in
  --sanitize)
    build_dir=build-asan
    cmake_args+=(-DTPUFLEET_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
    ;;
  --tsan)
    build_dir=build-tsan
    cmake_args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS=-fsanitize=thread"
                 "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread")
    ;;
esac

scripts/bootstrap.sh
scripts/fetch_tflite.sh
cmake -S . -B "$build_dir" -G Ninja -DTPUFLEET_TESTS=ON "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j2
if [ ${#cmake_args[@]} -gt 0 ]; then
  echo "test.sh: the Python tests are skipped in sanitizer builds (an instrumented module does" \
       "not load into an uninstrumented python3); scripts/test.sh without options runs them"
fi
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 TSAN_OPTIONS=halt_on_error=1 \
  ctest --test-dir "$build_dir" -j2 --output-on-failure
