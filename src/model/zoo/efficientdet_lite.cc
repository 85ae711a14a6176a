// EfficientDet-Lite 0 to 4 (Tan, Pang and Le 2020; the Lite variants of the AutoML repository,
// which TensorFlow Lite Model Maker exports and Coral compiles): an EfficientNet-Lite backbone
// read at strides 8, 16 and 32, two more levels by max pooling, repeated BiFPN cells fusing the
// five levels by plain sums, and box and class nets of depthwise-separable convolutions over every
// level, 9 anchors per cell, and TFLite_Detection_PostProcess (25 detections).
#include <array>
#include <cmath>
#include <iterator>
#include <string>

#include "model/zoo/architectures.h"

namespace tpufleet::zoo {
namespace {

constexpr int kLevels = 5;  // P3 to P7
constexpr int kOctaveScales = 3;
constexpr double kAnchorAspectRatios[] = {1.0, 2.0, 0.5};
constexpr int kAnchorsPerCell = kOctaveScales * static_cast<int>(std::size(kAnchorAspectRatios));
constexpr int kDetections = 25;

struct DetectorVariant {
  int backbone;  // EfficientNet-Lite0 to Lite4
  int fpn_filters, fpn_cells, head_repeats;
  double anchor_scale;
};
constexpr DetectorVariant kVariants[] = {
    {0, 64, 3, 3, 3.0},  {1, 88, 4, 3, 3.0},  {2, 112, 5, 3, 3.0},
    {3, 160, 6, 4, 4.0}, {4, 224, 7, 4, 4.0},
};

using Levels = std::array<int, kLevels>;

// `x` brought to `target`'s size and `filters` channels: a 1x1 convolution where the channels
// differ (the backbone's maps, in the first cell), then a stride-2 max pool from the level below
// or a nearest-neighbour resize from the level above.
int Resample(Network& net, int x, int target, int filters) {
  if (net.channels(x) != filters) x = net.Conv(x, filters, 1, 1, Activation::kNone);
  const int height = net.shape(target)[1], width = net.shape(target)[2];
  if (net.shape(x)[1] > height) return net.MaxPool(x, 3, 2, Padding::SAME);
  if (net.shape(x)[1] < height) return net.ResizeNearest(x, height, width);
  return x;
}

// One BiFPN cell: a top-down path from P7 to P3, then a bottom-up path back to P7 that also
// takes each level's input. A node sums its resampled inputs, applies ReLU6 and a separable
// convolution.
Levels BiFpnCell(Network& net, const Levels& in, int filters) {
  auto node = [&](std::initializer_list<int> inputs, int level) {
    int sum = -1;
    int remaining = static_cast<int>(inputs.size());
    for (int x : inputs) {
      int resampled = Resample(net, x, in[level], filters);
      --remaining;
      if (sum < 0) {
        sum = resampled;
      } else {
        sum = net.Add(sum, resampled, remaining == 0 ? Activation::kRelu6 : Activation::kNone);
      }
    }
    return net.SeparableConv(sum, filters, Activation::kNone);
  };
  Levels top_down{};
  top_down[4] = in[4];
  for (int level = 3; level >= 0; --level)
    top_down[level] = node({in[level], top_down[level + 1]}, level);
  Levels out{};
  out[0] = top_down[0];
  for (int level = 1; level < kLevels; ++level) {
    out[level] = level == kLevels - 1 ? node({in[level], out[level - 1]}, level)
                                      : node({in[level], top_down[level], out[level - 1]}, level);
  }
  return out;
}

// The class or box net over one level: `repeats` separable convolutions with ReLU6, then a
// separable convolution to `per_anchor` values for each of the cell's anchors, as
// [1, cells x anchors, per_anchor].
int Predictor(Network& net, int x, int filters, int repeats, int per_anchor) {
  for (int r = 0; r < repeats; ++r) x = net.SeparableConv(x, filters, Activation::kRelu6);
  const int cells = net.shape(x)[1] * net.shape(x)[2];
  x = net.SeparableConv(x, kAnchorsPerCell * per_anchor, Activation::kNone);
  return net.Reshape(x, {1, cells * kAnchorsPerCell, per_anchor});
}

// The AutoML anchors of one level, normalized (ycenter, xcenter, h, w): per cell, three octave
// scales of `anchor_scale` cells, each at aspect ratios 1, 2 and 1/2.
void AppendLevelAnchors(int grid_h, int grid_w, double anchor_scale, std::vector<float>& anchors) {
  for (int y = 0; y < grid_h; ++y) {
    for (int x = 0; x < grid_w; ++x) {
      for (int octave = 0; octave < kOctaveScales; ++octave) {
        double size = anchor_scale * std::pow(2.0, static_cast<double>(octave) / kOctaveScales);
        for (double ratio : kAnchorAspectRatios) {
          anchors.insert(anchors.end(), {static_cast<float>((y + 0.5) / grid_h),
                                         static_cast<float>((x + 0.5) / grid_w),
                                         static_cast<float>(size / std::sqrt(ratio) / grid_h),
                                         static_cast<float>(size * std::sqrt(ratio) / grid_w)});
        }
      }
    }
  }
}

std::vector<uint8_t> BuildEfficientDetLite(const ZooOptions& o, int index) {
  const DetectorVariant& v = kVariants[index];
  Network net(o.precision, o.seed);
  int input = net.Input("serving_default_images", o.resolution, o.resolution, 3);
  EfficientNetLiteMaps backbone = EfficientNetLiteFeatures(net, input, v.backbone);
  int p6 = net.MaxPool(net.Conv(backbone.stride32, v.fpn_filters, 1, 1, Activation::kNone), 3, 2,
                       Padding::SAME);
  int p7 = net.MaxPool(p6, 3, 2, Padding::SAME);
  Levels levels = {backbone.stride8, backbone.stride16, backbone.stride32, p6, p7};
  for (int cell = 0; cell < v.fpn_cells; ++cell) levels = BiFpnCell(net, levels, v.fpn_filters);

  std::vector<int> boxes, scores;
  std::vector<float> anchors;
  for (int level : levels) {
    boxes.push_back(Predictor(net, level, v.fpn_filters, v.head_repeats, 4));
    scores.push_back(Predictor(net, level, v.fpn_filters, v.head_repeats, o.classes));
    AppendLevelAnchors(net.shape(level)[1], net.shape(level)[2], v.anchor_scale, anchors);
  }
  int all_scores = net.Logistic(net.Concat(scores, 1));
  std::vector<int> outputs =
      net.DetectionPostProcess(net.Concat(boxes, 1), all_scores, anchors, o.classes, kDetections,
                               {.y = 1, .x = 1, .h = 1, .w = 1});
  return net.Finish(outputs, ZooDescription("EfficientDet-Lite" + std::to_string(index), o.width,
                                            false, o.resolution));
}

}  // namespace

std::vector<uint8_t> BuildEfficientDetLite0(const ZooOptions& o) {
  return BuildEfficientDetLite(o, 0);
}
std::vector<uint8_t> BuildEfficientDetLite1(const ZooOptions& o) {
  return BuildEfficientDetLite(o, 1);
}
std::vector<uint8_t> BuildEfficientDetLite2(const ZooOptions& o) {
  return BuildEfficientDetLite(o, 2);
}
std::vector<uint8_t> BuildEfficientDetLite3(const ZooOptions& o) {
  return BuildEfficientDetLite(o, 3);
}
std::vector<uint8_t> BuildEfficientDetLite4(const ZooOptions& o) {
  return BuildEfficientDetLite(o, 4);
}

}  // namespace tpufleet::zoo
