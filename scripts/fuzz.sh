#!/usr/bin/env bash
# Builds the libFuzzer targets in the clang + ASan/UBSan build (build-asan/, the one
# scripts/test.sh --sanitize tests) and runs each for a while.
#   scripts/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]
# SECONDS_PER_TARGET defaults to 60 (the targets after the package parser get half); naming
# targets runs only those, e.g. scripts/fuzz.sh 600 model_fuzzer sim_fuzzer for a longer run.
# Targets: the model loader, the CPU backend past it (prepare and invoke), the simulator's
# compiler and timing, the Edge TPU package parser, device strings, configuration parsers, the
# daemon's request decoders (KServe v2 bodies, DeepStack forms and uploaded images).
# Seeds: the models of ../shared/models and the zoo's architectures at their smallest, up to
# 1 MiB each, the hostile models in tests/fixtures/hostile, the Edge TPU packages of all of
# them, device strings, and configuration texts (plans, traces, topologies, Edge TPU options).
# Crashes are saved in build-asan/. Prints each target's executions per second and total
# executions at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
chosen=("${@:2}")

# The ASan + UBSan build of scripts/test.sh --sanitize: after it, only the fuzz targets are left.
build_dir=$(scripts/configure.sh --sanitize)
cmake --build "$build_dir" -j2 --target model_fuzzer interpreter_fuzzer sim_fuzzer \
  edgetpu_package_fuzzer selector_fuzzer config_fuzzer channel_fuzzer infer_request_fuzzer \
  detection_form_fuzzer grpc_request_fuzzer write_package_seeds tpufleet

corpus=$build_dir/corpus
mkdir -p "$corpus/model" "$corpus/package" "$corpus/selector" "$corpus/config" "$corpus/channel" \
  "$corpus/infer" "$corpus/detection" "$corpus/grpc"
# gRPC seeds: ModelInferRequests for the fuzzer's two-input model, raw and typed.
encode() { protoc --encode=inference.ModelInferRequest -I proto kserve/grpc_service.proto; }
printf '%s' 'model_name: "fuzz" inputs { name: "a" datatype: "UINT8" shape: [1, 4] }
  inputs { name: "b" datatype: "FP32" shape: 2 } raw_input_contents: "\001\002\003\004"
  raw_input_contents: "\000\000\200?\000\000\000@" parameters { key: "timeout"
  value { int64_param: 1000 } }' | encode > "$corpus/grpc/raw"
printf '%s' 'id: "x" inputs { name: "a" datatype: "UINT8" shape: [1, 4]
  contents { uint_contents: [1, 2, 3, 255] } } inputs { name: "b" datatype: "FP32" shape: 2
  contents { fp32_contents: [0.5, -1] } } outputs { name: "b_same" }' | encode > "$corpus/grpc/typed"
for s in usb pci :0 usb:1 pci:0 "#0" usb#1 cpu sim:3 usb@2-1.3 pci@/dev/apex_0 USB m.tflite@usb@2-1; do
  printf "%s" "$s" > "$corpus/selector/$(printf "%s" "$s" | md5sum | cut -c1-8)"
done
# Configuration seeds: the first byte picks the parser (0 plan, 1 trace, 2 topology, 3 options).
printf '\0{"models": [{"model": "a.tflite", "rate": 10}], "devices": ["sim:0"], "topology": null, "units": [{"models": ["a.tflite"], "devices": ["sim:0"]}]}' > "$corpus/config/plan"
printf '\1time,model\n0.001,a.tflite\n0.002,1\n# note\n0.5,zoo:b\n' > "$corpus/config/trace"
printf '\2{"devices": [{"link": "usb2", "bus": 3, "faults": {"disconnect_after": 4, "recover_after_probes": 2}}, {}]}' > "$corpus/config/topology"
printf '\3Performance=High,Usb.AlwaysDfu=False,Usb.MaxBulkInQueueLength=32' > "$corpus/config/options"
# Channel seeds: what a well-behaved child answers (backends/isolation/channel.h), in the channel
# fuzzer's framing: shared memory size (2 bytes), where the inputs end (2), outputs (1), then
# packets: descriptors (1), length (2), a header (kind 4, code 4, id 8, count 8, seconds 8) and
# a payload.
le() {  # le BYTES VALUE: VALUE as BYTES little-endian bytes, escaped for printf
  local i
  for ((i = 0; i < $1; i++)); do printf '\\x%02x' $((($2 >> (8 * i)) & 255)); done
}
packet() {  # packet FDS KIND CODE COUNT SECONDS_BITS PAYLOAD_BYTES PAYLOAD_ESCAPED
  le 1 "$1"
  le 2 $((32 + $6))
  le 4 "$2"; le 4 "$3"; le 8 0; le 8 "$4"; le 8 "$5"
  printf '%s' "$7"
}
frame="$(le 2 4096)$(le 2 64)$(le 1 2)"
quarter=$((0x3fd0000000000000))  # 0.25 s
sizes="$(le 8 16)$(le 8 8)"
# shellcheck disable=SC2059
{
  printf "$frame$(packet 0 1 0 0 0 0 '')" >"$corpus/channel/opened"
  printf "$frame$(packet 0 1 5 0 0 9 'in use by')" >"$corpus/channel/open_failed"
  printf "$frame$(packet 0 5 0 0 0 0 '')$(packet 0 5 0 0 $quarter 16 "$sizes")" >"$corpus/channel/run"
  printf "$frame$(packet 0 5 6 100000 0 4 'more')" >"$corpus/channel/grow"
  printf "$frame$(packet 1 2 0 4096 0 0 '')" >"$corpus/channel/with_fd"
}
# Inference request seeds: the header length (2 bytes, little-endian; ff ff: none), then the
# body: JSON tensors, nested JSON, and a binary tensor after its JSON header.
json_a='{"id": "s", "parameters": {"timeout": 5000, "priority": 1}, "inputs": [{"name": "a", "shape": [1, 4], "datatype": "UINT8", "data": [1, 2, 3, 4]}, {"name": "b", "shape": [2], "datatype": "FP32", "data": [0.5, -2]}], "outputs": [{"name": "b_same", "parameters": {"binary_data": true}}]}'
printf '\xff\xff%s' "$json_a" >"$corpus/infer/json"
printf '\xff\xff%s' '{"inputs": [{"name": "a", "shape": [1, 4], "datatype": "UINT8", "data": [[1, 2, 3, 4]]}, {"name": "b", "shape": [2], "datatype": "FP32", "data": [[1], [2]]}]}' >"$corpus/infer/nested"
binary_header='{"inputs": [{"name": "a", "shape": [1, 4], "datatype": "UINT8", "parameters": {"binary_data_size": 4}}, {"name": "b", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}}], "parameters": {"binary_data_output": true}}'
# shellcheck disable=SC2059
printf "$(le 2 ${#binary_header})%s\x01\x02\x03\x04\x00\x00\x80\x3f\x00\x00\x00\x40" "$binary_header" \
  >"$corpus/infer/binary"
