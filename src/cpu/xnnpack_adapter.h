// The one place that talks to XNNPACK: initialisation, operator ownership, error translation.
// XNNPACK's signatures change between versions; keeping them here keeps the kernels stable.
#pragma once

#include <xnnpack.h>

#include <array>
#include <memory>

#include "tpufleet/status.h"

namespace tpufleet::cpu::xnn {

// Initialises XNNPACK once per process; later calls return the first result. Thread-safe.
Status Initialize();

struct OperatorDeleter {
  void operator()(xnn_operator_t op) const { xnn_delete_operator(op); }
};
using Operator = std::unique_ptr<xnn_operator, OperatorDeleter>;

// OK, or INTERNAL naming the XNNPACK call and its status.
Status Check(xnn_status status, const char* call);

// An XNNPACK operator and the tensor pointers it was last set up with. Run() sets it up again
// only when the pointers change, which they do not once the interpreter's arena is allocated.
class BoundOperator {
 public:
  using Pointers = std::array<const void*, 3>;  // inputs then output; unused slots null

  void reset(xnn_operator_t op) {
    op_.reset(op);
    bound_ = {};
  }
  explicit operator bool() const { return op_ != nullptr; }

  // `setup(op)` makes the xnn_setup_* call for these pointers; `what` names the operator.
  template <typename Setup>
  Status Run(const Pointers& pointers, pthreadpool_t threadpool, const char* what, Setup&& setup) {
    if (pointers != bound_) {
      TPUFLEET_RETURN_IF_ERROR(Check(setup(op_.get()), what));
      bound_ = pointers;
    }
    return Check(xnn_run_operator(op_.get(), threadpool), what);
  }

 private:
  Operator op_;
  Pointers bound_{};
};

}  // namespace tpufleet::cpu::xnn
