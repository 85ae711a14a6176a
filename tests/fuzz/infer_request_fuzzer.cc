// KServe v2 inference requests as the daemon decodes them: the first two bytes give the
// Inference-Header-Content-Length (0xffff: none), the rest is the body. Decoded requests are
// matched against a small model (inputs "a" UINT8 [1, 4] and "b" FP32 [2]) and answered with
// their own bytes as outputs.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "model/builder.h"
#include "server/infer_codec.h"

namespace {

tpufleet::ModelPtr TwoInputModel() {
  using tpufleet::DataType;
  tpufleet::ModelBuilder b;
  int a = b.AddTensor("a", DataType::kUInt8, {1, 4});
  int b_in = b.AddTensor("b", DataType::kFloat32, {2});
  int four = b.AddConstant("four", DataType::kInt32, {1}, std::vector<int32_t>{4});
  int two = b.AddConstant("two", DataType::kInt32, {1}, std::vector<int32_t>{2});
  int a_out = b.AddTensor("a_flat", DataType::kUInt8, {4});
  int b_out = b.AddTensor("b_same", DataType::kFloat32, {2});
  b.AddOperator(tpufleet::tfl::BuiltinOperator::RESHAPE, {a, four}, {a_out});
  b.AddOperator(tpufleet::tfl::BuiltinOperator::RESHAPE, {b_in, two}, {b_out});
  b.SetInputs({a, b_in});
  b.SetOutputs({a_out, b_out});
  return tpufleet::Model::FromBuffer(b.Finish(), "fuzz").value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tpufleet::ModelPtr model = TwoInputModel();
  if (size < 2) return 0;
  uint16_t length = static_cast<uint16_t>(data[0] | (data[1] << 8));
  std::optional<uint64_t> header_length;
  if (length != 0xffff) header_length = length;
  std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);
  tpufleet::Result<tpufleet::server::InferRequest> request =
      tpufleet::server::ParseInferRequest(body, header_length);
  if (!request.ok()) return 0;
  tpufleet::Result<tpufleet::TensorList> inputs = tpufleet::server::InputTensors(*request, *model);
  if (!inputs.ok()) return 0;
  tpufleet::Result<tpufleet::server::EncodedResponse> response =
      tpufleet::server::EncodeInferResponse(*model, "fuzz", *request, *inputs);
  (void)response;  // any answer will do; only a crash is a finding
  return 0;
}
