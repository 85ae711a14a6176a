// VGG16 (Simonyan and Zisserman 2014, configuration D).
#include "model/zoo/architectures.h"

namespace tpufleet::zoo {

std::vector<uint8_t> BuildVgg16(const ZooOptions& o) {
  static constexpr int kPool = 0;  // a 2x2 max pool in the layer list
  static constexpr int kLayers[] = {64,    64,  kPool, 128, 128,   kPool, 256, 256, 256,
                                    kPool, 512, 512,   512, kPool, 512,   512, 512, kPool};
  Network net(o.precision, o.seed);
  int x = net.Input("input", o.resolution, o.resolution, 3);
  for (int channels : kLayers) {
    x = channels == kPool ? net.MaxPool(x, 2, 2, Padding::VALID)
                          : net.Conv(x, channels, 3, 1, Activation::kRelu);
  }
  const std::vector<int32_t>& s = net.shape(x);
  x = net.Reshape(x, {1, s[1] * s[2] * s[3]});
  x = net.FullyConnected(x, 4096, Activation::kRelu);
  x = net.FullyConnected(x, 4096, Activation::kRelu);
  int probabilities = net.Softmax(net.FullyConnected(x, o.classes, Activation::kNone));
  return net.Finish({probabilities}, ZooDescription("VGG16", o.width, false, o.resolution));
}

}  // namespace tpufleet::zoo
