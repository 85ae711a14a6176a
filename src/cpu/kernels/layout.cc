// Data movement: CONCATENATION, PAD, TRANSPOSE and STRIDED_SLICE. Values are copied as they are
// when input and output share quantization, and requantized otherwise (CONCATENATION).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>

#include "cpu/kernels/index_values.h"
#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

bool SameQuantization(const Tensor& a, const Tensor& b) {
  return !IsQuantized8(a.type) || (a.scale() == b.scale() && a.zero_point() == b.zero_point());
}

class ConcatenationKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    if (c.inputs.empty() || c.outputs.size() != 1) return c.Invalid("needs inputs and one output");
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      if (c.inputs[i] == nullptr) return c.Invalid(fmt::format("input {} is omitted", i));
    }
    const Tensor& out = c.output(0);
    const tfl::ConcatenationOptions* o = c.op->builtin_options_as_ConcatenationOptions();
    axis_ = o ? o->axis() : 0;
    if (axis_ < 0) axis_ += out.rank();
    if (axis_ < 0 || axis_ >= out.rank())
      return c.Invalid(fmt::format("axis {} is outside rank {}", axis_, out.rank()));
    if (o && o->fused_activation_function() != tfl::ActivationFunctionType::NONE) {
      return c.Unsupported("a fused activation");
    }
    int64_t total = 0;  // at most 2^31 inputs of at most 2^31 each: no overflow
    for (Tensor* in : c.inputs) {
      if (in->type != out.type || in->rank() != out.rank()) {
        return c.Invalid(
            fmt::format("input {} does not match output {}", Describe(*in), Describe(out)));
      }
      for (int d = 0; d < out.rank(); ++d) {
        if (d != axis_ && in->dim(d) != out.dim(d)) {
          return c.Invalid(
              fmt::format("input {} does not match output {}", Describe(*in), Describe(out)));
        }
      }
      total += in->dim(axis_);
    }
    if (total != out.dim(axis_))
      return c.Invalid("inputs do not add up to the output along the axis");
    // 8-bit inputs quantized differently from the output are requantized through a table.
    tables_.clear();
    for (Tensor* in : c.inputs) {
      tables_.push_back(SameQuantization(*in, out)
                            ? std::nullopt
                            : std::optional(MakeLookupTable(*in, out, [](float x) { return x; })));
    }
    outer_ = 1;
    for (int d = 0; d < axis_; ++d) outer_ *= out.dim(d);
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    Tensor& out = c.output(0);
    size_t out_row = out.byte_size() / std::max<size_t>(outer_, 1);
    size_t offset = 0;
    for (size_t k = 0; k < c.inputs.size(); ++k) {
      const Tensor& in = *c.inputs[k];
      size_t in_row = in.byte_size() / std::max<size_t>(outer_, 1);
      for (size_t o = 0; o < outer_; ++o) {
        const uint8_t* src = in.data + o * in_row;
        uint8_t* dst = out.data + o * out_row + offset;
        if (!tables_[k]) {
          std::memcpy(dst, src, in_row);
        } else {
          const LookupTable& table = *tables_[k];
          for (size_t i = 0; i < in_row; ++i) dst[i] = table[src[i]];
        }
      }
      offset += in_row;
    }
    return OkStatus();
  }

 private:
  std::vector<std::optional<LookupTable>> tables_;  // per input; empty when bytes copy as they are
  int axis_ = 0;
  size_t outer_ = 1;
};

// Shared by PAD, TRANSPOSE and STRIDED_SLICE: out[i] = in[start + sum(index_d * step_d)].
struct StridedView {
  std::vector<int64_t> out_shape;
  std::vector<int64_t> in_step;  // input element step per output index, per dimension
  int64_t start = 0;
};

// Copies run after run of the innermost dimension: one memcpy when its step is 1, else a loop
// over typed elements of `size` bytes (any size: bytes one element at a time).
template <typename T>
void CopyRun(const uint8_t* in, uint8_t* out, int64_t run, int64_t step, size_t size) {
  if (step == 1) {
    std::memcpy(out, in, static_cast<size_t>(run) * size);
  } else if constexpr (std::is_void_v<T>) {
    const auto bytes = static_cast<int64_t>(size);
    for (int64_t k = 0; k < run; ++k) std::memcpy(out + k * bytes, in + k * step * bytes, size);
  } else {
    const T* from = reinterpret_cast<const T*>(in);
    T* to = reinterpret_cast<T*>(out);
    for (int64_t k = 0; k < run; ++k) to[k] = from[k * step];
  }
}

