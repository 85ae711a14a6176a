// The synthetic zoo's architectures match the published networks: parameter count and MACs
// within 2% of the reference figures in docs/zoo.md, and exactly the counts of the real models
// of the same architecture in the shared models folder.
#include "model/zoo/zoo.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/shared_files.h"
#include "tpufleet/model.h"

namespace tpufleet::zoo {
namespace {

using ::testing::HasSubstr;

ModelPtr BuildAndLoad(const std::string& name, ZooOptions options = {}) {
  Result<std::vector<uint8_t>> bytes = BuildZooModel(name, options);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  if (!bytes.ok()) return nullptr;
  Result<ModelPtr> model = Model::FromBuffer(std::move(bytes).value(), name);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? model.value() : nullptr;
}

struct Reference {
  std::string name;
  ZooOptions options;
  double parameters;  // published figures; sources in docs/zoo.md
  double macs;
};

void PrintTo(const Reference& reference, std::ostream* out) { *out << reference.name; }

class ZooReferenceTest : public ::testing::TestWithParam<Reference> {};

TEST_P(ZooReferenceTest, ParametersAndMacsWithinTwoPercentOfPublished) {
  const Reference& ref = GetParam();
  ModelPtr model = BuildAndLoad(ref.name, ref.options);
  ASSERT_TRUE(model);
  EXPECT_NEAR(model->parameter_count() / ref.parameters, 1.0, 0.02)
      << ref.name << " has " << model->parameter_count() << " parameters";
  EXPECT_NEAR(model->total_macs() / ref.macs, 1.0, 0.02)
      << ref.name << " has " << model->total_macs() << " MACs";
}

ZooOptions Width(double width, int resolution = 0) {
  ZooOptions o;
  o.width = width;
  o.resolution = resolution;
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    Published, ZooReferenceTest,
    ::testing::Values(
        Reference{"mobilenet_v1", {}, 4.24e6, 569e6},
        Reference{"mobilenet_v1", Width(0.5, 160), 1.34e6, 77e6},
        // Without the classifier: Table 2's share of it
        Reference{"mobilenet_v1_embedding", {}, 4.24e6 * (1 - 0.2433), 569e6 * (1 - 0.0018)},
        Reference{"mobilenet_v2", {}, 3.47e6, 300e6},
        Reference{"mobilenet_v3_large", {}, 5.4e6, 219e6},
        Reference{"mobilenet_v3_small", {}, 2.5e6, 56e6},
        Reference{"inception_v1", {}, 6624904, 1.50e9},
        Reference{"inception_v4", {}, 42.68e6, 12.28e9},
        Reference{"resnet50_v1", {}, 25.56e6, 3.8e9}, Reference{"vgg16", {}, 138357544, 15.47e9},
        Reference{"squeezenet_1.0", {}, 1248424, 0.82e9},
        Reference{"ssd_mobilenet_v1", Width(0.75), 4108944, 728036496},
        Reference{"yolov5n", {}, 1867405, 2.25e9}, Reference{"yolov5s", {}, 7225885, 8.2e9},
        Reference{"yolov5m", {}, 21172173, 24.45e9}, Reference{"yolov8n", {}, 3151904, 4.35e9},
        Reference{"yolov8s", {}, 11156544, 14.3e9}, Reference{"yolov8m", {}, 25886080, 39.45e9}),
    [](const ::testing::TestParamInfo<Reference>& info) {
      std::string name = info.param.name + "_" + std::to_string(info.index);
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(ZooTest, SsdAtFullWidthMatchesTheMobileNetPaper) {
  ModelPtr model = BuildAndLoad("ssd_mobilenet_v1");
  ASSERT_TRUE(model);
  // Table 13 of the MobileNet paper: 6.8M parameters, 1.2B mult-adds (two significant digits).
  EXPECT_NEAR(model->parameter_count() / 6.8e6, 1.0, 0.02);
  EXPECT_GE(model->total_macs(), 1.15e9);
  EXPECT_LT(model->total_macs(), 1.25e9);
  EXPECT_EQ(model->op_histogram().at("TFLite_Detection_PostProcess"), 1);
  EXPECT_EQ(model->output_indices().size(), 4u);
}

// TF2's export lists TFLite_Detection_PostProcess's outputs as scores, boxes, count, classes;
// SSD v2 reads MobileNet v2's block 13 expansion (576 channels at stride 16) and its last layer.
TEST(ZooTest, SsdMobileNetV2ListsItsOutputsAsTf2Does) {
  ModelPtr model = BuildAndLoad("ssd_mobilenet_v2");
  ASSERT_TRUE(model);
  ASSERT_EQ(model->output_indices().size(), 4u);
  EXPECT_EQ(model->output(0).shape, (std::vector<int32_t>{1, 10}));
  EXPECT_EQ(model->output(1).shape, (std::vector<int32_t>{1, 10, 4}));
  EXPECT_EQ(model->output(2).shape, (std::vector<int32_t>{1}));
  EXPECT_EQ(model->output(3).shape, (std::vector<int32_t>{1, 10}));
  EXPECT_THAT(model->output(0).name, HasSubstr("scores"));
  EXPECT_THAT(model->output(3).name, HasSubstr("classes"));
  EXPECT_EQ(model->op_histogram().at("TFLite_Detection_PostProcess"), 1);
  // 19 x 19 x 3 anchors on the 576-channel map at 300, then 10 x 10, 5 x 5, 3 x 3, 2 x 2, 1 x 1
  // with 6 each: 1,917, as in every Coral SSD at 300.
  const TensorInfo* anchors = nullptr;
  for (const TensorInfo& tensor : model->tensors()) {
    if (tensor.name.find("anchors") != std::string::npos) anchors = &tensor;
  }
  ASSERT_NE(anchors, nullptr);
  EXPECT_EQ(anchors->shape, (std::vector<int32_t>{1917, 4}));
}

// The MobileDet paper's Table: 1.53B multiply-adds for MobileDet-EdgeTPU at 320 x 320. (Its
// 4.85M parameters are not what this structure holds, 4.13M; see docs/zoo.md.) SSDLite's head
// is depthwise-separable: two depthwise layers per feature map for the predictors, one per
// extra layer, on top of the backbone's eleven inverted bottlenecks.
TEST(ZooTest, SsdLiteMobileDetMatchesThePublishedMultiplyAdds) {
  ModelPtr model = BuildAndLoad("ssdlite_mobiledet");
  ASSERT_TRUE(model);
  EXPECT_NEAR(model->total_macs() / 1.53e9, 1.0, 0.01) << model->total_macs();
  EXPECT_EQ(model->input(0).shape, (std::vector<int32_t>{1, 320, 320, 3}));
  EXPECT_EQ(model->op_histogram().at("DEPTHWISE_CONV_2D"), 11 + 6 * 2 + 4);
  EXPECT_EQ(model->op_histogram().at("TFLite_Detection_PostProcess"), 1);
}

// EdgeTPU S, M and L, and Lite0 to Lite4: the published parameter counts (two significant
// digits) at their resolutions.
TEST(ZooTest, EfficientNetClassifiersMatchPublishedParameters) {
  struct Size {
    std::string name;
    double parameters;
    int resolution;
  };
  for (const Size& size :
       {Size{"efficientnet_edgetpu_s", 5.4e6, 224}, Size{"efficientnet_edgetpu_m", 6.9e6, 240},
        Size{"efficientnet_edgetpu_l", 10.6e6, 300}, Size{"efficientnet_lite0", 4.7e6, 224},
        Size{"efficientnet_lite1", 5.4e6, 240}, Size{"efficientnet_lite2", 6.1e6, 260},
        Size{"efficientnet_lite3", 8.2e6, 280}, Size{"efficientnet_lite4", 13.0e6, 300}}) {
    ModelPtr model = BuildAndLoad(size.name);
    ASSERT_TRUE(model) << size.name;
    EXPECT_NEAR(model->parameter_count() / size.parameters, 1.0, 0.02) << size.name;
    EXPECT_EQ(model->input(0).shape, (std::vector<int32_t>{1, size.resolution, size.resolution, 3}))
        << size.name;
  }
}

// Lite0 at 320: P3 to P7 of 40, 20, 10, 5 and 3 cells with 9 anchors each, 19,206 as in the
// exported models; class scores without a background column, and 25 detections. Depthwise
// layers: 16 in the backbone's blocks, 8 nodes in each of the 3 BiFPN cells, and on each of the
// 5 levels a class and a box net of 3 layers and a predictor.
TEST(ZooTest, EfficientDetLiteFusesFiveLevelsAndScoresWithoutBackground) {
  ModelPtr model = BuildAndLoad("efficientdet_lite0");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->input(0).shape, (std::vector<int32_t>{1, 320, 320, 3}));
  ASSERT_EQ(model->output_indices().size(), 4u);
  EXPECT_EQ(model->output(0).shape, (std::vector<int32_t>{1, 25, 4}));
  EXPECT_EQ(model->output(3).shape, (std::vector<int32_t>{1}));
  const int anchors = 19206;  // (40 x 40 + 20 x 20 + 10 x 10 + 5 x 5 + 3 x 3) x 9
  const std::vector<OperatorInfo>& ops = model->operators();
  ASSERT_EQ(ops.back().name, "TFLite_Detection_PostProcess");
  EXPECT_EQ(model->tensors()[ops.back().inputs[1]].shape, (std::vector<int32_t>{1, anchors, 90}));
  EXPECT_EQ(model->tensors()[ops.back().inputs[2]].shape, (std::vector<int32_t>{anchors, 4}));
  EXPECT_EQ(model->op_histogram().at("DEPTHWISE_CONV_2D"), 16 + 8 * 3 + 5 * 2 * 4);
  EXPECT_EQ(model->op_histogram().at("ADD"), 9 + (4 * 1 + 3 * 2 + 1) * 3)
      << "the backbone's residuals, and the sums of the BiFPN nodes of 2 and 3 inputs";
  EXPECT_EQ(model->op_histogram().at("MAX_POOL_2D"), 2 + 4 * 3);
  EXPECT_EQ(model->op_histogram().at("RESIZE_NEAREST_NEIGHBOR"), 4 * 3);
}

// The AutoML repository's parameter counts (two significant digits) hold the class and box
// nets once; the zoo writes them once per level, and the anchors: both are taken out before
// comparing.
TEST(ZooTest, EfficientDetLiteMatchesPublishedParameters) {
  struct Size {
    std::string name;
    double parameters;
    int filters, head_repeats;
  };
  for (const Size& size :
       {Size{"efficientdet_lite0", 3.2e6, 64, 3}, Size{"efficientdet_lite1", 4.2e6, 88, 3},
        Size{"efficientdet_lite2", 5.3e6, 112, 3}, Size{"efficientdet_lite3", 8.4e6, 160, 4},
        Size{"efficientdet_lite4", 15.1e6, 224, 4}}) {
    SCOPED_TRACE(size.name);
    ModelPtr model = BuildAndLoad(size.name);
    ASSERT_TRUE(model);
    auto separable = [](double in, double out) { return 9 * in + in + in * out + out; };
    const double f = size.filters;
    const double head =
        2 * size.head_repeats * separable(f, f) + separable(f, 9 * 90) + separable(f, 9 * 4);
    const std::vector<OperatorInfo>& ops = model->operators();
    const double anchor_values =
        static_cast<double>(model->tensors()[ops.back().inputs[2]].shape[0]) * 4;
    const double shared = static_cast<double>(model->parameter_count()) - 4 * head - anchor_values;
    EXPECT_NEAR(shared / size.parameters, 1.0, 0.02) << shared;
  }
}

ZooOptions Sized(int resolution, int classes) {
  ZooOptions o;
  o.resolution = resolution;
  o.classes = classes;
  return o;
}

// One output before non-maximum suppression, [1, 4 + classes, anchors], the anchors those of
// strides 8, 16 and 32; hard-swish and SiLU are written as the TFLite converter writes them.
TEST(ZooTest, YoloV8HasOneOutputOfEveryAnchorAndUnfusedActivations) {
  ModelPtr yolo = BuildAndLoad("yolov8n", Sized(320, 3));
  ASSERT_TRUE(yolo);
  ASSERT_EQ(yolo->output_indices().size(), 1u);
  EXPECT_EQ(yolo->output(0).shape, (std::vector<int32_t>{1, 7, 40 * 40 + 20 * 20 + 10 * 10}));
  EXPECT_EQ(yolo->op_histogram().at("RESIZE_NEAREST_NEIGHBOR"), 2);
  EXPECT_EQ(yolo->op_histogram().at("CONV_2D"), yolo->op_histogram().at("LOGISTIC") - 1 + 6)
      << "every convolution but the six output ones is followed by SiLU; the scores by LOGISTIC";
  ModelPtr mobilenet = BuildAndLoad("mobilenet_v3_small");
  ASSERT_TRUE(mobilenet);
  EXPECT_GT(mobilenet->op_histogram().at("HARD_SWISH"), 0);
  EXPECT_EQ(mobilenet->op_histogram().at("MEAN"), 10) << "nine squeeze-and-excite blocks, the head";
}

// Ultralytics' fused model summaries count the convolutions' weights and biases: the zoo's
// YOLOv5 holds exactly as many (the head's grid, anchors and shapes come on top), and one
// output of 3 anchors per cell at strides 8, 16 and 32: 25,200 rows of box, objectness and 80
// class scores at 640.
TEST(ZooTest, YoloV5ConvolutionsHoldUltralyticsParametersExactly) {
  for (auto [name, parameters] : {std::pair{"yolov5n", 1867405}, std::pair{"yolov5s", 7225885},
                                  std::pair{"yolov5m", 21172173}}) {
    SCOPED_TRACE(name);
    ModelPtr model = BuildAndLoad(name);
    ASSERT_TRUE(model);
    uint64_t convolution_parameters = 0;
    for (const OperatorInfo& op : model->operators()) {
      if (op.name != "CONV_2D") continue;
      for (int t : op.inputs) {
        if (t >= 0 && model->tensors()[t].is_constant) {
          convolution_parameters += model->tensors()[t].element_count;
        }
      }
    }
    EXPECT_EQ(convolution_parameters, static_cast<uint64_t>(parameters));
    ASSERT_EQ(model->output_indices().size(), 1u);
    EXPECT_EQ(model->output(0).shape,
              (std::vector<int32_t>{1, (80 * 80 + 40 * 40 + 20 * 20) * 3, 85}));
  }
}

// Lightning at 192 and Thunder at 256: raw pixels in (scale 1), heatmaps at stride 4, decoded in
// the graph into one [1, 1, 17, 3] float32 output with the operators of the real models' tails.
TEST(ZooTest, MoveNetDecodesItsHeatmapsInTheGraph) {
  for (auto [name, resolution] : {std::pair{"movenet_lightning", 192}, {"movenet_thunder", 256}}) {
    SCOPED_TRACE(name);
    ModelPtr model = BuildAndLoad(name);
    ASSERT_TRUE(model);
    EXPECT_EQ(model->input(0).shape, (std::vector<int32_t>{1, resolution, resolution, 3}));
    EXPECT_EQ(model->input(0).quantization.scales, std::vector<float>{1.0f});
    ASSERT_EQ(model->output_indices().size(), 1u);
    EXPECT_EQ(model->output(0).shape, (std::vector<int32_t>{1, 1, 17, 3}));
    EXPECT_EQ(model->output(0).type, DataType::kFloat32);
    for (const char* op : {"ARG_MAX", "FLOOR_DIV", "FLOOR_MOD", "GATHER_ND", "CAST", "PACK",
                           "UNPACK", "SQRT", "DIV", "DEQUANTIZE"}) {
      EXPECT_GT(model->op_histogram().count(op), 0u) << op;
    }
    const int grid = resolution / 4;
    bool heatmaps = false;
    for (const TensorInfo& t : model->tensors()) {
      heatmaps |= t.shape == std::vector<int32_t>{grid, grid, 17};
    }
    EXPECT_TRUE(heatmaps) << "no keypoint heatmaps at stride 4";
  }
}

// The tutorial's decoder: four transposed convolutions with ReLU, each joined to the encoder's
// skip of its size, and a fifth to class scores at the input's size.
TEST(ZooTest, UNetDecodesToClassScoresAtTheInputSize) {
  ModelPtr unet = BuildAndLoad("unet_mobilenet_v2", Sized(256, 5));
  ASSERT_TRUE(unet);
  EXPECT_EQ(unet->output(0).shape, (std::vector<int32_t>{1, 256, 256, 5}));
  EXPECT_EQ(unet->op_histogram().at("TRANSPOSE_CONV"), 5);
  EXPECT_EQ(unet->op_histogram().at("RELU"), 4);
  EXPECT_EQ(unet->op_histogram().at("CONCATENATION"), 4);
}

// Same architecture as a real model: identical parameter count, MACs and operator histogram.
void ExpectSameStructure(const std::string& real_file, const std::string& name,
                         ZooOptions options) {
  std::string path = testing::SharedModel(real_file);
  TPUFLEET_REQUIRE_FILE(path);
  Result<ModelPtr> real = Model::FromFile(path);
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  ModelPtr synthetic = BuildAndLoad(name, options);
  ASSERT_TRUE(synthetic);
  EXPECT_EQ(synthetic->parameter_count(), real.value()->parameter_count());
  EXPECT_EQ(synthetic->total_macs(), real.value()->total_macs());
  EXPECT_EQ(synthetic->op_histogram(), real.value()->op_histogram());
  EXPECT_EQ(synthetic->input(0).shape, real.value()->input(0).shape);
}

TEST(ZooTest, MobileNetV1QuarterMatchesTheRealModel) {
  ExpectSameStructure("mobilenet_v1_0.25_128_quant.tflite", "mobilenet_v1", Width(0.25, 128));
}

TEST(ZooTest, MobileNetV1HalfMatchesTheRealModel) {
  ExpectSameStructure("mobilenet_v1_0.5_160_quant.tflite", "mobilenet_v1", Width(0.5, 160));
}

TEST(ZooTest, MobileNetV2MatchesTheRealModel) {
  ExpectSameStructure("mobilenet_v2_1.0_224_quant.tflite", "mobilenet_v2", {});
}

TEST(ZooTest, SsdMobileNetMatchesTheRealModel) {
  ExpectSameStructure("ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite",
                      "ssd_mobilenet_v1", Width(0.75));
}

TEST(ZooTest, Int8VariantHasPerChannelWeights) {
  ZooOptions options;
  options.precision = Precision::kInt8;
  ModelPtr model = BuildAndLoad("mobilenet_v2", options);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->input(0).type, DataType::kInt8);
  const OperatorInfo& conv = model->operators()[0];
  const TensorInfo& filter = model->tensors()[conv.inputs[1]];
  EXPECT_EQ(filter.type, DataType::kInt8);
  EXPECT_TRUE(filter.quantization.per_channel());
  EXPECT_EQ(model->tensors()[conv.inputs[2]].quantization.scales.size(),
            filter.quantization.scales.size());
}

TEST(ZooTest, Float32VariantHasNoQuantization) {
  ZooOptions options;
  options.precision = Precision::kFloat32;
  ModelPtr model = BuildAndLoad("squeezenet_1.0", options);
  ASSERT_TRUE(model);
  for (const TensorInfo& t : model->tensors()) {
    if (t.type == DataType::kInt32) continue;  // reshape shapes
    EXPECT_EQ(t.type, DataType::kFloat32) << t.name;
    EXPECT_TRUE(t.quantization.empty()) << t.name;
  }
}

TEST(ZooTest, WeightsAreDeterministicPerSeed) {
  ZooOptions a, b;
  b.seed = 2;
  Result<std::vector<uint8_t>> first = BuildZooModel("mobilenet_v1", a);
  Result<std::vector<uint8_t>> again = BuildZooModel("mobilenet_v1", a);
  Result<std::vector<uint8_t>> other = BuildZooModel("mobilenet_v1", b);
  ASSERT_TRUE(first.ok() && again.ok() && other.ok());
  EXPECT_EQ(first.value(), again.value());
  EXPECT_NE(first.value(), other.value());
  EXPECT_EQ(first.value().size(), other.value().size());
}

TEST(ZooTest, EveryArchitectureBuildsAtItsDefaults) {
  for (const ZooArchitecture& a : Architectures()) {
    if (a.name == "vgg16" || a.name == "inception_v4" || a.name == "yolov8m" ||
        a.name == "yolov5m") {
      continue;  // large
    }
    SCOPED_TRACE(a.name);
    ModelPtr model = BuildAndLoad(a.name);
    ASSERT_TRUE(model);
    EXPECT_EQ(model->input(0).shape[1], a.default_resolution);
    EXPECT_GT(model->total_macs(), 0u);
  }
}

TEST(ZooTest, UnknownNameListsTheChoices) {
  Result<std::vector<uint8_t>> bytes = BuildZooModel("mobilenet_v3", {});
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bytes.status().message(), HasSubstr("unknown zoo model 'mobilenet_v3'"));
  EXPECT_THAT(bytes.status().message(),
              HasSubstr("mobilenet_v1, mobilenet_v1_embedding, mobilenet_v2"));
}

TEST(ZooTest, BadOptionsAreExplained) {
  ZooOptions small;
  small.resolution = 16;
  EXPECT_THAT(BuildZooModel("inception_v4", small).status().message(), HasSubstr("use 75 to 1024"));
  ZooOptions ten;
  ten.classes = 10;
  EXPECT_THAT(BuildZooModel("mobilenet_v1_embedding", ten).status().message(),
              HasSubstr("has no classes; leave --classes unset"));
  ZooOptions odd;
  odd.resolution = 300;
  EXPECT_THAT(BuildZooModel("yolov8n", odd).status().message(),
              HasSubstr("resolution 300 is not a multiple of 32; use 288 or 320"));
  ZooOptions width;
  width.width = 0.5;
  EXPECT_THAT(BuildZooModel("vgg16", width).status().message(), HasSubstr("no width multiplier"));
  ZooOptions zero;
  zero.width = -1;
  EXPECT_THAT(BuildZooModel("mobilenet_v2", zero).status().message(),
              HasSubstr("use a value in (0, 4]"));
  ZooOptions classes;
  classes.classes = -3;
  EXPECT_THAT(BuildZooModel("mobilenet_v2", classes).status().message(),
              HasSubstr("use 1 to 100000"));
}

}  // namespace
}  // namespace tpufleet::zoo
