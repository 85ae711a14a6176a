#!/usr/bin/env bash
# Installs what the build needs (scripts/bootstrap.sh, scripts/fetch_tflite.sh), configures one
# of the three builds and prints its folder on standard output (everything else goes to stderr).
#   scripts/configure.sh             the normal build (RelWithDebInfo, gcc), in build/
#   scripts/configure.sh --sanitize  clang with AddressSanitizer + UBSan and libFuzzer's coverage,
#                                    in build-asan/: the suite and the fuzz targets share it
#   scripts/configure.sh --tsan      ThreadSanitizer, in build-tsan/
# Sanitizer builds keep line tables only (-g1): their reports need file and line, nothing more,
# and full debug information costs a quarter of their compile time.
# Every build is a unity build (CMake compiles a target's sources in batches of 8), which makes
# a clean build about two and a half times faster: each batch parses the heavy headers
# (nlohmann/json, fmt, GoogleTest) once. TPUFLEET_UNITY_BUILD=OFF in the environment turns it off
# for a folder you rebuild often, where one changed file should cost one file's compile.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
compilers=()
cmake_args=(-DCMAKE_UNITY_BUILD="${TPUFLEET_UNITY_BUILD:-ON}")
case "${1:-}" in
  "") ;;
  --sanitize)
    build_dir=build-asan
    compilers=(CC=clang CXX=clang++)
    cmake_args+=(-DTPUFLEET_SANITIZE=ON -DTPUFLEET_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
                 "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
                 "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
    ;;
  --tsan)
    build_dir=build-tsan
    cmake_args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS=-fsanitize=thread"
                 "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread"
                 "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
    ;;
  *)
    echo "usage: scripts/configure.sh [--sanitize | --tsan]" >&2
    exit 2
    ;;
esac

scripts/bootstrap.sh >&2
scripts/fetch_tflite.sh >&2
env "${compilers[@]}" cmake -S . -B "$build_dir" -G Ninja -DTPUFLEET_TESTS=ON "${cmake_args[@]}" >&2
echo "$build_dir"
