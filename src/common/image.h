// Images for model inputs: decoding BMP, JPEG and PNG files, bilinear resizing, and conversion
// to a model's input tensor.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tpufleet/image.h"
#include "tpufleet/model.h"
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

// Decodes a BMP, JPEG or PNG image held in memory (a request's upload, say), as LoadImage does.
// `source` names it in errors. Images of more than `max_pixels` pixels are refused before they
// are decoded (INVALID_ARGUMENT), as are empty ones. Thread-safe.
Result<Image> DecodeImage(std::span<const uint8_t> bytes, int channels, const std::string& source,
                          uint64_t max_pixels);

// OK, or INVALID_ARGUMENT ("SOURCE: the image is WxH pixels; at most MAX are decoded") when a
// width x height image has more than `max_pixels` pixels: each decoder asks before it allocates.
Status CheckPixelCount(const std::string& source, uint64_t width, uint64_t height,
                       uint64_t max_pixels);

// RGB pixels to grey in place, as Pillow's convert("L") does (ITU-R 601-2 luma weights in 16-bit
// fixed point): the grey a Pillow-based program gets from a colour image.
void RgbToGrey(Image& image);

// Bilinear resize with pixel centres aligned (half-pixel), each channel rounded to nearest.
Image ResizeBilinear(const Image& image, int width, int height);

// The bytes of an NHWC image input tensor (batch 1) holding `image` resized to it, prepared and
// failing as ImageFileTensor (tpufleet/image.h) says.
Result<std::vector<uint8_t>> ImageTensor(const Image& image, const TensorInfo& input);
// ImageFileTensor (tpufleet/image.h) loads a file with as many channels as the model's only
// input has, then calls ImageTensor.

}  // namespace tpufleet
