#include "server/grpc_codec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <bit>
#include <cstring>
#include <limits>
#include <utility>

#include "fleet/results.h"

namespace tpufleet::server {
namespace {

static_assert(std::endian::native == std::endian::little, "tensor bytes are little-endian");

using Parameters = google::protobuf::Map<std::string, inference::InferParameter>;

Result<int64_t> NonNegativeParameter(const inference::InferParameter& p, const char* what) {
  if (p.has_int64_param() && p.int64_param() >= 0) return p.int64_param();
  if (p.has_uint64_param() &&
      p.uint64_param() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(p.uint64_param());
  }
  return InvalidArgumentError(
      fmt::format("parameter {} must be a non-negative int64_param (or uint64_param)", what));
}

Status DecodeParameters(const Parameters& parameters, InferRequest& request) {
  if (auto it = parameters.find("timeout"); it != parameters.end()) {
    TPUFLEET_ASSIGN_OR_RETURN(request.timeout_us,
                              NonNegativeParameter(it->second, "timeout (microseconds)"));
  }
  if (auto it = parameters.find("priority"); it != parameters.end()) {
    TPUFLEET_ASSIGN_OR_RETURN(request.priority,
                              NonNegativeParameter(it->second, "priority (1 highest)"));
  }
  return OkStatus();
}

// The typed fields of InferTensorContents, by name, with the number of values each holds.
struct ContentsField {
  const char* name;
  int size;
};

std::vector<ContentsField> FilledFields(const inference::InferTensorContents& c) {
  std::vector<ContentsField> fields = {
      {"bool_contents", c.bool_contents_size()},     {"int_contents", c.int_contents_size()},
      {"int64_contents", c.int64_contents_size()},   {"uint_contents", c.uint_contents_size()},
      {"uint64_contents", c.uint64_contents_size()}, {"fp32_contents", c.fp32_contents_size()},
      {"fp64_contents", c.fp64_contents_size()},     {"bytes_contents", c.bytes_contents_size()}};
  std::erase_if(fields, [](const ContentsField& f) { return f.size == 0; });
  return fields;
}

// The contents field that carries `type`; null for types carried raw only.
const char* FieldFor(DataType type) {
  switch (type) {
    case DataType::kBool: return "bool_contents";
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32: return "int_contents";
    case DataType::kInt64: return "int64_contents";
    case DataType::kUInt8:
    case DataType::kUInt16:
    case DataType::kUInt32: return "uint_contents";
    case DataType::kUInt64: return "uint64_contents";
    case DataType::kFloat32: return "fp32_contents";
    case DataType::kFloat64: return "fp64_contents";
    default: return nullptr;
  }
}

// Writes `values` as elements of T, each checked to fit T.
template <typename T, typename Values>
Status PutValues(const Values& values, const std::string& where, const std::string& datatype,
                 std::vector<uint8_t>& out) {
  out.resize(static_cast<size_t>(values.size()) * sizeof(T));
  for (int e = 0; e < values.size(); ++e) {
    auto value = values.Get(e);
    if constexpr (sizeof(T) < sizeof(value)) {  // a narrower integer than the field's
      if (std::cmp_less(value, std::numeric_limits<T>::min()) ||
          std::cmp_greater(value, std::numeric_limits<T>::max())) {
        return InvalidArgumentError(
            fmt::format("{} element {} is {}, outside {}'s range {} to {}", where, e, value,
                        datatype, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
      }
    }
    T element = static_cast<T>(value);
    std::memcpy(out.data() + static_cast<size_t>(e) * sizeof(T), &element, sizeof(T));
  }
  return OkStatus();
}

Status DecodeContents(const inference::InferTensorContents& c, const TensorLayout& layout,
                      const std::string& where, InferInput& input) {
  const char* field = FieldFor(layout.type);
  if (!field) {
    return InvalidArgumentError(
        fmt::format("{}: {} tensors have no typed contents; send them in raw_input_contents", where,
                    input.datatype));
  }
  std::vector<ContentsField> filled = FilledFields(c);
  for (const ContentsField& f : filled) {
    if (std::string_view(f.name) != field) {
      return InvalidArgumentError(
          fmt::format("{}: a {} tensor's elements go in contents.{}, not {}", where, input.datatype,
                      field, f.name));
    }
  }
  uint64_t given = filled.empty() ? 0 : static_cast<uint64_t>(filled.front().size);
  if (given != layout.elements) {
    return InvalidArgumentError(fmt::format("{}: contents.{} has {} elements, shape [{}] needs {}",
                                            where, field, given, fmt::join(input.shape, ", "),
                                            layout.elements));
  }
  const std::string& d = input.datatype;
  // NOLINTNEXTLINE(bugprone-branch-clone): the branches differ in the element type they decode.
  switch (layout.type) {
    case DataType::kBool: return PutValues<uint8_t>(c.bool_contents(), where, d, input.data);
    case DataType::kInt8: return PutValues<int8_t>(c.int_contents(), where, d, input.data);
    case DataType::kInt16: return PutValues<int16_t>(c.int_contents(), where, d, input.data);
    case DataType::kInt32: return PutValues<int32_t>(c.int_contents(), where, d, input.data);
    case DataType::kInt64: return PutValues<int64_t>(c.int64_contents(), where, d, input.data);
    case DataType::kUInt8: return PutValues<uint8_t>(c.uint_contents(), where, d, input.data);
    case DataType::kUInt16: return PutValues<uint16_t>(c.uint_contents(), where, d, input.data);
    case DataType::kUInt32: return PutValues<uint32_t>(c.uint_contents(), where, d, input.data);
    case DataType::kUInt64: return PutValues<uint64_t>(c.uint64_contents(), where, d, input.data);
    case DataType::kFloat32: return PutValues<float>(c.fp32_contents(), where, d, input.data);
    default: return PutValues<double>(c.fp64_contents(), where, d, input.data);
  }
}

}  // namespace

Result<InferRequest> DecodeInferRequest(const inference::ModelInferRequest& request) {
  InferRequest decoded;
  decoded.id = request.id();
  TPUFLEET_RETURN_IF_ERROR(DecodeParameters(request.parameters(), decoded));
  if (request.inputs_size() == 0) {
    return InvalidArgumentError("the request needs inputs: one InferInputTensor per model input");
  }
  bool raw = request.raw_input_contents_size() > 0;
  if (raw && request.raw_input_contents_size() != request.inputs_size()) {
    return InvalidArgumentError(
        fmt::format("the request has {} inputs but {} raw_input_contents; with raw contents, "
                    "every input has one blob, in inputs order",
                    request.inputs_size(), request.raw_input_contents_size()));
  }
  for (int i = 0; i < request.inputs_size(); ++i) {
    const inference::ModelInferRequest::InferInputTensor& tensor = request.inputs(i);
    InferInput input;
    input.name = tensor.name();
    input.datatype = tensor.datatype();
    input.shape.assign(tensor.shape().begin(), tensor.shape().end());
    std::string where = fmt::format("input '{}'", input.name.substr(0, 256));
    TPUFLEET_ASSIGN_OR_RETURN(TensorLayout layout, InputLayout(where, input.datatype, input.shape));
    if (raw) {
      if (tensor.has_contents()) {
        return InvalidArgumentError(where +
                                    ": has contents, but the request has raw_input_contents; "
                                    "send every input raw or every input as contents");
      }
      const std::string& blob = request.raw_input_contents(i);
      uint64_t expected = layout.elements * layout.element_size;
      if (blob.size() != expected) {
        return InvalidArgumentError(fmt::format(
            "{}: raw_input_contents[{}] has {} bytes, but {} elements of {} take {} bytes", where,
            i, blob.size(), layout.elements, input.datatype, expected));
      }
      input.data = TensorBytes(blob);
    } else {
      TPUFLEET_RETURN_IF_ERROR(DecodeContents(tensor.contents(), layout, where, input));
    }
    decoded.inputs.push_back(std::move(input));
  }
  for (const auto& output : request.outputs()) {
    decoded.outputs.push_back({output.name(), std::nullopt});
  }
  return decoded;
}

Status FillInferResponse(const Model& model, const std::string& model_name,
                         const InferRequest& request, const TensorList& outputs,
                         inference::ModelInferResponse& response) {
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<size_t> selected, SelectOutputs(model, request));
  response.set_model_name(model_name);
  response.set_id(request.id);
  for (size_t i : selected) {
    cpu::Tensor t = OutputView(model, outputs, i);
    inference::ModelInferResponse::InferOutputTensor* output = response.add_outputs();
    output->set_name(t.name);
    output->set_datatype(V2Datatype(t.type));
    for (int32_t d : t.shape) output->add_shape(d);
    response.add_raw_output_contents(reinterpret_cast<const char*>(outputs[i].data()),
                                     outputs[i].size());
  }
  return OkStatus();
}

}  // namespace tpufleet::server
