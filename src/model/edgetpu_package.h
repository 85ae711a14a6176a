// Parsing of the Edge TPU package inside an `edgetpu-custom-op` operator's
// custom options.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tpufleet/model.h"
#include "tpufleet/status.h"

namespace tpufleet {

inline constexpr char kEdgeTpuCustomCode[] = "edgetpu-custom-op";

// Parses custom options (a FlexBuffer map) -> Package (DWN1) -> MultiExecutable
// -> Executables. Every level is verified before it is read; errors say which
// level is broken and how. The returned package has operator_index 0; the
// caller sets it.
Result<EdgeTpuPackage> ParseEdgeTpuPackage(std::span<const uint8_t> custom_options);

// The uncompiled model a compiled file was made from, by edgetpu_compiler's naming:
// "dir/m_edgetpu.tflite" and "dir/m_cocompiled_with_x_edgetpu.tflite" -> "dir/m.tflite".
// Empty when the name does not follow that pattern. Does not look at the file system.
std::string UncompiledTwinPath(const std::string& compiled_path);

// The inverse of ParseEdgeTpuPackage: custom options holding `package`, each
// executable's parameters written as parameter_bytes zero bytes (the simulator
// needs their sizes, not values).
std::vector<uint8_t> EncodeEdgeTpuPackage(const EdgeTpuPackage& package);

}  // namespace tpufleet
