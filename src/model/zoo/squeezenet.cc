// SqueezeNet 1.0 (Iandola et al. 2016, Table 1): fire modules, no fully connected layer.
#include "model/zoo/architectures.h"

namespace tpufleet::zoo {
namespace {

int Fire(Network& net, int x, int squeeze, int expand1, int expand3) {
  int s = net.Conv(x, squeeze, 1, 1, Activation::kRelu);
  return net.Concat({net.Conv(s, expand1, 1, 1, Activation::kRelu),
                     net.Conv(s, expand3, 3, 1, Activation::kRelu)});
}

}  // namespace

std::vector<uint8_t> BuildSqueezeNet10(const ZooOptions& o) {
  Network net(o.precision, o.seed);
  int input = net.Input("input", o.resolution, o.resolution, 3);
  int x = net.Conv(input, 96, 7, 7, 2, Padding::VALID, Activation::kRelu);
  x = net.MaxPool(x, 3, 2, Padding::VALID);
  x = Fire(net, x, 16, 64, 64);
  x = Fire(net, x, 16, 64, 64);
  x = Fire(net, x, 32, 128, 128);
  x = net.MaxPool(x, 3, 2, Padding::VALID);
  x = Fire(net, x, 32, 128, 128);
  x = Fire(net, x, 48, 192, 192);
  x = Fire(net, x, 48, 192, 192);
  x = Fire(net, x, 64, 256, 256);
  x = net.MaxPool(x, 3, 2, Padding::VALID);
  x = Fire(net, x, 64, 256, 256);
  x = net.Conv(x, o.classes, 1, 1, Activation::kRelu);  // conv10
  int logits = net.Reshape(net.GlobalAvgPool(x), {1, o.classes});
  return net.Finish({net.Softmax(logits)},
                    ZooDescription("SqueezeNet 1.0", o.width, false, o.resolution));
}

}  // namespace tpufleet::zoo
