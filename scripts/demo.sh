#!/usr/bin/env bash
# Sets up the machine, builds tpufleet and runs its main job with no Edge TPU hardware:
# builds a synthetic MobileNet v1 from the model zoo and inspects it beside the real models.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build -j2 --target tpufleet

out=build/demo
mkdir -p "$out"
build/src/tpufleet zoo mobilenet_v1 --width 0.25 --resolution 128 -o "$out/mobilenet_v1_0.25_128.tflite"
models=("$out/mobilenet_v1_0.25_128.tflite")
shared=../shared/models
if [ -d "$shared" ]; then
  models+=("$shared/mobilenet_v1_0.25_128_quant_cocompiled_with_mobilenet_v1_0.5_160_quant_edgetpu.tflite"
           "$shared/mobilenet_v1_0.5_160_quant_cocompiled_with_mobilenet_v1_0.25_128_quant_edgetpu.tflite")
fi
build/src/tpufleet inspect "${models[@]}"
