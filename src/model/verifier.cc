#include "model/verifier.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <string>

#include "tpufleet/model.h"

namespace tpufleet {
namespace {

constexpr char kIdentifier[] = "TFL3";
// Element counts beyond this are certainly corrupt, and keep byte arithmetic
// far from overflow.
constexpr uint64_t kMaxElements = uint64_t{1} << 40;

std::string Printable(std::span<const uint8_t> bytes) {
  std::string out;
  for (uint8_t b : bytes) out += std::isprint(b) ? static_cast<char>(b) : '.';
  return out;
}

template <typename Vector>
size_t SizeOf(const Vector* v) {
  return v == nullptr ? 0 : v->size();
}

std::string TensorWhere(size_t subgraph, size_t index, const tfl::Tensor& tensor) {
  std::string name = tensor.name() ? tensor.name()->str() : "";
  return fmt::format("subgraph {}, tensor #{} '{}'", subgraph, index, name);
}

}  // namespace

int QuantizedAxis(const tfl::QuantizationParameters& q, std::span<const int32_t> shape) {
  // Some converters write the weights' axis (e.g. 3) on 1-D per-channel biases;
  // TFLite reads those along their only dimension, and so does tpufleet.
  size_t scales = q.scale() ? q.scale()->size() : 0;
  if (shape.size() == 1 && scales > 1 && static_cast<size_t>(shape[0]) == scales) return 0;
  return q.quantized_dimension();
}

namespace {

Status VerifyTensor(const tfl::Tensor& tensor, const std::string& where,
                    std::span<const std::span<const uint8_t>> buffers) {
  if (tensor.buffer() >= buffers.size()) {
    return DataLossError(
        fmt::format("{}: buffer index {} is out of range (the model has {} buffers)", where,
                    tensor.buffer(), buffers.size()));
  }
  uint64_t elements = 1;
  std::vector<int32_t> shape;
  if (tensor.shape() != nullptr) shape.assign(tensor.shape()->begin(), tensor.shape()->end());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) {
      return DataLossError(fmt::format("{}: dimension {} of shape [{}] is negative", where, d,
                                       fmt::join(shape, ", ")));
    }
    elements *= static_cast<uint64_t>(shape[d]);
    if (elements > kMaxElements) {
      return DataLossError(
          fmt::format("{}: shape [{}] has too many elements", where, fmt::join(shape, ", ")));
    }
  }

  if (const tfl::QuantizationParameters* q = tensor.quantization()) {
    size_t scales = SizeOf(q->scale());
    size_t zero_points = SizeOf(q->zero_point());
    if (zero_points != 0 && zero_points != scales) {
      return DataLossError(fmt::format("{}: quantization has {} scales but {} zero points", where,
                                       scales, zero_points));
    }
    if (scales > 1) {
      int axis = QuantizedAxis(*q, shape);
      if (axis < 0 || static_cast<size_t>(axis) >= shape.size()) {
        return DataLossError(
            fmt::format("{}: per-channel quantization axis {} is outside shape [{}]", where, axis,
                        fmt::join(shape, ", ")));
      }
      if (static_cast<size_t>(shape[axis]) != scales) {
        return DataLossError(fmt::format("{}: {} per-channel scales for dimension {} of size {}",
                                         where, scales, axis, shape[axis]));
      }
    }
  }

  std::span<const uint8_t> data = buffers[tensor.buffer()];
  size_t element_size = DataTypeSize(static_cast<DataType>(tensor.type()));
  if (!data.empty() && tensor.sparsity() == nullptr && element_size != 0) {
    uint64_t expected = elements * element_size;
    if (data.size() != expected) {
      return DataLossError(
          fmt::format("{}: buffer {} holds {} bytes, but shape [{}] of {} needs {}", where,
                      tensor.buffer(), data.size(), fmt::join(shape, ", "),
                      DataTypeName(static_cast<DataType>(tensor.type())), expected));
    }
  }
  return OkStatus();
}

Status VerifyTensorIndices(const flatbuffers::Vector<int32_t>* indices, size_t tensor_count,
                           bool allow_omitted, const std::string& what) {
  if (indices == nullptr) return OkStatus();
  for (size_t i = 0; i < indices->size(); ++i) {
    int32_t index = indices->Get(i);
    if (allow_omitted && index == -1) continue;
    if (index < 0 || static_cast<size_t>(index) >= tensor_count) {
      return DataLossError(fmt::format("{} {} is tensor {}, but the subgraph has {} tensors", what,
                                       i, index, tensor_count));
    }
  }
  return OkStatus();
}

