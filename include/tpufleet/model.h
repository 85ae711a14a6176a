// Model: a verified, immutable TensorFlow Lite model, shared between threads.
//
// A Model is created only from bytes that passed verification (flatbuffer
// structure against the project's schema, every index in range, constant
// buffers consistent with tensor shapes and types), so everything below may
// trust it. It describes the main subgraph: tensors, operators with their
// estimated multiply-accumulates, parameter bytes, and the Edge TPU packages of
// compiled models.
//
// Thread-safety: a Model never changes after creation; all its methods are
// const and may be called from any number of threads at once. It is held by
// ModelPtr (a shared_ptr to const): the fleet, interpreters and callers share
// it, and it lives until the last holder lets go.
//
// Ownership: every reference and span a Model returns (bytes(), tensors(),
// constant_data(), names, ...) points into the Model and is valid exactly as
// long as the Model is; copy what must outlive it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tpufleet/status.h"

namespace tpufleet {

// Element types, numbered as TFLite numbers them.
enum class DataType : int8_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kInt32 = 2,
  kUInt8 = 3,
  kInt64 = 4,
  kString = 5,
  kBool = 6,
  kInt16 = 7,
  kComplex64 = 8,
  kInt8 = 9,
  kFloat64 = 10,
  kComplex128 = 11,
  kUInt64 = 12,
  kResource = 13,
  kVariant = 14,
  kUInt32 = 15,
  kUInt16 = 16,
  kInt4 = 17,
  kBFloat16 = 18,
};

// "float32", "uint8", ...; "type(N)" for values the project does not name.
std::string DataTypeName(DataType type);
// Bytes per element; 0 for types without a fixed size (string, resource,
// variant, sub-byte types).
size_t DataTypeSize(DataType type);

// Affine quantization: real = scale * (q - zero_point). Per-tensor when scales
// has one entry; per-channel along `axis` otherwise.
struct Quantization {
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  int axis = 0;

  bool empty() const { return scales.empty(); }
  bool per_channel() const { return scales.size() > 1; }
};

struct TensorInfo {
  int index = 0;
  std::string name;
  DataType type = DataType::kFloat32;
  std::vector<int32_t> shape;
  Quantization quantization;
  bool is_constant = false;  // has data in a buffer: a weight, bias or other parameter
  bool is_sparse = false;    // stored in TFLite's sparse format (data is not the dense shape)
  bool is_variable = false;  // state an operator keeps across invocations (an LSTM's), not data
                             // that flows: no operator computes it and no caller feeds it
  uint64_t element_count = 0;
  uint64_t byte_size = 0;  // element_count * DataTypeSize (0 when the type has no fixed size)
};

struct OperatorInfo {
  int index = 0;
  std::string name;  // "CONV_2D", or the custom code of a custom operator
  bool is_custom = false;
  int32_t builtin_code = 0;  // TFLite's BuiltinOperator value (32 for custom operators)
  std::vector<int> inputs;   // tensor indices; -1 marks an omitted optional input
  std::vector<int> outputs;
  uint64_t macs = 0;  // estimated multiply-accumulates per invocation; 0 for ops
                      // without them
};

enum class EdgeTpuExecutableType : int16_t {
  kStandAlone = 0,
  kParameterCaching = 1,
  kExecutionOnly = 2
};
std::string EdgeTpuExecutableTypeName(EdgeTpuExecutableType type);

struct EdgeTpuExecutable {
  EdgeTpuExecutableType type = EdgeTpuExecutableType::kStandAlone;
  std::string name;
  std::string chip;
  uint64_t parameter_bytes = 0;  // size of the executable's `parameters`
  uint64_t caching_token = 0;
  int64_t estimated_cycles = 0;
  int32_t batch_size = 0;
};

// The Edge TPU part of one `edgetpu-custom-op` operator.
struct EdgeTpuPackage {
  int operator_index = 0;
  int32_t min_runtime_version = 0;
  std::string compiler_version;
  std::string model_identifier;
  std::vector<EdgeTpuExecutable> executables;

  // Bytes kept in the device's on-chip parameter memory (PARAMETER_CACHING
  // executables; for a stand-alone executable its parameters, which are loaded
  // on every invocation, count as streamed).
  uint64_t cached_bytes() const;
  // Bytes streamed from the host on every invocation (EXECUTION_ONLY and
  // STAND_ALONE executables).
  uint64_t streamed_bytes() const;
  // The token shared by co-compiled models; 0 when the package caches nothing.
  uint64_t caching_token() const;
};

class Model {
 public:
  // Loads and verifies a .tflite file, memory-mapped (the file must not be
  // truncated or rewritten while the Model lives). Blocks while it reads the
  // file's structure (the pages of large constant buffers are read on use).
  // Errors name the file and what is wrong: NOT_FOUND when it does not exist
  // or cannot be opened or mapped; INVALID_ARGUMENT when it is not a regular
  // file; DATA_LOSS when it is empty, not a TFLite flatbuffer, or fails
  // verification (the message names the tensor, operator or buffer);
  // UNIMPLEMENTED for a schema version the project does not read.
  static Result<std::shared_ptr<const Model>> FromFile(const std::string& path);
  // Verifies and takes ownership of in-memory bytes; `name` is used in error
  // messages and as name(). Errors as FromFile's, without the file ones.
  static Result<std::shared_ptr<const Model>> FromBuffer(std::vector<uint8_t> bytes,
                                                         const std::string& name = "<memory>");

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::string& name() const;  // file path or the name given to FromBuffer
  // The verified flatbuffer: the mapped file or the buffer given, owned by the
  // Model and valid while it lives.
  std::span<const uint8_t> bytes() const;
  uint32_t schema_version() const;
  const std::string& description() const;
  int subgraph_count() const;

  // The main subgraph (subgraph 0).
  const std::vector<TensorInfo>& tensors() const;
  const std::vector<OperatorInfo>& operators() const;
  const std::vector<int>& input_indices() const;
  const std::vector<int>& output_indices() const;
  // The i-th input or output; i must be below input_indices().size() (or
  // output_indices().size()): out of range is undefined, as for a vector.
  const TensorInfo& input(size_t i) const { return tensors()[input_indices()[i]]; }
  const TensorInfo& output(size_t i) const { return tensors()[output_indices()[i]]; }
  // Constant data of a tensor (empty for activations), verified to hold
  // byte_size bytes. `tensor_index` must index tensors().
  std::span<const uint8_t> constant_data(int tensor_index) const;

  // Operator name -> count over the main subgraph.
  std::map<std::string, int> op_histogram() const;
  // Elements and bytes of all constant tensors (each buffer counted once).
  uint64_t parameter_count() const;
  uint64_t parameter_bytes() const;
  // Estimated multiply-accumulates of one invocation, summed over the operators; saturates at
  // the largest uint64_t rather than wrapping.
  uint64_t total_macs() const;

  // One package per `edgetpu-custom-op` operator, in operator order.
  const std::vector<EdgeTpuPackage>& edgetpu_packages() const;
  bool is_edgetpu_compiled() const { return !edgetpu_packages().empty(); }

 private:
  struct State;  // defined where the model is loaded; opaque here
  explicit Model(std::unique_ptr<State> state);
  // Verifies state->bytes and describes the model; errors are prefixed with
  // state->name.
  static Result<std::shared_ptr<const Model>> Create(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

using ModelPtr = std::shared_ptr<const Model>;

}  // namespace tpufleet
