// Loading libedgetpu at run time (dlopen) to ask it which devices it sees. Its absence is normal.
#pragma once

#include <string>
#include <vector>

#include "tpufleet/device.h"

namespace tpufleet {

struct RuntimeDevice {
  DeviceType type = DeviceType::kUsb;
  std::string path;
};

struct RuntimeProbe {
  bool loaded = false;
  std::string library;             // the path or name that loaded
  std::vector<std::string> tried;  // every candidate, in order, with why it failed
  std::string version;             // edgetpu_version(), when the library has it
  std::vector<RuntimeDevice> devices;
};

// Candidate library names, in search order: $TPUFLEET_EDGETPU_LIB when set, then
// "libedgetpu.so.1" through the dynamic loader's search path (LD_LIBRARY_PATH, ld.so.cache).
std::vector<std::string> DefaultRuntimeCandidates();

// Loads the first candidate that has edgetpu_list_devices and edgetpu_free_devices, and lists
// its devices. The library stays loaded for the life of the process.
RuntimeProbe ProbeEdgeTpuRuntime(const std::vector<std::string>& candidates);

}  // namespace tpufleet
