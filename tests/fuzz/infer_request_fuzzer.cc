// KServe v2 inference requests as the daemon decodes them: the first two bytes give the
// Inference-Header-Content-Length (0xffff: none), the rest is the body. Decoded requests are
// matched against a small model (inputs "a" UINT8 [1, 4] and "b" FP32 [2]) and answered with
// their own bytes as outputs.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "fuzz/two_input_model.h"
#include "server/infer_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tpufleet::ModelPtr model = tpufleet::fuzz::TwoInputModel();
  if (size < 2) return 0;
  uint16_t length = static_cast<uint16_t>(data[0] | (data[1] << 8));
  std::optional<uint64_t> header_length;
  if (length != 0xffff) header_length = length;
  std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);
  tpufleet::Result<tpufleet::server::InferRequest> request =
      tpufleet::server::ParseInferRequest(body, header_length);
  if (!request.ok()) return 0;
  tpufleet::Result<tpufleet::TensorList> inputs =
      tpufleet::server::TakeInputTensors(*request, *model);
  if (!inputs.ok()) return 0;
  tpufleet::Result<tpufleet::server::EncodedResponse> response =
      tpufleet::server::EncodeInferResponse(*model, "fuzz", *request, *inputs);
  (void)response;  // any answer will do; only a crash is a finding
  return 0;
}
