// KServe v2 gRPC inference messages (proto/kserve/grpc_service.proto) to and from the
// protocol-independent forms of infer_codec.h.
//
// A request's inputs come either all from raw_input_contents (one blob per input, in `inputs`
// order, little-endian, exactly shape x element size bytes) or each from its typed `contents`
// (the field of its datatype, as many elements as its shape holds, every value in the
// datatype's range); FP16 and BF16 only raw. The request parameters `timeout` (microseconds)
// and `priority` (1 highest) are int64 or uint64 parameters. Responses always carry the
// outputs' bytes in raw_output_contents.
//
// Everything here reads untrusted messages: malformed input is an INVALID_ARGUMENT (UNIMPLEMENTED
// for BYTES tensors) whose message says what was wrong and what would be right, never a crash.
// Stateless and thread-safe. Include only where the generated messages are needed.
#pragma once

#include <string>

#include "kserve/grpc_service.pb.h"
#include "server/infer_codec.h"

namespace tpufleet::server {

Result<InferRequest> DecodeInferRequest(const inference::ModelInferRequest& request);

// Fills `response` for `request` with `outputs` (the model's outputs, in order), named
// `model_name`. Errors: INVALID_ARGUMENT for a requested output the model does not have.
Status FillInferResponse(const Model& model, const std::string& model_name,
                         const InferRequest& request, const TensorList& outputs,
                         inference::ModelInferResponse& response);

}  // namespace tpufleet::server
