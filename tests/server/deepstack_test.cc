// The DeepStack form's fields, and decoding uploaded image bytes.
#include "server/deepstack.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/image.h"
#include "support/shared_files.h"

namespace tpufleet::server {
namespace {

using ::testing::HasSubstr;

TEST(DeepStackFormTest, FieldsAreReadAndChecked) {
  Result<DetectionForm> form =
      ParseDetectionForm({{"image", "bytes"}, {"min_confidence", "0.65"}, {"api_key", "k"}});
  ASSERT_TRUE(form.ok()) << form.status().ToString();
  EXPECT_EQ(form->image, "bytes");
  EXPECT_FLOAT_EQ(form->min_confidence, 0.65f);
  EXPECT_EQ(form->api_key, "k");
  EXPECT_FLOAT_EQ(ParseDetectionForm({{"image", "b"}})->min_confidence, 0.4f);

  EXPECT_THAT(ParseDetectionForm({}).status().message(), HasSubstr("the file field 'image'"));
  EXPECT_THAT(ParseDetectionForm({{"image", ""}}).status().message(), HasSubstr("no image"));
  for (const char* bad : {"1.5", "-0.1", "high", "0.5x", "", "nan"}) {
    EXPECT_THAT(ParseDetectionForm({{"image", "b"}, {"min_confidence", bad}}).status().message(),
                HasSubstr("must be a number from 0 to 1"))
        << bad;
  }
}

TEST(DeepStackFormTest, UploadedImagesDecodeAsFilesDo) {
  const std::string path = testing::SharedDir() / "images" / "cat.bmp";
  TPUFLEET_REQUIRE_FILE(path);
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::string data = bytes.str();
  std::span<const uint8_t> span(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  Result<Image> decoded = DecodeImage(span, 3, "image", kMaxImagePixels);
  Result<Image> loaded = LoadImage(path, 3);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->width, loaded->width);
  EXPECT_EQ(decoded->height, loaded->height);
  EXPECT_EQ(decoded->pixels, loaded->pixels);

  EXPECT_THAT(DecodeImage(span, 3, "image", 100).status().message(),
              HasSubstr("at most 100 are decoded"));
  EXPECT_THAT(DecodeImage(span.subspan(0, 40), 3, "image", kMaxImagePixels).status().message(),
              HasSubstr("image: cannot decode image"));
  EXPECT_THAT(DecodeImage({}, 3, "image", kMaxImagePixels).status().message(),
              HasSubstr("the image is empty"));
}

}  // namespace
}  // namespace tpufleet::server
