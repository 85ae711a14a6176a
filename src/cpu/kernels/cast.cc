// CAST between bool, uint8, int8, int16, int32, int64 and float32, as TensorFlow Lite 2.9 does it:
// stored values convert with C++'s rules and quantization is ignored. Nonzero becomes true,
// true becomes 1, floats truncate toward zero, integers wrap to narrower widths. TFLite leaves
// float values outside the target's range undefined; here a float converts to int64 first and
// then wraps, and NaN or values beyond int64 give 0.
#include <fmt/format.h>

#include <cmath>

#include "cpu/kernels/kernels.h"

namespace tpufleet::cpu {
namespace {

bool Castable(DataType t) {
  switch (t) {
    case DataType::kBool:
    case DataType::kUInt8:
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kFloat32: return true;
    default: return false;
  }
}

template <typename To, typename From>
To Convert(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != From{0};
  } else if constexpr (std::is_floating_point_v<From> && !std::is_floating_point_v<To>) {
    constexpr float kLimit = 9.2233720368547758e18f;  // 2^63
    if (!(std::fabs(v) < kLimit)) return To{0};
    return static_cast<To>(static_cast<int64_t>(v));
  } else {
    return static_cast<To>(v);
  }
}

// Float to an integer of 32 bits or fewer: a float within int32's range converts directly, as a
// loop that vectorizes; when any is outside it (NaN, or what TFLite leaves undefined) the tensor
// is converted again element by element as Convert does. Both give the same values in range.
template <typename To>
void CastFloatToNarrowInteger(const float* x, To* y, size_t n) {
  constexpr float kInt32Limit = 2147483648.0f;  // 2^31
  int32_t out_of_range = 0;  // an int, not a bool: GCC vectorizes the loop only then
  for (size_t i = 0; i < n; ++i) {
    float v = x[i];
    int32_t in_range = std::fabs(v) < kInt32Limit;  // 0 for NaN
    out_of_range |= in_range ^ 1;
    y[i] = static_cast<To>(static_cast<int32_t>(in_range ? v : 0.0f));
  }
  if (out_of_range != 0) {
    for (size_t i = 0; i < n; ++i) y[i] = Convert<To>(x[i]);
  }
}

// Bool inputs are read as bytes (kBoolInput): any nonzero byte is true, i.e. 1.
template <typename To, typename From, bool kBoolInput>
void CastAll(const Tensor& in, Tensor& out) {
  const From* x = in.as<From>();
  To* y = out.as<To>();
  if constexpr (std::is_same_v<From, float> && std::is_integral_v<To> &&
                !std::is_same_v<To, bool> && sizeof(To) <= 4) {
    return CastFloatToNarrowInteger(x, y, in.element_count());
  }
  for (size_t i = 0, n = in.element_count(); i < n; ++i) {
    From v = x[i];
    if constexpr (kBoolInput) v = v != 0;
    y[i] = Convert<To>(v);
  }
}

template <typename From, bool kBoolInput = false>
void CastFrom(const Tensor& in, Tensor& out) {
  switch (out.type) {
    case DataType::kBool: CastAll<bool, From, kBoolInput>(in, out); break;
    case DataType::kUInt8: CastAll<uint8_t, From, kBoolInput>(in, out); break;
    case DataType::kInt8: CastAll<int8_t, From, kBoolInput>(in, out); break;
    case DataType::kInt16: CastAll<int16_t, From, kBoolInput>(in, out); break;
    case DataType::kInt32: CastAll<int32_t, From, kBoolInput>(in, out); break;
    case DataType::kInt64: CastAll<int64_t, From, kBoolInput>(in, out); break;
    default: CastAll<float, From, kBoolInput>(in, out); break;
  }
}

class CastKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(1, 1, 1));
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    if (!Castable(in.type) || !Castable(out.type)) {
      return c.Unsupported(
          fmt::format("{} -> {} (it casts between bool, uint8, int8, int16, "
                      "int32, int64 and float32)",
                      Describe(in), Describe(out)));
    }
    if (in.element_count() != out.element_count())
      return c.Invalid(fmt::format("{} and {} differ in size", Describe(in), Describe(out)));
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    switch (in.type) {
      case DataType::kBool: CastFrom<uint8_t, true>(in, out); break;
      case DataType::kUInt8: CastFrom<uint8_t>(in, out); break;
      case DataType::kInt8: CastFrom<int8_t>(in, out); break;
      case DataType::kInt16: CastFrom<int16_t>(in, out); break;
      case DataType::kInt32: CastFrom<int32_t>(in, out); break;
      case DataType::kInt64: CastFrom<int64_t>(in, out); break;
      default: CastFrom<float>(in, out); break;
    }
    return OkStatus();
  }
};

}  // namespace

std::unique_ptr<Kernel> MakeCast() { return std::make_unique<CastKernel>(); }

}  // namespace tpufleet::cpu
