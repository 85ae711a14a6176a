// The CPU interpreter: runs a TFLite model's main subgraph with the kernels in cpu/kernels.
//
// Create() prepares every operator (so unsupported operators and types fail there, naming the
// operator) and plans one arena for all intermediate tensors. The model is untrusted: kernels
// check every option and shape they use, constants that are not aligned for their type are
// copied to aligned memory, graph inputs may not be constants (they are written), and every
// tensor the graph reads or returns has defined bytes (zero until written). An Interpreter is owned
// by one thread at a time; the Model it runs may be shared by many interpreters.
#pragma once

#include <pthreadpool.h>

#include <memory>
#include <vector>

#include "cpu/kernel.h"
#include "cpu/tensor.h"
#include "tpufleet/model.h"

namespace tpufleet::cpu {

// Where one invocation's time went, operator by operator.
struct Profile {
  struct Node {
    int index;
    std::string op;
    bool in_xnnpack;  // the kernel's work ran inside XNNPACK
    double seconds;
  };
  std::vector<Node> nodes;
  double total_seconds = 0;  // the whole Invoke, including what lies between operators

  double xnnpack_seconds() const;
};

struct InterpreterOptions {
  int threads = 1;  // threads for the heavy kernels (XNNPACK); 1 runs everything on the caller
  // The most bytes the arena of intermediate tensors may take: a model that needs more is refused
  // (RESOURCE_EXHAUSTED) before anything is allocated.
  uint64_t max_arena_bytes = uint64_t{1} << 30;
};

class Interpreter {
 public:
  static Result<std::unique_ptr<Interpreter>> Create(ModelPtr model,
                                                     const InterpreterOptions& options = {});
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  size_t input_count() const { return inputs_.size(); }
  size_t output_count() const { return outputs_.size(); }
  // Write inputs through input(i).data (input(i).byte_size() bytes), then Invoke.
  Tensor& input(size_t i) { return tensors_[inputs_[i]]; }
  const Tensor& output(size_t i) const { return tensors_[outputs_[i]]; }

  Status Invoke();
  // Invoke, recording each operator's time into `profile` (which is cleared first).
  Status Invoke(Profile& profile);

  // Peak bytes of the arena holding every non-constant tensor.
  size_t arena_bytes() const { return arena_size_; }
  const Model& model() const { return *model_; }

 private:
  struct Node {
    OpContext context;
    std::unique_ptr<Kernel> kernel;
  };

  Interpreter() = default;
  Status Prepare(const InterpreterOptions& options);
  Status AllocateArena(uint64_t max_bytes);
  // The bytes of a constant tensor, aligned for its type (copied when the file's are not); null
  // when the copy cannot be allocated.
  uint8_t* ConstantData(const Model& model, const TensorInfo& info);

  ModelPtr model_;
  std::vector<Tensor> tensors_;
  std::vector<Node> nodes_;
  std::vector<int> inputs_;
  std::vector<int> outputs_;
  pthreadpool_t threadpool_ = nullptr;
  using AlignedBytes = std::unique_ptr<uint8_t, void (*)(void*)>;
  AlignedBytes arena_{nullptr, std::free};
  std::vector<AlignedBytes> aligned_constants_;  // copies of misaligned constant buffers
  size_t arena_size_ = 0;
};

}  // namespace tpufleet::cpu
