#!/usr/bin/env bash
# Sets up the machine, builds tpufleet and runs its main job with no Edge TPU hardware: Coral's
# two-model scenario on two simulated Edge TPUs, four ways; then a synthetic MobileNet from the
# zoo, inspected beside the real co-compiled pair; the simulator beside Coral's published
# timings; a two-model co-compile on a simulated Edge TPU; three real models on two images
# through the fleet; and a placement planned from request rates, then run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
cmake -S . -B build -G Ninja -DTPUFLEET_TESTS=OFF >/dev/null
cmake --build build -j2 --target tpufleet
tpufleet=build/src/tpufleet
shared=../shared

out=build/demo
mkdir -p "$out"
echo "== Coral's two-model scenario on two simulated Edge TPUs"
if [ -d "$shared/models" ]; then
  $tpufleet bench --model "$shared/models/mobilenet_v2_1.0_224_inat_bird_quant_edgetpu.tflite" \
    --model "$shared/models/ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite" -n 2000
else
  $tpufleet bench --model zoo:mobilenet_v2 --model zoo:inception_v1 -n 2000
fi
echo
echo "== A synthetic MobileNet v1 0.25/128 from the zoo"
$tpufleet zoo mobilenet_v1 --width 0.25 --resolution 128 -o "$out/mobilenet_v1_0.25_128.tflite"
models=("$out/mobilenet_v1_0.25_128.tflite")
if [ -d "$shared/models" ]; then
  models+=("$shared/models/mobilenet_v1_0.25_128_quant_cocompiled_with_mobilenet_v1_0.5_160_quant_edgetpu.tflite"
           "$shared/models/mobilenet_v1_0.5_160_quant_cocompiled_with_mobilenet_v1_0.25_128_quant_edgetpu.tflite")
fi
echo; echo "== tpufleet inspect"
$tpufleet inspect "${models[@]}"
echo; echo "== The simulator beside Coral's published timings"
$tpufleet simulate --calibration
echo; echo "== Two models co-compiled for one simulated Edge TPU with 2 MiB of parameter memory"
$tpufleet zoo mobilenet_v1 --width 0.5 --resolution 160 -o "$out/mobilenet_v1_0.5_160.tflite" >/dev/null
$tpufleet simulate "$out/mobilenet_v1_0.5_160.tflite" "$out/mobilenet_v1_0.25_128.tflite" --cocompile --sram 2097152
if [ -d "$shared/models" ]; then
  echo; echo "== Three real models on two images, 50 times each, on two simulated Edge TPUs"
  $tpufleet run "$shared/models/mobilenet_v2_1.0_224_quant_edgetpu.tflite" \
    "$shared/models/mobilenet_v2_1.0_224_inat_bird_quant_edgetpu.tflite" \
    "$shared/models/ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite@sim:1" \
    --input "$shared/images/cat.bmp" --input "$shared/images/bird.bmp" \
    --labels "$shared/labels/imagenet_labels.txt" --labels "$shared/labels/inat_bird_labels.txt" \
    --labels "$shared/labels/coco_labels.txt" --top 2 --count 50 --metrics table
fi
echo; echo "== A placement planned from request rates (one hot model, two cold), then run"
$tpufleet plan --model zoo:mobilenet_v2:300 --model zoo:inception_v1:20 --model zoo:mobilenet_v1:20 \
  -o "$out/plan.json"
if [ -d "$shared/images" ]; then
  $tpufleet run --plan "$out/plan.json" --input "$shared/images/cat.bmp" --count 100 --quiet \
    --metrics table
fi
