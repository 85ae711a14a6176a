// Images become input tensors as Coral's examples prepare them: raw pixels only where the
// input's scale and zero point take them, normalised and quantized otherwise.
#include "common/image.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/builder.h"
#include "support/shared_files.h"

namespace tpufleet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// One grey row of four pixels.
Image Row(std::vector<uint8_t> pixels) {
  return Image{static_cast<int>(pixels.size()), 1, 1, std::move(pixels)};
}

// The input of a model built with ModelBuilder: [1, 1, 4, 1] of `type` with `quantization`,
// through a RESHAPE to a [4] output. Loading it verifies what the builder wrote.
TensorInfo BuiltInput(DataType type, const Quantization& quantization) {
  ModelBuilder b;
  int input = b.AddTensor("image", type, {1, 1, 4, 1}, quantization);
  int shape = b.AddConstant("shape", DataType::kInt32, {1}, std::vector<int32_t>{4});
  int output = b.AddTensor("flat", type, {4}, quantization);
  b.AddOperator(tfl::BuiltinOperator::RESHAPE, {input, shape}, {output});
  b.SetInputs({input});
  b.SetOutputs({output});
  Result<ModelPtr> model = Model::FromBuffer(b.Finish(), "image_input");
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? model.value()->input(0) : TensorInfo{};
}

// The input bytes for a row of pixels; empty (and a failure) when preparation fails.
std::vector<uint8_t> Prepared(const TensorInfo& input, std::vector<uint8_t> pixels) {
  Result<std::vector<uint8_t>> bytes = ImageTensor(Row(std::move(pixels)), input);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? bytes.value() : std::vector<uint8_t>{};
}

std::vector<int> Signed(const std::vector<uint8_t>& bytes) {
  std::vector<int> values;
  for (uint8_t b : bytes) values.push_back(static_cast<int8_t>(b));
  return values;
}

TEST(ImageTensorTest, Uint8InputThatTakesPixelsGetsThemUnchanged) {
  // scale 1/128, zero point 128: (p - 128) / 128 quantizes back to p (MobileNet's input).
  TensorInfo input = BuiltInput(DataType::kUInt8, {{0.0078125f}, {128}, 0});
  EXPECT_THAT(Prepared(input, {0, 77, 128, 255}), ElementsAre(0, 77, 128, 255));
}

TEST(ImageTensorTest, Uint8InputWithOtherQuantizationGetsNormalisedPixels) {
  // scale 1/64, zero point 100: q = (p - 128) / 2 + 100, rounded half away from zero.
  TensorInfo input = BuiltInput(DataType::kUInt8, {{0.015625f}, {100}, 0});
  ASSERT_EQ(input.quantization.scales.size(), 1u);
  EXPECT_THAT(Prepared(input, {0, 77, 128, 255}), ElementsAre(36, 75, 100, 164));
}

TEST(ImageTensorTest, NormalisedValuesAreClampedToTheType) {
  // scale 1/256, zero point 0: q = 2 (p - 128), which leaves [0, 255] at both ends.
  TensorInfo input = BuiltInput(DataType::kUInt8, {{0.00390625f}, {0}, 0});
  EXPECT_THAT(Prepared(input, {0, 100, 130, 255}), ElementsAre(0, 0, 4, 254));
}

TEST(ImageTensorTest, Int8InputsAreShiftedOrNormalisedByTheirQuantization) {
  TensorInfo shifted = BuiltInput(DataType::kInt8, {{0.0078125f}, {0}, 0});
  EXPECT_THAT(Signed(Prepared(shifted, {0, 77, 128, 255})), ElementsAre(-128, -51, 0, 127));
  // scale 1/64, zero point 10: q = (p - 128) / 2 + 10.
  TensorInfo normalised = BuiltInput(DataType::kInt8, {{0.015625f}, {10}, 0});
  EXPECT_THAT(Signed(Prepared(normalised, {0, 77, 128, 255})), ElementsAre(-54, -16, 10, 74));
}

TEST(ImageTensorTest, FloatInputsTakeValuesInMinusOneToOne) {
  TensorInfo input = BuiltInput(DataType::kFloat32, {});
  std::vector<uint8_t> bytes = Prepared(input, {0, 255, 0, 255});
  ASSERT_EQ(bytes.size(), 16u);
  float first, second;
  std::memcpy(&first, bytes.data(), 4);
  std::memcpy(&second, bytes.data() + 4, 4);
  EXPECT_FLOAT_EQ(first, -1.0f);
  EXPECT_FLOAT_EQ(second, 1.0f);
}

TEST(ImageTensorTest, RealModelsWithCoralsInputQuantizationTakeRawPixels) {
  std::string path = testing::SharedModel("mobilenet_v2_1.0_224_quant.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  ModelPtr model = Model::FromFile(path).value();
  Image cat = LoadImage((testing::SharedDir() / "images" / "cat.bmp").string()).value();
  EXPECT_EQ(ImageTensor(cat, model->input(0)).value(), ResizeBilinear(cat, 224, 224).pixels);
}

TEST(ImageTensorTest, ErrorsSayWhatTheInputIs) {
  TensorInfo input = BuiltInput(DataType::kUInt8, {{-1.0f}, {0}, 0});
  Result<std::vector<uint8_t>> bytes = ImageTensor(Row({1, 2, 3, 4}), input);
  ASSERT_FALSE(bytes.ok());
  EXPECT_THAT(bytes.status().message(),
              HasSubstr("has quantization scale -1; an image needs a positive, finite scale"));
}

}  // namespace
}  // namespace tpufleet
