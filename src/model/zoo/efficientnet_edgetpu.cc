// EfficientNet-EdgeTPU S, M and L (Gupta and Tan 2019): MBConv blocks with ReLU and no
// squeeze-excite; the early stages use fused blocks (one full k x k expansion convolution
// instead of 1x1 + depthwise). M and L scale the S block list as the published builder does:
// filters by a width coefficient (rounded to multiples of 8), repeats by a depth coefficient
// (rounded up).
#include <algorithm>
#include <cmath>
#include <string>

#include "model/zoo/architectures.h"

namespace tpufleet::zoo {
namespace {

struct BlockSpec {
  int repeats, kernel, stride, expansion, input_filters, output_filters;
  bool fused, skip;
};

// The published block list of the S model (width and depth coefficients 1.0).
constexpr BlockSpec kBlocks[] = {
    {1, 3, 1, 4, 24, 24, true, false},  {2, 3, 2, 8, 24, 32, true, true},
    {4, 3, 2, 8, 32, 48, true, true},   {5, 5, 2, 8, 48, 96, false, true},
    {4, 5, 1, 8, 96, 144, false, true}, {2, 5, 2, 8, 144, 192, false, true},
};

struct Scaling {
  const char* name;
  double width, depth;
};

// The builder's round_filters: `filters` times the width coefficient, rounded as MobileNet's.
int ScaledFilters(int filters, const Scaling& scaling) {
  return MakeDivisible(filters * scaling.width);
}

int ScaledRepeats(int repeats, const Scaling& scaling) {
  return static_cast<int>(std::ceil(scaling.depth * repeats));
}

std::vector<uint8_t> BuildEfficientNetEdgeTpu(const ZooOptions& o, const Scaling& scaling) {
  Network net(o.precision, o.seed);
  int input = net.Input("input", o.resolution, o.resolution, 3);
  int x = net.Conv(input, ScaledFilters(32, scaling), 3, 2, Activation::kRelu);
  for (const BlockSpec& spec : kBlocks) {
    x = MBConvBlocks(net, x,
                     {.repeats = ScaledRepeats(spec.repeats, scaling),
                      .kernel = spec.kernel,
                      .stride = spec.stride,
                      .expansion = spec.expansion,
                      .input_filters = ScaledFilters(spec.input_filters, scaling),
                      .output = ScaledFilters(spec.output_filters, scaling),
                      .fused = spec.fused,
                      .activation = Activation::kRelu,
                      .skip = spec.skip});
  }
  x = net.Conv(x, ScaledFilters(1280, scaling), 1, 1, Activation::kRelu);
  int probabilities = net.ClassifierHead(x, o.classes, /*conv_logits=*/false);
  return net.Finish({probabilities},
                    ZooDescription(std::string("EfficientNet-EdgeTPU-") + scaling.name, o.width,
                                   false, o.resolution));
}

}  // namespace

// Width and depth coefficients of the published builder (its resolutions are the zoo's defaults).
std::vector<uint8_t> BuildEfficientNetEdgeTpuS(const ZooOptions& o) {
  return BuildEfficientNetEdgeTpu(o, {"S", 1.0, 1.0});
}
std::vector<uint8_t> BuildEfficientNetEdgeTpuM(const ZooOptions& o) {
  return BuildEfficientNetEdgeTpu(o, {"M", 1.0, 1.1});
}
std::vector<uint8_t> BuildEfficientNetEdgeTpuL(const ZooOptions& o) {
  return BuildEfficientNetEdgeTpu(o, {"L", 1.2, 1.4});
}

}  // namespace tpufleet::zoo
