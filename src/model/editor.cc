#include <string_view>

#include "model/builder.h"
#include "tpufleet/model_editor.h"

namespace tpufleet {
namespace {

std::string Indices(const std::vector<int>& indices) {
  std::string out;
  for (int i : indices) out += (out.empty() ? "" : ", ") + std::to_string(i);
  return "[" + out + "]";
}

Status CheckShape(const std::vector<int32_t>& shape) {
  for (int32_t dimension : shape) {
    if (dimension < 0) {
      return InvalidArgumentError("a tensor shape has a negative dimension (" +
                                  std::to_string(dimension) + "); give sizes of at least 0");
    }
  }
  return OkStatus();
}

uint64_t ElementCount(const std::vector<int32_t>& shape) {
  uint64_t count = 1;
  for (int32_t dimension : shape) count *= static_cast<uint64_t>(dimension);
  return count;
}

Status CheckData(DataType type, const std::vector<int32_t>& shape, size_t bytes) {
  const size_t element_size = DataTypeSize(type);
  if (element_size == 0) {
    return InvalidArgumentError("constants of type " + DataTypeName(type) +
                                " cannot be written: give a type with a fixed element size");
  }
  const uint64_t expected = ElementCount(shape) * element_size;
  if (bytes != expected) {
    return InvalidArgumentError("the data has " + std::to_string(bytes) + " bytes; a " +
                                DataTypeName(type) + " tensor of " +
                                std::to_string(ElementCount(shape)) + " elements takes " +
                                std::to_string(expected));
  }
  return OkStatus();
}

// The builtin operator named `name`, or NONE's error.
Result<tfl::BuiltinOperator> BuiltinByName(const std::string& name) {
  for (tfl::BuiltinOperator op : tfl::EnumValuesBuiltinOperator()) {
    if (op != tfl::BuiltinOperator::CUSTOM && name == tfl::EnumNameBuiltinOperator(op)) return op;
  }
  return InvalidArgumentError("'" + name +
                              "' is not a TFLite builtin operator: give its schema name, such as "
                              "FULLY_CONNECTED or SOFTMAX");
}

// The builtin options `op` takes, filled from `options`; empty for kinds without options.
tfl::BuiltinOptionsUnion OptionsFor(tfl::BuiltinOperator op, const OperatorOptions& options) {
  using Op = tfl::BuiltinOperator;
  const tfl::Padding padding = options.same_padding ? tfl::Padding::SAME : tfl::Padding::VALID;
  tfl::BuiltinOptionsUnion u;
  switch (op) {
    case Op::CONV_2D: {
      tfl::Conv2DOptionsT o;
      o.padding = padding;
      o.stride_h = o.stride_w = options.stride;
      u.Set(std::move(o));
      break;
    }
    case Op::DEPTHWISE_CONV_2D: {
      tfl::DepthwiseConv2DOptionsT o;
      o.padding = padding;
      o.stride_h = o.stride_w = options.stride;
      o.depth_multiplier = 1;
      u.Set(std::move(o));
      break;
    }
    case Op::AVERAGE_POOL_2D:
    case Op::MAX_POOL_2D: {
      tfl::Pool2DOptionsT o;
      o.padding = padding;
      o.stride_h = o.stride_w = options.stride;
      o.filter_height = o.filter_width = options.filter;
      u.Set(std::move(o));
      break;
    }
    case Op::FULLY_CONNECTED: u.Set(tfl::FullyConnectedOptionsT{}); break;
    case Op::SOFTMAX: {
      tfl::SoftmaxOptionsT o;
      o.beta = options.beta;
      u.Set(std::move(o));
      break;
    }
    case Op::RESHAPE: {
      tfl::ReshapeOptionsT o;
      o.new_shape = options.new_shape;
      u.Set(std::move(o));
      break;
    }
    case Op::MUL: u.Set(tfl::MulOptionsT{}); break;
    case Op::ADD: u.Set(tfl::AddOptionsT{}); break;
    case Op::L2_NORMALIZATION: u.Set(tfl::L2NormOptionsT{}); break;
    default: break;
  }
  return u;
}

}  // namespace

struct ModelEditor::State {
  ModelBuilder builder;

