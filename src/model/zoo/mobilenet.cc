// MobileNet v1 (Howard et al. 2017) and v2 (Sandler et al. 2018), as TF-slim defines them, and
// MobileNet v1's features as an embedding extractor (the classifier's pool, L2-normalized).
#include <algorithm>

#include "model/zoo/architectures.h"

namespace tpufleet::zoo {

std::pair<int, int> MobileNetV1Features(Network& net, int input, double width, int min_depth) {
  auto depth = [&](int d) { return std::max(static_cast<int>(d * width), min_depth); };
  struct Layer {
    int channels, stride;
  };
  static constexpr Layer kSeparable[] = {{64, 1},  {128, 2},  {128, 1}, {256, 2}, {256, 1},
                                         {512, 2}, {512, 1},  {512, 1}, {512, 1}, {512, 1},
                                         {512, 1}, {1024, 2}, {1024, 1}};
  int x = net.Conv(input, depth(32), 3, 2, Activation::kRelu6);
  int conv11 = -1;
  for (size_t i = 0; i < std::size(kSeparable); ++i) {
    x = net.Depthwise(x, 3, kSeparable[i].stride, Activation::kRelu6);
    x = net.Conv(x, depth(kSeparable[i].channels), 1, 1, Activation::kRelu6);
    if (i == 10) conv11 = x;
  }
  return {conv11, x};
}

std::vector<uint8_t> BuildMobileNetV1(const ZooOptions& o) {
  Network net(o.precision, o.seed);
  int input = net.Input("input", o.resolution, o.resolution, 3);
  int features = MobileNetV1Features(net, input, o.width, 8).second;
  int probabilities = net.ClassifierHead(features, o.classes, /*conv_logits=*/true);
  return net.Finish({probabilities}, ZooDescription("MobileNet v1", o.width, true, o.resolution));
}

std::vector<uint8_t> BuildMobileNetV1Embedding(const ZooOptions& o) {
  Network net(o.precision, o.seed);
  int input = net.Input("input", o.resolution, o.resolution, 3);
  int pooled = net.GlobalAvgPool(MobileNetV1Features(net, input, o.width, 8).second);
  int embedding = net.L2Normalize(net.Reshape(pooled, {1, net.channels(pooled)}));
  return net.Finish({embedding},
                    ZooDescription("MobileNet v1 embedding", o.width, true, o.resolution));
}

std::vector<MobileNetV2Block> MobileNetV2Blocks(Network& net, int input, double width) {
  struct Stage {
    int expansion, channels, repeats, stride;
  };
  static constexpr Stage kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                      {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  std::vector<MobileNetV2Block> blocks;
  int x = net.Conv(input, MakeDivisible(32 * width), 3, 2, Activation::kRelu6);
  for (const Stage& stage : kStages) {
    int out_channels = MakeDivisible(stage.channels * width);
    for (int r = 0; r < stage.repeats; ++r) {
      int stride = r == 0 ? stage.stride : 1;
      int in_channels = net.channels(x);
      int expanded = x;
      if (stage.expansion != 1) {
        expanded =
            net.Conv(x, MakeDivisible(in_channels * stage.expansion), 1, 1, Activation::kRelu6);
      }
      int y = net.Depthwise(expanded, 3, stride, Activation::kRelu6);
      y = net.Conv(y, out_channels, 1, 1, Activation::kNone);
      x = (stride == 1 && in_channels == out_channels) ? net.Add(x, y, Activation::kNone) : y;
      blocks.push_back({expanded, x});
    }
  }
  return blocks;
}

int MobileNetV2LastLayer(Network& net, int block16, double width) {
  return net.Conv(block16, width > 1.0 ? MakeDivisible(1280 * width) : 1280, 1, 1,
                  Activation::kRelu6);
}

std::vector<uint8_t> BuildMobileNetV2(const ZooOptions& o) {
  Network net(o.precision, o.seed);
  int input = net.Input("input", o.resolution, o.resolution, 3);
  int x = MobileNetV2LastLayer(net, MobileNetV2Blocks(net, input, o.width).back().output, o.width);
  int probabilities = net.ClassifierHead(x, o.classes, /*conv_logits=*/true);
  return net.Finish({probabilities}, ZooDescription("MobileNet v2", o.width, true, o.resolution));
}

}  // namespace tpufleet::zoo
