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
exclude=()
if [ "${1:-}" = "--tsan" ]; then
  # Known open problem: the daemon with --grpc under TSan reports races inside Debian's
  # uninstrumented gRPC and abseil libraries and exits; not yet told apart from races of ours.
  echo "test.sh: ServeTest.Grpc and ServeTest.ScaleOutBehindNginx (the daemon with --grpc) are" \
       "not run under TSan: it reports races inside Debian's uninstrumented gRPC libraries"
  exclude=(-E 'ServeTest\.(Grpc|ScaleOutBehindNginx)')
fi
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  TSAN_OPTIONS=halt_on_error=1:suppressions=$PWD/tests/tsan_suppressions.txt \
  ctest --test-dir "$build_dir" -j2 --output-on-failure "${exclude[@]}"
