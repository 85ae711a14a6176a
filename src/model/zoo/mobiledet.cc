// SSDLite MobileDet-EdgeTPU (Xiong et al. 2021), the detector searched for the Edge TPU: its
// backbone mixes fused inverted bottlenecks (a full KxK expansion, where the Edge TPU is faster
// than depthwise), Tucker convolutions and inverted bottlenecks; the SSDLite head reads its
// stride-16 and stride-32 outputs (C4, C5).
#include <algorithm>
#include <cmath>

#include "model/zoo/architectures.h"

namespace tpufleet::zoo {
namespace {

// The Object Detection API's rounding for MobileDet: to the nearest multiple of 8, at least 8.
int ScaleFilters(int filters, double multiplier) {
  return std::max(static_cast<int>(std::lround(filters * multiplier / 8)) * 8, 8);
}

enum class Block { kFused, kInvertedBottleneck };

struct Layer {
  Block block;
  int expansion, filters, kernel, stride;
  bool residual = true;  // false where the Object Detection API's builder says so: a stage's first
};

int Apply(Network& net, int x, const Layer& l, double width) {
  int expanded_channels = ScaleFilters(net.channels(x), l.expansion);
  int expanded = l.block == Block::kFused
                     ? net.Conv(x, expanded_channels, l.kernel, l.stride, Activation::kRelu6)
                     : net.Depthwise(net.Conv(x, expanded_channels, 1, 1, Activation::kRelu6),
                                     l.kernel, l.stride, Activation::kRelu6);
  int y = net.Conv(expanded, ScaleFilters(l.filters, width), 1, 1, Activation::kNone);
  return l.residual ? net.Add(x, y, Activation::kNone) : y;
}

constexpr Block F = Block::kFused;
constexpr Block I = Block::kInvertedBottleneck;
// After the stem and the Tucker layer (C1): C2 at stride 4, C3 at 8, C4 at 16, C5 at 32.
constexpr Layer kC2[] = {
    {F, 8, 16, 3, 2, false}, {F, 4, 16, 3, 1}, {F, 8, 16, 3, 1}, {F, 4, 16, 3, 1}};
constexpr Layer kC3[] = {
    {F, 8, 40, 5, 2, false}, {F, 4, 40, 3, 1}, {F, 4, 40, 3, 1}, {F, 4, 40, 3, 1}};
constexpr Layer kC4[] = {{I, 8, 72, 3, 2, false}, {I, 8, 72, 3, 1},        {F, 4, 72, 3, 1},
                         {F, 4, 72, 3, 1},        {I, 8, 96, 5, 1, false}, {I, 8, 96, 5, 1},
                         {I, 8, 96, 3, 1},        {I, 8, 96, 3, 1}};
constexpr Layer kC5[] = {{I, 8, 120, 5, 2, false},
                         {I, 8, 120, 3, 1},
                         {I, 4, 120, 5, 1},
                         {I, 8, 120, 3, 1},
                         {I, 8, 384, 5, 1, false}};

}  // namespace

std::vector<uint8_t> BuildSsdLiteMobileDet(const ZooOptions& o) {
  constexpr int kMinDepth = 16;
  Network net(o.precision, o.seed);
  int input = net.Input("normalized_input_image_tensor", o.resolution, o.resolution, 3);
  int x = net.Conv(input, ScaleFilters(32, o.width), 3, 2, Activation::kRelu6);
  // Tucker: a 1x1 to a quarter of the input, 3x3 to three quarters of the output, a 1x1.
  const int c1 = ScaleFilters(16, o.width);
  int tucker = net.Conv(x, ScaleFilters(net.channels(x), 0.25), 1, 1, Activation::kRelu6);
  tucker = net.Conv(tucker, ScaleFilters(c1, 0.75), 3, 1, Activation::kRelu6);
  x = net.Conv(tucker, c1, 1, 1, Activation::kNone);  // no residual
  for (const Layer& layer : kC2) x = Apply(net, x, layer, o.width);
  for (const Layer& layer : kC3) x = Apply(net, x, layer, o.width);
  for (const Layer& layer : kC4) x = Apply(net, x, layer, o.width);
  int c4 = x;
  for (const Layer& layer : kC5) x = Apply(net, x, layer, o.width);
  std::vector<int> outputs = SsdHead(
      net, c4, x, {.classes = o.classes, .width = o.width, .min_depth = kMinDepth, .lite = true});
  return net.Finish(outputs,
                    ZooDescription("SSDLite MobileDet-EdgeTPU", o.width, true, o.resolution));
}

}  // namespace tpufleet::zoo
