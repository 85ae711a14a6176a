// Output size and padding of a sliding window along one dimension, as TFLite computes them,
// in checked 64-bit arithmetic: hostile strides, dilations and filter sizes are refused.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "cpu/shape_math.h"
#include "model/schema.h"

namespace tpufleet::cpu {

struct Window {
  int32_t output = 0;
  int32_t pad_before = 0;
  int32_t pad_after = 0;
};

// `kernel`, `stride` and `dilation` must be positive (callers check and say which is not); the
// dilated kernel and the padding must fit int32. `what` names the dimension ("height").
inline Result<Window> ComputeWindow(const OpContext& c, int32_t input, int32_t kernel,
                                    int32_t stride, int32_t dilation, tfl::Padding padding,
                                    const char* what) {
  int64_t effective = (int64_t{kernel} - 1) * dilation + 1;  // < 2^62: no overflow
  if (effective > std::numeric_limits<int32_t>::max()) {
    return c.Invalid(fmt::format("the {} window (kernel {} dilated by {}) spans {} elements", what,
                                 kernel, dilation, effective));
  }
  Window w;
  if (padding == tfl::Padding::SAME) {
    int64_t output = (int64_t{input} + stride - 1) / stride;
    int64_t total = std::max<int64_t>((output - 1) * stride + effective - input, 0);
    TPUFLEET_RETURN_IF_ERROR(CheckDimension(c, total, "the padding"));
    w.output = static_cast<int32_t>(output);
    w.pad_before = static_cast<int32_t>(total / 2);
    w.pad_after = static_cast<int32_t>(total - total / 2);
  } else {
    w.output = input >= effective ? static_cast<int32_t>((input - effective) / stride + 1) : 0;
  }
  return w;
}

}  // namespace tpufleet::cpu