Status VerifyOperator(const tfl::Model& model, const tfl::Operator& op, const std::string& where,
                      size_t tensor_count, std::span<const uint8_t> bytes) {
  size_t code_count = SizeOf(model.operator_codes());
  if (op.opcode_index() >= code_count) {
    return DataLossError(
        fmt::format("{}: opcode index {} is out of range (the model has {} operator codes)", where,
                    op.opcode_index(), code_count));
  }
  std::string named = fmt::format("{} ({})", where,
                                  OperatorNameOf(*model.operator_codes()->Get(op.opcode_index())));
  TPUFLEET_RETURN_IF_ERROR(VerifyTensorIndices(op.inputs(), tensor_count, true, named + ": input"));
  TPUFLEET_RETURN_IF_ERROR(
      VerifyTensorIndices(op.outputs(), tensor_count, false, named + ": output"));
  TPUFLEET_RETURN_IF_ERROR(
      VerifyTensorIndices(op.intermediates(), tensor_count, false, named + ": intermediate"));
  if (op.large_custom_options_size() != 0) {
    uint64_t offset = op.large_custom_options_offset();
    uint64_t size = op.large_custom_options_size();
    if (offset > bytes.size() || size > bytes.size() - offset) {
      return DataLossError(
          fmt::format("{}: custom options at offset {} size "
                      "{} lie outside the {}-byte file",
                      named, offset, size, bytes.size()));
    }
  }
  return OkStatus();
}

}  // namespace

int32_t BuiltinCodeOf(const tfl::OperatorCode& code) {
  return std::max<int32_t>(code.deprecated_builtin_code(),
                           static_cast<int32_t>(code.builtin_code()));
}

std::string OperatorNameOf(const tfl::OperatorCode& code) {
  int32_t builtin = BuiltinCodeOf(code);
  if (builtin == static_cast<int32_t>(tfl::BuiltinOperator::CUSTOM)) {
    return code.custom_code() ? code.custom_code()->str() : "CUSTOM";
  }
  const char* name = tfl::EnumNameBuiltinOperator(static_cast<tfl::BuiltinOperator>(builtin));
  if (name == nullptr || *name == '\0') return fmt::format("BUILTIN({})", builtin);
  return name;
}

Result<const tfl::Model*> VerifyFlatbuffer(std::span<const uint8_t> bytes) {
  if (bytes.size() < 8) {
    return DataLossError(fmt::format("{} bytes is too small to be a TFLite model", bytes.size()));
  }
  if (!flatbuffers::BufferHasIdentifier(bytes.data(), kIdentifier)) {
    return DataLossError(fmt::format("not a TFLite model: file identifier is '{}', expected '{}'",
                                     Printable(bytes.subspan(4, 4)), kIdentifier));
  }
  if (bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return UnimplementedError(
        fmt::format("{} bytes is beyond the 2 GiB flatbuffer limit", bytes.size()));
  }
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (!tfl::VerifyModelBuffer(verifier)) {
    return DataLossError(
        "the flatbuffer structure is corrupt (an offset, "
        "vector or string points outside the file "
        "or is misaligned); the file is truncated or damaged");
  }
  const tfl::Model* model = tfl::GetModel(bytes.data());
  if (SizeOf(model->subgraphs()) == 0) return DataLossError("the model has no subgraphs");
  return model;
}

Result<std::vector<std::span<const uint8_t>>> ResolveBuffers(const tfl::Model& model,
                                                             std::span<const uint8_t> bytes) {
  std::vector<std::span<const uint8_t>> resolved(SizeOf(model.buffers()));
  for (size_t i = 0; i < resolved.size(); ++i) {
    const tfl::Buffer* buffer = model.buffers()->Get(i);
    if (buffer->data() != nullptr && buffer->data()->size() > 0) {
      resolved[i] = {buffer->data()->data(), buffer->data()->size()};
    } else if (buffer->offset() > 1) {  // 0 and 1 both mean "no external data"
      uint64_t offset = buffer->offset();
      uint64_t size = buffer->size();
      if (offset > bytes.size() || size > bytes.size() - offset) {
        return DataLossError(
            fmt::format("buffer {} at offset {} size {} lies outside the {}-byte file", i, offset,
                        size, bytes.size()));
      }
      resolved[i] = bytes.subspan(offset, size);
    }
  }
  return resolved;
}

Status VerifyGraph(const tfl::Model& model, std::span<const std::span<const uint8_t>> buffers,
                   std::span<const uint8_t> bytes) {
  for (size_t s = 0; s < model.subgraphs()->size(); ++s) {
    const tfl::SubGraph& subgraph = *model.subgraphs()->Get(s);
    size_t tensor_count = SizeOf(subgraph.tensors());
    for (size_t t = 0; t < tensor_count; ++t) {
      const tfl::Tensor& tensor = *subgraph.tensors()->Get(t);
      TPUFLEET_RETURN_IF_ERROR(VerifyTensor(tensor, TensorWhere(s, t, tensor), buffers));
    }
    std::string where = fmt::format("subgraph {}", s);
    TPUFLEET_RETURN_IF_ERROR(
        VerifyTensorIndices(subgraph.inputs(), tensor_count, false, where + ": input"));
    TPUFLEET_RETURN_IF_ERROR(
        VerifyTensorIndices(subgraph.outputs(), tensor_count, false, where + ": output"));
    for (size_t o = 0; o < SizeOf(subgraph.operators()); ++o) {
      TPUFLEET_RETURN_IF_ERROR(VerifyOperator(model, *subgraph.operators()->Get(o),
                                              fmt::format("subgraph {}, operator #{}", s, o),
                                              tensor_count, bytes));
    }
  }
  return OkStatus();
}

}  // namespace tpufleet