template <typename T>
void CopyRuns(const StridedView& v, const Tensor& in, Tensor& out) {
  const size_t size = DataTypeSize(in.type), total = out.element_count();
  const int rank = static_cast<int>(v.out_shape.size());
  const int64_t run = rank > 0 ? v.out_shape.back() : 1;
  const int64_t step = rank > 0 ? v.in_step.back() : 1;
  std::vector<int64_t> index(static_cast<size_t>(std::max(rank - 1, 0)), 0);
  int64_t src = v.start;
  for (size_t i = 0; i < total; i += static_cast<size_t>(run)) {
    CopyRun<T>(in.data + src * size, out.data + i * size, run, step, size);
    for (int d = rank - 2; d >= 0; --d) {
      src += v.in_step[d];
      if (++index[d] < v.out_shape[d]) break;
      src -= v.in_step[d] * v.out_shape[d];
      index[d] = 0;
    }
  }
}

void CopyStrided(const StridedView& v, const Tensor& in, Tensor& out) {
  switch (DataTypeSize(in.type)) {
    case 1: return CopyRuns<uint8_t>(v, in, out);
    case 2: return CopyRuns<uint16_t>(v, in, out);
    case 4: return CopyRuns<uint32_t>(v, in, out);
    case 8: return CopyRuns<uint64_t>(v, in, out);
    default: return CopyRuns<void>(v, in, out);
  }
}

std::vector<int64_t> ElementStrides(const Tensor& t) {
  std::vector<int64_t> strides(t.rank(), 1);
  for (int d = t.rank() - 2; d >= 0; --d) strides[d] = strides[d + 1] * t.dim(d + 1);
  return strides;
}

// TRANSPOSE and STRIDED_SLICE: Prepare computes the view, Eval copies through it.
class StridedCopyKernel : public Kernel {
 public:
  Status Eval(OpContext& c) override {
    CopyStrided(view_, c.input(0), c.output(0));
    return OkStatus();
  }

 protected:
  StridedView view_;
};

class PadKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 3, 1));
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<int64_t> pads, ConstantInts(c, c.input(1), "paddings"));
    if (pads.size() != 2 * static_cast<size_t>(in.rank()) || in.type != out.type ||
        in.rank() != out.rank()) {
      return c.Invalid(fmt::format("paddings do not fit {} -> {}", Describe(in), Describe(out)));
    }
    before_.resize(in.rank());
    for (int d = 0; d < in.rank(); ++d) {
      int64_t before = pads[2 * static_cast<size_t>(d)],
              after = pads[2 * static_cast<size_t>(d) + 1];
      if (before < 0 || after < 0) return c.Invalid("negative padding");
      // Each padding is at most the output's size, so the sum cannot overflow.
      if (before > out.dim(d) || after > out.dim(d) || in.dim(d) + before + after != out.dim(d)) {
        return c.Invalid(fmt::format("paddings {} and {} of dimension {} do not take {} to {}",
                                     before, after, d, Describe(in), Describe(out)));
      }
      before_[d] = before;
    }
    pad_byte_ = IsQuantized8(out.type) ? static_cast<uint8_t>(out.zero_point()) : 0;
    if (c.inputs.size() > 2 && c.inputs[2] != nullptr) {
      const Tensor& value = *c.inputs[2];
      if (!value.is_constant) return c.Unsupported("a non-constant pad value");
      if (value.type != out.type || value.element_count() != 1)
        return c.Invalid(fmt::format("the pad value {} is not one {} value", Describe(value),
                                     DataTypeName(out.type)));
      if (DataTypeSize(out.type) == 1)
        pad_byte_ = c.inputs[2]->data[0];
      else if (out.type != DataType::kFloat32 || c.inputs[2]->as<float>()[0] != 0.0f)
        return c.Unsupported("a non-zero pad value");
    }
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    std::memset(out.data, pad_byte_, out.byte_size());
    // Copy input rows (the last dimension) into place.
    size_t element = DataTypeSize(in.type);
    std::vector<int64_t> out_strides = ElementStrides(out);
    size_t row = in.rank() ? in.dim(-1) : 1;
    size_t rows = row ? in.element_count() / row : 0;
    std::vector<int64_t> index(std::max(in.rank() - 1, 0), 0);
    for (size_t r = 0; r < rows; ++r) {
      int64_t dst = in.rank() ? before_.back() : 0;
      for (size_t d = 0; d < index.size(); ++d) dst += (index[d] + before_[d]) * out_strides[d];
      std::memcpy(out.data + dst * element, in.data + r * row * element, row * element);
      for (int d = static_cast<int>(index.size()) - 1; d >= 0; --d) {
        if (++index[d] < in.dim(d)) break;
        index[d] = 0;
      }
    }
    return OkStatus();
  }

 private:
  std::vector<int64_t> before_;
  uint8_t pad_byte_ = 0;
};

