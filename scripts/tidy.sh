#!/usr/bin/env bash
# clang-tidy 14 with the checks in .clang-tidy (bugprone-* and cert-*, less the ones it disables
# and says why) over the project's sources: src/ and the headers under src/ and include/ that
# they include, never tests/ or third_party/. Exits non-zero on any finding.
#   scripts/tidy.sh [-j N] [FILE...]   (default: every source file under src/, 2 jobs)
# The compile commands come from build-tidy/, a clang unity build configured here (only the
# generated sources are built: the model schema, the gRPC messages). A whole run reads the unity
# batches, so the shared headers are parsed once per batch rather than once per file (about 5
# minutes on 2 cores); bugprone-suspicious-include is off for it, since a batch is nothing but
# includes of .cc files. FILE... checks only those files, e.g. the ones a change touches:
#   scripts/tidy.sh $(git diff --name-only main -- 'src/*.cc')
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=2
if [ "${1:-}" = "-j" ]; then
  jobs=$2
  shift 2
fi

CC=clang CXX=clang++ cmake -S . -B build-tidy -G Ninja -DTPUFLEET_TESTS=OFF -DTPUFLEET_PYTHON=OFF \
  -DCMAKE_UNITY_BUILD=ON -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
cmake --build build-tidy --target tpufleet_schemas tpufleet_grpc_generated >/dev/null

log=build-tidy/tidy.log
start=$SECONDS
if [ $# -eq 0 ]; then
  # Every batch of src/'s targets (a generated file left out of every batch is not the
  # project's); .clang-tidy's header filter reports what is found in the sources they include.
  run-clang-tidy-14 -p build-tidy -j "$jobs" -quiet -checks=-bugprone-suspicious-include \
    "$PWD/build-tidy/src/CMakeFiles/.*/Unity/" >"$log" 2>&1 || true
else
  # Files that are not in the compile commands get those of their neighbours.
  printf '%s\0' "$@" | xargs -0 -n 1 -P "$jobs" clang-tidy-14 -p build-tidy --quiet \
    >"$log" 2>&1 || true
fi
findings=$(grep -c 'warning: \|error: ' "$log" || true)
echo "tidy: ${findings} findings in $((SECONDS - start)) s (${log})"
if [ "$findings" -ne 0 ]; then
  grep -A3 'warning: \|error: ' "$log" | head -100
  exit 1
fi
