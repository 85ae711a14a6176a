// SSD's head as the TensorFlow Object Detection API builds it for TFLite (Liu et al. 2016;
// SSDLite: Sandler et al. 2018, section 6.2).
#include <algorithm>
#include <cmath>

#include "model/zoo/architectures.h"

namespace tpufleet::zoo {
namespace {

constexpr double kMinScale = 0.2;
constexpr double kMaxScale = 0.95;
constexpr double kAspectRatios[] = {1.0, 2.0, 0.5, 3.0, 1.0 / 3.0};
constexpr int kMaxDetections = 10;

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

// A 3x3 convolution to `channels`: regular, or SSDLite's depthwise 3x3 then pointwise 1x1.
int Conv3x3(Network& net, int x, int channels, int stride, bool lite, Activation activation) {
  if (!lite) return net.Conv(x, channels, 3, stride, activation);
  return net.Conv(net.Depthwise(x, 3, stride, Activation::kRelu6), channels, 1, 1, activation);
}

}  // namespace

std::vector<int> SsdHead(Network& net, int stride16, int stride32, const SsdHeadOptions& o) {
  auto depth = [&](int d) { return std::max(static_cast<int>(d * o.width), o.min_depth); };
  std::vector<int> feature_maps = {stride16, stride32};
  int x = stride32;
  for (int layer_depth : {512, 256, 256, 128}) {
    x = net.Conv(x, depth(layer_depth / 2), 1, 1, Activation::kRelu6);
    x = Conv3x3(net, x, depth(layer_depth), 2, o.lite, Activation::kRelu6);
    feature_maps.push_back(x);
  }

  int classes_with_background = o.classes + 1;
  std::vector<int> boxes, scores;
  std::vector<float> anchors;
  for (size_t i = 0; i < feature_maps.size(); ++i) {
    int map = feature_maps[i];
    int cells = net.shape(map)[1] * net.shape(map)[2];
    int per_cell = i == 0 ? 3 : 6;
    auto predictor = [&](int channels) {
      return o.lite ? Conv3x3(net, map, channels, 1, true, Activation::kNone)
                    : net.Conv(map, channels, 1, 1, Activation::kNone);
    };
    boxes.push_back(net.Reshape(predictor(per_cell * 4), {1, cells * per_cell, 1, 4}));
    scores.push_back(net.Reshape(predictor(per_cell * classes_with_background),
                                 {1, cells * per_cell, classes_with_background}));
    AppendAnchors(static_cast<int>(i), static_cast<int>(feature_maps.size()), net.shape(map)[1],
                  anchors);
  }
  int anchor_count = static_cast<int>(anchors.size() / 4);
  int all_boxes = net.Reshape(net.Concat(boxes, 1), {1, anchor_count, 4});
  int all_scores = net.Logistic(net.Concat(scores, 1));
  std::vector<int> outputs =
      net.DetectionPostProcess(all_boxes, all_scores, anchors, o.classes, kMaxDetections);
  if (o.tf2_output_order) {  // boxes, classes, scores, count -> scores, boxes, count, classes
    outputs = {outputs[2], outputs[0], outputs[3], outputs[1]};
  }
  return outputs;
}

}  // namespace tpufleet::zoo
