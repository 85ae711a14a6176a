// MobileNet v3 Large and Small (Howard et al. 2019, Tables 1 and 2), as the Keras applications
// build them for TFLite: hard-swish as its own operator, squeeze-and-excite over a MEAN with a
// hard-sigmoid gate, and a head of MEAN, a 1x1 convolution with hard-swish and 1x1 logits.
#include <span>

#include "model/zoo/architectures.h"

namespace tpufleet::zoo {
namespace {

struct Bottleneck {
  double expansion;  // expanded channels over input channels
  int channels, kernel, stride;
  bool squeeze_excite;
  Activation activation;
};

constexpr Activation kRE = Activation::kRelu;
constexpr Activation kHS = Activation::kHardSwish;

constexpr Bottleneck kLarge[] = {
    {1, 16, 3, 1, false, kRE},   {4, 24, 3, 2, false, kRE},   {3, 24, 3, 1, false, kRE},
    {3, 40, 5, 2, true, kRE},    {3, 40, 5, 1, true, kRE},    {3, 40, 5, 1, true, kRE},
    {6, 80, 3, 2, false, kHS},   {2.5, 80, 3, 1, false, kHS}, {2.3, 80, 3, 1, false, kHS},
    {2.3, 80, 3, 1, false, kHS}, {6, 112, 3, 1, true, kHS},   {6, 112, 3, 1, true, kHS},
    {6, 160, 5, 2, true, kHS},   {6, 160, 5, 1, true, kHS},   {6, 160, 5, 1, true, kHS},
};

constexpr Bottleneck kSmall[] = {
    {1, 16, 3, 2, true, kRE}, {4.5, 24, 3, 2, false, kRE}, {88.0 / 24, 24, 3, 1, false, kRE},
    {4, 40, 5, 2, true, kHS}, {6, 40, 5, 1, true, kHS},    {6, 40, 5, 1, true, kHS},
    {3, 48, 5, 1, true, kHS}, {3, 48, 5, 1, true, kHS},    {6, 96, 5, 2, true, kHS},
    {6, 96, 5, 1, true, kHS}, {6, 96, 5, 1, true, kHS},
};

int InvertedResidual(Network& net, int x, const Bottleneck& block, double width) {
  int in_channels = net.channels(x);
  int expanded = MakeDivisible(in_channels * block.expansion);
  int out_channels = MakeDivisible(block.channels * width);
  int y = x;
  if (expanded != in_channels) y = net.Conv(y, expanded, 1, 1, block.activation);
  y = net.Depthwise(y, block.kernel, block.stride, block.activation);
  if (block.squeeze_excite) y = net.SqueezeExcite(y, MakeDivisible(expanded * 0.25));
  y = net.Conv(y, out_channels, 1, 1, Activation::kNone);
  if (block.stride == 1 && in_channels == out_channels) y = net.Add(x, y, Activation::kNone);
  return y;
}

std::vector<uint8_t> BuildMobileNetV3(const ZooOptions& o, std::span<const Bottleneck> blocks,
                                      int head_channels, const std::string& name) {
  Network net(o.precision, o.seed);
  int input = net.Input("input", o.resolution, o.resolution, 3);
  int x = net.Conv(input, 16, 3, 2, Activation::kHardSwish);
  for (const Bottleneck& block : blocks) x = InvertedResidual(net, x, block, o.width);
  x = net.Conv(x, MakeDivisible(net.channels(x) * 6), 1, 1, Activation::kHardSwish);
  int head = o.width > 1.0 ? MakeDivisible(head_channels * o.width) : head_channels;
  x = net.Conv(net.Mean(x), head, 1, 1, Activation::kHardSwish);
  int logits = net.Reshape(net.Conv(x, o.classes, 1, 1, Activation::kNone), {1, o.classes});
  return net.Finish({net.Softmax(logits)}, ZooDescription(name, o.width, true, o.resolution));
}

}  // namespace

std::vector<uint8_t> BuildMobileNetV3Large(const ZooOptions& options) {
  return BuildMobileNetV3(options, kLarge, 1280, "MobileNet v3 Large");
}

std::vector<uint8_t> BuildMobileNetV3Small(const ZooOptions& options) {
  return BuildMobileNetV3(options, kSmall, 1024, "MobileNet v3 Small");
}

}  // namespace tpufleet::zoo
