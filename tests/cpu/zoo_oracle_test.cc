// The zoo's families whose operators no real model in the shared folder has (an embedding
// extractor's L2_NORMALIZATION, MobileNet v3's hard-swish and squeeze-and-excite, U-Net's
// transposed convolutions, YOLOv8's SiLU, C2f splits, SPPF, upsampling and in-graph box decoding,
// YOLOv5's C3 blocks and anchor decoding, MoveNet's float decoding (arg max, gathers, casts),
// MobileDet's fused and Tucker convolutions, SSDLite's depthwise-separable head, EfficientDet's
// BiFPN with its pooling and resizing to odd sizes) run on the CPU backend as TensorFlow Lite 2.9
// runs them: the same pseudo-random image into both, every output within a few quantization steps.
//
// Tolerance: the implementations round requantizations differently now and then (YOLOv8n's first
// convolution: 20 of 65,536 outputs differ, by one step), the differences accumulate with depth
// (its class logits: a third of a step on average), and an 8-bit operator amplifies them where its
// output's steps are finer than its input's: a logistic from [-8, 8] into steps of 1/256 turns one
// input step into four, and the box decoding adds [-r, 1] and [0, 1 + r] into [0, 2] (r = 15 x 32 /
// resolution), turning one into three. Measured, largest and mean difference in steps: the
// MobileNet v1 embedding 1 and 0.02; MobileNet v3 Small 0 and 0, Large 2 and 0.04; YOLOv8n 14 and
// 1.24 (int8 at 128), 12 and 1.18 (uint8 at 96); YOLOv5n 4 and 0.18 (int8 at 128); SSD MobileNet
// v1's box encodings and scores 12 and 1.44 (int8 at 128); EfficientNet-Lite0 6 and 0.05 (uint8 at
// 96). Deep chains of random weights amplify more: each expansion's steps are finer than the
// projection before it, so one step becomes several (the synthetic U-Net's quantized outputs differ
// by 2 steps on average, SSD MobileNet v2's and SSDLite MobileDet's scores by 15 and 28,
// EfficientDet-Lite0's by 47, growing a step or two per block from its first expansion on, and
// MoveNet's heads by 6 to 14). So those are compared in float32 (and a YOLOv8n too), where only the
// order of sums differs: within 5e-5 of the output's largest magnitude, 2.9e-4 for
// EfficientDet-Lite0's scores after three BiFPN cells. Each case states its bounds.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <span>

#include "cpu/interpreter.h"
#include "model/zoo/zoo.h"
#include "oracle/tflite_reference.h"
#include "tpufleet/model_editor.h"

namespace tpufleet::cpu {
namespace {

struct ZooCase {
  std::string name;
  zoo::Precision precision;
  int resolution;
  // The largest difference accepted in any output value, and on average: in quantization
  // steps, or for float32 in units of the output's largest magnitude.
  double max_difference;
  double max_mean;
};

void PrintTo(const ZooCase& c, std::ostream* out) { *out << c.name << "@" << c.resolution; }

class ZooOracleTest : public ::testing::TestWithParam<ZooCase> {};

// A model cut before its post-processing, whose inputs are compared instead: before the
// DEQUANTIZE ops of a quantized model's float tail (an int8 SSD's inputs to
// TFLite_Detection_PostProcess), or before the TFLite_Detection_PostProcess of a uint8 SSD. The
// synthetic weights saturate the scores (many are exactly 0 or 1), so which of equal scores the
// suppression keeps is arbitrary; likewise an arg max over quantized heatmaps moves where the two
// implementations differ by a step. The detection operator itself is compared with TensorFlow
// Lite's on the real SSD (oracle_test.cc), and float models, MoveNet's decoding included, are
// compared whole. Other models are returned as they are.
Result<ModelPtr> BeforePostProcess(const ModelPtr& model) {
  const std::vector<OperatorInfo>& ops = model->operators();
  size_t keep = ops.size();
  std::vector<int> outputs;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].name != "DEQUANTIZE") continue;
    keep = i;  // the ops before the last DEQUANTIZE; the others' inputs stay computed
    outputs.push_back(ops[i].inputs[0]);
  }
  if (outputs.empty()) {
    if (ops.empty() || ops.back().name != "TFLite_Detection_PostProcess") return model;
    keep = ops.size() - 1;
    outputs = {ops.back().inputs[0], ops.back().inputs[1]};
  }
  ModelEditor editor(*model);
  TPUFLEET_RETURN_IF_ERROR(editor.KeepOperators(static_cast<int>(keep)));
  TPUFLEET_RETURN_IF_ERROR(editor.SetOutputs(outputs));
  return editor.Finish(model->name() + " before its post-processing");
}

