// ModelEditor: changes a TensorFlow Lite model's main subgraph on the host and writes the result
// as a new, verified Model (model surgery: retraining a classifier's last layer, appending a
// head to an embedding extractor, cutting a graph at an intermediate tensor).
//
// The editor holds its own copy of the model; the Model it started from is not changed. Tensors
// and operators are named by their index in the main subgraph; new ones are appended, so the
// indices of existing ones stay valid. Every edit checks its indices and arguments and returns
// INVALID_ARGUMENT naming what was wrong. Finish() verifies the written bytes as Model::FromBuffer
// does; it does not check that operators' shapes agree (an interpreter does that on allocation).
//
// Thread-safety: not thread-safe; one thread edits at a time. The Model Finish() returns is
// shared freely.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tpufleet/model.h"
#include "tpufleet/status.h"

namespace tpufleet {

// Builtin options of an added operator (or the replacement options of an existing one). Only
// the fields of the operator's kind are used; the rest are ignored.
struct OperatorOptions {
  // CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, MAX_POOL_2D.
  bool same_padding = false;
  int stride = 1;
  int filter = 1;  // pools: filter height and width
  // SOFTMAX.
  float beta = 1.0f;
  // RESHAPE (also written to the output shape by TFLite; the caller keeps them consistent).
  std::vector<int32_t> new_shape;
};

class ModelEditor {
 public:
  // An empty model: one main subgraph without tensors, operators, inputs or outputs.
  ModelEditor();
  // A copy of `model` to edit.
  explicit ModelEditor(const Model& model);
  ~ModelEditor();
  ModelEditor(ModelEditor&&) noexcept;
  ModelEditor& operator=(ModelEditor&&) noexcept;

  int tensor_count() const;
  int operator_count() const;

  // A new activation tensor, or a constant holding `data` (little-endian elements, exactly
  // element count * element size bytes). Return the new tensor's index.
  Result<int> AddTensor(const std::string& name, DataType type, std::vector<int32_t> shape,
                        const Quantization& quantization = {});
  Result<int> AddConstant(const std::string& name, DataType type, std::vector<int32_t> shape,
                          std::vector<uint8_t> data, const Quantization& quantization = {});

  // Edits of a tensor. SetConstantData gives the tensor its own buffer (others that shared its
  // old buffer keep it); its size must match the tensor's current shape and type.
  Status SetShape(int tensor, std::vector<int32_t> shape);
  Status SetQuantization(int tensor, const Quantization& quantization);
  Status SetConstantData(int tensor, std::vector<uint8_t> data);

  // Appends a builtin operator by its TFLite name ("FULLY_CONNECTED", "SOFTMAX", ...); -1 in
  // `inputs` marks an omitted optional input.
  Status AddOperator(const std::string& name, std::vector<int> inputs, std::vector<int> outputs,
                     const OperatorOptions& options = {});
  // Replaces the builtin options of operator `op` with `options` for its kind.
  Status SetOperatorOptions(int op, const OperatorOptions& options);
  // Keeps the first `count` operators and drops the rest (their tensors stay).
  Status KeepOperators(int count);

  Status SetInputs(std::vector<int> tensors);
  Status SetOutputs(std::vector<int> tensors);
  void SetDescription(std::string description);

  // Serializes and verifies the edited model; `name` becomes the Model's name. Errors as
  // Model::FromBuffer's.
  Result<ModelPtr> Finish(const std::string& name = "<edited>") const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tpufleet
