// YOLOv5 and YOLOv8 n, s and m detectors (Ultralytics 2020 and 2023).
//
// YOLOv8, equivalent to Ultralytics' exports for TFLite
// and the Edge TPU (SAME padding for their PAD and VALID convolutions, MUL and SUM for their
// distribution convolution): input pixels / 255, the CSP backbone of C2f blocks with SiLU, SPPF,
// the path-aggregation neck, and the anchor-free head whose box distances are decoded in the graph
// (distribution focal loss, distances to boxes, normalized to the input) and concatenated with the
// class scores into one [1, 4 + classes, anchors] output, before non-maximum suppression.
//
// YOLOv5 (its v6.0 layout and later): a 6x6 stride-2 stem, the CSP backbone of C3 blocks with
// SiLU, SPPF, the path-aggregation neck with its 1x1 laterals, and the anchor-based head as its
// TFLite export writes it: boxes decoded in the graph, normalized to the input, with objectness
// and class scores into one [1, anchors, 5 + classes] output, three anchors per cell.
#include <algorithm>
#include <array>
#include <cmath>

#include "model/zoo/architectures.h"

namespace tpufleet::zoo {
namespace {

constexpr Activation kSilu = Activation::kSilu;
constexpr int kRegMax = 16;  // box distances are distributions over 16 bins
constexpr int kStrides[] = {8, 16, 32};

struct Scale {
  const char* name;
  double depth, width;
  int max_channels;
};

class Yolo {
 public:
  Yolo(Network& net, const Scale& scale) : net_(net), scale_(scale) {}

  // Ultralytics' channel rule: capped, times the width, rounded up to a multiple of 8.
  int Channels(int c) const {
    return static_cast<int>(std::ceil(std::min(c, scale_.max_channels) * scale_.width / 8) * 8);
  }
  int Repeats(int n) const { return std::max(1, static_cast<int>(std::lround(n * scale_.depth))); }

  int Conv(int x, int channels, int kernel = 1, int stride = 1) {
    return net_.Conv(x, channels, kernel, stride, kSilu);
  }

  // Split the 1x1 convolution's output in two, chain n bottlenecks on the second half, and
  // fuse every part with a 1x1 convolution.
  int C2f(int x, int channels, int n, bool shortcut) {
    int hidden = channels / 2;
    std::vector<int> parts = net_.Split(Conv(x, 2 * hidden), -1, 2);
    for (int i = 0; i < n; ++i) {
      int y = Conv(Conv(parts.back(), hidden, 3), hidden, 3);
      parts.push_back(shortcut ? net_.Add(parts.back(), y, Activation::kNone) : y);
    }
    return Conv(net_.Concat(parts), channels);
  }

  // YOLOv5's CSP bottleneck: n bottlenecks (1x1 then 3x3) on one 1x1 half, concatenated with
  // another 1x1 half and fused by a 1x1 convolution.
  int C3(int x, int channels, int n, bool shortcut) {
    int hidden = channels / 2;
    int y = Conv(x, hidden);
    for (int i = 0; i < n; ++i) {
      int b = Conv(Conv(y, hidden), hidden, 3);
      y = shortcut ? net_.Add(y, b, Activation::kNone) : b;
    }
    return Conv(net_.Concat({y, Conv(x, hidden)}), channels);
  }

  // Spatial pyramid pooling, fast: three chained 5x5 max pools.
  int Sppf(int x, int channels) {
    std::vector<int> parts = {Conv(x, net_.channels(x) / 2)};
    for (int i = 0; i < 3; ++i) parts.push_back(net_.MaxPool(parts.back(), 5, 1, Padding::SAME));
    return Conv(net_.Concat(parts), channels);
  }

  struct Features {
    int stride8, stride16, stride32;
  };
  using Block = int (Yolo::*)(int x, int channels, int n, bool shortcut);
  // The CSP backbone: a stride-2 stem of `stem_kernel`, four stride-2 3x3 convolutions each
  // followed by `block` (C2f or C3) repeated (before depth scaling) `repeats` times, and SPPF.
  Features Backbone(int input, int stem_kernel, std::array<int, 4> repeats, Block block) {
    int x = Conv(input, Channels(64), stem_kernel, 2);
    Features f{};
    int* outputs[] = {nullptr, &f.stride8, &f.stride16, nullptr};
    for (int stage = 0; stage < 4; ++stage) {
      int channels = Channels(128 << stage);
      x = (this->*block)(Conv(x, channels, 3, 2), channels, Repeats(repeats[stage]), true);
      if (outputs[stage] != nullptr) *outputs[stage] = x;
    }
    f.stride32 = Sppf(x, Channels(1024));
    return f;
  }

  // [1, H, W, C] -> [1, H * W, C], the anchor order of the head.
  int Flatten(int x) {
    const std::vector<int32_t>& s = net_.shape(x);
    return net_.Reshape(x, {1, s[1] * s[2], s[3]});
  }

