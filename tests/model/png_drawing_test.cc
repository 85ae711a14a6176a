// PNG files decode back to the pixels written; drawing stays inside the image; class colours are
// PASCAL VOC's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/drawing.h"
#include "common/image.h"
#include "common/png.h"

namespace tpufleet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A width x height image whose every byte differs from its neighbours.
Image Gradient(int width, int height, int channels) {
  Image image{width, height, channels, {}};
  for (int i = 0; i < width * height * channels; ++i) {
    image.pixels.push_back(static_cast<uint8_t>(i * 7 + i / 3));
  }
  return image;
}

TEST(PngTest, EncodedImagesDecodeToTheSamePixels) {
  for (int channels : {1, 3}) {
    Image image = Gradient(37, 11, channels);
    std::vector<uint8_t> png = EncodePng(image).value();
    ASSERT_GT(png.size(), 8u);
    EXPECT_THAT(std::vector<uint8_t>(png.begin(), png.begin() + 4),
                ElementsAre(0x89, 'P', 'N', 'G'));
    Image back = DecodeImage(png, channels, "png", 1 << 20).value();
    EXPECT_EQ(back.width, 37);
    EXPECT_EQ(back.height, 11);
    EXPECT_EQ(back.pixels, image.pixels) << channels << " channels";
  }
  std::string path = (std::filesystem::temp_directory_path() / "tpufleet_png_test.png").string();
  ASSERT_TRUE(WritePng(Gradient(5, 4, 3), path).ok());
  EXPECT_EQ(LoadImage(path, 3).value().pixels, Gradient(5, 4, 3).pixels);
  std::filesystem::remove(path);
}

TEST(PngTest, BadImagesAndPathsAreRefused) {
  Result<std::vector<uint8_t>> empty = EncodePng(Image{});
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("the image is 0 x 0 x 0"));
  Image short_pixels = Gradient(4, 4, 3);
  short_pixels.pixels.resize(10);
  EXPECT_THAT(EncodePng(short_pixels).status().message(), HasSubstr("holds 10 bytes"));
  EXPECT_FALSE(EncodePng(Gradient(2, 2, 2)).ok());
  Status unwritable = WritePng(Gradient(2, 2, 1), "/nonexistent-folder/x.png");
  ASSERT_FALSE(unwritable.ok());
  EXPECT_THAT(unwritable.message(), HasSubstr("/nonexistent-folder/x.png: cannot write"));
}

TEST(DrawingTest, ClassColoursArePascalVocs) {
  EXPECT_THAT(ClassColor(0), ElementsAre(0, 0, 0));
  EXPECT_THAT(ClassColor(1), ElementsAre(128, 0, 0));       // aeroplane
  EXPECT_THAT(ClassColor(3), ElementsAre(128, 128, 0));     // bird
  EXPECT_THAT(ClassColor(15), ElementsAre(192, 128, 128));  // person
  EXPECT_THAT(ClassColor(20), ElementsAre(0, 64, 128));     // tvmonitor
}

TEST(DrawingTest, ShapesDrawInsideTheImageOnly) {
  Image image{10, 8, 3, std::vector<uint8_t>(10 * 8 * 3, 0)};
  DrawRectangle(image, 2, 1, 7, 6, {255, 0, 0}, 1);
  auto at = [&](int x, int y) {
    const uint8_t* p = &image.pixels[(y * 10 + x) * 3];
    return std::vector<int>{p[0], p[1], p[2]};
  };
  EXPECT_THAT(at(2, 1), ElementsAre(255, 0, 0));
  EXPECT_THAT(at(7, 6), ElementsAre(255, 0, 0));
  EXPECT_THAT(at(4, 3), ElementsAre(0, 0, 0));  // inside the outline
  // Far outside, huge or not numbers: nothing drawn out of bounds, nothing crashes.
  DrawRectangle(image, -1e30f, -5, 1e30f, 1e9f, {0, 255, 0}, 3);
  DrawLine(image, std::nanf(""), 0, 5, 5, {0, 0, 255}, 2);
  DrawLine(image, -100, -100, 100, 100, {0, 0, 255}, 2);
  DrawDisc(image, 1e20f, 3, 1e20f, {1, 2, 3});
  EXPECT_EQ(image.pixels.size(), 10u * 8u * 3u);
  EXPECT_THAT(at(4, 4), ElementsAre(0, 0, 255));  // on the diagonal
  BlendPixel(image, 9, 0, {200, 100, 50}, 0.5f);
  EXPECT_THAT(at(9, 0), ElementsAre(100, 178, 25));  // half green (the outline), half the colour
}

}  // namespace
}  // namespace tpufleet
