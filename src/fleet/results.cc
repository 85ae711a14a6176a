#include "fleet/results.h"

#include <algorithm>
#include <numeric>

#include "cpu/quantization.h"
#include "cpu/tensor.h"
#include "fleet/yolo_outputs.h"

namespace tpufleet {

cpu::Tensor OutputView(const Model& model, const TensorList& outputs, size_t i) {
  const TensorInfo& info = model.output(i);
  cpu::Tensor t;
  t.name = info.name;
  t.type = info.type;
  t.shape = info.shape;
  size_t element_size = std::max<size_t>(1, DataTypeSize(info.type));
  if (t.byte_size() != outputs[i].size()) {
    t.shape = {static_cast<int32_t>(outputs[i].size() / element_size)};
  }
  t.quantization = info.quantization;
  t.data = const_cast<uint8_t*>(outputs[i].data());  // read only
  return t;
}

std::vector<float> RealValues(const Model& model, const TensorList& outputs, size_t i) {
  cpu::Tensor t = OutputView(model, outputs, i);
  std::vector<float> values(t.element_count());
  for (size_t e = 0; e < values.size(); ++e) values[e] = cpu::RealValueAt(t, e);
  return values;
}

namespace {

// The position of tensor `tensor` among the model's outputs, or nothing.
std::optional<size_t> OutputPosition(const Model& model, int tensor) {
  const std::vector<int>& outputs = model.output_indices();
  auto it = std::find(outputs.begin(), outputs.end(), tensor);
  if (it == outputs.end()) return std::nullopt;
  return static_cast<size_t>(it - outputs.begin());
}

// Output `i` is [1, N, 4] (or its shape is left open).
bool LooksLikeBoxes(const TensorInfo& t) {
  return t.shape.empty() || (t.shape.size() == 3 && t.shape[2] == 4);
}

}  // namespace

std::optional<DetectionOutputs> DetectionLayout(const Model& model) {
  if (std::optional<DetectorLayout> yolo = YoloOutputLayout(model)) {
    return DetectionOutputs{.layout = *yolo};
  }
  if (model.output_indices().size() != 4) return std::nullopt;
  for (const OperatorInfo& op : model.operators()) {
    if (op.name != "TFLite_Detection_PostProcess" || op.outputs.size() != 4) continue;
    std::optional<size_t> at[4];
    for (int k = 0; k < 4; ++k) at[k] = OutputPosition(model, op.outputs[k]);
    if (at[0] && at[1] && at[2] && at[3])
      return DetectionOutputs{DetectorLayout::kPostProcessed, *at[0], *at[1], *at[2], *at[3]};
  }
  if (model.output(3).element_count == 1 && LooksLikeBoxes(model.output(0))) {
    return DetectionOutputs{DetectorLayout::kPostProcessed, 0, 1, 2, 3};
  }
  if (model.output(2).element_count == 1 && LooksLikeBoxes(model.output(1))) {
    return DetectionOutputs{DetectorLayout::kPostProcessed, 1, 3, 0, 2};
  }
  return std::nullopt;
}

bool IsDetector(const Model& model) { return DetectionLayout(model).has_value(); }

std::vector<Classification> TopClasses(const Model& model, const TensorList& outputs, int k) {
  std::vector<float> scores = RealValues(model, outputs, 0);
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  k = std::min<int>(k, static_cast<int>(order.size()));
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return scores[a] > scores[b]; });
  std::vector<Classification> top;
  for (int i = 0; i < k; ++i) top.push_back({order[i], scores[order[i]]});
  return top;
}

std::vector<Detection> Detections(const Model& model, const TensorList& outputs, int k,
                                  float threshold) {
  DetectionOutputs layout = DetectionLayout(model).value_or(DetectionOutputs{});
  if (layout.layout != DetectorLayout::kPostProcessed) {
    return YoloDetections(model, outputs, layout.layout, k, threshold);
  }
  std::vector<float> boxes = RealValues(model, outputs, layout.boxes),
                     classes = RealValues(model, outputs, layout.classes),
                     scores = RealValues(model, outputs, layout.scores),
                     counts = RealValues(model, outputs, layout.count);
  int count = counts.empty() ? 0 : static_cast<int>(counts[0]);
  // A model's outputs may disagree in length: no more detections than each has room for.
  size_t room = std::min({scores.size(), classes.size(), boxes.size() / 4});
  count = std::clamp(count, 0, static_cast<int>(room));
  std::vector<Detection> found;
  for (size_t i = 0; i < static_cast<size_t>(count) && static_cast<int>(found.size()) < k; ++i) {
    if (scores[i] < threshold) break;
    found.push_back({static_cast<int>(classes[i]),
                     scores[i],
                     {boxes[i * 4], boxes[i * 4 + 1], boxes[i * 4 + 2], boxes[i * 4 + 3]}});
  }
  return found;
}

}  // namespace tpufleet
