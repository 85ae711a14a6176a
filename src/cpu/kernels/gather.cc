// GATHER (with axis and batch_dims) and GATHER_ND, as TensorFlow Lite defines them. Values are
// copied as they are, so every copyable type works. Indices are data: each one is checked against
// its dimension on every invocation, and one out of range fails the invocation, naming it.
#include <fmt/format.h>

#include <cstring>

#include "cpu/kernels/index_values.h"
#include "cpu/kernels/kernels.h"

namespace tpufleet::cpu {
namespace {

// What GATHER and GATHER_ND share: params copied to the output as they are, int32 or int64
// indices.
Status CheckGatherTensors(const OpContext& c) {
  TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 2, 1));
  TPUFLEET_RETURN_IF_ERROR(ExpectSameElements(c, c.input(0), c.output(0)));
  return ExpectIndexType(c, c.input(1), "indices");
}

class GatherKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(CheckGatherTensors(c));
    const Tensor& params = c.input(0);
    const Tensor& indices = c.input(1);
    const Tensor& out = c.output(0);
    const tfl::GatherOptions* o = c.op->builtin_options_as_GatherOptions();
    int axis = o ? o->axis() : 0, batch_dims = o ? o->batch_dims() : 0;
    if (axis < 0) axis += params.rank();
    if (batch_dims < 0) batch_dims += indices.rank();
    if (axis < 0 || axis >= params.rank())
      return c.Invalid(fmt::format("axis {} is outside params {}", axis, Describe(params)));
    if (batch_dims < 0 || batch_dims > indices.rank() || batch_dims > axis) {
      return c.Invalid(fmt::format("batch_dims {} must lie in [0, min(axis {}, indices rank {})]",
                                   batch_dims, axis, indices.rank()));
    }
    for (int d = 0; d < batch_dims; ++d) {
      if (params.dim(d) != indices.dim(d)) {
        return c.Invalid(fmt::format("params {} and indices {} differ in batch dimension {}",
                                     Describe(params), Describe(indices), d));
      }
    }
    std::vector<int64_t> p = Dims(params), i = Dims(indices);
    std::vector<int64_t> expected(p.begin(), p.begin() + axis);
    expected.insert(expected.end(), i.begin() + batch_dims, i.end());
    expected.insert(expected.end(), p.begin() + axis + 1, p.end());
    TPUFLEET_RETURN_IF_ERROR(ExpectShape(c, out, expected));
    TPUFLEET_ASSIGN_OR_RETURN(batches_, DimProduct(c, p, 0, batch_dims, "the batch"));
    TPUFLEET_ASSIGN_OR_RETURN(outer_, DimProduct(c, p, batch_dims, axis, "params before the axis"));
    TPUFLEET_ASSIGN_OR_RETURN(inner_,
                              DimProduct(c, p, axis + 1, params.rank(), "params after the axis"));
    TPUFLEET_ASSIGN_OR_RETURN(coords_, DimProduct(c, i, batch_dims, indices.rank(), "the indices"));
    axis_size_ = p[axis];
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& params = c.input(0);
    const Tensor& indices = c.input(1);
    Tensor& out = c.output(0);
    for (size_t k = 0, n = indices.element_count(); k < n; ++k) {
      int64_t index = IntAt(indices, k);
      if (index < 0 || index >= axis_size_) {
        return c.Invalid(fmt::format("index {} (element {} of the indices) is outside [0, {})",
                                     index, k, axis_size_));
      }
    }
    size_t row = static_cast<size_t>(inner_) * DataTypeSize(params.type);
    uint8_t* dst = out.data;
    for (int64_t b = 0; b < batches_; ++b) {
      for (int64_t o = 0; o < outer_; ++o) {
        const uint8_t* src = params.data + (b * outer_ + o) * axis_size_ * row;
        for (int64_t k = 0; k < coords_; ++k, dst += row)
          std::memcpy(dst, src + IntAt(indices, b * coords_ + k) * row, row);
      }
    }
    return OkStatus();
  }

 private:
  int64_t batches_ = 1, outer_ = 1, inner_ = 1, coords_ = 1, axis_size_ = 0;
};

class GatherNdKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(CheckGatherTensors(c));
    const Tensor& params = c.input(0);
    const Tensor& indices = c.input(1);
    const Tensor& out = c.output(0);
    if (params.rank() < 1 || indices.rank() < 1) {
      return c.Invalid(fmt::format("params {} and indices {} must have rank 1 or more",
                                   Describe(params), Describe(indices)));
    }
    depth_ = indices.dim(-1);
    if (depth_ > params.rank()) {
      return c.Invalid(fmt::format("indices {} index {} dimensions of params {} (rank {})",
                                   Describe(indices), depth_, Describe(params), params.rank()));
    }
    std::vector<int64_t> p = Dims(params), i = Dims(indices);
    std::vector<int64_t> expected(i.begin(), i.end() - 1);
    expected.insert(expected.end(), p.begin() + depth_, p.end());
    TPUFLEET_RETURN_IF_ERROR(ExpectShape(c, out, expected));
    TPUFLEET_ASSIGN_OR_RETURN(slice_, DimProduct(c, p, depth_, params.rank(), "a gathered slice"));
    TPUFLEET_ASSIGN_OR_RETURN(count_, DimProduct(c, i, 0, indices.rank() - 1, "the index tuples"));
    dims_.assign(p.begin(), p.begin() + depth_);
    strides_.assign(depth_, slice_);
    for (int d = depth_ - 2; d >= 0; --d) strides_[d] = strides_[d + 1] * dims_[d + 1];
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& params = c.input(0);
    const Tensor& indices = c.input(1);
    Tensor& out = c.output(0);
    size_t element = DataTypeSize(params.type);
    size_t row = static_cast<size_t>(slice_) * element;
    for (int64_t k = 0; k < count_; ++k) {
      int64_t offset = 0;
      for (int d = 0; d < depth_; ++d) {
        int64_t index = IntAt(indices, k * depth_ + d);
        if (index < 0 || index >= dims_[d]) {
          return c.Invalid(
              fmt::format("index {} (coordinate {} of index tuple {}) is outside params dimension "
                          "{} of size {}",
                          index, d, k, d, dims_[d]));
        }
        offset += index * strides_[d];
      }
      std::memcpy(out.data + k * row, params.data + offset * element, row);
    }
    return OkStatus();
  }

 private:
  int depth_ = 0;                        // coordinates per index tuple
  int64_t slice_ = 1, count_ = 1;        // elements per gathered slice; index tuples
  std::vector<int64_t> dims_, strides_;  // indexed params dimensions, their strides in elements
};

}  // namespace

std::unique_ptr<Kernel> MakeGather() { return std::make_unique<GatherKernel>(); }
std::unique_ptr<Kernel> MakeGatherNd() { return std::make_unique<GatherNdKernel>(); }

}  // namespace tpufleet::cpu
