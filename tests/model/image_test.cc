// Images become input tensors as Coral's examples prepare them: raw pixels only where the
// input's scale and zero point take them, normalised and quantized otherwise.
#include "common/image.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stb/stb_image.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

#include "common/bmp.h"
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

TEST(ImageTensorTest, InputsHoldingZeroToOneTakePixelsOverTwoHundredFiftyFive) {
  // scale 1/255 and the type's lowest zero point: the raw pixel p stands for p / 255.
  TensorInfo unsigned8 = BuiltInput(DataType::kUInt8, {{1.0f / 255}, {0}, 0});
  EXPECT_THAT(Prepared(unsigned8, {0, 77, 128, 255}), ElementsAre(0, 77, 128, 255));
  TensorInfo signed8 = BuiltInput(DataType::kInt8, {{1.0f / 255}, {-128}, 0});
  EXPECT_THAT(Signed(Prepared(signed8, {0, 77, 128, 255})), ElementsAre(-128, -51, 0, 127));
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

std::string ImageFixture(const std::string& name) {
  return std::string(TPUFLEET_FIXTURES_DIR) + "/images/" + name;
}

// tests/fixtures/images: two JPEGs cut from kite_and_cold.jpg (97x71, chroma subsampled 4:2:0,
// and progressive 4:2:2) and PNGs of the pixels Pillow 9.4 decodes from them,
// Image.open(f).convert("RGB") and .convert("L"). PNG is lossless: the JPEG decode must give
// exactly those pixels, so a Pillow-based program and tpufleet see the same input.
TEST(JpegTest, DecodesTheSamePixelsAsPillow) {
  for (std::string name : {"kite_crop_420", "kite_crop_progressive"}) {
    for (auto [channels, suffix] : {std::pair{3, ".pillow_rgb.png"}, {1, ".pillow_grey.png"}}) {
      SCOPED_TRACE(name + suffix);
      Result<Image> jpeg = LoadImage(ImageFixture(name + ".jpg"), channels);
      Result<Image> pillow = LoadImage(ImageFixture(name + suffix), channels);
      ASSERT_TRUE(jpeg.ok()) << jpeg.status().message();
      ASSERT_TRUE(pillow.ok()) << pillow.status().message();
      EXPECT_EQ(jpeg->width, 97);
      EXPECT_EQ(jpeg->height, 71);
      EXPECT_EQ(jpeg->channels, channels);
      EXPECT_TRUE(jpeg->pixels == pillow->pixels);
    }
  }
}

TEST(JpegTest, DamagedFilesAreRefusedWithLibjpegsReason) {
  std::vector<uint8_t> bytes = testing::ReadFileBytes(ImageFixture("kite_crop_420.jpg"));
  ASSERT_GT(bytes.size(), 600u);
  std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + 600);
  Result<Image> cut = DecodeImage(truncated, 3, "upload", 1 << 20);
  EXPECT_EQ(cut.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(cut.status().message(), HasSubstr("upload: cannot decode JPEG (Premature end"));
  std::vector<uint8_t> marker_only = {0xFF, 0xD8, 0xFF, 0x00, 0x12};
  Result<Image> garbage = DecodeImage(marker_only, 3, "upload", 1 << 20);
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(garbage.status().message(), HasSubstr("upload: cannot decode JPEG ("));
}

TEST(JpegTest, ImagesOverThePixelLimitAreRefusedBeforeDecoding) {
  std::vector<uint8_t> bytes = testing::ReadFileBytes(ImageFixture("kite_crop_420.jpg"));
  Result<Image> image = DecodeImage(bytes, 3, "upload", 97 * 71 - 1);
  EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(image.status().message(),
              HasSubstr("upload: the image is 97x71 pixels; at most 6886"));
  EXPECT_TRUE(DecodeImage(bytes, 3, "upload", 97 * 71).ok());
}

TEST(LoadImageTest, AMissingFileSaysSo) {
  Result<Image> image = LoadImage("/nonexistent/cat.jpg");
  EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(image.status().message(),
              HasSubstr("/nonexistent/cat.jpg: cannot read the image file (No such file"));
}

// ResizeBilinear's separable taps give what the formula gives pixel by pixel (half-pixel
// centres, clamped, rounded to nearest), down and up, for 1 and 3 channels.
TEST(ResizeBilinearTest, MatchesTheFormulaAtEveryPixel) {
  Image image{13, 7, 3, {}};
  for (int i = 0; i < 13 * 7 * 3; ++i) image.pixels.push_back(static_cast<uint8_t>(i * 37 % 256));
  for (auto [w, h] : {std::pair{5, 3}, {13, 7}, {31, 17}, {1, 1}}) {
    Image out = ResizeBilinear(image, w, h);
    ASSERT_EQ(out.pixels.size(), static_cast<size_t>(w) * h * 3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) {
          float fy = std::clamp((y + 0.5f) * 7 / h - 0.5f, 0.0f, 6.0f);
          float fx = std::clamp((x + 0.5f) * 13 / w - 0.5f, 0.0f, 12.0f);
          int y0 = static_cast<int>(fy), x0 = static_cast<int>(fx);
          int y1 = std::min(y0 + 1, 6), x1 = std::min(x0 + 1, 12);
          auto at = [&](int yy, int xx) { return image.pixels[(yy * 13 + xx) * 3 + c]; };
          double dy = fy - y0, dx = fx - x0;
          double v = (at(y0, x0) * (1 - dx) + at(y0, x1) * dx) * (1 - dy) +
                     (at(y1, x0) * (1 - dx) + at(y1, x1) * dx) * dy;
          EXPECT_NEAR(out.pixels[(y * w + x) * 3 + c], v, 0.5 + 1e-3) << x << "," << y;
        }
  }
}

// stb's general BMP decoder is the oracle for the direct path: the same pixels for every BMP in
// ../shared/images that takes the direct path, and for each one rewritten top-down.
TEST(BmpTest, DecodesAsStbDoes) {
  int direct = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::SharedDir() / "images")) {
    if (entry.path().extension() != ".bmp") continue;
    SCOPED_TRACE(entry.path().string());
    std::vector<uint8_t> bytes = testing::ReadFileBytes(entry.path().string());
    if (!IsPlainBmp(bytes)) continue;
    ++direct;
    int width = 0, height = 0, channels = 0;
    std::unique_ptr<uint8_t, void (*)(void*)> stb(
        stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &width, &height,
                              &channels, 3),
        stbi_image_free);
    ASSERT_NE(stb, nullptr);
    std::vector<uint8_t> expected(stb.get(), stb.get() + size_t(width) * height * 3);
    Result<Image> image = DecodeImage(bytes, 3, "bmp", 1 << 24);
    ASSERT_TRUE(image.ok()) << image.status().message();
    EXPECT_EQ(image->width, width);
    EXPECT_EQ(image->height, height);
    EXPECT_TRUE(image->pixels == expected);
    // The same rows stored top-down, with the height negated.
    std::vector<uint8_t> top_down = bytes;
    const uint32_t offset = bytes[10] | bytes[11] << 8 | bytes[12] << 16 | bytes[13] << 24;
    const size_t stride = (size_t(width) * 3 + 3) / 4 * 4;
    for (int y = 0; y < height; ++y) {
      std::memcpy(&top_down[offset + stride * y], &bytes[offset + stride * (height - 1 - y)],
                  stride);
    }
    int32_t negated = -height;
    std::memcpy(&top_down[22], &negated, 4);
    Result<Image> flipped = DecodeImage(top_down, 3, "bmp", 1 << 24);
    ASSERT_TRUE(flipped.ok()) << flipped.status().message();
    EXPECT_TRUE(flipped->pixels == expected);
  }
  EXPECT_GE(direct, 5);
}

