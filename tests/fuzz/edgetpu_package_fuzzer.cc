// libFuzzer target: arbitrary bytes as the custom options of an edgetpu-custom-op operator.
#include <cstddef>
#include <cstdint>

#include "model/edgetpu_package.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tpufleet::Result<tpufleet::EdgeTpuPackage> package = tpufleet::ParseEdgeTpuPackage({data, size});
  if (package.ok()) {
    volatile uint64_t sink =
        package->cached_bytes() + package->streamed_bytes() + package->caching_token();
    (void)sink;
  }
  return 0;
}