 private:
  Network& net_;
  const Scale& scale_;
};

// Each level's anchor points (cell centres, x then y, rows first) and stride, over the input size.
void AnchorPoints(int resolution, std::vector<float>& points, std::vector<float>& norms) {
  for (int stride : kStrides) {
    int cells = resolution / stride;
    float norm = static_cast<float>(stride) / resolution;
    for (int y = 0; y < cells; ++y) {
      for (int x = 0; x < cells; ++x) {
        points.push_back((x + 0.5f) * norm);
        points.push_back((y + 0.5f) * norm);
        norms.push_back(norm);
      }
    }
  }
}

std::vector<uint8_t> BuildYoloV8(const ZooOptions& o, const Scale& scale) {
  Network net(o.precision, o.seed);
  Yolo yolo(net, scale);
  int input = net.Input("images", o.resolution, o.resolution, 3, {0.0f, 1.0f});  // pixels / 255
  auto [p3, p4, p5] = yolo.Backbone(input, 3, {3, 6, 6, 3}, &Yolo::C2f);

  int n = yolo.Repeats(3);
  int up4 = yolo.C2f(net.Concat({net.ResizeNearest(p5, 2), p4}), yolo.Channels(512), n, false);
  int out3 = yolo.C2f(net.Concat({net.ResizeNearest(up4, 2), p3}), yolo.Channels(256), n, false);
  int down4 = net.Concat({yolo.Conv(out3, yolo.Channels(256), 3, 2), up4});
  int out4 = yolo.C2f(down4, yolo.Channels(512), n, false);
  int down5 = net.Concat({yolo.Conv(out4, yolo.Channels(512), 3, 2), p5});
  int out5 = yolo.C2f(down5, yolo.Channels(1024), n, false);

  // The head: per level a box branch (4 x 16 bins) and a class branch.
  const int first = net.channels(out3);
  const int box_channels = std::max({16, first / 4, 4 * kRegMax});
  const int class_channels = std::max(first, std::min(o.classes, 100));
  std::vector<int> boxes, classes;
  for (int level : {out3, out4, out5}) {
    int b = yolo.Conv(yolo.Conv(level, box_channels, 3), box_channels, 3);
    boxes.push_back(yolo.Flatten(net.Conv(b, 4 * kRegMax, 1, 1, Activation::kNone)));
    int c = yolo.Conv(yolo.Conv(level, class_channels, 3), class_channels, 3);
    classes.push_back(yolo.Flatten(net.Conv(c, o.classes, 1, 1, Activation::kNone)));
  }
  int box_logits = net.Concat(boxes, 1);
  const int anchors = net.shape(box_logits)[1];

  // Distribution focal loss: each distance is the expectation of its 16-bin softmax.
  int bins = net.Softmax(net.Reshape(box_logits, {1, anchors, 4, kRegMax}));
  std::vector<float> arange(kRegMax);
  for (int i = 0; i < kRegMax; ++i) arange[i] = static_cast<float>(i);
  int weighted = net.Mul(bins, net.Constant("dfl_bins", {kRegMax}, arange), {0, kRegMax - 1});
  // A bin of headroom: rounded products can sum past 15, and an 8-bit SUM wraps (as TFLite's).
  int distances = net.Sum(weighted, -1, {0, kRegMax});

  // Distances to boxes (centre x, y, width, height), normalized by the input size.
  std::vector<float> points, norms;
  AnchorPoints(o.resolution, points, norms);
  const float reach = (kRegMax - 1) * static_cast<float>(kStrides[2]) / o.resolution;
  int scaled = net.Mul(distances, net.Constant("anchor_norms", {1, anchors, 1}, norms), {0, reach});
  std::vector<int> lt_rb = net.Split(scaled, -1, 2);
  int centres = net.Constant("anchor_points", {1, anchors, 2}, points);
  int top_left = net.Sub(centres, lt_rb[0], {-reach, 1});
  int bottom_right = net.Add(centres, lt_rb[1], Range{0, 1 + reach});
  // Operands with operators of their own are built one statement each, in a fixed order: the
  // order of a call's arguments is the compiler's.
  int corner_sum = net.Add(top_left, bottom_right, Range{0, 2});
  int centre = net.Mul(corner_sum, net.Constant("half", {1}, {0.5f}), {0, 1});
  int size = net.Sub(bottom_right, top_left, {0, 1});
  int box = net.Concat({centre, size}, -1);

  int scores = net.Logistic(net.Concat(classes, 1));
  int output = net.Transpose(net.Concat({box, scores}, -1), {0, 2, 1});
  return net.Finish({output},
                    ZooDescription(std::string("YOLOv8") + scale.name, 1.0, false, o.resolution));
}

// YOLOv5's anchors in input pixels, three per level (width, height), for strides 8, 16 and 32.
constexpr float kV5Anchors[3][3][2] = {{{10, 13}, {16, 30}, {33, 23}},
                                       {{30, 61}, {62, 45}, {59, 119}},
                                       {{116, 90}, {156, 198}, {373, 326}}};

// One level of YOLOv5's head as its TFLite export decodes it: per cell and anchor, the logistic
// of every value; centre (2 s - 0.5 + cell) x stride and size (2 s)^2 x anchor, both over the
// input size; then the objectness and class scores. [1, cells x 3, 5 + classes].
int DecodeV5Level(Network& net, int raw, int level, int resolution) {
  const int rows = net.shape(raw)[1], columns = net.shape(raw)[2], cells = rows * columns;
  const int values = net.channels(raw) / 3;
  const float step = static_cast<float>(kStrides[level]) / resolution;
  std::vector<int> parts =
      net.SplitV(net.Logistic(net.Reshape(raw, {1, cells, 3, values})), -1, {2, 2, values - 4});
  std::vector<float> grid;
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < columns; ++x)
      grid.insert(grid.end(), {(x - 0.5f) * step, (y - 0.5f) * step});
  }
  int scaled = net.Mul(parts[0], net.Constant("xy_scale", {1}, {2 * step}), {0, 2 * step});
  int centre = net.Add(scaled, net.Constant("grid", {1, cells, 1, 2}, grid),
                       Range{-0.5f * step, 1 + 1.5f * step});
  std::vector<float> anchors;
  float largest = 0;
  for (const auto& anchor : kV5Anchors[level]) {
    for (float side : anchor) {
      anchors.push_back(4 * side / resolution);
      largest = std::max(largest, anchors.back());
    }
  }
  int squared = net.Mul(parts[1], parts[1], {0, 1});
  int size = net.Mul(squared, net.Constant("anchor_grid", {1, 1, 3, 2}, anchors), {0, largest});
  return net.Reshape(net.Concat({centre, size, parts[2]}, -1), {1, cells * 3, values});
}