TEST_P(ZooOracleTest, OutputsWithinStepsOfTfLite) {
  const ZooCase& c = GetParam();
  zoo::ZooOptions options;
  options.precision = c.precision;
  options.resolution = c.resolution;
  Result<std::vector<uint8_t>> bytes = zoo::BuildZooModel(c.name, options);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();

  Result<ModelPtr> model = Model::FromBuffer(bytes.value(), c.name);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Result<ModelPtr> compared = BeforePostProcess(model.value());
  ASSERT_TRUE(compared.ok()) << compared.status().ToString();
  Result<std::unique_ptr<Interpreter>> ours = Interpreter::Create(compared.value());
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  std::span<const uint8_t> compared_bytes = compared.value()->bytes();
  Result<std::unique_ptr<tpufleet::testing::TfLiteReference>> theirs =
      tpufleet::testing::TfLiteReference::FromBuffer(
          std::vector<uint8_t>(compared_bytes.begin(), compared_bytes.end()));
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();

  Tensor& input = ours.value()->input(0);
  std::vector<uint8_t> image(input.byte_size());
  uint32_t state = 12345;
  auto next = [&] { return (state = state * 1664525u + 1013904223u) >> 8; };  // 24 bits
  if (input.type == DataType::kFloat32) {
    for (size_t e = 0; e < input.element_count(); ++e) {
      float value = static_cast<float>(next()) / (1 << 23) - 1.0f;  // in [-1, 1)
      std::memcpy(image.data() + e * sizeof(float), &value, sizeof(float));
    }
  } else {
    for (uint8_t& b : image) b = static_cast<uint8_t>(next() >> 16);
  }
  std::memcpy(input.data, image.data(), image.size());
  ASSERT_TRUE(ours.value()->Invoke().ok());
  ASSERT_TRUE(theirs.value()->SetInput(0, image).ok());
  ASSERT_TRUE(theirs.value()->Invoke().ok());

  ASSERT_EQ(ours.value()->output_count(), theirs.value()->output_count());
  for (size_t i = 0; i < ours.value()->output_count(); ++i) {
    const Tensor& out = ours.value()->output(i);
    std::vector<uint8_t> reference = theirs.value()->Output(i);
    ASSERT_EQ(out.byte_size(), reference.size());
    auto value = [&](const uint8_t* bytes, size_t e) -> double {
      switch (out.type) {
        case DataType::kFloat32: {
          float f;
          std::memcpy(&f, bytes + e * sizeof(float), sizeof(float));
          return f;
        }
        case DataType::kInt8: return static_cast<int8_t>(bytes[e]);
        default: return bytes[e];
      }
    };
    double unit = 1, largest = 0, total = 0;
    size_t differing = 0;
    if (out.type == DataType::kFloat32) {
      unit = 0;
      for (size_t e = 0; e < out.element_count(); ++e) {
        unit = std::max(unit, std::abs(value(reference.data(), e)));
      }
      ASSERT_GT(unit, 0) << "the reference output is all zeros";
    }
    for (size_t e = 0; e < out.element_count(); ++e) {
      double d = std::abs(value(out.data, e) - value(reference.data(), e)) / unit;
      largest = std::max(largest, d);
      differing += d != 0;
      total += d;
    }
    const double mean = total / static_cast<double>(out.element_count());
    std::cout << c.name << " output " << i << ": " << differing << " of " << out.element_count()
              << " values differ, by at most " << largest << ", " << mean << " on average\n";
    EXPECT_LE(largest, c.max_difference) << c.name << " output " << i;
    EXPECT_LE(mean, c.max_mean) << c.name << " output " << i;
  }
}

