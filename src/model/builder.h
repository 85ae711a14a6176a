// ModelBuilder: writes valid .tflite files, for tests, benchmarks, the synthetic model zoo and
// the edits of ModelEditor.
//
// It starts empty or from an existing model's flatbuffer (whose main subgraph it then extends).
// Tensors and operators are added in order and refer to each other by tensor index; the edit
// methods take indices the caller has checked. Finish() serializes; it checks nothing itself, so
// load the result with Model::FromBuffer to verify it. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "model/schema.h"
#include "tpufleet/model.h"

namespace tpufleet {

class ModelBuilder {
 public:
  ModelBuilder();
  // A copy of a verified model's flatbuffer (`tflite` must have passed Model's verification).
  explicit ModelBuilder(std::span<const uint8_t> tflite);

  // An activation (no data): a graph input, output or intermediate. Returns its index.
  int AddTensor(const std::string& name, DataType type, std::vector<int32_t> shape,
                const Quantization& quantization = {});

  // A constant whose raw bytes are `data` (little-endian elements). Returns its index.
  int AddConstant(const std::string& name, DataType type, std::vector<int32_t> shape,
                  std::vector<uint8_t> data, const Quantization& quantization = {});

  template <typename T>
  int AddConstant(const std::string& name, DataType type, std::vector<int32_t> shape,
                  const std::vector<T>& values, const Quantization& quantization = {}) {
    std::vector<uint8_t> bytes(values.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return AddConstant(name, type, std::move(shape), std::move(bytes), quantization);
  }

  void AddOperator(tfl::BuiltinOperator op, std::vector<int> inputs, std::vector<int> outputs,
                   tfl::BuiltinOptionsUnion options = {});
  void AddCustomOperator(const std::string& custom_code, std::vector<int> inputs,
                         std::vector<int> outputs, std::vector<uint8_t> custom_options);

  // Edits of existing tensors and operators; indices must be in range.
  void SetShape(int tensor, std::vector<int32_t> shape);
  void SetQuantization(int tensor, const Quantization& quantization);
  // Gives the tensor a buffer of its own holding `data` (shared buffers stay with the others).
  void SetConstantData(int tensor, std::vector<uint8_t> data);
  void SetOptions(int op, tfl::BuiltinOptionsUnion options);
  // Drops the operators from index `count` on (their tensors stay).
  void KeepOperators(int count) { subgraph_->operators.resize(count); }
  // Keeps `operators` alone (indices, in the order given), then drops the tensors that no kept
  // operator and no graph input or output uses, and the buffers no tensor left uses; tensor and
  // buffer indices are renumbered. Set the inputs and outputs first.
  void KeepOnlyOperators(const std::vector<int>& operators);
  int tensor_count() const { return static_cast<int>(subgraph_->tensors.size()); }
  // The builtin kind of operator `op` (CUSTOM for custom operators).
  tfl::BuiltinOperator builtin(int op) const;
  int operator_count() const { return static_cast<int>(subgraph_->operators.size()); }

  void SetInputs(std::vector<int> inputs) { subgraph_->inputs = std::move(inputs); }
  void SetOutputs(std::vector<int> outputs) { subgraph_->outputs = std::move(outputs); }
  void SetDescription(std::string description) { model_.description = std::move(description); }

  const std::vector<int32_t>& shape(int tensor) const { return subgraph_->tensors[tensor]->shape; }
  const Quantization& quantization(int tensor) const { return quantizations_[tensor]; }
  DataType type(int tensor) const;

  std::vector<uint8_t> Finish() const;

 private:
  uint32_t OperatorCodeIndex(tfl::BuiltinOperator op, const std::string& custom_code);
  int AddTensorWithBuffer(const std::string& name, DataType type, std::vector<int32_t> shape,
                          uint32_t buffer, const Quantization& quantization);

  tfl::ModelT model_;
  tfl::SubGraphT* subgraph_;
  std::vector<Quantization> quantizations_;  // per tensor, as given
};

}  // namespace tpufleet