TEST(BmpTest, HostileHeadersAreRefusedBeforeAllocating) {
  std::vector<uint8_t> bytes =
      testing::ReadFileBytes((testing::SharedDir() / "images" / "cat.bmp").string());
  ASSERT_TRUE(IsPlainBmp(bytes));
  auto with = [&](size_t at, int32_t value) {
    std::vector<uint8_t> changed = bytes;
    std::memcpy(&changed[at], &value, 4);
    return DecodeImage(changed, 3, "upload", uint64_t{1} << 40).status().message();
  };
  EXPECT_THAT(with(18, 0), HasSubstr("upload: the BMP is 0x341 pixels; both must be positive"));
  EXPECT_THAT(with(22, std::numeric_limits<int32_t>::min()), HasSubstr("both must be positive"));
  EXPECT_THAT(with(18, 1 << 30), HasSubstr("but the file has 523914 bytes"));
  EXPECT_THAT(with(10, -1), HasSubstr("from offset 4294967295, but the file has"));
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 1);
  EXPECT_THAT(DecodeImage(cut, 3, "upload", 1 << 24).status().message(),
              HasSubstr("need 523776 bytes from offset 138, but the file has 523913 bytes"));
  EXPECT_THAT(DecodeImage(bytes, 3, "upload", 1000).status().message(),
              HasSubstr("upload: the image is 512x341 pixels; at most 1000 are decoded"));
}

TEST(BmpTest, GreyIsPillowsConversion) {
  std::vector<uint8_t> bytes =
      testing::ReadFileBytes((testing::SharedDir() / "images" / "cat.bmp").string());
  Result<Image> rgb = DecodeImage(bytes, 3, "bmp", 1 << 24);
  Result<Image> grey = DecodeImage(bytes, 1, "bmp", 1 << 24);
  ASSERT_TRUE(rgb.ok() && grey.ok());
  ASSERT_EQ(grey->channels, 1);
  ASSERT_EQ(grey->pixels.size(), rgb->pixels.size() / 3);
  for (size_t i = 0; i < grey->pixels.size(); i += 997) {
    const uint8_t* p = &rgb->pixels[i * 3];
    // Pillow's L = R * 299/1000 + G * 587/1000 + B * 114/1000, rounded.
    EXPECT_NEAR(grey->pixels[i], (p[0] * 299 + p[1] * 587 + p[2] * 114) / 1000.0, 0.51) << i;
  }
}

}  // namespace
}  // namespace tpufleet