// TensorFlow Lite 2.9's TFLite_Detection_PostProcess decodes uint8 and float32 inputs only, so
// an int8 detector from the zoo dequantizes them first, as the converter writes it: TFLite runs
// the whole model, and both find detections (how many of the equal scores survive may differ).
// EfficientDet-Lite's scores have no background column.
TEST(ZooOracleWholeDetectorTest, Int8DetectorsRunInTfLiteWithTheirPostProcessing) {
  for (const char* name : {"ssd_mobilenet_v1", "efficientdet_lite0"}) {
    SCOPED_TRACE(name);
    zoo::ZooOptions options;
    options.precision = zoo::Precision::kInt8;
    options.resolution = 160;
    Result<std::vector<uint8_t>> bytes = zoo::BuildZooModel(name, options);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    ModelPtr model = Model::FromBuffer(bytes.value(), name).value();
    EXPECT_EQ(model->op_histogram().at("DEQUANTIZE"), 2);
    std::unique_ptr<Interpreter> ours = Interpreter::Create(model).value();
    std::unique_ptr<tpufleet::testing::TfLiteReference> theirs =
        tpufleet::testing::TfLiteReference::FromBuffer(bytes.value()).value();
    std::vector<uint8_t> image(ours->input(0).byte_size(), 77);
    std::memcpy(ours->input(0).data, image.data(), image.size());
    ASSERT_TRUE(ours->Invoke().ok());
    ASSERT_TRUE(theirs->SetInput(0, image).ok());
    ASSERT_TRUE(theirs->Invoke().ok());
    float our_count, their_count;
    std::memcpy(&our_count, ours->output(3).data, sizeof(float));
    std::memcpy(&their_count, theirs->Output(3).data(), sizeof(float));
    EXPECT_GT(our_count, 0);
    EXPECT_GT(their_count, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Families, ZooOracleTest,
    ::testing::Values(ZooCase{"mobilenet_v1_embedding", zoo::Precision::kUInt8, 128, 3, 0.2},
                      ZooCase{"unet_mobilenet_v2", zoo::Precision::kFloat32, 64, 1e-4, 1e-5},
                      ZooCase{"yolov8n", zoo::Precision::kFloat32, 96, 1e-4, 1e-5},
                      ZooCase{"mobilenet_v3_small", zoo::Precision::kUInt8, 96, 3, 0.2},
                      ZooCase{"mobilenet_v3_large", zoo::Precision::kInt8, 96, 3, 0.2},
                      ZooCase{"yolov8n", zoo::Precision::kInt8, 128, 16, 1.6},
                      ZooCase{"yolov8n", zoo::Precision::kUInt8, 96, 16, 1.6},
                      ZooCase{"yolov5n", zoo::Precision::kInt8, 128, 16, 1.6},
                      ZooCase{"yolov5n", zoo::Precision::kFloat32, 96, 1e-4, 1e-5},
                      ZooCase{"movenet_lightning", zoo::Precision::kFloat32, 128, 1e-4, 1e-5},
                      ZooCase{"movenet_thunder", zoo::Precision::kFloat32, 128, 1e-4, 1e-5},
                      ZooCase{"ssd_mobilenet_v2", zoo::Precision::kFloat32, 128, 1e-4, 1e-5},
                      ZooCase{"ssdlite_mobiledet", zoo::Precision::kFloat32, 128, 1e-4, 1e-5},
                      ZooCase{"efficientdet_lite0", zoo::Precision::kFloat32, 160, 5e-4, 2e-5},
                      ZooCase{"efficientnet_lite0", zoo::Precision::kUInt8, 96, 8, 0.2},
                      ZooCase{"ssd_mobilenet_v1", zoo::Precision::kInt8, 128, 16, 1.6}),
    [](const ::testing::TestParamInfo<ZooCase>& info) {
      const zoo::Precision p = info.param.precision;
      std::string name = info.param.name + "_" + std::to_string(info.param.resolution) +
                         (p == zoo::Precision::kInt8    ? "_int8"
                          : p == zoo::Precision::kUInt8 ? "_uint8"
                                                        : "_float32");
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

}  // namespace
}  // namespace tpufleet::cpu
