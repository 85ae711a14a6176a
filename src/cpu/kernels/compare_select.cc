// The comparisons EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL (bool outputs,
// numpy-style broadcasting) and SELECT, SELECT_V2, with TensorFlow Lite 2.9's rules:
//   comparisons  float32, int32, int64, uint8, int8; EQUAL and NOT_EQUAL also bool. 8-bit inputs
//                are compared after TFLite's rescaling (each shifted left by 8 bits and
//                multiplied by its scale as a fixed-point multiplier), so inputs of different
//                scales compare by real value; scales must be below 1 as TFLite requires.
//   SELECT       condition of x's shape, a scalar, or rank 1 selecting along x's first axis
//   SELECT_V2    condition, x and y broadcast numpy-style
//   x, y and the output share a type (bool, float32, uint8, int8, int16, int32, int64) and, when
//   quantized, a scale and zero point: values are copied as stored.
#include <fmt/format.h>

#include <cmath>

#include "cpu/fixed_point.h"
#include "cpu/kernels/broadcast.h"
#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

enum class Compare { kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual };

template <typename T>
bool Apply(Compare kind, T a, T b) {
  switch (kind) {
    case Compare::kEqual: return a == b;
    case Compare::kNotEqual: return a != b;
    case Compare::kLess: return a < b;
    case Compare::kLessEqual: return a <= b;
    case Compare::kGreater: return a > b;
    case Compare::kGreaterEqual: return a >= b;
  }
  return false;
}

// One instantiation per comparison, so that the element loops hold no switch of their own.
template <Compare kKind>
class CompareKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 2, 1));
    const Tensor& a = c.input(0);
    const Tensor& b = c.input(1);
    const Tensor& out = c.output(0);
    const bool equality = kKind == Compare::kEqual || kKind == Compare::kNotEqual;
    const DataType t = a.type;
    const bool supported = t == DataType::kFloat32 || t == DataType::kInt32 ||
                           t == DataType::kInt64 || IsQuantized8(t) ||
                           (equality && t == DataType::kBool);
    if (a.type != b.type || !supported) {
      return c.Unsupported(
          fmt::format("comparing {} with {} (it compares float32, int32, int64, "
                      "uint8, int8{})",
                      Describe(a), Describe(b), equality ? ", bool" : ""));
    }
    if (out.type != DataType::kBool)
      return c.Invalid(fmt::format("the output is {}; it must be bool", Describe(out)));
    TPUFLEET_ASSIGN_OR_RETURN(broadcast_, MakeBroadcast(c, a, b, out));
    if (IsQuantized8(t)) {
      for (const Tensor* x : {&a, &b}) {
        if (!(x->scale() > 0 && x->scale() < 1)) {
          return c.Unsupported(
              fmt::format("{} with scale {}: 8-bit comparisons need scales in (0, 1)", Describe(*x),
                          x->scale()));
        }
      }
      a_multiplier_ = fixed::QuantizeMultiplier(a.scale());
      b_multiplier_ = fixed::QuantizeMultiplier(b.scale());
    }
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& a = c.input(0);
    const Tensor& b = c.input(1);
    bool* out = c.output(0).as<bool>();
    switch (a.type) {
      case DataType::kFloat32: EvalPlain<float>(a, b, out); break;
      case DataType::kInt32: EvalPlain<int32_t>(a, b, out); break;
      case DataType::kInt64: EvalPlain<int64_t>(a, b, out); break;
      case DataType::kBool: EvalPlain<uint8_t, bool>(a, b, out); break;
      case DataType::kUInt8: EvalQuantized<uint8_t>(a, b, out); break;
      default: EvalQuantized<int8_t>(a, b, out); break;
    }
    return OkStatus();
  }

 private:
  // Bool tensors are read as bytes (any nonzero byte is true).
  template <typename T, typename Compared = T>
  void EvalPlain(const Tensor& a, const Tensor& b, bool* out) {
    const T* pa = a.as<T>();
    const T* pb = b.as<T>();
    ForEachBroadcast(broadcast_, [&](size_t i, size_t ia, size_t ib) {
      out[i] = Apply(kKind, static_cast<Compared>(pa[ia]), static_cast<Compared>(pb[ib]));
    });
  }

  template <typename T>
  void EvalQuantized(const Tensor& a, const Tensor& b, bool* out) {
    constexpr int kLeftShift = 8;
    const T* pa = a.as<T>();
    const T* pb = b.as<T>();
    const int32_t za = a.zero_point(), zb = b.zero_point();
    auto rescale = [](int32_t q, const fixed::QuantizedMultiplier& m) {
      return fixed::MultiplyByQuantizedMultiplierSmallerThanOne(q * (1 << kLeftShift), m.multiplier,
                                                                m.shift);
    };
    ForEachBroadcast(broadcast_, [&](size_t i, size_t ia, size_t ib) {
      out[i] =
          Apply(kKind, rescale(pa[ia] - za, a_multiplier_), rescale(pb[ib] - zb, b_multiplier_));
    });
  }

  Broadcast<2> broadcast_;
  fixed::QuantizedMultiplier a_multiplier_, b_multiplier_;
};

