// DeepStack detection uploads as the daemon reads them: the first byte splits the input into a
// min_confidence field (that many bytes) and the image's bytes, which are decoded as an upload
// (BMP, JPEG, PNG; at most 4 M pixels here, to keep the fuzzer fast) and resized to 300x300.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "common/image.h"
#include "server/deepstack.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t field = std::min<size_t>(data[0], size - 1);
  std::map<std::string, std::string> fields = {
      {"min_confidence", std::string(reinterpret_cast<const char*>(data + 1), field)},
      {"image", std::string(reinterpret_cast<const char*>(data + 1 + field), size - 1 - field)}};
  tpufleet::Result<tpufleet::server::DetectionForm> form =
      tpufleet::server::ParseDetectionForm(fields);
  std::string image = fields["image"];
  tpufleet::Result<tpufleet::Image> decoded = tpufleet::DecodeImage(
      {reinterpret_cast<const uint8_t*>(image.data()), image.size()}, 3, "image", 4'000'000);
  if (decoded.ok()) tpufleet::ResizeBilinear(*decoded, 300, 300);
  (void)form;  // any answer will do; only a crash is a finding
  return 0;
}
