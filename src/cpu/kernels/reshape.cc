// RESHAPE, SQUEEZE and EXPAND_DIMS: the bytes stay as they are; only the shape changes, and the
// output shape is the one the model declares (checked to hold the same number of elements).
#include <fmt/format.h>

#include <cstring>

#include "cpu/kernels/kernels.h"

namespace tpufleet::cpu {
namespace {

class ReshapeKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(1, 2, 1));
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    if (in.type != out.type)
      return c.Invalid(fmt::format("{} -> {} changes the type", Describe(in), Describe(out)));
    if (in.element_count() != out.element_count()) {
      return c.Invalid(
          fmt::format("{} and {} hold different numbers of elements", Describe(in), Describe(out)));
    }
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    if (c.output(0).data != c.input(0).data)
      std::memcpy(c.output(0).data, c.input(0).data, c.input(0).byte_size());
    return OkStatus();
  }
};

}  // namespace

std::unique_ptr<Kernel> MakeReshape() { return std::make_unique<ReshapeKernel>(); }

}  // namespace tpufleet::cpu
