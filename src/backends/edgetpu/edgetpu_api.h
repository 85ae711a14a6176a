// Coral's delegate options, and the two libraries a real Edge TPU needs (libedgetpu, whose API
// devices/edgetpu_runtime.h declares, and TensorFlow Lite's C library).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "backends/edgetpu/tflite_c.h"
#include "devices/edgetpu_runtime.h"
#include "tpufleet/status.h"

namespace tpufleet::backends {

// A delegate option: Performance=Low|Medium|High|Max, Usb.AlwaysDfu=True|False,
// Usb.MaxBulkInQueueLength=0..256.
using EdgeTpuOption = std::pair<std::string, std::string>;

// "Performance=High,Usb.AlwaysDfu=False" -> options, each checked; the error names the option and
// what it accepts, so a typo never reaches the runtime (which would ignore it silently).
Result<std::vector<EdgeTpuOption>> ParseEdgeTpuOptions(const std::string& text);
Status ValidateEdgeTpuOptions(const std::vector<EdgeTpuOption>& options);

// Both libraries a real Edge TPU needs, loaded once per process from the default candidates.
struct EdgeTpuRuntime {
  TfLiteCApi tflite;
  EdgeTpuApi edgetpu;
  // The first call loads; later calls return the same runtime or the same error.
  static Result<const EdgeTpuRuntime*> Get();
};

}  // namespace tpufleet::backends
