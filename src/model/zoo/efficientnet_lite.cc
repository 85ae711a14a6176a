// EfficientNet-Lite 0 to 4 (Tan and Le 2019; the Lite variants of 2020): EfficientNet-B0's
// MBConv blocks scaled in width and depth, made friendly to integer accelerators: no
// squeeze-and-excite, ReLU6 instead of swish, and the stem, the first and last block groups and
// the head left unscaled.
#include <cmath>
#include <iterator>
#include <string>

#include "model/zoo/architectures.h"

namespace tpufleet::zoo {
namespace {

struct BlockGroup {
  int repeats, kernel, stride, expansion, input_filters, output_filters;
};

// EfficientNet-B0's block list; groups 2, 4 and 6 end at strides 8, 16 and 32.
constexpr BlockGroup kGroups[] = {
    {1, 3, 1, 1, 32, 16},  {2, 3, 2, 6, 16, 24},   {2, 5, 2, 6, 24, 40},   {3, 3, 2, 6, 40, 80},
    {3, 5, 1, 6, 80, 112}, {4, 5, 2, 6, 112, 192}, {1, 3, 1, 6, 192, 320},
};
constexpr int kGroupCount = static_cast<int>(std::size(kGroups));

struct WidthDepth {
  double width, depth;
};
// Lite0 to Lite4, as the published builder scales them.
constexpr WidthDepth kWidthDepths[] = {{1.0, 1.0}, {1.0, 1.1}, {1.1, 1.2}, {1.2, 1.4}, {1.4, 1.8}};

std::vector<uint8_t> BuildLiteClassifier(const ZooOptions& o, int variant) {
  Network net(o.precision, o.seed);
  int input = net.Input("images", o.resolution, o.resolution, 3);
  int x = EfficientNetLiteFeatures(net, input, variant).stride32;
  x = net.Conv(x, 1280, 1, 1, Activation::kRelu6);
  int probabilities = net.ClassifierHead(x, o.classes, /*conv_logits=*/false);
  return net.Finish({probabilities}, ZooDescription("EfficientNet-Lite" + std::to_string(variant),
                                                    o.width, false, o.resolution));
}

}  // namespace

int MBConvBlocks(Network& net, int x, const MBConvStage& stage) {
  for (int r = 0; r < stage.repeats; ++r) {
    const int stride = r == 0 ? stage.stride : 1;
    const int expanded = (r == 0 ? stage.input_filters : stage.output) * stage.expansion;
    int y = x;
    if (stage.fused) {
      y = net.Conv(x, expanded, stage.kernel, stride, stage.activation);
    } else {
      if (stage.expansion != 1) y = net.Conv(x, expanded, 1, 1, stage.activation);
      y = net.Depthwise(y, stage.kernel, stride, stage.activation);
    }
    y = net.Conv(y, stage.output, 1, 1, Activation::kNone);
    const bool residual = stage.skip && stride == 1 && net.channels(x) == stage.output;
    x = residual ? net.Add(x, y, Activation::kNone) : y;
  }
  return x;
}

EfficientNetLiteMaps EfficientNetLiteFeatures(Network& net, int input, int variant) {
  const WidthDepth& coefficients = kWidthDepths[variant];
  EfficientNetLiteMaps maps{};
  int x = net.Conv(input, 32, 3, 2, Activation::kRelu6);
  for (int g = 0; g < kGroupCount; ++g) {
    const BlockGroup& group = kGroups[g];
    const bool unscaled = g == 0 || g == kGroupCount - 1;
    int repeats =
        unscaled ? group.repeats : static_cast<int>(std::ceil(coefficients.depth * group.repeats));
    x = MBConvBlocks(net, x,
                     {.repeats = repeats,
                      .kernel = group.kernel,
                      .stride = group.stride,
                      .expansion = group.expansion,
                      .input_filters = MakeDivisible(group.input_filters * coefficients.width),
                      .output = MakeDivisible(group.output_filters * coefficients.width),
                      .activation = Activation::kRelu6});
    if (g == 2) maps.stride8 = x;
    if (g == 4) maps.stride16 = x;
  }
  maps.stride32 = x;
  return maps;
}

std::vector<uint8_t> BuildEfficientNetLite0(const ZooOptions& o) {
  return BuildLiteClassifier(o, 0);
}
std::vector<uint8_t> BuildEfficientNetLite1(const ZooOptions& o) {
  return BuildLiteClassifier(o, 1);
}
std::vector<uint8_t> BuildEfficientNetLite2(const ZooOptions& o) {
  return BuildLiteClassifier(o, 2);
}
std::vector<uint8_t> BuildEfficientNetLite3(const ZooOptions& o) {
  return BuildLiteClassifier(o, 3);
}
std::vector<uint8_t> BuildEfficientNetLite4(const ZooOptions& o) {
  return BuildLiteClassifier(o, 4);
}

}  // namespace tpufleet::zoo
