// PNG files from images: 8-bit grey (1 channel), RGB (3) or RGBA (4), zlib-compressed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/image.h"
#include "tpufleet/status.h"

namespace tpufleet {

// The PNG encoding of `image`. INVALID_ARGUMENT for an empty image, a channel count other than
// 1, 3 or 4, or pixels that do not match width x height x channels.
Result<std::vector<uint8_t>> EncodePng(const Image& image);
// EncodePng's bytes written to `path` (replaced if it exists); its errors, or INTERNAL naming the
// file when it cannot be written.
Status WritePng(const Image& image, const std::string& path);

}  // namespace tpufleet
