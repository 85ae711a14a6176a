// Images for model inputs: decoding BMP, JPEG and PNG files, and bilinear resizing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tpufleet/status.h"

namespace tpufleet {

// Interleaved 8-bit pixels, row-major: pixels[(y * width + x) * channels + c].
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;
};

// Decodes a BMP, JPEG or PNG file into `channels` channels (1 grey, 3 RGB), converting as needed.
Result<Image> LoadImage(const std::string& path, int channels = 3);

// Bilinear resize with pixel centres aligned (half-pixel), each channel rounded to nearest.
Image ResizeBilinear(const Image& image, int width, int height);

}  // namespace tpufleet
