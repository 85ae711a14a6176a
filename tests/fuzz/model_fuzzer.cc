// libFuzzer target: arbitrary bytes through Model::FromBuffer (flatbuffer verification, graph
// checks, Edge TPU package parsing). A loaded model is walked completely, so any lie in the
// verification shows up under AddressSanitizer.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tpufleet/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  tpufleet::Result<tpufleet::ModelPtr> model =
      tpufleet::Model::FromBuffer(std::move(bytes), "fuzz");
  if (!model.ok()) return 0;
  const tpufleet::Model& m = *model.value();
  volatile uint64_t sink = m.total_macs() + m.parameter_bytes();
  for (const tpufleet::TensorInfo& t : m.tensors()) {
    for (uint8_t b : m.constant_data(t.index)) sink = sink + b;
  }
  for (const tpufleet::EdgeTpuPackage& p : m.edgetpu_packages()) sink = sink + p.cached_bytes();
  return 0;
}
