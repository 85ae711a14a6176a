// The real CPU models' outputs beside two independent implementations on the same input:
// TensorFlow Lite 2.9's built-in kernels and ArmNN 20.08 (CpuRef backend).
//
// Tolerance: implementations round intermediate requantizations differently, so logits may
// differ by a step; softmax turns one logit step (scale about 0.1) into a change of about 10% of
// a probability, i.e. several output steps of 1/256 for the top classes. Measured against ArmNN:
// up to 7 steps, same top class everywhere. TensorFlow Lite 2.9's built-in uint8 kernels differ
// more, from ArmNN as much as from tpufleet: up to 20 steps (mobilenet_v2 iNat on bird.bmp), and
// on a close race (mobilenet_v1 0.5 on grace_hopper.bmp: classes 668, 458 and 401 within 0.04 of
// each other for tpufleet and ArmNN) it ranks another class first.
// Classifiers: ArmNN within 8 steps and the same top class; TFLite within 24 steps and tpufleet's
// top class among TFLite's top three. SSD: same top class, score within 4 steps, box corners
// within 0.02. Neither oracle loads person_detect_int8 (TFLite 2.9 cannot create an interpreter
// for it, ArmNN 20.08 cannot parse it); the kernel tests cover its operators.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "common/image.h"
#include "cpu/interpreter.h"
#include "oracle/armnn_reference.h"
#include "oracle/tflite_reference.h"
#include "support/shared_files.h"

