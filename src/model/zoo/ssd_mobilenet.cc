// SSD MobileNet v1 (Liu et al. 2016; MobileNet paper, Howard et al. 2017, section 4.5) as the
// TensorFlow Object Detection API builds it for TFLite: MobileNet v1 features at strides 16 and
// 32, four extra 1x1/3x3 layer pairs, 1x1 box and class predictors on six feature maps, and the
// TFLite_Detection_PostProcess operator.
#include <algorithm>
#include <cmath>

#include "model/zoo/architectures.h"

namespace tpufleet::zoo {
namespace {

constexpr double kMinScale = 0.2;
constexpr double kMaxScale = 0.95;
constexpr double kAspectRatios[] = {1.0, 2.0, 0.5, 3.0, 1.0 / 3.0};

// Anchors (ycenter, xcenter, h, w) for one feature map: 3 per cell on the first map, 6 elsewhere.
void AppendAnchors(int layer, int layers, int grid, std::vector<float>& anchors) {
  auto scale_of = [&](int k) { return kMinScale + (kMaxScale - kMinScale) * k / (layers - 1); };
  double scale = scale_of(layer);
  std::vector<std::pair<double, double>> boxes;  // (scale, aspect ratio)
  if (layer == 0) {
    boxes = {{0.1, 1.0}, {scale, 2.0}, {scale, 0.5}};
  } else {
    for (double ratio : kAspectRatios) boxes.push_back({scale, ratio});
    double next = layer + 1 < layers ? scale_of(layer + 1) : 1.0;
    boxes.push_back({std::sqrt(scale * next), 1.0});
  }
  for (int y = 0; y < grid; ++y) {
    for (int x = 0; x < grid; ++x) {
      for (auto [s, ratio] : boxes) {
        anchors.insert(
            anchors.end(),
            {static_cast<float>((y + 0.5) / grid), static_cast<float>((x + 0.5) / grid),
             static_cast<float>(s / std::sqrt(ratio)), static_cast<float>(s * std::sqrt(ratio))});
      }
    }
  }
}

}  // namespace

std::vector<uint8_t> BuildSsdMobileNetV1(const ZooOptions& o) {
  constexpr int kMinDepth = 16;
  constexpr int kMaxDetections = 10;
  auto depth = [&](int d) { return std::max(static_cast<int>(d * o.width), kMinDepth); };
  Network net(o.precision, o.seed);
  int input = net.Input("normalized_input_image_tensor", o.resolution, o.resolution, 3);
  auto [conv11, conv13] = MobileNetV1Features(net, input, o.width, kMinDepth);

  std::vector<int> feature_maps = {conv11, conv13};
  static constexpr std::pair<int, int> kExtraLayers[] = {
      {256, 512}, {128, 256}, {128, 256}, {64, 128}};
  int x = conv13;
  for (auto [reduce, expand] : kExtraLayers) {
    x = net.Conv(net.Conv(x, depth(reduce), 1, 1, Activation::kRelu6), depth(expand), 3, 2,
                 Activation::kRelu6);
    feature_maps.push_back(x);
  }

  int classes_with_background = o.classes + 1;
  std::vector<int> boxes, scores;
  std::vector<float> anchors;
  for (size_t i = 0; i < feature_maps.size(); ++i) {
    int map = feature_maps[i];
    int cells = net.shape(map)[1] * net.shape(map)[2];
    int per_cell = i == 0 ? 3 : 6;
    int box = net.Conv(map, per_cell * 4, 1, 1, Activation::kNone);
    boxes.push_back(net.Reshape(box, {1, cells * per_cell, 1, 4}));
    int cls = net.Conv(map, per_cell * classes_with_background, 1, 1, Activation::kNone);
    scores.push_back(net.Reshape(cls, {1, cells * per_cell, classes_with_background}));
    AppendAnchors(static_cast<int>(i), static_cast<int>(feature_maps.size()), net.shape(map)[1],
                  anchors);
  }
  int anchor_count = static_cast<int>(anchors.size() / 4);
  int all_boxes = net.Reshape(net.Concat(boxes, 1), {1, anchor_count, 4});
  int all_scores = net.Logistic(net.Concat(scores, 1));
  std::vector<int> outputs =
      net.DetectionPostProcess(all_boxes, all_scores, anchors, o.classes, kMaxDetections);
  return net.Finish(outputs, ZooDescription("SSD MobileNet v1", o.width, true, o.resolution));
}

}  // namespace tpufleet::zoo
