#include "common/bmp.h"

#include <fmt/format.h>

#include <limits>

namespace tpufleet {
namespace {

constexpr size_t kFileHeader = 14;     // "BM", file size, reserved, pixel offset
constexpr size_t kInfoHeader = 40;     // BITMAPINFOHEADER; V4 and V5 headers extend it
constexpr uint32_t kUncompressed = 0;  // BI_RGB

uint32_t U32(std::span<const uint8_t> b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 |
         uint32_t{b[at + 3]} << 24;
}
uint16_t U16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>(b[at] | b[at + 1] << 8);
}

}  // namespace

bool IsPlainBmp(std::span<const uint8_t> bytes) {
  if (bytes.size() < kFileHeader + kInfoHeader || bytes[0] != 'B' || bytes[1] != 'M') return false;
  const uint32_t info_size = U32(bytes, 14);
  return info_size >= kInfoHeader && info_size <= bytes.size() - kFileHeader &&
         U16(bytes, 26) == 1 && U16(bytes, 28) == 24 && U32(bytes, 30) == kUncompressed;
}

Result<Image> DecodePlainBmp(std::span<const uint8_t> bytes, int channels,
                             const std::string& source, uint64_t max_pixels) {
  const int32_t width = static_cast<int32_t>(U32(bytes, 18));
  const int32_t signed_height = static_cast<int32_t>(U32(bytes, 22));
  // A negative height means the rows run top-down; INT32_MIN has no positive counterpart.
  if (width <= 0 || signed_height == 0 || signed_height == std::numeric_limits<int32_t>::min()) {
    return InvalidArgumentError(fmt::format("{}: the BMP is {}x{} pixels; both must be positive",
                                            source, width, signed_height));
  }
  const bool top_down = signed_height < 0;
  const int32_t height = top_down ? -signed_height : signed_height;
  TPUFLEET_RETURN_IF_ERROR(CheckPixelCount(source, width, height, max_pixels));
  const uint64_t pixels = uint64_t(width) * uint64_t(height);
  const uint64_t stride = (uint64_t(width) * 3 + 3) / 4 * 4;  // rows are padded to 4 bytes
  const uint64_t offset = U32(bytes, 10);
  if (offset > bytes.size() || stride * uint64_t(height) > bytes.size() - offset) {
    return InvalidArgumentError(fmt::format(
        "{}: the BMP's {}x{} pixels need {} bytes from offset {}, but the file has {} bytes",
        source, width, height, stride * uint64_t(height), offset, bytes.size()));
  }
  Image image{width, height, 3, std::vector<uint8_t>(pixels * 3)};
  for (int32_t y = 0; y < height; ++y) {
    const uint8_t* in = bytes.data() + offset + stride * uint64_t(top_down ? y : height - 1 - y);
    uint8_t* out = image.pixels.data() + uint64_t(y) * uint64_t(width) * 3;
    for (int32_t x = 0; x < width; ++x, in += 3, out += 3) {  // BGR to RGB
      out[0] = in[2];
      out[1] = in[1];
      out[2] = in[0];
    }
  }
  if (channels == 1) RgbToGrey(image);
  return image;
}

}  // namespace tpufleet