# Detection seeds: the length of min_confidence (1 byte), its text, then an image file.
for image in ../shared/images/cat.bmp ../shared/images/kite_and_cold.jpg; do
  if [ -f "$image" ]; then { printf '\x03%s' "0.5"; cat "$image"; } >"$corpus/detection/$(basename "$image")"; fi
done
printf '\x04%s' "high" >"$corpus/detection/bad_confidence"
if [ -d ../shared/models ]; then cp -f ../shared/models/*.tflite "$corpus/model/"; fi
cp -f tests/fixtures/hostile/*.tflite "$corpus/model/"
# Every zoo architecture at its smallest of 32x32 or 96x96 with 10 classes where it has classes
# (and width 0.25 where it has one), so most fit the interpreter target's budget.
zoo=$build_dir/src/tpufleet
for arch in $($zoo zoo --list --json | sed -n 's/.*"name": "\([^"]*\)".*/\1/p'); do
  for dtype in uint8 int8; do
    out="$corpus/model/zoo_${arch}_${dtype}.tflite"
    for size in "--width 0.25 --resolution 32" "--resolution 32" "--width 0.25 --resolution 96" \
      "--resolution 96"; do
      # shellcheck disable=SC2086
      $zoo zoo "$arch" $size --classes 10 --dtype "$dtype" -o "$out" >/dev/null 2>&1 && break
      # shellcheck disable=SC2086
      $zoo zoo "$arch" $size --dtype "$dtype" -o "$out" >/dev/null 2>&1 && break
    done
  done
done
"$build_dir"/tests/write_package_seeds "$corpus/package" "$corpus"/model/*.tflite
# Seeds over the length limit would reach the targets truncated, and large seeds take most of a
# short run: the model targets see inputs up to 1 MiB, so larger models (the big real ones and
# the zoo's largest architectures) stay out; their operators appear in the smaller ones.
max_len=1048576
find "$corpus/model" -type f -size +"$((max_len / 1024))"k -delete

cd "$build_dir"
# run TARGET SECONDS CORPUS [FLAGS]: fuzzes, then prints "TARGET: N executions, M/s".
run() {
  local target=$1 seconds=$2 dir=$3
  shift 3
  if [ ${#chosen[@]} -gt 0 ] && [[ " ${chosen[*]} " != *" $target "* ]]; then return; fi
  ./tests/"$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 "$@" "$dir" 2>&1 |
    tee "fuzz-$target.log"
  local runs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz-$target.log")
  echo "$target: ${runs:-0} executions in ${seconds}s, $(( ${runs:-0} / (seconds > 0 ? seconds : 1) ))/s" >>fuzz-summary.txt
}
rm -f fuzz-summary.txt
# -rss_limit_mb leaves room for ASan with the larger models; crashes land in build-asan/.
run model_fuzzer "$seconds" corpus/model -max_len="$max_len" -rss_limit_mb=4096
run interpreter_fuzzer "$seconds" corpus/model -max_len="$max_len" -rss_limit_mb=4096
run sim_fuzzer "$seconds" corpus/model -max_len="$max_len" -rss_limit_mb=4096
run edgetpu_package_fuzzer "$seconds" corpus/package
run selector_fuzzer "$((seconds / 2))" corpus/selector
run config_fuzzer "$((seconds / 2))" corpus/config
run channel_fuzzer "$((seconds / 2))" corpus/channel
run infer_request_fuzzer "$((seconds / 2))" corpus/infer
run grpc_request_fuzzer "$((seconds / 2))" corpus/grpc
run detection_form_fuzzer "$((seconds / 2))" corpus/detection -max_len=2000000 -rss_limit_mb=4096
cat fuzz-summary.txt
