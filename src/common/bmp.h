// The common BMP layout read directly: uncompressed 24-bit pixels (BI_RGB), rows bottom-up or
// top-down, as Windows, Pillow and the Coral examples' test images write them. Other BMP layouts
// (palettes, 16 or 32 bits, RLE) are left to the general decoder (DecodeImage).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/image.h"
#include "tpufleet/status.h"

namespace tpufleet {

// Whether `bytes` hold a BMP of that layout (a header that says so; the pixels are checked when
// decoded).
bool IsPlainBmp(std::span<const uint8_t> bytes);

// Decodes a plain BMP into 1 (grey, as RgbToGrey) or 3 (RGB) channels. Images of more than
// `max_pixels` pixels are refused before anything is allocated; so is a file whose pixel rows
// would reach past its end. Errors are INVALID_ARGUMENT naming `source`. Thread-safe.
Result<Image> DecodePlainBmp(std::span<const uint8_t> bytes, int channels,
                             const std::string& source, uint64_t max_pixels);

}  // namespace tpufleet
