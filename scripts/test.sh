#!/usr/bin/env bash
# Sets up the machine, builds tpufleet and runs the full test suite.
#   scripts/test.sh             the normal build, in build/
#   scripts/test.sh --sanitize  the same suite built with clang, AddressSanitizer + UBSan, in build-asan/
#   scripts/test.sh --tsan      the same suite built with ThreadSanitizer, in build-tsan/
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=$(scripts/configure.sh "$@")
cmake --build "$build_dir" -j2
if [ $# -gt 0 ]; then
  echo "test.sh: the Python tests are skipped in sanitizer builds (an instrumented module does" \
       "not load into an uninstrumented python3); scripts/test.sh without options runs them"
fi
suppressions=$PWD/tests/tsan_suppressions.txt
if [ "${1:-}" = "--tsan" ]; then
  # Debian's abseil, under gRPC, is many small uninstrumented libraries; TSan takes one library
  # per called_from_lib line, so the daemon's own list of them is appended to the file's.
  suppressions=$PWD/$build_dir/tsan_suppressions.txt
  { cat tests/tsan_suppressions.txt
    ldd "$build_dir/src/tpufleet" | grep -o 'libabsl_[a-z0-9_]*\.so' | sort -u | sed 's/^/called_from_lib:/'
  } >"$suppressions"
fi
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  TSAN_OPTIONS=halt_on_error=1:suppressions=$suppressions \
  ctest --test-dir "$build_dir" -j2 --output-on-failure