class SelectKernel : public Kernel {
 public:
  explicit SelectKernel(bool v2) : v2_(v2) {}

  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(3, 3, 1));
    const Tensor& condition = c.input(0);
    const Tensor& x = c.input(1);
    const Tensor& y = c.input(2);
    const Tensor& out = c.output(0);
    if (condition.type != DataType::kBool)
      return c.Invalid(fmt::format("the condition is {}; it must be bool", Describe(condition)));
    const DataType t = out.type;
    const bool supported = t == DataType::kBool || t == DataType::kFloat32 || IsQuantized8(t) ||
                           t == DataType::kInt16 || t == DataType::kInt32 || t == DataType::kInt64;
    if (x.type != t || y.type != t || !supported) {
      return c.Unsupported(
          fmt::format("selecting between {} and {} into {} (it selects bool, "
                      "float32, uint8, int8, int16, int32, int64 of one type)",
                      Describe(x), Describe(y), Describe(out)));
    }
    if (IsQuantized8(out.type) || out.type == DataType::kInt16) {
      for (const Tensor* t : {&x, &y}) {
        if (t->scale() != out.scale() || t->zero_point() != out.zero_point()) {
          return c.Unsupported(fmt::format(
              "{} quantized unlike the output (scale {} vs {}, zero point {} vs {}): values are "
              "copied as stored, so they must match",
              Describe(*t), t->scale(), out.scale(), t->zero_point(), out.zero_point()));
        }
      }
    }
    element_size_ = DataTypeSize(out.type);
    if (v2_) {
      TPUFLEET_ASSIGN_OR_RETURN(broadcast_, MakeBroadcast(c, condition, x, y, out));
      return OkStatus();
    }
    if (x.shape != y.shape || out.shape != x.shape) {
      return c.Invalid(fmt::format("x {}, y {} and the output {} must have one shape", Describe(x),
                                   Describe(y), Describe(out)));
    }
    // A rank-1 condition picks whole slices along x's first axis: as a broadcast, it is the
    // condition reshaped to [n, 1, ..., 1].
    Tensor aligned = condition;
    if (condition.shape != x.shape && condition.rank() == 1 && x.rank() >= 1 &&
        condition.dim(0) == x.dim(0)) {
      aligned.shape.resize(x.rank(), 1);
    } else if (condition.shape != x.shape && condition.rank() != 0) {
      return c.Invalid(
          fmt::format("the condition {} must be a scalar, of x's shape {}, or of "
                      "rank 1 with x's first dimension",
                      Describe(condition), Describe(x)));
    }
    TPUFLEET_ASSIGN_OR_RETURN(broadcast_, MakeBroadcast(c, aligned, x, y, out));
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const uint8_t* condition = c.input(0).as<uint8_t>();  // any nonzero byte is true
    switch (element_size_) {
      case 1: Run<uint8_t>(c, condition); break;
      case 2: Run<uint16_t>(c, condition); break;
      case 4: Run<uint32_t>(c, condition); break;
      default: Run<uint64_t>(c, condition); break;
    }
    return OkStatus();
  }

 private:
  // Elements are copied as bits, so one instantiation per element size serves every type.
  template <typename T>
  void Run(OpContext& c, const uint8_t* condition) {
    const T* x = c.input(1).as<T>();
    const T* y = c.input(2).as<T>();
    T* out = c.output(0).as<T>();
    ForEachBroadcast(broadcast_, [&](size_t i, size_t ic, size_t ix, size_t iy) {
      out[i] = condition[ic] != 0 ? x[ix] : y[iy];
    });
  }

  bool v2_;
  size_t element_size_ = 1;
  Broadcast<3> broadcast_;
};

}  // namespace

std::unique_ptr<Kernel> MakeEqual() { return std::make_unique<CompareKernel<Compare::kEqual>>(); }
std::unique_ptr<Kernel> MakeNotEqual() {
  return std::make_unique<CompareKernel<Compare::kNotEqual>>();
}
std::unique_ptr<Kernel> MakeLess() { return std::make_unique<CompareKernel<Compare::kLess>>(); }
std::unique_ptr<Kernel> MakeLessEqual() {
  return std::make_unique<CompareKernel<Compare::kLessEqual>>();
}
std::unique_ptr<Kernel> MakeGreater() {
  return std::make_unique<CompareKernel<Compare::kGreater>>();
}
std::unique_ptr<Kernel> MakeGreaterEqual() {
  return std::make_unique<CompareKernel<Compare::kGreaterEqual>>();
}
std::unique_ptr<Kernel> MakeSelect() { return std::make_unique<SelectKernel>(false); }
std::unique_ptr<Kernel> MakeSelectV2() { return std::make_unique<SelectKernel>(true); }

}  // namespace tpufleet::cpu
