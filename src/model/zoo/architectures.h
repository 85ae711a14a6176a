// One builder per architecture of the zoo; options are complete and validated by zoo.cc.
#pragma once

#include <vector>

#include "model/zoo/zoo.h"

namespace tpufleet::zoo {

std::vector<uint8_t> BuildMobileNetV1(const ZooOptions& options);
std::vector<uint8_t> BuildMobileNetV1Embedding(const ZooOptions& options);
std::vector<uint8_t> BuildMobileNetV2(const ZooOptions& options);
std::vector<uint8_t> BuildUNetMobileNetV2(const ZooOptions& options);
std::vector<uint8_t> BuildMobileNetV3Large(const ZooOptions& options);
std::vector<uint8_t> BuildMobileNetV3Small(const ZooOptions& options);
std::vector<uint8_t> BuildInceptionV1(const ZooOptions& options);
std::vector<uint8_t> BuildInceptionV4(const ZooOptions& options);
std::vector<uint8_t> BuildResNet50V1(const ZooOptions& options);
std::vector<uint8_t> BuildVgg16(const ZooOptions& options);
std::vector<uint8_t> BuildSqueezeNet10(const ZooOptions& options);
std::vector<uint8_t> BuildSsdMobileNetV1(const ZooOptions& options);
std::vector<uint8_t> BuildSsdMobileNetV2(const ZooOptions& options);
std::vector<uint8_t> BuildSsdLiteMobileDet(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientNetEdgeTpuS(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientNetEdgeTpuM(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientNetEdgeTpuL(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientNetLite0(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientNetLite1(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientNetLite2(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientNetLite3(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientNetLite4(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientDetLite0(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientDetLite1(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientDetLite2(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientDetLite3(const ZooOptions& options);
std::vector<uint8_t> BuildEfficientDetLite4(const ZooOptions& options);
std::vector<uint8_t> BuildMoveNetLightning(const ZooOptions& options);
std::vector<uint8_t> BuildMoveNetThunder(const ZooOptions& options);
std::vector<uint8_t> BuildYoloV5n(const ZooOptions& options);
std::vector<uint8_t> BuildYoloV5s(const ZooOptions& options);
std::vector<uint8_t> BuildYoloV5m(const ZooOptions& options);
std::vector<uint8_t> BuildYoloV8n(const ZooOptions& options);
std::vector<uint8_t> BuildYoloV8s(const ZooOptions& options);
std::vector<uint8_t> BuildYoloV8m(const ZooOptions& options);

// MobileNet v2's stem and its 17 inverted residual blocks (Keras numbers them 0 to 16): each
// block's expanded tensor (for block 0, which does not expand, its input) and its output.
struct MobileNetV2Block {
  int expanded, output;
};
std::vector<MobileNetV2Block> MobileNetV2Blocks(Network& net, int input, double width);
// MobileNet v2's last layer after block 16: a 1x1 convolution with ReLU6 to 1280 channels, times
// the width where it is above 1.
int MobileNetV2LastLayer(Network& net, int block16, double width);

// The MobileNet v1 feature extractor shared by the classifier and SSD; returns the outputs of
// depthwise-separable layers 11 (stride 16) and 13 (stride 32) as {conv11, conv13}.
std::pair<int, int> MobileNetV1Features(Network& net, int input, double width, int min_depth);

// A stage of EfficientNet's mobile inverted bottlenecks (MBConv): `repeats` blocks, the first at
// `stride` from `input_filters`, the others at stride 1 from `output`. A block expands those
// declared filters by `expansion` (a 1x1 convolution, or with `fused` a full kernel x kernel one
// at the block's stride; none for an unfused expansion of 1), applies a kernel x kernel depthwise
// convolution at the stride (not when fused), both with `activation`, a linear 1x1 projection to
// `output` channels, and adds its input back where `skip` allows and the shapes match. The
// declared filters set the expansion even where the incoming tensor is wider (the first block
// after the stem), as the reference builders do.
struct MBConvStage {
  int repeats, kernel, stride, expansion, input_filters, output;
  bool fused = false;
  Activation activation = Activation::kRelu;
  bool skip = true;
};
int MBConvBlocks(Network& net, int x, const MBConvStage& stage);

// EfficientNet-Lite `variant`'s (0 to 4) stem and MBConv blocks, without the head: the outputs
// of its last blocks at strides 8, 16 and 32, which EfficientDet-Lite reads as P3 to P5.
struct EfficientNetLiteMaps {
  int stride8, stride16, stride32;
};
EfficientNetLiteMaps EfficientNetLiteFeatures(Network& net, int input, int variant);

struct SsdHeadOptions {
  int classes = 90;    // without the background class the predictors add
  double width = 1.0;  // multiplies the extra layers' depths
  int min_depth = 16;
  bool lite = false;              // SSDLite: 3x3 convolutions depthwise-separable, 3x3 predictors
  bool tf2_output_order = false;  // scores, boxes, count, classes (TF2's export) instead of TF1's
                                  // boxes, classes, scores, count
};
// SSD's head as the TensorFlow Object Detection API builds it: the two feature maps, four extra
// layers (a 1x1 to half of 512, 256, 256 and 128 channels, then a stride-2 3x3 to all of them),
// a box and a class predictor on each of the six maps, the anchors of its multiple-grid anchor
// generator (scales 0.2 to 0.95; 3 per cell on the first map, 6 elsewhere), the logistic of the
// class scores and TFLite_Detection_PostProcess (10 detections). Returns its four outputs.
std::vector<int> SsdHead(Network& net, int stride16, int stride32, const SsdHeadOptions& options);

}  // namespace tpufleet::zoo
