#include "model/builder.h"

#include <algorithm>

namespace tpufleet {
namespace {

constexpr uint32_t kSchemaVersion = 3;
// Builtin codes above this live only in OperatorCode.builtin_code.
constexpr int32_t kLastDeprecatedCode = 127;

// The code an OperatorCode stands for: old files carry it only in deprecated_builtin_code.
tfl::BuiltinOperator EffectiveCode(const tfl::OperatorCodeT& code) {
  return std::max(code.builtin_code,
                  static_cast<tfl::BuiltinOperator>(code.deprecated_builtin_code));
}

Quantization FromQuantizationT(const tfl::QuantizationParametersT* q) {
  Quantization out;
  if (q == nullptr) return out;
  out.scales = q->scale;
  out.zero_points = q->zero_point;
  out.axis = q->quantized_dimension;
  return out;
}

std::unique_ptr<tfl::QuantizationParametersT> ToQuantizationT(const Quantization& q) {
  if (q.empty()) return nullptr;
  auto out = std::make_unique<tfl::QuantizationParametersT>();
  out->scale = q.scales;
  out->zero_point = q.zero_points;
  out->quantized_dimension = q.axis;
  return out;
}

}  // namespace

ModelBuilder::ModelBuilder() {
  model_.version = kSchemaVersion;
  model_.buffers.push_back(std::make_unique<tfl::BufferT>());  // buffer 0: empty by convention
  model_.subgraphs.push_back(std::make_unique<tfl::SubGraphT>());
  subgraph_ = model_.subgraphs.back().get();
  subgraph_->name = "main";
}

ModelBuilder::ModelBuilder(std::span<const uint8_t> tflite) {
  tfl::GetModel(tflite.data())->UnPackTo(&model_);
  // Data stored after the flatbuffer (files over 2 GB) moves inside it: offsets into the old file
  // would mean nothing in the new one.
  for (auto& buffer : model_.buffers) {
    if (buffer->offset > 1) {
      const uint8_t* data = tflite.data() + buffer->offset;
      buffer->data.assign(data, data + buffer->size);
    }
    buffer->offset = buffer->size = 0;
  }
  for (auto& subgraph : model_.subgraphs) {
    for (auto& op : subgraph->operators) {
      if (op->large_custom_options_size != 0) {
        const uint8_t* data = tflite.data() + op->large_custom_options_offset;
        op->custom_options.assign(data, data + op->large_custom_options_size);
      }
      op->large_custom_options_offset = op->large_custom_options_size = 0;
    }
  }
  subgraph_ = model_.subgraphs[0].get();
  for (const auto& tensor : subgraph_->tensors) {
    quantizations_.push_back(FromQuantizationT(tensor->quantization.get()));
  }
}

void ModelBuilder::SetShape(int tensor, std::vector<int32_t> shape) {
  subgraph_->tensors[tensor]->shape = std::move(shape);
  subgraph_->tensors[tensor]->shape_signature.clear();
}

void ModelBuilder::SetQuantization(int tensor, const Quantization& quantization) {
  subgraph_->tensors[tensor]->quantization = ToQuantizationT(quantization);
  quantizations_[tensor] = quantization;
}

void ModelBuilder::SetConstantData(int tensor, std::vector<uint8_t> data) {
  auto buffer = std::make_unique<tfl::BufferT>();
  buffer->data = std::move(data);
  model_.buffers.push_back(std::move(buffer));
  subgraph_->tensors[tensor]->buffer = static_cast<uint32_t>(model_.buffers.size() - 1);
}

void ModelBuilder::KeepOnlyOperators(const std::vector<int>& operators) {
  std::vector<std::unique_ptr<tfl::OperatorT>> kept;
  for (int op : operators) kept.push_back(std::move(subgraph_->operators[op]));
  subgraph_->operators = std::move(kept);

  // Old tensor index -> new (-1: dropped), in the old order.
  std::vector<int> renumbered(subgraph_->tensors.size(), -1);
  auto use = [&](const std::vector<int32_t>& indices) {
    for (int32_t t : indices) {
      if (t >= 0) renumbered[t] = 0;
    }
  };
  use(subgraph_->inputs);
  use(subgraph_->outputs);
  for (const auto& op : subgraph_->operators) {
    use(op->inputs);
    use(op->outputs);
    use(op->intermediates);
  }
  std::vector<std::unique_ptr<tfl::TensorT>> tensors;
  std::vector<Quantization> quantizations;
  for (size_t t = 0; t < renumbered.size(); ++t) {
    if (renumbered[t] < 0) continue;
    renumbered[t] = static_cast<int>(tensors.size());
    tensors.push_back(std::move(subgraph_->tensors[t]));
    quantizations.push_back(quantizations_[t]);
  }
  subgraph_->tensors = std::move(tensors);
  quantizations_ = std::move(quantizations);
  auto renumber = [&](std::vector<int32_t>& indices) {
    for (int32_t& t : indices) {
      if (t >= 0) t = renumbered[t];
    }
  };
  renumber(subgraph_->inputs);
  renumber(subgraph_->outputs);
  for (auto& op : subgraph_->operators) {
    renumber(op->inputs);
    renumber(op->outputs);
    renumber(op->intermediates);
  }

  // Buffer 0 stays (the empty one by convention), and those a tensor of any subgraph uses.
  std::vector<int64_t> buffer_index(model_.buffers.size(), -1);
  if (!buffer_index.empty()) buffer_index[0] = 0;
  for (const auto& subgraph : model_.subgraphs) {
    for (const auto& tensor : subgraph->tensors) buffer_index[tensor->buffer] = 0;
  }
  std::vector<std::unique_ptr<tfl::BufferT>> buffers;
  for (size_t b = 0; b < buffer_index.size(); ++b) {
    if (buffer_index[b] < 0) continue;
    buffer_index[b] = static_cast<int64_t>(buffers.size());
    buffers.push_back(std::move(model_.buffers[b]));
  }
  model_.buffers = std::move(buffers);
  for (auto& subgraph : model_.subgraphs) {
    for (auto& tensor : subgraph->tensors) {
      tensor->buffer = static_cast<uint32_t>(buffer_index[tensor->buffer]);
    }
  }
}

tfl::BuiltinOperator ModelBuilder::builtin(int op) const {
  return EffectiveCode(*model_.operator_codes[subgraph_->operators[op]->opcode_index]);
}

void ModelBuilder::SetOptions(int op, tfl::BuiltinOptionsUnion options) {
  subgraph_->operators[op]->builtin_options = std::move(options);
}

int ModelBuilder::AddTensorWithBuffer(const std::string& name, DataType type,
                                      std::vector<int32_t> shape, uint32_t buffer,
                                      const Quantization& quantization) {
  auto tensor = std::make_unique<tfl::TensorT>();
  tensor->name = name;
  tensor->type = static_cast<tfl::TensorType>(type);
  tensor->shape = std::move(shape);
  tensor->buffer = buffer;
  tensor->quantization = ToQuantizationT(quantization);
  subgraph_->tensors.push_back(std::move(tensor));
  quantizations_.push_back(quantization);
  return static_cast<int>(subgraph_->tensors.size() - 1);
}

int ModelBuilder::AddTensor(const std::string& name, DataType type, std::vector<int32_t> shape,
                            const Quantization& quantization) {
  return AddTensorWithBuffer(name, type, std::move(shape), 0, quantization);
}

int ModelBuilder::AddConstant(const std::string& name, DataType type, std::vector<int32_t> shape,
                              std::vector<uint8_t> data, const Quantization& quantization) {
  auto buffer = std::make_unique<tfl::BufferT>();
  buffer->data = std::move(data);
  model_.buffers.push_back(std::move(buffer));
  return AddTensorWithBuffer(name, type, std::move(shape),
                             static_cast<uint32_t>(model_.buffers.size() - 1), quantization);
}

DataType ModelBuilder::type(int tensor) const {
  return static_cast<DataType>(subgraph_->tensors[tensor]->type);
}

uint32_t ModelBuilder::OperatorCodeIndex(tfl::BuiltinOperator op, const std::string& custom_code) {
  for (size_t i = 0; i < model_.operator_codes.size(); ++i) {
    const tfl::OperatorCodeT& code = *model_.operator_codes[i];
    if (EffectiveCode(code) == op && code.custom_code == custom_code)
      return static_cast<uint32_t>(i);
  }
  auto code = std::make_unique<tfl::OperatorCodeT>();
  code->builtin_code = op;
  code->deprecated_builtin_code =
      static_cast<int8_t>(std::min(static_cast<int32_t>(op), kLastDeprecatedCode));
  code->custom_code = custom_code;
  model_.operator_codes.push_back(std::move(code));
  return static_cast<uint32_t>(model_.operator_codes.size() - 1);
}

void ModelBuilder::AddOperator(tfl::BuiltinOperator op, std::vector<int> inputs,
                               std::vector<int> outputs, tfl::BuiltinOptionsUnion options) {
  auto op_t = std::make_unique<tfl::OperatorT>();
  op_t->opcode_index = OperatorCodeIndex(op, "");
  op_t->inputs = std::move(inputs);
  op_t->outputs = std::move(outputs);
  op_t->builtin_options = std::move(options);
  subgraph_->operators.push_back(std::move(op_t));
}

void ModelBuilder::AddCustomOperator(const std::string& custom_code, std::vector<int> inputs,
                                     std::vector<int> outputs,
                                     std::vector<uint8_t> custom_options) {
  auto op_t = std::make_unique<tfl::OperatorT>();
  op_t->opcode_index = OperatorCodeIndex(tfl::BuiltinOperator::CUSTOM, custom_code);
  op_t->inputs = std::move(inputs);
  op_t->outputs = std::move(outputs);
  op_t->custom_options = std::move(custom_options);
  op_t->custom_options_format = tfl::CustomOptionsFormat::FLEXBUFFERS;
  subgraph_->operators.push_back(std::move(op_t));
}

std::vector<uint8_t> ModelBuilder::Finish() const {
  flatbuffers::FlatBufferBuilder builder;
  builder.Finish(tfl::Model::Pack(builder, &model_), tfl::ModelIdentifier());
  return {builder.GetBufferPointer(), builder.GetBufferPointer() + builder.GetSize()};
}

}  // namespace tpufleet
