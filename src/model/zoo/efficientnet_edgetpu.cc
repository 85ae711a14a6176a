// EfficientNet-EdgeTPU-S (Gupta and Tan 2019): MBConv blocks with ReLU and no squeeze-excite; the
// early stages use fused blocks (one full k x k expansion convolution instead of 1x1 + depthwise).
#include "model/zoo/architectures.h"

namespace tpufleet::zoo {
namespace {

struct BlockSpec {
  int repeats, kernel, stride, expansion, input_filters, output_filters;
  bool fused, skip;
};

// The published block list of the S model (width and depth coefficients 1.0, 224x224).
constexpr BlockSpec kBlocks[] = {
    {1, 3, 1, 4, 24, 24, true, false},  {2, 3, 2, 8, 24, 32, true, true},
    {4, 3, 2, 8, 32, 48, true, true},   {5, 5, 2, 8, 48, 96, false, true},
    {4, 5, 1, 8, 96, 144, false, true}, {2, 5, 2, 8, 144, 192, false, true},
};

int MBConv(Network& net, int x, const BlockSpec& spec, int input_filters, int stride) {
  // The expansion width follows the block's declared input filters, as the reference does, even
  // where the incoming tensor is wider (the first block after the 32-channel stem).
  int expanded = input_filters * spec.expansion;
  int y;
  if (spec.fused) {
    y = net.Conv(x, expanded, spec.kernel, stride, Activation::kRelu);
  } else {
    y = net.Conv(x, expanded, 1, 1, Activation::kRelu);
    y = net.Depthwise(y, spec.kernel, stride, Activation::kRelu);
  }
  y = net.Conv(y, spec.output_filters, 1, 1, Activation::kNone);
  bool residual = spec.skip && stride == 1 && net.channels(x) == spec.output_filters;
  return residual ? net.Add(x, y, Activation::kNone) : y;
}

}  // namespace

std::vector<uint8_t> BuildEfficientNetEdgeTpuS(const ZooOptions& o) {
  Network net(o.precision, o.seed);
  int input = net.Input("input", o.resolution, o.resolution, 3);
  int x = net.Conv(input, 32, 3, 2, Activation::kRelu);
  for (const BlockSpec& spec : kBlocks) {
    for (int r = 0; r < spec.repeats; ++r) {
      x = MBConv(net, x, spec, r == 0 ? spec.input_filters : spec.output_filters,
                 r == 0 ? spec.stride : 1);
    }
  }
  x = net.Conv(x, 1280, 1, 1, Activation::kRelu);
  int probabilities = net.ClassifierHead(x, o.classes, /*conv_logits=*/false);
  return net.Finish({probabilities},
                    ZooDescription("EfficientNet-EdgeTPU-S", o.width, false, o.resolution));
}

}  // namespace tpufleet::zoo