namespace tpufleet::cpu {
namespace {

using tpufleet::testing::SharedDir;
using tpufleet::testing::SharedModel;

enum class Oracle { kTfLite, kArmNN };

Result<std::vector<std::vector<uint8_t>>> RunOracle(Oracle oracle, const std::string& path,
                                                    const std::vector<uint8_t>& input) {
  if (oracle == Oracle::kArmNN) return tpufleet::testing::RunWithArmNN(path, {input});
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<tpufleet::testing::TfLiteReference> tflite,
                            tpufleet::testing::TfLiteReference::Create(path));
  TPUFLEET_RETURN_IF_ERROR(tflite->SetInput(0, input));
  TPUFLEET_RETURN_IF_ERROR(tflite->Invoke());
  std::vector<std::vector<uint8_t>> outputs;
  for (size_t i = 0; i < tflite->output_count(); ++i) outputs.push_back(tflite->Output(i));
  return outputs;
}

struct OracleRun {
  std::unique_ptr<Interpreter> ours;
  std::vector<std::vector<uint8_t>> theirs;
};

OracleRun RunBoth(Oracle oracle, const std::string& model_file, const std::string& image_file) {
  OracleRun run;
  std::string path = SharedModel(model_file);
  Result<std::unique_ptr<Interpreter>> created = Interpreter::Create(Model::FromFile(path).value());
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  if (!created.ok()) return run;
  run.ours = std::move(created).value();
  Tensor& input = run.ours->input(0);
  Image image = ResizeBilinear(
      LoadImage((SharedDir() / "images" / image_file).string(), input.dim(3)).value(), input.dim(2),
      input.dim(1));
  std::vector<uint8_t> bytes(image.pixels);
  if (input.type == DataType::kInt8) {
    for (uint8_t& b : bytes) b ^= 0x80;
  }
  std::memcpy(input.data, bytes.data(), bytes.size());
  EXPECT_TRUE(run.ours->Invoke().ok());
  Result<std::vector<std::vector<uint8_t>>> theirs = RunOracle(oracle, path, bytes);
  EXPECT_TRUE(theirs.ok()) << theirs.status().ToString();
  if (theirs.ok()) run.theirs = std::move(theirs).value();
  return run;
}

int Raw(const Tensor& t, const uint8_t* bytes, size_t i) {
  return t.type == DataType::kInt8 ? static_cast<int8_t>(bytes[i]) : bytes[i];
}

struct OracleCase {
  Oracle oracle;
  std::string model, image;
};

void PrintTo(const OracleCase& c, std::ostream* out) {
  *out << (c.oracle == Oracle::kArmNN ? "ArmNN " : "TFLite ") << c.model;
}

class ClassifierOracleTest : public ::testing::TestWithParam<OracleCase> {};

TEST_P(ClassifierOracleTest, OutputsWithinToleranceAndSameTopClasses) {
  const OracleCase& c = GetParam();
  TPUFLEET_REQUIRE_FILE(SharedModel(c.model));
  OracleRun run = RunBoth(c.oracle, c.model, c.image);
  ASSERT_TRUE(run.ours);
  ASSERT_EQ(run.theirs.size(), 1u);
  const Tensor& out = run.ours->output(0);
  ASSERT_EQ(run.theirs[0].size(), out.byte_size());
  int worst = 0;
  size_t our_top = 0;
  std::vector<size_t> their_order(out.element_count());
  for (size_t i = 0; i < out.element_count(); ++i) {
    worst = std::max(worst, std::abs(Raw(out, out.data, i) - Raw(out, run.theirs[0].data(), i)));
    if (Raw(out, out.data, i) > Raw(out, out.data, our_top)) our_top = i;
    their_order[i] = i;
  }
  std::stable_sort(their_order.begin(), their_order.end(), [&](size_t a, size_t b) {
    return Raw(out, run.theirs[0].data(), a) > Raw(out, run.theirs[0].data(), b);
  });
  size_t rank = std::find(their_order.begin(), their_order.end(), our_top) - their_order.begin();
  RecordProperty("max_step_difference", worst);
  if (c.oracle == Oracle::kArmNN) {
    EXPECT_LE(worst, 8);
    EXPECT_EQ(rank, 0u) << "tpufleet's top class " << our_top << " vs ArmNN's " << their_order[0];
  } else {
    EXPECT_LE(worst, 24);
    EXPECT_LT(rank, 3u) << "tpufleet's top class " << our_top << " is TFLite's number " << rank + 1;
  }
}

std::vector<OracleCase> ClassifierCases() {
  std::vector<OracleCase> cases;
  for (Oracle oracle : {Oracle::kTfLite, Oracle::kArmNN}) {
    cases.push_back({oracle, "mobilenet_v1_0.25_128_quant.tflite", "cat.bmp"});
    cases.push_back({oracle, "mobilenet_v1_0.5_160_quant.tflite", "grace_hopper.bmp"});
    cases.push_back({oracle, "mobilenet_v2_1.0_224_quant.tflite", "cat.bmp"});
    cases.push_back({oracle, "mobilenet_v2_1.0_224_inat_bird_quant.tflite", "bird.bmp"});
    cases.push_back({oracle, "tf2_mobilenet_v2_1.0_224_ptq.tflite", "cat.bmp"});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(SharedModels, ClassifierOracleTest, ::testing::ValuesIn(ClassifierCases()),
                         [](const ::testing::TestParamInfo<OracleCase>& info) {
                           return std::string(info.param.oracle == Oracle::kArmNN ? "ArmNN"
                                                                                  : "TFLite") +
                                  std::to_string(info.index);
                         });

class DetectorOracleTest : public ::testing::TestWithParam<Oracle> {};

TEST_P(DetectorOracleTest, SsdTopDetectionAgrees) {
  std::string model = "ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite";
  TPUFLEET_REQUIRE_FILE(SharedModel(model));
  OracleRun run = RunBoth(GetParam(), model, "cat.bmp");
  ASSERT_TRUE(run.ours);
  ASSERT_EQ(run.theirs.size(), 4u);
  auto floats = [](const std::vector<uint8_t>& bytes) {
    std::vector<float> v(bytes.size() / 4);
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
  };
  std::vector<float> their_boxes = floats(run.theirs[0]), their_classes = floats(run.theirs[1]);
  std::vector<float> their_scores = floats(run.theirs[2]);
  const float* boxes = run.ours->output(0).as<float>();
  EXPECT_EQ(run.ours->output(1).as<float>()[0], their_classes[0]);
  EXPECT_NEAR(run.ours->output(2).as<float>()[0], their_scores[0], 4.0f / 256);
  for (int k = 0; k < 4; ++k)
    EXPECT_NEAR(boxes[k], their_boxes[k], 0.02f) << "box coordinate " << k;
}

INSTANTIATE_TEST_SUITE_P(SharedModels, DetectorOracleTest,
                         ::testing::Values(Oracle::kTfLite, Oracle::kArmNN), [](const auto& info) {
                           return info.param == Oracle::kArmNN ? "ArmNN" : "TFLite";
                         });

// The Keras LSTM (full-integer UNIDIRECTIONAL_SEQUENCE_LSTM): byte-identical to TensorFlow Lite
// 2.9 over many invocations, whose states carry over from one to the next in both, on random
// inputs and on constant ones.
TEST(LstmOracleTest, KerasLstmIsByteIdenticalOverInvocations) {
  std::string path = SharedModel("keras_lstm_mnist_ptq.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  Result<std::unique_ptr<Interpreter>> ours = Interpreter::Create(Model::FromFile(path).value());
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  Result<std::unique_ptr<tpufleet::testing::TfLiteReference>> theirs =
      tpufleet::testing::TfLiteReference::Create(path);
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  Tensor& input = (*ours)->input(0);
  uint32_t seed = 12345;
  for (int invocation = 0; invocation < 60; ++invocation) {
    std::vector<uint8_t> pixels(input.byte_size());
    for (uint8_t& p : pixels) {
      seed = seed * 1664525u + 1013904223u;
      p = invocation % 4 == 0 ? static_cast<uint8_t>(invocation * 37)
                              : static_cast<uint8_t>(seed >> 24);
    }
    std::memcpy(input.data, pixels.data(), pixels.size());
    ASSERT_TRUE((*ours)->Invoke().ok());
    ASSERT_TRUE((*theirs)->SetInput(0, pixels).ok());
    ASSERT_TRUE((*theirs)->Invoke().ok());
    const Tensor& output = (*ours)->output(0);
    std::vector<uint8_t> mine(output.data, output.data + output.byte_size());
    ASSERT_EQ(mine, (*theirs)->Output(0)) << "invocation " << invocation;
  }
}

}  // namespace
}  // namespace tpufleet::cpu
