#include "model/zoo/zoo.h"

#include <fmt/format.h>

#include <algorithm>

#include "model/zoo/architectures.h"

namespace tpufleet::zoo {

const std::vector<ZooArchitecture>& Architectures() {
  static const std::vector<ZooArchitecture> kArchitectures = {
      {"mobilenet_v1", "MobileNet v1 classifier (Howard et al. 2017)", 224, 32, 1001, true,
       BuildMobileNetV1},
      {"mobilenet_v1_embedding",
       "MobileNet v1 embedding extractor: its features, pooled and L2-normalized", 224, 32, 0, true,
       BuildMobileNetV1Embedding},
      {"mobilenet_v2", "MobileNet v2 classifier (Sandler et al. 2018)", 224, 32, 1001, true,
       BuildMobileNetV2},
      {"unet_mobilenet_v2", "U-Net segmenter with a MobileNet v2 encoder (TensorFlow tutorial)",
       128, 32, 3, true, BuildUNetMobileNetV2, 32},
      {"mobilenet_v3_large", "MobileNet v3 Large classifier (Howard et al. 2019)", 224, 32, 1001,
       true, BuildMobileNetV3Large},
      {"mobilenet_v3_small", "MobileNet v3 Small classifier (Howard et al. 2019)", 224, 32, 1001,
       true, BuildMobileNetV3Small},
      {"inception_v1", "Inception v1 / GoogLeNet classifier (Szegedy et al. 2014)", 224, 32, 1000,
       false, BuildInceptionV1},
      {"inception_v4", "Inception v4 classifier (Szegedy et al. 2016)", 299, 75, 1001, false,
       BuildInceptionV4},
      {"resnet50_v1", "ResNet-50 v1 classifier (He et al. 2015)", 224, 32, 1000, false,
       BuildResNet50V1},
      {"vgg16", "VGG16 classifier (Simonyan and Zisserman 2014)", 224, 32, 1000, false, BuildVgg16},
      {"squeezenet_1.0", "SqueezeNet 1.0 classifier (Iandola et al. 2016)", 227, 35, 1000, false,
       BuildSqueezeNet10},
      {"ssd_mobilenet_v1", "SSD MobileNet v1 detector with TFLite_Detection_PostProcess (COCO)",
       300, 65, 90, true, BuildSsdMobileNetV1},
      {"ssd_mobilenet_v2", "SSD MobileNet v2 detector as TF2 exports it (COCO)", 300, 65, 90, true,
       BuildSsdMobileNetV2},
      {"ssdlite_mobiledet", "SSDLite MobileDet-EdgeTPU detector (Xiong et al. 2021, COCO)", 320, 65,
       90, true, BuildSsdLiteMobileDet},
      {"efficientnet_edgetpu_s", "EfficientNet-EdgeTPU-S classifier (Gupta and Tan 2019)", 224, 32,
       1000, false, BuildEfficientNetEdgeTpuS},
      {"efficientnet_edgetpu_m", "EfficientNet-EdgeTPU-M classifier (Gupta and Tan 2019)", 240, 32,
       1000, false, BuildEfficientNetEdgeTpuM},
      {"efficientnet_edgetpu_l", "EfficientNet-EdgeTPU-L classifier (Gupta and Tan 2019)", 300, 32,
       1000, false, BuildEfficientNetEdgeTpuL},
      {"efficientnet_lite0", "EfficientNet-Lite0 classifier (Tan and Le 2019, Lite variant)", 224,
       32, 1000, false, BuildEfficientNetLite0},
      {"efficientnet_lite1", "EfficientNet-Lite1 classifier", 240, 32, 1000, false,
       BuildEfficientNetLite1},
      {"efficientnet_lite2", "EfficientNet-Lite2 classifier", 260, 32, 1000, false,
       BuildEfficientNetLite2},
      {"efficientnet_lite3", "EfficientNet-Lite3 classifier", 280, 32, 1000, false,
       BuildEfficientNetLite3},
      {"efficientnet_lite4", "EfficientNet-Lite4 classifier", 300, 32, 1000, false,
       BuildEfficientNetLite4},
      {"efficientdet_lite0",
       "EfficientDet-Lite0 detector with TFLite_Detection_PostProcess (Tan et al. 2020, COCO)", 320,
       128, 90, false, BuildEfficientDetLite0, 32},
      {"efficientdet_lite1", "EfficientDet-Lite1 detector (COCO)", 384, 128, 90, false,
       BuildEfficientDetLite1, 32},
      {"efficientdet_lite2", "EfficientDet-Lite2 detector (COCO)", 448, 128, 90, false,
       BuildEfficientDetLite2, 32},
      {"efficientdet_lite3", "EfficientDet-Lite3 detector (COCO)", 512, 128, 90, false,
       BuildEfficientDetLite3, 32},
      {"efficientdet_lite4", "EfficientDet-Lite4 detector (COCO)", 640, 128, 90, false,
       BuildEfficientDetLite4, 32},
      {"movenet_lightning",
       "MoveNet SinglePose Lightning pose estimator with its decoding (Google 2021)", 192, 64, 0,
       false, BuildMoveNetLightning, 32},
      {"movenet_thunder", "MoveNet SinglePose Thunder pose estimator with its decoding", 256, 64, 0,
       false, BuildMoveNetThunder, 32},
      {"yolov5n", "YOLOv5n detector, before non-maximum suppression (Ultralytics 2020)", 640, 64,
       80, false, BuildYoloV5n, 32},
      {"yolov5s", "YOLOv5s detector, before non-maximum suppression (Ultralytics 2020)", 640, 64,
       80, false, BuildYoloV5s, 32},
      {"yolov5m", "YOLOv5m detector, before non-maximum suppression (Ultralytics 2020)", 640, 64,
       80, false, BuildYoloV5m, 32},
      {"yolov8n", "YOLOv8n detector, before non-maximum suppression (Ultralytics 2023)", 640, 64,
       80, false, BuildYoloV8n, 32},
      {"yolov8s", "YOLOv8s detector, before non-maximum suppression (Ultralytics 2023)", 640, 64,
       80, false, BuildYoloV8s, 32},
      {"yolov8m", "YOLOv8m detector, before non-maximum suppression (Ultralytics 2023)", 640, 64,
       80, false, BuildYoloV8m, 32},
  };
  return kArchitectures;
}

Result<std::vector<uint8_t>> BuildZooModel(const std::string& name, ZooOptions options) {
  const ZooArchitecture* architecture = nullptr;
  std::vector<std::string> names;
  for (const ZooArchitecture& a : Architectures()) {
    names.push_back(a.name);
    if (a.name == name) architecture = &a;
  }
  if (architecture == nullptr) {
    return InvalidArgumentError(
        fmt::format("unknown zoo model '{}'; choose one of: {}", name, fmt::join(names, ", ")));
  }
  if (options.resolution == 0) options.resolution = architecture->default_resolution;
  if (options.classes == 0) options.classes = architecture->default_classes;
  if (options.resolution < architecture->min_resolution || options.resolution > 1024) {
    return InvalidArgumentError(fmt::format("{}: resolution {} is out of range; use {} to 1024",
                                            name, options.resolution,
                                            architecture->min_resolution));
  }
  if (options.resolution % architecture->resolution_multiple != 0) {
    int below =
        options.resolution / architecture->resolution_multiple * architecture->resolution_multiple;
    return InvalidArgumentError(fmt::format(
        "{}: resolution {} is not a multiple of {}; use {} or {}", name, options.resolution,
        architecture->resolution_multiple, std::max(below, architecture->min_resolution),
        below + architecture->resolution_multiple));
  }
  if (architecture->default_classes == 0) {
    if (options.classes != 0) {
      return InvalidArgumentError(fmt::format("{} has no classes; leave --classes unset", name));
    }
  } else if (options.classes < 1 || options.classes > 100000) {
    return InvalidArgumentError(
        fmt::format("{}: {} classes is out of range; use 1 to 100000", name, options.classes));
  }
  if (!architecture->has_width && options.width != 1.0) {
    return InvalidArgumentError(
        fmt::format("{} has no width multiplier; leave --width at 1.0", name));
  }
  if (!(options.width > 0.0 && options.width <= 4.0)) {
    return InvalidArgumentError(
        fmt::format("{}: width {} is out of range; use a value in (0, 4]", name, options.width));
  }
  return architecture->build(options);
}

}  // namespace tpufleet::zoo
