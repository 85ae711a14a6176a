// The one place that talks to XNNPACK: initialisation, operator ownership, error translation.
// XNNPACK's signatures change between versions; keeping them here keeps the kernels stable.
#pragma once

#include <xnnpack.h>

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

}  // namespace tpufleet::cpu::xnn