std::vector<uint8_t> BuildYoloV5(const ZooOptions& o, const Scale& scale) {
  Network net(o.precision, o.seed);
  Yolo yolo(net, scale);
  int input = net.Input("images", o.resolution, o.resolution, 3, {0.0f, 1.0f});  // pixels / 255
  auto [p3, p4, p5] = yolo.Backbone(input, 6, {3, 6, 9, 3}, &Yolo::C3);

  int n = yolo.Repeats(3);
  int lateral5 = yolo.Conv(p5, yolo.Channels(512));
  int x = yolo.C3(net.Concat({net.ResizeNearest(lateral5, 2), p4}), yolo.Channels(512), n, false);
  int lateral4 = yolo.Conv(x, yolo.Channels(256));
  int out3 =
      yolo.C3(net.Concat({net.ResizeNearest(lateral4, 2), p3}), yolo.Channels(256), n, false);
  int out4 = yolo.C3(net.Concat({yolo.Conv(out3, yolo.Channels(256), 3, 2), lateral4}),
                     yolo.Channels(512), n, false);
  int out5 = yolo.C3(net.Concat({yolo.Conv(out4, yolo.Channels(512), 3, 2), lateral5}),
                     yolo.Channels(1024), n, false);

  std::vector<int> levels;
  int level = 0;
  for (int map : {out3, out4, out5}) {
    int raw = net.Conv(map, 3 * (5 + o.classes), 1, 1, Activation::kNone);
    levels.push_back(DecodeV5Level(net, raw, level++, o.resolution));
  }
  return net.Finish({net.Concat(levels, 1)},
                    ZooDescription(std::string("YOLOv5") + scale.name, 1.0, false, o.resolution));
}

}  // namespace

std::vector<uint8_t> BuildYoloV5n(const ZooOptions& options) {
  return BuildYoloV5(options, {"n", 0.33, 0.25, 1024});
}

std::vector<uint8_t> BuildYoloV5s(const ZooOptions& options) {
  return BuildYoloV5(options, {"s", 0.33, 0.50, 1024});
}

std::vector<uint8_t> BuildYoloV5m(const ZooOptions& options) {
  return BuildYoloV5(options, {"m", 0.67, 0.75, 1024});
}

std::vector<uint8_t> BuildYoloV8n(const ZooOptions& options) {
  return BuildYoloV8(options, {"n", 0.33, 0.25, 1024});
}

std::vector<uint8_t> BuildYoloV8s(const ZooOptions& options) {
  return BuildYoloV8(options, {"s", 0.33, 0.50, 1024});
}

std::vector<uint8_t> BuildYoloV8m(const ZooOptions& options) {
  return BuildYoloV8(options, {"m", 0.67, 0.75, 768});
}

}  // namespace tpufleet::zoo
