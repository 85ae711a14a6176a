#include "server/infer_codec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "fleet/results.h"

namespace tpufleet::server {
namespace {

using nlohmann::json;
static_assert(std::endian::native == std::endian::little, "tensor bytes are little-endian");

struct Datatype {
  const char* name;
  DataType type;
  size_t size;  // 0: variable (BYTES)
};
constexpr Datatype kDatatypes[] = {
    {"BOOL", DataType::kBool, 1},     {"UINT8", DataType::kUInt8, 1},
    {"UINT16", DataType::kUInt16, 2}, {"UINT32", DataType::kUInt32, 4},
    {"UINT64", DataType::kUInt64, 8}, {"INT8", DataType::kInt8, 1},
    {"INT16", DataType::kInt16, 2},   {"INT32", DataType::kInt32, 4},
    {"INT64", DataType::kInt64, 8},   {"FP16", DataType::kFloat16, 2},
    {"FP32", DataType::kFloat32, 4},  {"FP64", DataType::kFloat64, 8},
    {"BF16", DataType::kBFloat16, 2}, {"BYTES", DataType::kString, 0},
};
constexpr int kMaxDataDepth = 32;
constexpr uint64_t kMaxElements = uint64_t{1} << 40;

const Datatype* FindDatatype(const std::string& name) {
  for (const Datatype& d : kDatatypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

std::string KnownDatatypes() {
  std::vector<std::string> names;
  for (const Datatype& d : kDatatypes) names.push_back(d.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// Optional members, checked for their JSON type; `where` names the object in messages.
Result<const json*> Member(const json& object, const char* key, json::value_t type,
                           const std::string& where, const char* what) {
  auto it = object.find(key);
  if (it == object.end()) return static_cast<const json*>(nullptr);
  bool same = it->type() == type ||
              (type == json::value_t::number_integer && it->is_number_integer()) ||
              (type == json::value_t::number_float && it->is_number());
  if (!same) {
    return InvalidArgumentError(fmt::format("{}: \"{}\" must be {}", where, key, what));
  }
  return &*it;
}

Result<int64_t> NonNegativeInteger(const json& value, const std::string& where) {
  if (value.is_number_unsigned() && value.get<uint64_t>() <= std::numeric_limits<int64_t>::max()) {
    return static_cast<int64_t>(value.get<uint64_t>());
  }
  if (value.is_number_integer() && !value.is_number_unsigned() && value.get<int64_t>() >= 0) {
    return value.get<int64_t>();
  }
  return InvalidArgumentError(where + " must be a non-negative integer");
}

// Elements of `data`, nested or flat, with arrays at most kMaxDataDepth deep.
Result<uint64_t> CountElements(const json& data, int depth, const std::string& where) {
  if (!data.is_array()) return uint64_t{1};
  if (depth >= kMaxDataDepth) {
    return InvalidArgumentError(
        fmt::format("{}: \"data\" is nested more than {} deep", where, kMaxDataDepth));
  }
  uint64_t count = 0;
  for (const json& element : data) {
    TPUFLEET_ASSIGN_OR_RETURN(uint64_t n, CountElements(element, depth + 1, where));
    count += n;
  }
  return count;
}

template <typename T>
void Put(T value, uint8_t* at) {
  std::memcpy(at, &value, sizeof(T));
}

// Writes one JSON element as `type` at `at`.
Status PutElement(const json& v, const Datatype& type, uint8_t* at, const std::string& where) {
  auto integer = [&](auto lowest, auto highest) -> Status {
    using T = decltype(lowest);
    bool fits = false;
    if (v.is_number_unsigned()) {
      fits = v.get<uint64_t>() <= static_cast<uint64_t>(highest);
      if (fits) Put(static_cast<T>(v.get<uint64_t>()), at);
    } else if (v.is_number_integer()) {
      int64_t x = v.get<int64_t>();
      fits = x >= 0 || std::numeric_limits<T>::is_signed;
      fits = fits && x >= static_cast<int64_t>(lowest) &&
             (x < 0 || static_cast<uint64_t>(x) <= static_cast<uint64_t>(highest));
      if (fits) Put(static_cast<T>(x), at);
    } else {
      return InvalidArgumentError(
          fmt::format("{} is {}; a {} tensor takes integers", where, v.dump(), type.name));
    }
    if (!fits) {
      return InvalidArgumentError(fmt::format("{} is {}, outside {}'s range {} to {}", where,
                                              v.dump(), type.name, lowest, highest));
    }
    return OkStatus();
  };
  switch (type.type) {
    case DataType::kBool:
      if (!v.is_boolean()) {
        return InvalidArgumentError(
            fmt::format("{} is {}; a BOOL tensor takes true or false", where, v.dump()));
      }
      *at = v.get<bool>() ? 1 : 0;
      return OkStatus();
    case DataType::kUInt8: return integer(uint8_t{0}, std::numeric_limits<uint8_t>::max());
    case DataType::kUInt16: return integer(uint16_t{0}, std::numeric_limits<uint16_t>::max());
    case DataType::kUInt32: return integer(uint32_t{0}, std::numeric_limits<uint32_t>::max());
    case DataType::kUInt64: return integer(uint64_t{0}, std::numeric_limits<uint64_t>::max());
    case DataType::kInt8:
      return integer(std::numeric_limits<int8_t>::min(), std::numeric_limits<int8_t>::max());
    case DataType::kInt16:
      return integer(std::numeric_limits<int16_t>::min(), std::numeric_limits<int16_t>::max());
    case DataType::kInt32:
      return integer(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
    case DataType::kInt64:
      return integer(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
    case DataType::kFloat32:
    case DataType::kFloat64:
      if (!v.is_number()) {
        return InvalidArgumentError(
            fmt::format("{} is {}; a {} tensor takes numbers", where, v.dump(), type.name));
      }
      if (type.type == DataType::kFloat32) {
        Put(static_cast<float>(v.get<double>()), at);
      } else {
        Put(v.get<double>(), at);
      }
      return OkStatus();
    default:
      return UnimplementedError(fmt::format(
          "{}: {} tensors cannot be sent as JSON; send them as binary data (binary_data_size)",
          where, type.name));
  }
}

// Flattens `data` into `out`, element by element.
Status PutElements(const json& data, const Datatype& type, std::vector<uint8_t>& out, size_t& next,
                   const std::string& where) {
  if (!data.is_array()) {
    TPUFLEET_RETURN_IF_ERROR(PutElement(data, type, out.data() + next * type.size,
                                        fmt::format("{} element {}", where, next)));
    ++next;
    return OkStatus();
  }
  for (const json& element : data) {
    TPUFLEET_RETURN_IF_ERROR(PutElements(element, type, out, next, where));
  }
  return OkStatus();
}

struct BinaryCursor {
  std::string_view bytes;  // what follows the JSON header
  size_t used = 0;
};

Result<InferInput> ParseInput(const json& input, size_t index, BinaryCursor* binary) {
  std::string where = fmt::format("inputs[{}]", index);
  if (!input.is_object()) return InvalidArgumentError(where + " must be an object");
  TPUFLEET_ASSIGN_OR_RETURN(const json* name,
                            Member(input, "name", json::value_t::string, where, "a string"));
  TPUFLEET_ASSIGN_OR_RETURN(const json* datatype,
                            Member(input, "datatype", json::value_t::string, where, "a string"));
  TPUFLEET_ASSIGN_OR_RETURN(const json* shape,
                            Member(input, "shape", json::value_t::array, where, "an array"));
  if (!name || !datatype || !shape) {
    return InvalidArgumentError(where + " needs \"name\", \"datatype\" and \"shape\"");
  }
  InferInput parsed;
  parsed.name = name->get<std::string>();
  where = fmt::format("input '{}'", parsed.name.substr(0, 256));
  parsed.datatype = datatype->get<std::string>();
  for (size_t d = 0; d < shape->size(); ++d) {
    TPUFLEET_ASSIGN_OR_RETURN(
        int64_t dim, NonNegativeInteger((*shape)[d], fmt::format("{}: shape[{}]", where, d)));
    parsed.shape.push_back(dim);
  }
  TPUFLEET_ASSIGN_OR_RETURN(TensorLayout layout, InputLayout(where, parsed.datatype, parsed.shape));
  const Datatype* type = FindDatatype(parsed.datatype);
  uint64_t count = layout.elements;
  TPUFLEET_ASSIGN_OR_RETURN(const json* parameters,
                            Member(input, "parameters", json::value_t::object, where, "an object"));
  const json* binary_size = nullptr;
  if (parameters) {
    auto it = parameters->find("binary_data_size");
    if (it != parameters->end()) binary_size = &*it;
  }
  auto data = input.find("data");
  if (binary_size) {
    if (data != input.end()) {
      return InvalidArgumentError(
          where + ": has both \"data\" and a binary_data_size; binary tensors carry no \"data\"");
    }
    if (!binary) {
      return InvalidArgumentError(where +
                                  ": binary_data_size needs the Inference-Header-Content-Length "
                                  "header (the length of the JSON before the binary tensors)");
    }
    TPUFLEET_ASSIGN_OR_RETURN(int64_t size,
                              NonNegativeInteger(*binary_size, where + ": binary_data_size"));
    uint64_t expected = count * type->size;
    if (static_cast<uint64_t>(size) != expected) {
      return InvalidArgumentError(
          fmt::format("{}: binary_data_size is {}, but {} elements of {} take {} bytes", where,
                      size, count, type->name, expected));
    }
    if (expected > binary->bytes.size() - binary->used) {
      return InvalidArgumentError(fmt::format(
          "{}: binary_data_size is {}, but only {} bytes of binary data are left after the "
          "inputs before it",
          where, size, binary->bytes.size() - binary->used));
    }
    parsed.data = TensorBytes(binary->bytes.substr(binary->used, expected));
    binary->used += expected;
    return parsed;
  }
  if (data == input.end()) {
    return InvalidArgumentError(where + ": needs \"data\" (or a binary_data_size parameter)");
  }
  TPUFLEET_ASSIGN_OR_RETURN(uint64_t given, CountElements(*data, 0, where));
  if (given != count) {
    return InvalidArgumentError(fmt::format("{}: \"data\" has {} elements, shape {} needs {}",
                                            where, given, shape->dump(), count));
  }
  parsed.data.resize(count * type->size);
  size_t next = 0;
  TPUFLEET_RETURN_IF_ERROR(PutElements(*data, *type, parsed.data, next, where));
  return parsed;
}

Status ParseParameters(const json& parameters, InferRequest& request) {
  for (const auto& [key, value] : parameters.items()) {
    if (key == "binary_data_output") {
      if (!value.is_boolean()) {
        return InvalidArgumentError("parameter binary_data_output must be true or false");
      }
      request.binary_output = value.get<bool>();
    } else if (key == "timeout") {
      TPUFLEET_ASSIGN_OR_RETURN(request.timeout_us,
                                NonNegativeInteger(value, "parameter timeout (microseconds)"));
    } else if (key == "priority") {
      TPUFLEET_ASSIGN_OR_RETURN(request.priority,
                                NonNegativeInteger(value, "parameter priority (1 highest)"));
    }
  }
  return OkStatus();
}

Result<RequestedOutput> ParseRequestedOutput(const json& output, size_t index) {
  std::string where = fmt::format("outputs[{}]", index);
  if (!output.is_object()) return InvalidArgumentError(where + " must be an object");
  TPUFLEET_ASSIGN_OR_RETURN(const json* name,
                            Member(output, "name", json::value_t::string, where, "a string"));
  if (!name) return InvalidArgumentError(where + " needs a \"name\"");
  RequestedOutput requested{name->get<std::string>(), std::nullopt};
  TPUFLEET_ASSIGN_OR_RETURN(
      const json* parameters,
      Member(output, "parameters", json::value_t::object, where, "an object"));
  if (parameters) {
    TPUFLEET_ASSIGN_OR_RETURN(const json* binary,
                              Member(*parameters, "binary_data", json::value_t::boolean,
                                     where + " parameters", "true or false"));
    if (binary) requested.binary = binary->get<bool>();
  }
  return requested;
}

}  // namespace

std::string V2Datatype(DataType type) {
  for (const Datatype& d : kDatatypes) {
    if (d.type == type) return d.name;
  }
  return "";
}

Result<TensorLayout> InputLayout(const std::string& where, const std::string& datatype,
                                 const std::vector<int64_t>& shape) {
  const Datatype* type = FindDatatype(datatype);
  if (!type) {
    return InvalidArgumentError(fmt::format("{}: unknown datatype '{}'; KServe v2 knows {}", where,
                                            datatype.substr(0, 64), KnownDatatypes()));
  }
  if (type->size == 0) {
    return UnimplementedError(where + ": BYTES tensors are not served; models here take numbers");
  }
  TensorLayout layout{type->type, type->size, 1};
  for (size_t d = 0; d < shape.size(); ++d) {
    int64_t dim = shape[d];
    if (dim < 0) {
      return InvalidArgumentError(
          fmt::format("{}: shape[{}] is {}; dimensions are non-negative", where, d, dim));
    }
    if (dim != 0 && layout.elements > kMaxElements / static_cast<uint64_t>(dim)) {
      return InvalidArgumentError(
          fmt::format("{}: shape [{}] has more than 2^40 elements", where, fmt::join(shape, ", ")));
    }
    layout.elements *= static_cast<uint64_t>(dim);
  }
  return layout;
}

Result<uint64_t> ParseHeaderLength(std::string_view value) {
  uint64_t length = 0;
  bool digits = !value.empty() && value.size() <= 15;
  for (char c : value) {
    digits = digits && c >= '0' && c <= '9';
    if (digits) length = length * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!digits) {
    return InvalidArgumentError(fmt::format(
        "Inference-Header-Content-Length is '{}'; it must be the JSON header's length in bytes",
        value.substr(0, 64)));
  }
  return length;
}

Result<InferRequest> ParseInferRequest(std::string_view body,
                                       std::optional<uint64_t> header_length) {
  std::string_view header = body;
  BinaryCursor binary;
  if (header_length) {
    if (*header_length > body.size()) {
      return InvalidArgumentError(
          fmt::format("Inference-Header-Content-Length is {}, but the body has only {} bytes",
                      *header_length, body.size()));
    }
    header = body.substr(0, *header_length);
    binary.bytes = body.substr(*header_length);
  }
  json request = json::parse(header.begin(), header.end(), nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) {
    return InvalidArgumentError(
        "the request is not a JSON object; send {\"inputs\": [{\"name\", \"shape\", "
        "\"datatype\", \"data\"}]} (with binary tensors, the JSON first and "
        "Inference-Header-Content-Length its length)");
  }
  InferRequest parsed;
  TPUFLEET_ASSIGN_OR_RETURN(
      const json* id, Member(request, "id", json::value_t::string, "the request", "a string"));
  if (id) parsed.id = id->get<std::string>();
  TPUFLEET_ASSIGN_OR_RETURN(
      const json* parameters,
      Member(request, "parameters", json::value_t::object, "the request", "an object"));
  if (parameters) TPUFLEET_RETURN_IF_ERROR(ParseParameters(*parameters, parsed));
  TPUFLEET_ASSIGN_OR_RETURN(const json* inputs, Member(request, "inputs", json::value_t::array,
                                                       "the request", "an array"));
  if (!inputs || inputs->empty()) {
    return InvalidArgumentError("the request needs \"inputs\": one object per model input");
  }
  for (size_t i = 0; i < inputs->size(); ++i) {
    TPUFLEET_ASSIGN_OR_RETURN(InferInput input,
                              ParseInput((*inputs)[i], i, header_length ? &binary : nullptr));
    parsed.inputs.push_back(std::move(input));
  }
  if (binary.used != binary.bytes.size()) {
    return InvalidArgumentError(fmt::format(
        "the body has {} bytes after the JSON header, but the inputs' binary_data_size add up "
        "to {}",
        binary.bytes.size(), binary.used));
  }
  TPUFLEET_ASSIGN_OR_RETURN(const json* outputs, Member(request, "outputs", json::value_t::array,
                                                        "the request", "an array"));
  if (outputs) {
    for (size_t i = 0; i < outputs->size(); ++i) {
      TPUFLEET_ASSIGN_OR_RETURN(RequestedOutput output, ParseRequestedOutput((*outputs)[i], i));
      parsed.outputs.push_back(std::move(output));
    }
  }
  return parsed;
}

std::vector<uint8_t> TensorBytes(std::string_view bytes) {
  std::vector<uint8_t> data(bytes.size());
  if (!bytes.empty()) std::memcpy(data.data(), bytes.data(), bytes.size());
  return data;
}

Result<TensorList> TakeInputTensors(InferRequest& request, const Model& model) {
  std::vector<std::string> names;
  for (size_t i = 0; i < model.input_indices().size(); ++i) names.push_back(model.input(i).name);
  if (request.inputs.size() != names.size()) {
    return InvalidArgumentError(fmt::format("the model takes {} input{} ({}); the request has {}",
                                            names.size(), names.size() == 1 ? "" : "s",
                                            fmt::join(names, ", "), request.inputs.size()));
  }
  TensorList tensors(names.size());
  std::vector<size_t> order;  // request.inputs[k] is model input order[k]
  for (const InferInput& input : request.inputs) {
    auto it = std::find(names.begin(), names.end(), input.name);
    if (it == names.end()) {
      return InvalidArgumentError(fmt::format("the model has no input '{}'; its inputs are {}",
                                              input.name.substr(0, 256), fmt::join(names, ", ")));
    }
    size_t i = static_cast<size_t>(it - names.begin());
    if (std::find(order.begin(), order.end(), i) != order.end()) {
      return InvalidArgumentError(fmt::format("input '{}' is given twice", input.name));
    }
    order.push_back(i);
    const TensorInfo& info = model.input(i);
    std::string datatype = V2Datatype(info.type);
    std::vector<int64_t> shape(info.shape.begin(), info.shape.end());
    if (input.datatype != datatype || input.shape != shape) {
      return InvalidArgumentError(
          fmt::format("input '{}' is {} [{}]; the model takes {} [{}]", input.name, input.datatype,
                      fmt::join(input.shape, ", "), datatype, fmt::join(shape, ", ")));
    }
  }
  for (size_t k = 0; k < order.size(); ++k) tensors[order[k]] = std::move(request.inputs[k].data);
  return tensors;
}

namespace {

// A tensor's elements as JSON numbers (or booleans).
Result<json> JsonValues(const cpu::Tensor& t) {
  json values = json::array();
  size_t n = t.element_count();
  auto each = [&](auto zero) {
    using T = decltype(zero);
    for (size_t e = 0; e < n; ++e) {
      T value;
      std::memcpy(&value, t.data + e * sizeof(T), sizeof(T));
      values.push_back(value);
    }
  };
  switch (t.type) {
    case DataType::kBool:
      for (size_t e = 0; e < n; ++e) values.push_back(t.data[e] != 0);
      break;
    case DataType::kUInt8: each(uint8_t{}); break;
    case DataType::kUInt16: each(uint16_t{}); break;
    case DataType::kUInt32: each(uint32_t{}); break;
    case DataType::kUInt64: each(uint64_t{}); break;
    case DataType::kInt8: each(int8_t{}); break;
    case DataType::kInt16: each(int16_t{}); break;
    case DataType::kInt32: each(int32_t{}); break;
    case DataType::kInt64: each(int64_t{}); break;
    case DataType::kFloat32: each(float{}); break;
    case DataType::kFloat64: each(double{}); break;
    default:
      return UnimplementedError(
          fmt::format("output '{}' is {}, which JSON cannot carry; request it with binary_data",
                      t.name, DataTypeName(t.type)));
  }
  return values;
}

}  // namespace

Result<std::vector<size_t>> SelectOutputs(const Model& model, const InferRequest& request) {
  size_t count = model.output_indices().size();
  std::vector<size_t> selected;
  if (request.outputs.empty()) {
    for (size_t i = 0; i < count; ++i) selected.push_back(i);
    return selected;
  }
  for (const RequestedOutput& output : request.outputs) {
    size_t i = 0;
    while (i < count && model.output(i).name != output.name) ++i;
    if (i == count) {
      std::vector<std::string> names;
      for (size_t k = 0; k < count; ++k) names.push_back(model.output(k).name);
      return InvalidArgumentError(fmt::format("the model has no output '{}'; its outputs are {}",
                                              output.name.substr(0, 256), fmt::join(names, ", ")));
    }
    selected.push_back(i);
  }
  return selected;
}

Result<EncodedResponse> EncodeInferResponse(const Model& model, const std::string& model_name,
                                            const InferRequest& request,
                                            const TensorList& outputs) {
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<size_t> selected, SelectOutputs(model, request));
  json response = {{"model_name", model_name}, {"outputs", json::array()}};
  if (!request.id.empty()) response["id"] = request.id;
  std::string blobs;
  bool any_binary = false;
  for (size_t k = 0; k < selected.size(); ++k) {
    size_t i = selected[k];
    bool binary = request.binary_output;
    if (!request.outputs.empty() && request.outputs[k].binary) binary = *request.outputs[k].binary;
    cpu::Tensor t = OutputView(model, outputs, i);
    json entry = {{"name", t.name}, {"datatype", V2Datatype(t.type)}, {"shape", t.shape}};
    if (binary) {
      entry["parameters"] = {{"binary_data_size", outputs[i].size()}};
      any_binary = true;
      blobs.append(reinterpret_cast<const char*>(outputs[i].data()), outputs[i].size());
    } else {
      TPUFLEET_ASSIGN_OR_RETURN(entry["data"], JsonValues(t));
    }
    response["outputs"].push_back(std::move(entry));
  }
  EncodedResponse encoded;
  encoded.body = response.dump();
  if (any_binary) {
    encoded.header_length = encoded.body.size();
    encoded.body += blobs;
  }
  return encoded;
}

}  // namespace tpufleet::server
