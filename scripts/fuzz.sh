#!/usr/bin/env bash
# Builds the libFuzzer targets with clang + ASan/UBSan and runs each for a while.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
# Seeds: every model in ../shared/models, a few zoo models, their Edge TPU packages, device
# strings, and configuration texts (plans, traces, topologies, Edge TPU options). Crashes are saved in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}

scripts/bootstrap.sh
scripts/fetch_tflite.sh
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DTPUFLEET_TESTS=ON -DTPUFLEET_FUZZ=ON -DTPUFLEET_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j2 --target model_fuzzer edgetpu_package_fuzzer selector_fuzzer config_fuzzer \
  write_package_seeds tpufleet

corpus=build-fuzz/corpus
mkdir -p "$corpus/model" "$corpus/package" "$corpus/selector" "$corpus/config"
for s in usb pci :0 usb:1 pci:0 "#0" usb#1 cpu sim:3 usb@2-1.3 pci@/dev/apex_0 USB m.tflite@usb@2-1; do
  printf "%s" "$s" > "$corpus/selector/$(printf "%s" "$s" | md5sum | cut -c1-8)"
done
# Configuration seeds: the first byte picks the parser (0 plan, 1 trace, 2 topology, 3 options).
printf '\0{"models": [{"model": "a.tflite", "rate": 10}], "devices": ["sim:0"], "topology": null, "units": [{"models": ["a.tflite"], "devices": ["sim:0"]}]}' > "$corpus/config/plan"
printf '\1time,model\n0.001,a.tflite\n0.002,1\n# note\n0.5,zoo:b\n' > "$corpus/config/trace"
printf '\2{"devices": [{"link": "usb2", "bus": 3, "faults": {"disconnect_after": 4, "recover_after_probes": 2}}, {}]}' > "$corpus/config/topology"
printf '\3Performance=High,Usb.AlwaysDfu=False,Usb.MaxBulkInQueueLength=32' > "$corpus/config/options"
if [ -d ../shared/models ]; then cp -f ../shared/models/*.tflite "$corpus/model/"; fi
build-fuzz/src/tpufleet zoo mobilenet_v1 --width 0.25 --resolution 32 -o "$corpus/model/zoo_mobilenet_v1.tflite" >/dev/null
build-fuzz/src/tpufleet zoo ssd_mobilenet_v1 --width 0.25 --resolution 96 -o "$corpus/model/zoo_ssd.tflite" >/dev/null
build-fuzz/tests/write_package_seeds "$corpus/package" "$corpus"/model/*.tflite

cd build-fuzz
# -rss_limit_mb leaves room for ASan with the larger seeds; crashes land in build-fuzz/.
./tests/model_fuzzer -max_total_time="$seconds" -max_len=5000000 -rss_limit_mb=4096 -print_final_stats=1 corpus/model
./tests/edgetpu_package_fuzzer -max_total_time="$seconds" -print_final_stats=1 corpus/package
./tests/selector_fuzzer -max_total_time="$((seconds / 2))" -print_final_stats=1 corpus/selector
./tests/config_fuzzer -max_total_time="$((seconds / 2))" -print_final_stats=1 corpus/config
