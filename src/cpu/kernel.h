// The kernel interface: one class per operator family, with TFLite Micro's Prepare/Eval shape.
//
// Prepare runs once, before memory is planned: it checks types, shapes and options (returning a
// Status that names what is unsupported), may set output shapes, and builds whatever it can from
// constants (XNNPACK operators, lookup tables). Eval runs on every invocation, after the arena is
// allocated; tensor data pointers are stable from the first Eval on. A kernel instance belongs to
// one interpreter and is used from one thread at a time.
#pragma once

#include <pthreadpool.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cpu/tensor.h"
#include "model/schema.h"
#include "tpufleet/status.h"

namespace tpufleet::cpu {

struct OpContext {
  int index = 0;     // operator index, for messages
  std::string name;  // "CONV_2D"
  const tfl::Operator* op = nullptr;
  std::vector<Tensor*> inputs;  // nullptr for omitted optional inputs
  std::vector<Tensor*> outputs;
  // The operator's intermediate tensors (an integer LSTM's gate scales): their quantization,
  // never their data.
  std::vector<Tensor*> intermediates;
  pthreadpool_t threadpool = nullptr;

  Tensor& input(size_t i) const { return *inputs[i]; }
  Tensor& output(size_t i) const { return *outputs[i]; }
  // "operator #3 (CONV_2D): <what>" as an UNIMPLEMENTED or INVALID_ARGUMENT status.
  Status Unsupported(const std::string& what) const;
  Status Invalid(const std::string& what) const;
  Status ExpectCounts(size_t inputs_min, size_t inputs_max, size_t outputs) const;
  // INVALID_ARGUMENT unless `t`'s (first) scale is positive and finite.
  Status ExpectPositiveScale(const Tensor& t) const;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual Status Prepare(OpContext& context) = 0;
  virtual Status Eval(OpContext& context) = 0;
  // True when Eval's work runs inside XNNPACK (for profiles that separate it from the rest).
  virtual bool RunsInXnnpack() const { return false; }
};

using KernelFactory = std::unique_ptr<Kernel> (*)();

}  // namespace tpufleet::cpu
