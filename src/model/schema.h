// The generated readers and writers for the project's own TFLite and Edge TPU
// package schemas.
#pragma once

#include "model/edgetpu_package_generated.h"
#include "model/tflite_generated.h"

namespace tpufleet {
namespace tfl = ::tpufleet::tflite;
namespace etpu = ::tpufleet::edgetpu;
}  // namespace tpufleet
