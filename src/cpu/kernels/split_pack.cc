// SPLIT, SPLIT_V and UNPACK cut a tensor into pieces along one axis; PACK joins pieces along a
// new axis. All four copy rows of bytes: for each index before the axis, each piece's slab of
// (its size along the axis) x (elements after the axis).
#include <fmt/format.h>

#include <cstring>

#include "cpu/kernels/index_values.h"
#include "cpu/kernels/kernels.h"
#include "cpu/shape_math.h"

namespace tpufleet::cpu {
namespace {

// The whole tensor as [outer, axis, inner], and each piece's share of the axis.
struct AxisPieces {
  int64_t outer = 1, inner = 1;
  std::vector<int64_t> sizes;
};

// Checks that `whole` is made of `pieces` along `axis` (each piece's shape is the whole's with
// its own size there, or with the axis removed when `squeeze`), and returns the layout.
Result<AxisPieces> Layout(const OpContext& c, const Tensor& whole,
                          const std::vector<Tensor*>& pieces, int axis, bool squeeze,
                          const std::vector<int64_t>& sizes) {
  AxisPieces layout;
  std::vector<int64_t> dims = Dims(whole);
  TPUFLEET_ASSIGN_OR_RETURN(layout.outer,
                            DimProduct(c, dims, 0, axis, "the dimensions before the axis"));
  TPUFLEET_ASSIGN_OR_RETURN(
      layout.inner, DimProduct(c, dims, axis + 1, whole.rank(), "the dimensions after the axis"));
  for (size_t k = 0; k < pieces.size(); ++k) {
    TPUFLEET_RETURN_IF_ERROR(ExpectSameElements(c, whole, *pieces[k]));
    std::vector<int64_t> expected = dims;
    if (squeeze) {
      expected.erase(expected.begin() + axis);
    } else {
      expected[axis] = sizes[k];
    }
    TPUFLEET_RETURN_IF_ERROR(ExpectShape(c, *pieces[k], expected));
  }
  layout.sizes = sizes;
  return layout;
}

// Copies between the whole and its pieces: `split` copies whole -> pieces, else pieces -> whole.
void CopyPieces(const AxisPieces& layout, bool split, const Tensor& whole_tensor,
                const std::vector<Tensor*>& pieces) {
  size_t row = static_cast<size_t>(layout.inner) * DataTypeSize(whole_tensor.type);
  uint8_t* whole = whole_tensor.data;
  for (int64_t o = 0; o < layout.outer; ++o) {
    for (size_t k = 0; k < pieces.size(); ++k) {
      size_t bytes = layout.sizes[k] * row;
      uint8_t* piece = pieces[k]->data + o * bytes;
      if (split) {
        std::memcpy(piece, whole, bytes);
      } else {
        std::memcpy(whole, piece, bytes);
      }
      whole += bytes;
    }
  }
}

Result<int> NormalizeAxis(const OpContext& c, int64_t axis, int rank) {
  if (axis < -rank || axis >= rank)
    return c.Invalid(fmt::format("axis {} is outside [{}, {})", axis, -rank, rank));
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

Result<int> ConstantAxis(const OpContext& c, const Tensor& t, int rank) {
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<int64_t> axis, ConstantInts(c, t, "the axis"));
  if (axis.size() != 1)
    return c.Invalid(fmt::format("the axis {} must hold one value", Describe(t)));
  return NormalizeAxis(c, axis[0], rank);
}

// SPLIT, SPLIT_V and UNPACK: Prepare computes the layout, Eval copies.
class SplitKernelBase : public Kernel {
 public:
  Status Eval(OpContext& c) override {
    CopyPieces(layout_, /*split=*/true, c.input(input_), c.outputs);
    return OkStatus();
  }

 protected:
  Status CheckCount(const OpContext& c, int64_t declared, const char* option) const {
    if (declared == static_cast<int64_t>(c.outputs.size())) return OkStatus();
    return c.Invalid(fmt::format("{} is {} but the operator has {} outputs", option, declared,
                                 c.outputs.size()));
  }

  AxisPieces layout_;
  int input_ = 0;  // which input is the tensor being split
};

class SplitKernel : public SplitKernelBase {
 public:
  Status Prepare(OpContext& c) override {
    if (c.outputs.empty()) return c.Invalid("needs at least one output");
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 2, c.outputs.size()));
    input_ = 1;
    const Tensor& in = c.input(1);
    TPUFLEET_ASSIGN_OR_RETURN(int axis, ConstantAxis(c, c.input(0), in.rank()));
    const tfl::SplitOptions* o = c.op->builtin_options_as_SplitOptions();
    int64_t n = static_cast<int64_t>(c.outputs.size());
    TPUFLEET_RETURN_IF_ERROR(CheckCount(c, o ? o->num_splits() : n, "num_splits"));
    if (in.dim(axis) % n != 0) {
      return c.Invalid(fmt::format("dimension {} of {} does not split into {} equal pieces", axis,
                                   Describe(in), n));
    }
    TPUFLEET_ASSIGN_OR_RETURN(
        layout_, Layout(c, in, c.outputs, axis, false, std::vector<int64_t>(n, in.dim(axis) / n)));
    return OkStatus();
  }
};

