// libedgetpu's C API (edgetpu_c.h), loaded at run time, and Coral's delegate options.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "backends/edgetpu/tflite_c.h"
#include "devices/edgetpu_runtime.h"
#include "tpufleet/status.h"

namespace tpufleet::backends {

// Binary layouts of edgetpu_c.h's structs.
struct EdgeTpuDeviceRecord {
  int type;  // 0: EDGETPU_APEX_PCI, 1: EDGETPU_APEX_USB
  const char* path;
};
struct EdgeTpuOptionRecord {
  const char* name;
  const char* value;
};

// A delegate option: Performance=Low|Medium|High|Max, Usb.AlwaysDfu=True|False,
// Usb.MaxBulkInQueueLength=0..256.
using EdgeTpuOption = std::pair<std::string, std::string>;

// "Performance=High,Usb.AlwaysDfu=False" -> options, each checked; the error names the option and
// what it accepts, so a typo never reaches the runtime (which would ignore it silently).
Result<std::vector<EdgeTpuOption>> ParseEdgeTpuOptions(const std::string& text);
Status ValidateEdgeTpuOptions(const std::vector<EdgeTpuOption>& options);

struct EdgeTpuApi {
  std::string library;
  std::string version;      // edgetpu_version(), e.g. "BuildLabel(...), RuntimeVersion(14)"
  int runtime_version = 0;  // the N of RuntimeVersion(N); 0 when the text does not say

  EdgeTpuDeviceRecord* (*ListDevices)(size_t* count);
  void (*FreeDevices)(EdgeTpuDeviceRecord* devices);
  TfLiteDelegate* (*CreateDelegate)(int type, const char* path, const EdgeTpuOptionRecord* options,
                                    size_t count);
  void (*FreeDelegate)(TfLiteDelegate* delegate);
  const char* (*Version)();

  std::vector<RuntimeDevice> List() const;
};

// Loads the first candidate (devices/edgetpu_runtime.h's search order) with the whole API.
Result<EdgeTpuApi> LoadEdgeTpuApi(const std::vector<std::string>& candidates);
// 14 for "BuildLabel(COMPILER=...), RuntimeVersion(14)"; 0 when absent.
int ParseRuntimeVersion(const std::string& version);

// Both libraries a real Edge TPU needs, loaded once per process from the default candidates.
struct EdgeTpuRuntime {
  TfLiteCApi tflite;
  EdgeTpuApi edgetpu;
  // The first call loads; later calls return the same runtime or the same error.
  static Result<const EdgeTpuRuntime*> Get();
};

}  // namespace tpufleet::backends
