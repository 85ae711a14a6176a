#include "fleet/results.h"

#include <algorithm>
#include <numeric>

#include "cpu/quantization.h"
#include "cpu/tensor.h"

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

bool IsDetector(const Model& model) {
  const std::vector<OperatorInfo>& ops = model.operators();
  return model.output_indices().size() == 4 &&
         std::any_of(ops.begin(), ops.end(), [](const OperatorInfo& op) {
           return op.name == "TFLite_Detection_PostProcess";
         });
}

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
  std::vector<float> boxes = RealValues(model, outputs, 0), classes = RealValues(model, outputs, 1),
                     scores = RealValues(model, outputs, 2);
  int count = static_cast<int>(RealValues(model, outputs, 3)[0]);
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