class SplitVKernel : public SplitKernelBase {
 public:
  Status Prepare(OpContext& c) override {
    if (c.outputs.empty()) return c.Invalid("needs at least one output");
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(3, 3, c.outputs.size()));
    const Tensor& in = c.input(0);
    TPUFLEET_ASSIGN_OR_RETURN(int axis, ConstantAxis(c, c.input(2), in.rank()));
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<int64_t> sizes,
                              ConstantInts(c, c.input(1), "size_splits"));
    const tfl::SplitVOptions* o = c.op->builtin_options_as_SplitVOptions();
    if (o) TPUFLEET_RETURN_IF_ERROR(CheckCount(c, o->num_splits(), "num_splits"));
    TPUFLEET_RETURN_IF_ERROR(
        CheckCount(c, static_cast<int64_t>(sizes.size()), "size_splits' length"));
    int64_t known = 0;
    int unknown = -1;
    for (size_t k = 0; k < sizes.size(); ++k) {
      if (sizes[k] == -1 && unknown < 0) {
        unknown = static_cast<int>(k);
      } else if (sizes[k] < 0) {
        return c.Invalid(
            fmt::format("size_splits[{}] is {}; sizes must be non-negative, with "
                        "at most one -1",
                        k, sizes[k]));
      } else if (!AddChecked(known, sizes[k], known) || known > in.dim(axis)) {
        return c.Invalid(
            fmt::format("size_splits up to [{}] add up to more than dimension {} of {}", k, axis,
                        Describe(in)));
      }
    }
    if (unknown >= 0) sizes[unknown] = in.dim(axis) - known;
    if (unknown < 0 && known != in.dim(axis)) {
      return c.Invalid(fmt::format("size_splits add up to {}, not dimension {} of {}", known, axis,
                                   Describe(in)));
    }
    TPUFLEET_ASSIGN_OR_RETURN(layout_, Layout(c, in, c.outputs, axis, false, sizes));
    return OkStatus();
  }
};

class UnpackKernel : public SplitKernelBase {
 public:
  Status Prepare(OpContext& c) override {
    if (c.outputs.empty()) return c.Invalid("needs at least one output");
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(1, 1, c.outputs.size()));
    const Tensor& in = c.input(0);
    const tfl::UnpackOptions* o = c.op->builtin_options_as_UnpackOptions();
    TPUFLEET_ASSIGN_OR_RETURN(int axis, NormalizeAxis(c, o ? o->axis() : 0, in.rank()));
    TPUFLEET_RETURN_IF_ERROR(CheckCount(c, o ? o->num() : in.dim(axis), "num"));
    TPUFLEET_RETURN_IF_ERROR(CheckCount(c, in.dim(axis), "the axis' size"));
    TPUFLEET_ASSIGN_OR_RETURN(
        layout_, Layout(c, in, c.outputs, axis, true, std::vector<int64_t>(in.dim(axis), 1)));
    return OkStatus();
  }
};

class PackKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    if (c.inputs.empty()) return c.Invalid("needs at least one input");
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(c.inputs.size(), c.inputs.size(), 1));
    const Tensor& out = c.output(0);
    const tfl::PackOptions* o = c.op->builtin_options_as_PackOptions();
    int64_t n = static_cast<int64_t>(c.inputs.size());
    if (o && o->values_count() != n) {
      return c.Invalid(
          fmt::format("values_count is {} but the operator has {} inputs", o->values_count(), n));
    }
    TPUFLEET_ASSIGN_OR_RETURN(int axis, NormalizeAxis(c, o ? o->axis() : 0, out.rank()));
    if (out.dim(axis) != n) {
      return c.Invalid(
          fmt::format("output {} should have {} along axis {}", Describe(out), n, axis));
    }
    for (Tensor* in : c.inputs) TPUFLEET_RETURN_IF_ERROR(ExpectSameElements(c, *in, out));
    TPUFLEET_ASSIGN_OR_RETURN(layout_,
                              Layout(c, out, c.inputs, axis, true, std::vector<int64_t>(n, 1)));
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    CopyPieces(layout_, /*split=*/false, c.output(0), c.inputs);
    return OkStatus();
  }

 private:
  AxisPieces layout_;
};

}  // namespace

std::unique_ptr<Kernel> MakeSplit() { return std::make_unique<SplitKernel>(); }
std::unique_ptr<Kernel> MakeSplitV() { return std::make_unique<SplitVKernel>(); }
std::unique_ptr<Kernel> MakeUnpack() { return std::make_unique<UnpackKernel>(); }
std::unique_ptr<Kernel> MakePack() { return std::make_unique<PackKernel>(); }

}  // namespace tpufleet::cpu
