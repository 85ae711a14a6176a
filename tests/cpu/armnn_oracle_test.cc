// The real CPU models' outputs beside ArmNN's (CpuRef backend, an independent implementation)
// on the same input. The two round intermediate requantizations differently, so logits may
// differ by a step; softmax turns one logit step (scale about 0.1) into a change of about 10% of
// a probability, i.e. several output steps of 1/256 for the top classes. Measured: up to 7 steps
// (0.027). Tolerance: 8 steps, and the same top class. Detections: same class, score within 4
// steps (measured 3), box corners within 0.02. ArmNN 20.08 cannot load person_detect_int8.
#include <gtest/gtest.h>

#include <cstring>

#include "common/image.h"
#include "cpu/interpreter.h"
#include "oracle/armnn_reference.h"
#include "support/shared_files.h"

namespace tpufleet::cpu {
namespace {

using testing::SharedDir;
using testing::SharedModel;

struct OracleRun {
  std::unique_ptr<Interpreter> ours;
  std::vector<std::vector<uint8_t>> theirs;
};

OracleRun RunBoth(const std::string& model_file, const std::string& image_file) {
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
  Result<std::vector<std::vector<uint8_t>>> theirs = testing::RunWithArmNN(path, {bytes});
  EXPECT_TRUE(theirs.ok()) << theirs.status().ToString();
  if (theirs.ok()) run.theirs = std::move(theirs).value();
  return run;
}

int Raw(const Tensor& t, const uint8_t* bytes, size_t i) {
  return t.type == DataType::kInt8 ? static_cast<int8_t>(bytes[i]) : bytes[i];
}

struct ClassifierCase {
  std::string model, image;
  int max_step_difference;
};

class ArmNNClassifierTest : public ::testing::TestWithParam<ClassifierCase> {};

TEST_P(ArmNNClassifierTest, OutputsWithinToleranceAndSameTopClass) {
  const ClassifierCase& c = GetParam();
  TPUFLEET_REQUIRE_FILE(SharedModel(c.model));
  OracleRun run = RunBoth(c.model, c.image);
  ASSERT_TRUE(run.ours);
  ASSERT_EQ(run.theirs.size(), 1u);
  const Tensor& out = run.ours->output(0);
  ASSERT_EQ(run.theirs[0].size(), out.byte_size());
  int worst = 0;
  size_t our_top = 0, their_top = 0;
  for (size_t i = 0; i < out.element_count(); ++i) {
    worst = std::max(worst, std::abs(Raw(out, out.data, i) - Raw(out, run.theirs[0].data(), i)));
    if (Raw(out, out.data, i) > Raw(out, out.data, our_top)) our_top = i;
    if (Raw(out, run.theirs[0].data(), i) > Raw(out, run.theirs[0].data(), their_top))
      their_top = i;
  }
  EXPECT_LE(worst, c.max_step_difference) << c.model;
  EXPECT_EQ(our_top, their_top) << c.model;
  RecordProperty("max_step_difference", worst);
}

void PrintTo(const ClassifierCase& c, std::ostream* out) { *out << c.model; }

INSTANTIATE_TEST_SUITE_P(
    SharedModels, ArmNNClassifierTest,
    ::testing::Values(ClassifierCase{"mobilenet_v1_0.25_128_quant.tflite", "cat.bmp", 8},
                      ClassifierCase{"mobilenet_v1_0.5_160_quant.tflite", "grace_hopper.bmp", 8},
                      ClassifierCase{"mobilenet_v2_1.0_224_quant.tflite", "cat.bmp", 8},
                      ClassifierCase{"mobilenet_v2_1.0_224_inat_bird_quant.tflite", "bird.bmp", 8},
                      ClassifierCase{"tf2_mobilenet_v2_1.0_224_ptq.tflite", "cat.bmp", 8}),
    [](const ::testing::TestParamInfo<ClassifierCase>& info) {
      return "case" + std::to_string(info.index);
    });

TEST(ArmNNDetectorTest, SsdDetectionsAgree) {
  std::string model = "ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite";
  TPUFLEET_REQUIRE_FILE(SharedModel(model));
  OracleRun run = RunBoth(model, "cat.bmp");
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
  const float* classes = run.ours->output(1).as<float>();
  const float* scores = run.ours->output(2).as<float>();
  // The strongest detection: same class, score within four output steps, box within 0.02.
  EXPECT_EQ(classes[0], their_classes[0]);
  EXPECT_NEAR(scores[0], their_scores[0], 4.0f / 256);
  for (int k = 0; k < 4; ++k)
    EXPECT_NEAR(boxes[k], their_boxes[k], 0.02f) << "box coordinate " << k;
}

}  // namespace
}  // namespace tpufleet::cpu
