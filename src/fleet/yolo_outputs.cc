#include "fleet/yolo_outputs.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "cpu/boxes.h"

namespace tpufleet {
namespace {

// Cells of the grids at strides 8, 16 and 32 over an input of `height` x `width` (rounded up, as
// convolutions with SAME padding give).
int64_t GridCells(int64_t height, int64_t width) {
  int64_t cells = 0;
  for (int64_t stride : {8, 16, 32}) {
    cells += ((height + stride - 1) / stride) * ((width + stride - 1) / stride);
  }
  return cells;
}

cpu::Box AsBox(const std::array<float, 4>& b) { return {b[0], b[1], b[2], b[3]}; }

}  // namespace

std::optional<DetectorLayout> YoloOutputLayout(const Model& model) {
  if (model.output_indices().size() != 1 || model.input_indices().size() != 1) return std::nullopt;
  const std::vector<int32_t>& in = model.input(0).shape;
  const std::vector<int32_t>& out = model.output(0).shape;
  if (in.size() != 4 || out.size() != 3 || out[0] != 1) return std::nullopt;
  const int64_t cells = GridCells(in[1], in[2]);
  if (out[2] == cells && out[1] > 4) return DetectorLayout::kYoloV8;
  if (out[1] == 3 * cells && out[2] > 5) return DetectorLayout::kYoloV5;
  return std::nullopt;
}

size_t YoloOutputValues(const Model& model) {
  const std::vector<int32_t>& shape = model.output(0).shape;
  return static_cast<size_t>(shape[1]) * static_cast<size_t>(shape[2]);
}

std::vector<Detection> YoloDetections(const Model& model, const TensorList& outputs,
                                      DetectorLayout layout, int k, float threshold) {
  const std::vector<int32_t>& shape = model.output(0).shape;
  const bool v8 = layout == DetectorLayout::kYoloV8;
  const size_t anchors = static_cast<size_t>(v8 ? shape[2] : shape[1]);
  const size_t row = static_cast<size_t>(v8 ? shape[1] : shape[2]);  // values per anchor
  const size_t first_class = v8 ? 4 : 5;
  k = std::min(k, kYoloMaxObjects);
  if (k <= 0) return {};
  std::vector<float> values = RealValues(model, outputs, 0);
  if (values.size() < anchors * row) return {};
  auto at = [&](size_t anchor, size_t j) {
    return values[v8 ? j * anchors + anchor : anchor * row + j];
  };

  std::vector<Detection> candidates;
  for (size_t a = 0; a < anchors; ++a) {
    size_t best = 0;
    for (size_t j = first_class; j < row; ++j) {
      if (std::isfinite(at(a, j)) && (best == 0 || at(a, j) > at(a, best))) best = j;
    }
    if (best == 0) continue;
    float score = v8 ? at(a, best) : at(a, 4) * at(a, best);
    float cx = at(a, 0), cy = at(a, 1), half_w = at(a, 2) / 2, half_h = at(a, 3) / 2;
    if (!(score >= threshold) || !std::isfinite(score) || !(half_w > 0) || !(half_h > 0) ||
        !std::isfinite(cx + cy + half_w + half_h)) {
      continue;  // below the threshold, or no box
    }
    candidates.push_back({static_cast<int>(best - first_class),
                          score,
                          {cy - half_h, cx - half_w, cy + half_h, cx + half_w}});
  }
  auto better = [](const Detection& a, const Detection& b) { return a.score > b.score; };
  if (candidates.size() > kYoloMaxCandidates) {
    std::partial_sort(candidates.begin(), candidates.begin() + kYoloMaxCandidates, candidates.end(),
                      better);
    candidates.resize(kYoloMaxCandidates);
  }
  std::stable_sort(candidates.begin(), candidates.end(), better);

  std::vector<Detection> kept;
  for (const Detection& candidate : candidates) {
    bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Detection& b) {
      return b.id == candidate.id &&
             cpu::IntersectionOverUnion(AsBox(b.box), AsBox(candidate.box)) > kYoloIouThreshold;
    });
    if (suppressed) continue;
    kept.push_back(candidate);
    if (static_cast<int>(kept.size()) == k) break;
  }
  return kept;
}

}  // namespace tpufleet
