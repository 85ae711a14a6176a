#include "devices/edgetpu_runtime.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include "common/shared_library.h"

namespace tpufleet {
namespace {

// The C API of libedgetpu (edgetpu_c.h), declared here: the header is not installed.
enum edgetpu_device_type { EDGETPU_APEX_PCI = 0, EDGETPU_APEX_USB = 1 };
struct edgetpu_device {
  edgetpu_device_type type;
  const char* path;
};
using ListDevicesFn = edgetpu_device* (*)(size_t*);
using FreeDevicesFn = void (*)(edgetpu_device*);
using VersionFn = const char* (*)();

}  // namespace

std::vector<std::string> DefaultRuntimeCandidates() {
  return LibraryCandidates("TPUFLEET_EDGETPU_LIB", "libedgetpu.so.1");
}

RuntimeProbe ProbeEdgeTpuRuntime(const std::vector<std::string>& candidates) {
  RuntimeProbe probe;
  for (const std::string& candidate : candidates) {
    void* handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* error = dlerror();
      probe.tried.push_back(fmt::format("{}: {}", candidate, error ? error : "not found"));
      continue;
    }
    auto list = reinterpret_cast<ListDevicesFn>(dlsym(handle, "edgetpu_list_devices"));
    auto free_devices = reinterpret_cast<FreeDevicesFn>(dlsym(handle, "edgetpu_free_devices"));
    if (list == nullptr || free_devices == nullptr) {
      probe.tried.push_back(fmt::format(
          "{}: loaded, but has no edgetpu_list_devices/edgetpu_free_devices (not libedgetpu?)",
          candidate));
      dlclose(handle);
      continue;
    }
    probe.loaded = true;
    probe.library = candidate;
    probe.tried.push_back(candidate + ": loaded");
    if (auto version = reinterpret_cast<VersionFn>(dlsym(handle, "edgetpu_version"))) {
      if (const char* text = version()) probe.version = text;
    }
    size_t count = 0;
    edgetpu_device* devices = list(&count);
    for (size_t i = 0; devices != nullptr && i < count; ++i) {
      RuntimeDevice device;
      device.type = devices[i].type == EDGETPU_APEX_PCI ? DeviceType::kPci : DeviceType::kUsb;
      device.path = devices[i].path ? devices[i].path : "";
      probe.devices.push_back(std::move(device));
    }
    if (devices != nullptr) free_devices(devices);
    return probe;
  }
  return probe;
}

}  // namespace tpufleet
