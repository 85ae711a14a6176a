#include "common/png.h"

#include <fmt/format.h>
#include <stb/stb_image_write.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

namespace tpufleet {
namespace {

void AppendPngBytes(void* context, void* data, int size) {
  auto* bytes = static_cast<std::vector<uint8_t>*>(context);
  const auto* begin = static_cast<const uint8_t*>(data);
  bytes->insert(bytes->end(), begin, begin + size);
}

}  // namespace

Result<std::vector<uint8_t>> EncodePng(const Image& image) {
  const int c = image.channels;
  if (image.width < 1 || image.height < 1 || (c != 1 && c != 3 && c != 4)) {
    return InvalidArgumentError(fmt::format(
        "a PNG needs at least 1 x 1 pixels of 1, 3 or 4 channels; the image is {} x {} x {}",
        image.width, image.height, c));
  }
  const uint64_t row = static_cast<uint64_t>(image.width) * c;
  if (row > static_cast<uint64_t>(std::numeric_limits<int>::max()) ||
      image.pixels.size() != row * static_cast<uint64_t>(image.height)) {
    return InvalidArgumentError(fmt::format("the image holds {} bytes; {} x {} x {} needs {}",
                                            image.pixels.size(), image.width, image.height, c,
                                            row * static_cast<uint64_t>(image.height)));
  }
  std::vector<uint8_t> bytes;
  if (!stbi_write_png_to_func(AppendPngBytes, &bytes, image.width, image.height, c,
                              image.pixels.data(), static_cast<int>(row))) {
    return InternalError("the PNG encoder failed");
  }
  return bytes;
}

Status WritePng(const Image& image, const std::string& path) {
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, EncodePng(image));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return InternalError(fmt::format("{}: cannot write ({})", path, std::strerror(errno)));
  return OkStatus();
}

}  // namespace tpufleet
