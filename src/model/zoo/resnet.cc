// ResNet-50 v1 (He et al. 2015, Table 1): bottleneck blocks with the stride on the first 1x1
// convolution, projection shortcuts where the shape changes. Batch normalisation folded.
#include "model/zoo/architectures.h"

namespace tpufleet::zoo {
namespace {

int Bottleneck(Network& net, int x, int filters, int stride) {
  int shortcut = x;
  if (stride != 1 || net.channels(x) != 4 * filters) {
    shortcut = net.Conv(x, 4 * filters, 1, stride, Activation::kNone);
  }
  int y = net.Conv(x, filters, 1, stride, Activation::kRelu);
  y = net.Conv(y, filters, 3, 1, Activation::kRelu);
  y = net.Conv(y, 4 * filters, 1, 1, Activation::kNone);
  return net.Add(shortcut, y, Activation::kRelu);
}

}  // namespace

std::vector<uint8_t> BuildResNet50V1(const ZooOptions& o) {
  struct Stage {
    int filters, blocks, stride;
  };
  static constexpr Stage kStages[] = {{64, 3, 1}, {128, 4, 2}, {256, 6, 2}, {512, 3, 2}};
  Network net(o.precision, o.seed);
  int input = net.Input("input", o.resolution, o.resolution, 3);
  int x = net.Conv(input, 64, 7, 2, Activation::kRelu);
  x = net.MaxPool(x, 3, 2, Padding::SAME);
  for (const Stage& stage : kStages) {
    for (int b = 0; b < stage.blocks; ++b)
      x = Bottleneck(net, x, stage.filters, b == 0 ? stage.stride : 1);
  }
  int probabilities = net.ClassifierHead(x, o.classes, /*conv_logits=*/false);
  return net.Finish({probabilities}, ZooDescription("ResNet-50 v1", o.width, false, o.resolution));
}

}  // namespace tpufleet::zoo
