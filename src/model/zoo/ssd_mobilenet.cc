// SSD MobileNet v1 (MobileNet paper, Howard et al. 2017, section 4.5) and v2 (Sandler et al.
// 2018, section 6.2) as the TensorFlow Object Detection API builds them for TFLite: v1 from TF1
// with its features at strides 16 and 32 (depthwise-separable layers 11 and 13), v2 from TF2's
// Keras extractor with block 13's expansion (stride 16) and the final 1280-channel layer (stride
// 32), each with SSD's extra layers, 1x1 predictors and TFLite_Detection_PostProcess.
#include "model/zoo/architectures.h"

namespace tpufleet::zoo {

std::vector<uint8_t> BuildSsdMobileNetV1(const ZooOptions& o) {
  constexpr int kMinDepth = 16;
  Network net(o.precision, o.seed);
  int input = net.Input("normalized_input_image_tensor", o.resolution, o.resolution, 3);
  auto [conv11, conv13] = MobileNetV1Features(net, input, o.width, kMinDepth);
  std::vector<int> outputs = SsdHead(
      net, conv11, conv13, {.classes = o.classes, .width = o.width, .min_depth = kMinDepth});
  return net.Finish(outputs, ZooDescription("SSD MobileNet v1", o.width, true, o.resolution));
}

std::vector<uint8_t> BuildSsdMobileNetV2(const ZooOptions& o) {
  constexpr int kMinDepth = 16;
  Network net(o.precision, o.seed);
  int input = net.Input("normalized_input_image_tensor", o.resolution, o.resolution, 3);
  std::vector<MobileNetV2Block> blocks = MobileNetV2Blocks(net, input, o.width);
  int last = MobileNetV2LastLayer(net, blocks.back().output, o.width);
  std::vector<int> outputs = SsdHead(
      net, blocks[13].expanded, last,
      {.classes = o.classes, .width = o.width, .min_depth = kMinDepth, .tf2_output_order = true});
  return net.Finish(outputs, ZooDescription("SSD MobileNet v2", o.width, true, o.resolution));
}

}  // namespace tpufleet::zoo
