#!/usr/bin/env bash
# clang-tidy 14 with the checks in .clang-tidy (bugprone-* and cert-*, less the ones it disables
# and says why) over the project's sources: src/ (and the headers under src/ and include/ that
# they include), never tests/ or third_party/. Exits non-zero on any finding.
#   scripts/tidy.sh [-j N] [FILE...]   (default: every source file under src/, 2 jobs)
# The compile commands come from build-tidy/, configured here; only the generated schema headers
# are built. A whole run takes about 13 minutes on 2 cores; FILE... limits it to those files, e.g.
# the ones a change touches: scripts/tidy.sh $(git diff --name-only main -- 'src/*.cc')
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=2
if [ "${1:-}" = "-j" ]; then
  jobs=$2
  shift 2
fi

cmake -S . -B build-tidy -G Ninja -DTPUFLEET_TESTS=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
cmake --build build-tidy --target tpufleet_schemas >/dev/null

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=("$PWD/src/")
else
  for i in "${!files[@]}"; do files[i]=$(realpath "${files[i]}"); done
fi
log=build-tidy/tidy.log
start=$(date +%s)
run-clang-tidy-14 -p build-tidy -j "$jobs" -quiet "${files[@]}" >"$log" 2>&1 || true
findings=$(grep -c 'warning: \|error: ' "$log" || true)
echo "tidy: ${findings} findings in $(($(date +%s) - start)) s (${log})"
if [ "$findings" -ne 0 ]; then
  grep -A3 'warning: \|error: ' "$log" | head -100
  exit 1
fi
