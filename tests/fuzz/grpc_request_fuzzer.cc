// KServe v2 gRPC inference requests as the daemon decodes them: the bytes are a serialized
// inference.ModelInferRequest; those protobuf parses are decoded (raw or typed contents),
// matched against a small model (fuzz/two_input_model.h) and answered with their own bytes as
// outputs.
#include <cstddef>
#include <cstdint>

#include "fuzz/two_input_model.h"
#include "server/grpc_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tpufleet::ModelPtr model = tpufleet::fuzz::TwoInputModel();
  inference::ModelInferRequest message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  tpufleet::Result<tpufleet::server::InferRequest> request =
      tpufleet::server::DecodeInferRequest(message);
  if (!request.ok()) return 0;
  tpufleet::Result<tpufleet::TensorList> inputs =
      tpufleet::server::TakeInputTensors(*request, *model);
  if (!inputs.ok()) return 0;
  inference::ModelInferResponse response;
  tpufleet::Status filled =
      tpufleet::server::FillInferResponse(*model, "fuzz", *request, *inputs, response);
  (void)filled;  // any answer will do; only a crash is a finding
  return 0;
}