  Status CheckTensor(int tensor, std::string_view what) const {
    if (tensor < 0 || tensor >= builder.tensor_count()) {
      return InvalidArgumentError(std::string(what) + " " + std::to_string(tensor) +
                                  " is not a tensor of the model: it has tensors 0 to " +
                                  std::to_string(builder.tensor_count() - 1));
    }
    return OkStatus();
  }
  Status CheckTensors(const std::vector<int>& tensors, bool allow_omitted,
                      std::string_view what) const {
    for (int tensor : tensors) {
      if (allow_omitted && tensor == -1) continue;
      Status status = CheckTensor(tensor, what);
      if (!status.ok()) return status.WithContext(std::string(what) + "s " + Indices(tensors));
    }
    return OkStatus();
  }
  Status CheckOperator(int op) const {
    if (op < 0 || op >= builder.operator_count()) {
      return InvalidArgumentError("operator " + std::to_string(op) +
                                  " is not in the model: it has operators 0 to " +
                                  std::to_string(builder.operator_count() - 1));
    }
    return OkStatus();
  }
};

ModelEditor::ModelEditor() : state_(std::make_unique<State>()) {}
ModelEditor::ModelEditor(const Model& model)
    : state_(std::make_unique<State>(State{ModelBuilder(model.bytes())})) {}
ModelEditor::~ModelEditor() = default;
ModelEditor::ModelEditor(ModelEditor&&) noexcept = default;
ModelEditor& ModelEditor::operator=(ModelEditor&&) noexcept = default;

int ModelEditor::tensor_count() const { return state_->builder.tensor_count(); }
int ModelEditor::operator_count() const { return state_->builder.operator_count(); }

Result<int> ModelEditor::AddTensor(const std::string& name, DataType type,
                                   std::vector<int32_t> shape, const Quantization& quantization) {
  TPUFLEET_RETURN_IF_ERROR(CheckShape(shape).WithContext("tensor '" + name + "'"));
  return state_->builder.AddTensor(name, type, std::move(shape), quantization);
}

Result<int> ModelEditor::AddConstant(const std::string& name, DataType type,
                                     std::vector<int32_t> shape, std::vector<uint8_t> data,
                                     const Quantization& quantization) {
  TPUFLEET_RETURN_IF_ERROR(CheckShape(shape).WithContext("constant '" + name + "'"));
  TPUFLEET_RETURN_IF_ERROR(
      CheckData(type, shape, data.size()).WithContext("constant '" + name + "'"));
  return state_->builder.AddConstant(name, type, std::move(shape), std::move(data), quantization);
}

Status ModelEditor::SetShape(int tensor, std::vector<int32_t> shape) {
  TPUFLEET_RETURN_IF_ERROR(state_->CheckTensor(tensor, "tensor"));
  TPUFLEET_RETURN_IF_ERROR(CheckShape(shape).WithContext("tensor " + std::to_string(tensor)));
  state_->builder.SetShape(tensor, std::move(shape));
  return OkStatus();
}

Status ModelEditor::SetQuantization(int tensor, const Quantization& quantization) {
  TPUFLEET_RETURN_IF_ERROR(state_->CheckTensor(tensor, "tensor"));
  if (quantization.scales.size() != quantization.zero_points.size()) {
    return InvalidArgumentError("tensor " + std::to_string(tensor) + ": the quantization has " +
                                std::to_string(quantization.scales.size()) + " scales and " +
                                std::to_string(quantization.zero_points.size()) +
                                " zero points; give one zero point per scale");
  }
  state_->builder.SetQuantization(tensor, quantization);
  return OkStatus();
}

Status ModelEditor::SetConstantData(int tensor, std::vector<uint8_t> data) {
  TPUFLEET_RETURN_IF_ERROR(state_->CheckTensor(tensor, "tensor"));
  const ModelBuilder& b = state_->builder;
  TPUFLEET_RETURN_IF_ERROR(CheckData(b.type(tensor), b.shape(tensor), data.size())
                               .WithContext("tensor " + std::to_string(tensor)));
  state_->builder.SetConstantData(tensor, std::move(data));
  return OkStatus();
}

Status ModelEditor::AddOperator(const std::string& name, std::vector<int> inputs,
                                std::vector<int> outputs, const OperatorOptions& options) {
  TPUFLEET_ASSIGN_OR_RETURN(tfl::BuiltinOperator op, BuiltinByName(name));
  TPUFLEET_RETURN_IF_ERROR(state_->CheckTensors(inputs, true, "input").WithContext(name));
  TPUFLEET_RETURN_IF_ERROR(state_->CheckTensors(outputs, false, "output").WithContext(name));
  state_->builder.AddOperator(op, std::move(inputs), std::move(outputs), OptionsFor(op, options));
  return OkStatus();
}

Status ModelEditor::SetOperatorOptions(int op, const OperatorOptions& options) {
  TPUFLEET_RETURN_IF_ERROR(state_->CheckOperator(op));
  state_->builder.SetOptions(op, OptionsFor(state_->builder.builtin(op), options));
  return OkStatus();
}

Status ModelEditor::KeepOperators(int count) {
  if (count < 0 || count > operator_count()) {
    return InvalidArgumentError(
        "cannot keep " + std::to_string(count) + " operators of a model that has " +
        std::to_string(operator_count()) + ": give 0 to " + std::to_string(operator_count()));
  }
  state_->builder.KeepOperators(count);
  return OkStatus();
}

Status ModelEditor::SetInputs(std::vector<int> tensors) {
  TPUFLEET_RETURN_IF_ERROR(state_->CheckTensors(tensors, false, "graph input"));
  state_->builder.SetInputs(std::move(tensors));
  return OkStatus();
}

Status ModelEditor::SetOutputs(std::vector<int> tensors) {
  TPUFLEET_RETURN_IF_ERROR(state_->CheckTensors(tensors, false, "graph output"));
  state_->builder.SetOutputs(std::move(tensors));
  return OkStatus();
}

void ModelEditor::SetDescription(std::string description) {
  state_->builder.SetDescription(std::move(description));
}

Result<ModelPtr> ModelEditor::Finish(const std::string& name) const {
  return Model::FromBuffer(state_->builder.Finish(), name);
}

}  // namespace tpufleet
