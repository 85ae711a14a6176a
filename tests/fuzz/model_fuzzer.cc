// libFuzzer target: arbitrary bytes through Model::FromBuffer (flatbuffer verification, graph
// checks, Edge TPU package parsing). A loaded model is walked completely, so any lie in the
// verification shows up under AddressSanitizer: every constant buffer must lie in addressable
// memory (checked through ASan's shadow memory, which costs an eighth of reading each byte).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "tpufleet/model.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define TPUFLEET_FUZZ_ASAN 1
#endif
#endif

namespace {

// Reads `bytes` as a kernel would, or asks ASan whether any of them is out of bounds.
uint64_t Touch(std::span<const uint8_t> bytes) {
#ifdef TPUFLEET_FUZZ_ASAN
  if (__asan_region_is_poisoned(const_cast<uint8_t*>(bytes.data()), bytes.size()) != nullptr) {
    std::abort();  // a constant buffer the verifier let through reaches past its memory
  }
  return bytes.empty() ? 0 : bytes.front() + bytes.back();
#else
  uint64_t sum = 0;
  for (uint8_t b : bytes) sum += b;
  return sum;
#endif
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  tpufleet::Result<tpufleet::ModelPtr> model =
      tpufleet::Model::FromBuffer(std::move(bytes), "fuzz");
  if (!model.ok()) return 0;
  const tpufleet::Model& m = *model.value();
  volatile uint64_t sink = m.total_macs() + m.parameter_bytes();
  for (const tpufleet::TensorInfo& t : m.tensors()) sink = sink + Touch(m.constant_data(t.index));
  for (const tpufleet::EdgeTpuPackage& p : m.edgetpu_packages()) sink = sink + p.cached_bytes();
  return 0;
}
