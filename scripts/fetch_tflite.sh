#!/usr/bin/env bash
# Fetches the TensorFlow Lite 2.9 C library (linux x86-64, Apache-2.0) that the npm package
# tfjs-tflite-node@0.0.2 ships, into third_party/tflite-2.9/{lib,include}. Tests use it as an
# independent implementation and benchmarks as the anchor. Idempotent: does nothing when present.
set -euo pipefail
cd "$(dirname "$0")/.."
target=third_party/tflite-2.9
if [ -f "$target/lib/libtensorflowlite_c.so" ] && [ -f "$target/include/tensorflow/lite/c/c_api.h" ]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetch_tflite: npm pack tfjs-tflite-node@0.0.2"
(cd "$work" && npm pack --silent tfjs-tflite-node@0.0.2 >/dev/null && tar xzf tfjs-tflite-node-0.0.2.tgz)
mkdir -p "$target/lib" "$target/include"
cp "$work/package/cc_deps/linux_amd64/libtensorflowlite_c.so" "$target/lib/"
cp -r "$work/package/cc_deps/include/tensorflow" "$target/include/"
cp "$work/package/LICENSE" "$target/" 2>/dev/null || true
echo "fetch_tflite: installed in $target"