class TransposeKernel : public StridedCopyKernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 2, 1));
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<int64_t> perm,
                              ConstantInts(c, c.input(1), "the permutation"));
    if (perm.size() != static_cast<size_t>(in.rank()) || in.rank() != out.rank() ||
        in.type != out.type)
      return c.Invalid("permutation does not fit the input");
    std::vector<int64_t> in_strides = ElementStrides(in);
    std::vector<bool> seen(in.rank(), false);
    for (size_t d = 0; d < perm.size(); ++d) {
      if (perm[d] < 0 || perm[d] >= in.rank() || seen[perm[d]])
        return c.Invalid("not a permutation");
      seen[perm[d]] = true;
      if (out.dim(d) != in.dim(perm[d]))
        return c.Invalid("output shape does not match the permutation");
      view_.out_shape.push_back(out.dim(d));
      view_.in_step.push_back(in_strides[perm[d]]);
    }
    return OkStatus();
  }
};

class StridedSliceKernel : public StridedCopyKernel {
  static constexpr int kMaxSliceRank = 8;  // the masks are bits of an int32

 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(4, 4, 1));
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    const tfl::StridedSliceOptions* o = c.op->builtin_options_as_StridedSliceOptions();
    int begin_mask = o ? o->begin_mask() : 0, end_mask = o ? o->end_mask() : 0;
    int shrink = o ? o->shrink_axis_mask() : 0;
    if (o && (o->ellipsis_mask() || o->new_axis_mask() || o->offset())) {
      return c.Unsupported("ellipsis, new-axis masks and offset");
    }
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<int64_t> begin, ConstantInts(c, c.input(1), "begin"));
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<int64_t> end, ConstantInts(c, c.input(2), "end"));
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<int64_t> strides, ConstantInts(c, c.input(3), "strides"));
    int rank = in.rank();
    if (rank > kMaxSliceRank) return c.Unsupported(fmt::format("rank above {}", kMaxSliceRank));
    if (static_cast<int>(begin.size()) != rank || end.size() != begin.size() ||
        strides.size() != begin.size()) {
      return c.Invalid("begin, end and strides need one value per input dimension");
    }
    std::vector<int64_t> in_strides = ElementStrides(in);
    size_t count = 1;
    for (int d = 0; d < rank; ++d) {
      int64_t size = in.dim(d), step = strides[d];
      if (step == 0) return c.Invalid("a stride of 0");
      // A step longer than the dimension takes one element at most, as size + 1 does; the clamp
      // keeps step * stride (and -step) from overflowing.
      step = std::clamp<int64_t>(step, -(size + 1), size + 1);
      auto clamp_index = [&](int64_t i) {
        if (i < 0) i += size;
        return step > 0 ? std::clamp<int64_t>(i, 0, size) : std::clamp<int64_t>(i, -1, size - 1);
      };
      int64_t b = (begin_mask >> d) & 1 ? (step > 0 ? 0 : size - 1) : clamp_index(begin[d]);
      int64_t e = (end_mask >> d) & 1 ? (step > 0 ? size : -1) : clamp_index(end[d]);
      if ((shrink >> d) & 1) {
        if (b < 0 || b >= size) {
          return c.Invalid(
              fmt::format("begin {} of shrunk dimension {} is outside its size {}", b, d, size));
        }
        e = b + 1, step = 1;
      }
      int64_t n = step > 0 ? std::max<int64_t>((e - b + step - 1) / step, 0)
                           : std::max<int64_t>((b - e - step - 1) / -step, 0);
      view_.start += b * in_strides[d];
      view_.out_shape.push_back(n);
      view_.in_step.push_back(step * in_strides[d]);
      count *= n;
    }
    if (count != out.element_count() || in.type != out.type) {
      return c.Invalid(fmt::format("output {} should hold {} values", Describe(out), count));
    }
    return OkStatus();
  }
};

}  // namespace

std::unique_ptr<Kernel> MakeConcatenation() { return std::make_unique<ConcatenationKernel>(); }
std::unique_ptr<Kernel> MakePad() { return std::make_unique<PadKernel>(); }
std::unique_ptr<Kernel> MakeTranspose() { return std::make_unique<TransposeKernel>(); }
std::unique_ptr<Kernel> MakeStridedSlice() { return std::make_unique<StridedSliceKernel>(); }

}  // namespace tpufleet::cpu
