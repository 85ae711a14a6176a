// Images as model inputs: what Fleet::SubmitImage and `tpufleet run` do to an image file, for
// programs that feed an Interpreter themselves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tpufleet/model.h"
#include "tpufleet/status.h"

namespace tpufleet {

// Decodes the BMP, JPEG or PNG file at `path` (as grey or RGB, as the model's input has 1 or 3
// channels), resizes it (bilinear) to the model's only input, an NHWC [1, height, width, 1 or 3]
// tensor, and returns that input's bytes, prepared as Coral's examples prepare them:
//   - uint8 and int8 inputs: the pixels normalised to (p - 128) / 128 and quantized with the
//     input's scale and zero point, q = (p - 128) / (128 * scale) + zero_point, rounded and
//     clamped. For the usual scale 1/128 with zero point 128 (uint8) or 0 (int8) this is the
//     pixel itself or pixel - 128. Inputs quantized to [0, 1] (scale 1/255 with zero point 0
//     for uint8 or -128 for int8, as YOLO's exports are) take the pixels as they are too, which
//     stand for p / 255 there. Inputs without quantization take p (uint8) or p - 128 (int8).
//   - float32 inputs: (p - 127.5) / 127.5.
// Errors: INVALID_ARGUMENT when the file does not decode, the model has more than one input,
// the input is not an image shape, or its scale is not positive; UNIMPLEMENTED for per-channel
// input quantization and other input types. Thread-safe; blocks while reading the file.
Result<std::vector<uint8_t>> ImageFileTensor(const std::string& path, const Model& model);

}  // namespace tpufleet
