// KServe v2 inference requests and responses as bytes, with no transport in sight: the JSON
// body (tensor data nested or flat), Triton's binary tensor extension (a JSON header of
// Inference-Header-Content-Length bytes, then each binary tensor's bytes in order), and the
// request parameters `timeout` (microseconds), `priority` (0 default, 1 highest) and
// `binary_data_output`.
//
// Everything here reads untrusted bytes: malformed input is an INVALID_ARGUMENT (or, for valid
// requests the daemon does not serve, UNIMPLEMENTED) whose message says what was wrong and what
// would be right, never a crash. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tpufleet/fleet.h"
#include "tpufleet/model.h"
#include "tpufleet/status.h"

namespace tpufleet::server {

struct InferInput {
  std::string name;
  std::string datatype;  // "UINT8", "FP32", ...
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // row-major, little-endian, the datatype's element size
};

struct RequestedOutput {
  std::string name;
  std::optional<bool> binary;  // its "binary_data" parameter; absent: the request's default
};

struct InferRequest {
  std::string id;  // echoed in the response; empty: none given
  std::vector<InferInput> inputs;
  std::vector<RequestedOutput> outputs;  // empty: every output, as binary_output says
  bool binary_output = false;            // the request's "binary_data_output"
  std::optional<int64_t> timeout_us;     // "timeout": a deadline this long after arrival
  int64_t priority = 0;                  // "priority"
};

// The KServe v2 datatype name of a TFLite type ("UINT8", "FP32", "BYTES"); empty for types v2
// has no name for.
std::string V2Datatype(DataType type);

// A tensor's element type and size and its element count.
struct TensorLayout {
  DataType type;
  size_t element_size;
  uint64_t elements;
};

// The layout of an input tensor of KServe v2 `datatype` and `shape`; `where` names it in
// messages. Errors: INVALID_ARGUMENT for an unknown datatype, a negative dimension or more than
// 2^40 elements; UNIMPLEMENTED for BYTES.
Result<TensorLayout> InputLayout(const std::string& where, const std::string& datatype,
                                 const std::vector<int64_t>& shape);

// The value of an Inference-Header-Content-Length header: ASCII digits.
Result<uint64_t> ParseHeaderLength(std::string_view value);

// Decodes a request body. `header_length`: the Inference-Header-Content-Length, when the
// request has binary tensors (the JSON is the body's first `header_length` bytes, the tensors'
// bytes follow and must be used up exactly).
Result<InferRequest> ParseInferRequest(std::string_view body,
                                       std::optional<uint64_t> header_length);

// `bytes` as a tensor's bytes (one memcpy).
std::vector<uint8_t> TensorBytes(std::string_view bytes);

// The request's inputs as the model's input tensors, in the model's input order: every model
// input given once, by name, with the model's datatype and shape. Their bytes are moved out of
// `request` (its inputs' data are left empty); on an error the request is unchanged.
Result<TensorList> TakeInputTensors(InferRequest& request, const Model& model);

// The model's outputs `request` asks for, as indices into the model's outputs in the request's
// order (all of them in the model's order when it names none). Errors: INVALID_ARGUMENT for a
// name the model has no output of.
Result<std::vector<size_t>> SelectOutputs(const Model& model, const InferRequest& request);

struct EncodedResponse {
  std::string body;
  std::optional<uint64_t> header_length;  // set when binary outputs follow the JSON
};

// The response to `request` for `outputs` (the model's outputs, in order), named `model_name`.
// Errors: INVALID_ARGUMENT for a requested output the model does not have; UNIMPLEMENTED for an
// output type JSON cannot carry (FP16: request it as binary).
Result<EncodedResponse> EncodeInferResponse(const Model& model, const std::string& model_name,
                                            const InferRequest& request, const TensorList& outputs);

}  // namespace tpufleet::server
