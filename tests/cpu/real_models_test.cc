// The CPU backend on the real models: the classes listed in shared/models/README.md, and clear
// refusals for what it cannot run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "common/image.h"
#include "cpu/interpreter.h"
#include "model/split.h"
#include "support/fixtures.h"
#include "support/shared_files.h"

namespace tpufleet::cpu {
namespace {

using ::testing::HasSubstr;
using tpufleet::testing::SharedDir;
using tpufleet::testing::SharedModel;

std::unique_ptr<Interpreter> Make(const std::string& path, int threads = 1) {
  Result<ModelPtr> model = Model::FromFile(path);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return nullptr;
  Result<std::unique_ptr<Interpreter>> interpreter = Interpreter::Create(model.value(), {threads});
  EXPECT_TRUE(interpreter.ok()) << interpreter.status().ToString();
  return interpreter.ok() ? std::move(interpreter).value() : nullptr;
}

// Decodes, resizes (bilinear) and writes an image into the interpreter's first input.
void FeedImage(Interpreter& interpreter, const std::string& image_path) {
  Tensor& input = interpreter.input(0);
  Result<Image> image = LoadImage(image_path, input.dim(3));
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  Image resized = ResizeBilinear(image.value(), input.dim(2), input.dim(1));
  ASSERT_EQ(resized.pixels.size(), input.byte_size());
  for (size_t i = 0; i < resized.pixels.size(); ++i) {
    input.data[i] = input.type == DataType::kInt8 ? resized.pixels[i] ^ 0x80 : resized.pixels[i];
  }
}

// The class with the highest score and its dequantized score.
std::pair<int, float> Top1(const Tensor& scores) {
  int best = 0;
  auto value = [&](size_t i) {
    int32_t q =
        scores.type == DataType::kInt8 ? static_cast<int8_t>(scores.data[i]) : scores.data[i];
    return scores.scale() * static_cast<float>(q - scores.zero_point());
  };
  for (size_t i = 1; i < scores.element_count(); ++i) {
    if (value(i) > value(best)) best = static_cast<int>(i);
  }
  return {best, value(best)};
}

struct Classification {
  std::string model, image;
  int expected_class;
};

class ClassifierTest : public ::testing::TestWithParam<Classification> {};

TEST_P(ClassifierTest, TopClassMatchesTheReference) {
  const Classification& c = GetParam();
  std::string model = SharedModel(c.model);
  TPUFLEET_REQUIRE_FILE(model);
  for (int threads : {1, 2}) {
    std::unique_ptr<Interpreter> interpreter = Make(model, threads);
    ASSERT_TRUE(interpreter);
    FeedImage(*interpreter, (SharedDir() / "images" / c.image).string());
    ASSERT_TRUE(interpreter->Invoke().ok());
    auto [top, score] = Top1(interpreter->output(0));
    EXPECT_EQ(top, c.expected_class) << c.model << " with " << threads << " threads";
    EXPECT_GT(score, 0.3f);
    // A second invocation on the same input gives the same answer (inputs survive an Invoke).
    std::vector<uint8_t> first(interpreter->output(0).data,
                               interpreter->output(0).data + interpreter->output(0).byte_size());
    ASSERT_TRUE(interpreter->Invoke().ok());
    EXPECT_EQ(std::memcmp(first.data(), interpreter->output(0).data, first.size()), 0);
  }
}

void PrintTo(const Classification& c, std::ostream* out) { *out << c.model; }

INSTANTIATE_TEST_SUITE_P(
    SharedModels, ClassifierTest,
    ::testing::Values(Classification{"mobilenet_v2_1.0_224_quant.tflite", "cat.bmp", 286},
                      Classification{"tf2_mobilenet_v2_1.0_224_ptq.tflite", "cat.bmp", 286},
                      Classification{"mobilenet_v2_1.0_224_inat_bird_quant.tflite", "bird.bmp",
                                     659}),
    [](const ::testing::TestParamInfo<Classification>& info) {
      return "case" + std::to_string(info.index);
    });

TEST(SsdTest, FindsTheCat) {
  std::string model = SharedModel("ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite");
  TPUFLEET_REQUIRE_FILE(model);
  std::unique_ptr<Interpreter> interpreter = Make(model);
  ASSERT_TRUE(interpreter);
  FeedImage(*interpreter, (SharedDir() / "images" / "cat.bmp").string());
  ASSERT_TRUE(interpreter->Invoke().ok());
  const float* classes = interpreter->output(1).as<float>();
  const float* scores = interpreter->output(2).as<float>();
  const float* boxes = interpreter->output(0).as<float>();
  EXPECT_EQ(interpreter->output(3).as<float>()[0], 10.0f);
  EXPECT_EQ(classes[0], 16.0f);  // "cat" in coco_labels.txt (0-based line)
  EXPECT_NEAR(scores[0], 0.74f, 0.03f);
  for (int i = 1; i < 10; ++i) EXPECT_LE(scores[i], scores[i - 1]);
  // The box is normalised (ymin, xmin, ymax, xmax) and holds most of the image.
  EXPECT_LT(boxes[0], boxes[2]);
  EXPECT_LT(boxes[1], boxes[3]);
  EXPECT_GT((boxes[2] - boxes[0]) * (boxes[3] - boxes[1]), 0.3f);
}

TEST(RefusalTest, UnsupportedOperatorIsNamedWithItsIndex) {
  Result<std::unique_ptr<Interpreter>> interpreter =
      Interpreter::Create(Model::FromFile(tpufleet::testing::UnsupportedOperatorModel()).value());
  ASSERT_FALSE(interpreter.ok());
  EXPECT_EQ(interpreter.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(interpreter.status().message(),
              HasSubstr("operator #0 (SIN) is not supported by the CPU backend"));
  EXPECT_THAT(interpreter.status().message(), HasSubstr("CONV_2D"));
}

TEST(RefusalTest, CompiledModelPointsToTheSimulatorAndItsTwin) {
  std::string path = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  Result<std::unique_ptr<Interpreter>> interpreter =
      Interpreter::Create(Model::FromFile(path).value());
  ASSERT_FALSE(interpreter.ok());
  EXPECT_EQ(interpreter.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(interpreter.status().message(),
              HasSubstr("needs an Edge TPU (usb:N, pci:N) or a simulated one (sim:N)"));
  EXPECT_THAT(interpreter.status().message(),
              HasSubstr("mobilenet_v2_1.0_224_quant.tflite (it exists)"));
}

TEST(InterpreterTest, ArenaIsSmallerThanTheSumOfActivations) {
  std::string path = SharedModel("mobilenet_v2_1.0_224_quant.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  ModelPtr model = Model::FromFile(path).value();
  uint64_t activations = 0;
  for (const TensorInfo& t : model->tensors()) {
    if (!t.is_constant) activations += t.byte_size;
  }
  std::unique_ptr<Interpreter> interpreter = Make(path);
  ASSERT_TRUE(interpreter);
  EXPECT_GT(interpreter->arena_bytes(), 0u);
  EXPECT_LT(interpreter->arena_bytes() * 3, activations);  // lifetimes let most tensors share
}

TEST(InterpreterTest, ThreadsOutOfRangeAreRejected) {
  std::string path = SharedModel("mobilenet_v1_0.25_128_quant.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  Result<std::unique_ptr<Interpreter>> interpreter =
      Interpreter::Create(Model::FromFile(path).value(), {0});
  ASSERT_FALSE(interpreter.ok());
  EXPECT_THAT(interpreter.status().message(), HasSubstr("threads must be 1 to 256"));
}

// The Keras LSTM split in two and run segment after segment gives what the whole model gives,
// invocation after invocation: the LSTM's state tensors stay with its operator, in its segment,
// rather than becoming inputs of the segment.
TEST(RealModelsTest, TheKerasLstmSplitInTwoAnswersAsTheWholeModel) {
  std::string path = SharedModel("keras_lstm_mnist_ptq.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  ModelPtr model = Model::FromFile(path).value();
  Result<std::vector<ModelSegment>> segments = SplitModel(*model, 2, "lstm");
  ASSERT_TRUE(segments.ok()) << segments.status().ToString();
  std::unique_ptr<Interpreter> whole = Interpreter::Create(model).value();
  std::unique_ptr<Interpreter> first = Interpreter::Create((*segments)[0].model).value();
  std::unique_ptr<Interpreter> second = Interpreter::Create((*segments)[1].model).value();
  ASSERT_EQ(first->input_count(), 1u);
  ASSERT_EQ(first->output_count(), second->input_count());
  for (int invocation = 0; invocation < 5; ++invocation) {
    std::vector<uint8_t> pixels(whole->input(0).byte_size());
    for (size_t i = 0; i < pixels.size(); ++i) {
      pixels[i] = static_cast<uint8_t>(i * 7 + invocation * 31);
    }
    std::memcpy(whole->input(0).data, pixels.data(), pixels.size());
    std::memcpy(first->input(0).data, pixels.data(), pixels.size());
    ASSERT_TRUE(whole->Invoke().ok());
    ASSERT_TRUE(first->Invoke().ok());
    for (size_t i = 0; i < first->output_count(); ++i) {
      ASSERT_EQ(first->output(i).byte_size(), second->input(i).byte_size());
      std::memcpy(second->input(i).data, first->output(i).data, first->output(i).byte_size());
    }
    ASSERT_TRUE(second->Invoke().ok());
    const Tensor& want = whole->output(0);
    const Tensor& got = second->output(0);
    EXPECT_EQ(std::vector<uint8_t>(got.data, got.data + got.byte_size()),
              std::vector<uint8_t>(want.data, want.data + want.byte_size()))
        << "invocation " << invocation;
  }
}

}  // namespace
}  // namespace tpufleet::cpu
