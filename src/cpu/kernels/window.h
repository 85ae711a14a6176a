// Output size and padding of a sliding window along one dimension, as TFLite computes them.
#pragma once

#include <algorithm>
#include <cstdint>

#include "model/schema.h"

namespace tpufleet::cpu {

struct Window {
  int32_t output = 0;
  int32_t pad_before = 0;
  int32_t pad_after = 0;
};

inline Window ComputeWindow(int32_t input, int32_t kernel, int32_t stride, int32_t dilation,
                            tfl::Padding padding) {
  int32_t effective = (kernel - 1) * dilation + 1;
  Window w;
  if (padding == tfl::Padding::SAME) {
    w.output = (input + stride - 1) / stride;
    int32_t total = std::max((w.output - 1) * stride + effective - input, 0);
    w.pad_before = total / 2;
    w.pad_after = total - w.pad_before;
  } else {
    w.output = input >= effective ? (input - effective) / stride + 1 : 0;
  }
  return w;
}

}  // namespace tpufleet::cpu
