// Boxes as (ymin, xmin, ymax, xmax) and how much two overlap, as TensorFlow Lite's detection
// post-processing measures it; the CPU kernel and the fleet's YOLO suppression share the rule.
#pragma once

#include <algorithm>

namespace tpufleet::cpu {

struct Box {
  float ymin, xmin, ymax, xmax;
};

// Intersection over union; 0 when either box has no area.
inline float IntersectionOverUnion(const Box& a, const Box& b) {
  float area_a = (a.ymax - a.ymin) * (a.xmax - a.xmin),
        area_b = (b.ymax - b.ymin) * (b.xmax - b.xmin);
  if (area_a <= 0 || area_b <= 0) return 0;
  float h = std::max(0.0f, std::min(a.ymax, b.ymax) - std::max(a.ymin, b.ymin));
  float w = std::max(0.0f, std::min(a.xmax, b.xmax) - std::max(a.xmin, b.xmin));
  float inter = h * w;
  return inter / (area_a + area_b - inter);
}

}  // namespace tpufleet::cpu
