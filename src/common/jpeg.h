// JPEG decoding with libjpeg-turbo, the library Pillow decodes with, set up as Pillow sets it up
// (accurate integer IDCT, smooth chroma upsampling), so a JPEG gives the pixels a Pillow-based
// program sees.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/image.h"
#include "tpufleet/status.h"

namespace tpufleet {

// Whether `bytes` begin as a JPEG file does (the start-of-image marker).
bool LooksLikeJpeg(std::span<const uint8_t> bytes);

// Decodes a baseline or progressive JPEG into 1 (grey) or 3 (RGB) channels, converting as
// needed (CMYK is refused). Images of more than `max_pixels` pixels are refused before their
// pixels are decoded. A file that ends early or whose data is corrupt gives INVALID_ARGUMENT
// naming `source` and libjpeg's reason. Thread-safe.
Result<Image> DecodeJpeg(std::span<const uint8_t> bytes, int channels, const std::string& source,
                         uint64_t max_pixels);

}  // namespace tpufleet
