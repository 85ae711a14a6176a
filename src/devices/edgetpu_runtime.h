// libedgetpu (the Edge TPU runtime) loaded at run time (dlopen): its C API (edgetpu_c.h, not
// installed, so declared here, the one place in the project that does), the device list it
// gives, and a probe for reports. Its absence is normal on a machine without Edge TPUs.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tpufleet/device.h"
#include "tpufleet/status.h"

// edgetpu_c.h's types, with its names, so that a function called through a pointer below has
// exactly the type the library defined it with.
extern "C" {
struct TfLiteDelegate;  // TensorFlow Lite's delegate, opaque here
enum edgetpu_device_type { EDGETPU_APEX_PCI = 0, EDGETPU_APEX_USB = 1 };
struct edgetpu_device {
  enum edgetpu_device_type type;
  const char* path;
};
struct edgetpu_option {
  const char* name;
  const char* value;
};
}

namespace tpufleet {

struct RuntimeDevice {
  DeviceType type = DeviceType::kUsb;
  std::string path;
};

// The runtime's functions. A loaded library stays loaded for the life of the process.
struct EdgeTpuApi {
  std::string library;
  std::string version;      // edgetpu_version(), e.g. "BuildLabel(...), RuntimeVersion(14)"
  int runtime_version = 0;  // the N of RuntimeVersion(N); 0 when the text does not say

  edgetpu_device* (*ListDevices)(size_t* count) = nullptr;
  void (*FreeDevices)(edgetpu_device* devices) = nullptr;
  TfLiteDelegate* (*CreateDelegate)(edgetpu_device_type type, const char* path,
                                    const edgetpu_option* options, size_t count) = nullptr;
  void (*FreeDelegate)(TfLiteDelegate* delegate) = nullptr;
  const char* (*Version)() = nullptr;

  // The devices the runtime sees, in its enumeration order (the order Coral's `:N` indexes).
  std::vector<RuntimeDevice> List() const;
};

// Candidate library names, in search order: $TPUFLEET_EDGETPU_LIB when set, then
// "libedgetpu.so.1" through the dynamic loader's search path (LD_LIBRARY_PATH, ld.so.cache).
std::vector<std::string> DefaultRuntimeCandidates();

// Loads the first candidate that has the whole API; a candidate that does not load, or lacks a
// function, is skipped. NOT_FOUND lists every candidate with why it was skipped.
Result<EdgeTpuApi> LoadEdgeTpuApi(const std::vector<std::string>& candidates);

// 14 for "BuildLabel(COMPILER=...), RuntimeVersion(14)"; 0 when absent.
int ParseRuntimeVersion(const std::string& version);

struct RuntimeProbe {
  bool loaded = false;
  std::string library;             // the path or name that loaded
  std::vector<std::string> tried;  // every candidate, in order, with why it failed
  std::string version;             // edgetpu_version()
  std::vector<RuntimeDevice> devices;
};

// LoadEdgeTpuApi and List, for reports: what loaded, what was tried, what it lists.
RuntimeProbe ProbeEdgeTpuRuntime(const std::vector<std::string>& candidates);

}  // namespace tpufleet
