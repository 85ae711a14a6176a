// U-Net with a MobileNet v2 encoder, as TensorFlow's image segmentation tutorial builds it and
// Coral's keras_post_training_unet_mv2 models are: the encoder's expansions of blocks 1, 3, 6
// and 13 (strides 2 to 16) and block 16's output (stride 32); a decoder of 3x3 transposed
// convolutions with ReLU (512, 256, 128, 64 channels), each upsampling by 2 and concatenated
// with the skip of its size; a last transposed convolution to per-pixel class scores at the
// input's resolution.
#include "model/zoo/architectures.h"

namespace tpufleet::zoo {

std::vector<uint8_t> BuildUNetMobileNetV2(const ZooOptions& o) {
  Network net(o.precision, o.seed);
  int input = net.Input("input", o.resolution, o.resolution, 3);
  std::vector<MobileNetV2Block> blocks = MobileNetV2Blocks(net, input, o.width);
  const int skips[] = {blocks[13].expanded, blocks[6].expanded, blocks[3].expanded,
                       blocks[1].expanded};
  const int kDecoderChannels[] = {512, 256, 128, 64};
  int x = blocks[16].output;
  for (size_t i = 0; i < std::size(skips); ++i) {
    x = net.Concat({net.TransposeConv(x, kDecoderChannels[i], 3, 2, Activation::kRelu), skips[i]});
  }
  int scores = net.TransposeConv(x, o.classes, 3, 2, Activation::kNone);
  return net.Finish({scores}, ZooDescription("U-Net MobileNet v2", o.width, true, o.resolution));
}

}  // namespace tpufleet::zoo
