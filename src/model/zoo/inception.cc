// Inception v1 (GoogLeNet, Szegedy et al. 2014, Table 1, in the form TF-slim and torchvision
// train it: batch normalisation, and a 3x3 convolution where the paper's fourth branch has 5x5)
// and Inception v4 (Szegedy et al. 2016, Figures 3-9). Batch normalisation is folded into
// biases; auxiliary classifiers are not part of the inference graph.
#include "model/zoo/architectures.h"

namespace tpufleet::zoo {
namespace {

constexpr Activation kRelu = Activation::kRelu;

// The inception module: 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 | 3x3 max pool -> 1x1. Channel counts are
// Table 1's columns (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
int InceptionV1Module(Network& net, int x, int c1, int r3, int c3, int r5, int c5, int pool_proj) {
  int b1 = net.Conv(x, c1, 1, 1, kRelu);
  int b3 = net.Conv(net.Conv(x, r3, 1, 1, kRelu), c3, 3, 1, kRelu);
  int b5 = net.Conv(net.Conv(x, r5, 1, 1, kRelu), c5, 3, 1, kRelu);
  int bp = net.Conv(net.MaxPool(x, 3, 1, Padding::SAME), pool_proj, 1, 1, kRelu);
  return net.Concat({b1, b3, b5, bp});
}

// A chain of convolutions, each {channels, kernel_h, kernel_w}, stride 1, SAME.
struct ConvSpec {
  int channels, kernel_h, kernel_w;
};
int Chain(Network& net, int x, std::initializer_list<ConvSpec> convs) {
  for (const ConvSpec& c : convs)
    x = net.Conv(x, c.channels, c.kernel_h, c.kernel_w, 1, Padding::SAME, kRelu);
  return x;
}

int AvgPoolProjection(Network& net, int x, int channels) {
  return net.Conv(net.AvgPool(x, 3, 1, Padding::SAME), channels, 1, 1, kRelu);
}

int StemV4(Network& net, int x) {
  x = net.Conv(x, 32, 3, 3, 2, Padding::VALID, kRelu);
  x = net.Conv(x, 32, 3, 3, 1, Padding::VALID, kRelu);
  x = net.Conv(x, 64, 3, 1, kRelu);
  x = net.Concat(
      {net.MaxPool(x, 3, 2, Padding::VALID), net.Conv(x, 96, 3, 3, 2, Padding::VALID, kRelu)});
  int left = net.Conv(net.Conv(x, 64, 1, 1, kRelu), 96, 3, 3, 1, Padding::VALID, kRelu);
  int right = Chain(net, x, {{64, 1, 1}, {64, 7, 1}, {64, 1, 7}});
  right = net.Conv(right, 96, 3, 3, 1, Padding::VALID, kRelu);
  x = net.Concat({left, right});
  return net.Concat(
      {net.Conv(x, 192, 3, 3, 2, Padding::VALID, kRelu), net.MaxPool(x, 3, 2, Padding::VALID)});
}

int InceptionA(Network& net, int x) {
  return net.Concat({AvgPoolProjection(net, x, 96), net.Conv(x, 96, 1, 1, kRelu),
                     Chain(net, x, {{64, 1, 1}, {96, 3, 3}}),
                     Chain(net, x, {{64, 1, 1}, {96, 3, 3}, {96, 3, 3}})});
}

int ReductionA(Network& net, int x) {
  int pool = net.MaxPool(x, 3, 2, Padding::VALID);
  int conv = net.Conv(x, 384, 3, 3, 2, Padding::VALID, kRelu);
  int chain =
      net.Conv(Chain(net, x, {{192, 1, 1}, {224, 3, 3}}), 256, 3, 3, 2, Padding::VALID, kRelu);
  return net.Concat({pool, conv, chain});
}

int InceptionB(Network& net, int x) {
  return net.Concat(
      {AvgPoolProjection(net, x, 128), net.Conv(x, 384, 1, 1, kRelu),
       Chain(net, x, {{192, 1, 1}, {224, 1, 7}, {256, 7, 1}}),
       Chain(net, x, {{192, 1, 1}, {192, 1, 7}, {224, 7, 1}, {224, 1, 7}, {256, 7, 1}})});
}

int ReductionB(Network& net, int x) {
  int pool = net.MaxPool(x, 3, 2, Padding::VALID);
  int left = net.Conv(net.Conv(x, 192, 1, 1, kRelu), 192, 3, 3, 2, Padding::VALID, kRelu);
  int right = Chain(net, x, {{256, 1, 1}, {256, 1, 7}, {320, 7, 1}});
  right = net.Conv(right, 320, 3, 3, 2, Padding::VALID, kRelu);
  return net.Concat({pool, left, right});
}

int InceptionC(Network& net, int x) {
  int middle = net.Conv(x, 384, 1, 1, kRelu);
  int deep = Chain(net, x, {{384, 1, 1}, {448, 1, 3}, {512, 3, 1}});
  return net.Concat({AvgPoolProjection(net, x, 256), net.Conv(x, 256, 1, 1, kRelu),
                     Chain(net, middle, {{256, 1, 3}}), Chain(net, middle, {{256, 3, 1}}),
                     Chain(net, deep, {{256, 1, 3}}), Chain(net, deep, {{256, 3, 1}})});
}

}  // namespace

std::vector<uint8_t> BuildInceptionV1(const ZooOptions& o) {
  Network net(o.precision, o.seed);
  int input = net.Input("input", o.resolution, o.resolution, 3);
  int x = net.Conv(input, 64, 7, 2, kRelu);
  x = net.MaxPool(x, 3, 2, Padding::SAME);
  x = net.Conv(net.Conv(x, 64, 1, 1, kRelu), 192, 3, 1, kRelu);
  x = net.MaxPool(x, 3, 2, Padding::SAME);
  x = InceptionV1Module(net, x, 64, 96, 128, 16, 32, 32);    // 3a
  x = InceptionV1Module(net, x, 128, 128, 192, 32, 96, 64);  // 3b
  x = net.MaxPool(x, 3, 2, Padding::SAME);
  x = InceptionV1Module(net, x, 192, 96, 208, 16, 48, 64);     // 4a
  x = InceptionV1Module(net, x, 160, 112, 224, 24, 64, 64);    // 4b
  x = InceptionV1Module(net, x, 128, 128, 256, 24, 64, 64);    // 4c
  x = InceptionV1Module(net, x, 112, 144, 288, 32, 64, 64);    // 4d
  x = InceptionV1Module(net, x, 256, 160, 320, 32, 128, 128);  // 4e
  x = net.MaxPool(x, 3, 2, Padding::SAME);
  x = InceptionV1Module(net, x, 256, 160, 320, 32, 128, 128);  // 5a
  x = InceptionV1Module(net, x, 384, 192, 384, 48, 128, 128);  // 5b
  int probabilities = net.ClassifierHead(x, o.classes, /*conv_logits=*/false);
  return net.Finish({probabilities}, ZooDescription("Inception v1", o.width, false, o.resolution));
}

std::vector<uint8_t> BuildInceptionV4(const ZooOptions& o) {
  Network net(o.precision, o.seed);
  int input = net.Input("input", o.resolution, o.resolution, 3);
  int x = StemV4(net, input);
  for (int i = 0; i < 4; ++i) x = InceptionA(net, x);
  x = ReductionA(net, x);
  for (int i = 0; i < 7; ++i) x = InceptionB(net, x);
  x = ReductionB(net, x);
  for (int i = 0; i < 3; ++i) x = InceptionC(net, x);
  int probabilities = net.ClassifierHead(x, o.classes, /*conv_logits=*/false);
  return net.Finish({probabilities}, ZooDescription("Inception v4", o.width, false, o.resolution));
}

}  // namespace tpufleet::zoo
