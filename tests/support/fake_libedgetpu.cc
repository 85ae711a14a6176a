// A stand-in for libedgetpu.so.1, built only in the test tree: implements the device-listing part
// of the C API. Its devices come from $TPUFLEET_FAKE_EDGETPU_DEVICES, a comma-separated list of
// "usb:PATH" and "pci:PATH" entries, in the order libedgetpu would list them.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {

enum edgetpu_device_type { EDGETPU_APEX_PCI = 0, EDGETPU_APEX_USB = 1 };
struct edgetpu_device {
  enum edgetpu_device_type type;
  const char* path;
};

struct edgetpu_device* edgetpu_list_devices(size_t* num_devices) {
  std::vector<edgetpu_device> devices;
  const char* spec = std::getenv("TPUFLEET_FAKE_EDGETPU_DEVICES");
  std::string list = spec ? spec : "";
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string entry = list.substr(start, end - start);
    start = end + 1;
    size_t colon = entry.find(':');
    if (colon == std::string::npos) continue;
    edgetpu_device device;
    device.type = entry.substr(0, colon) == "pci" ? EDGETPU_APEX_PCI : EDGETPU_APEX_USB;
    device.path = strdup(entry.substr(colon + 1).c_str());
    devices.push_back(device);
  }
  *num_devices = devices.size();
  // A null-terminated copy, so edgetpu_free_devices knows how many paths to free.
  auto* out = static_cast<edgetpu_device*>(std::calloc(devices.size() + 1, sizeof(edgetpu_device)));
  if (!devices.empty()) std::memcpy(out, devices.data(), devices.size() * sizeof(edgetpu_device));
  return out;
}

void edgetpu_free_devices(struct edgetpu_device* devices) {
  for (edgetpu_device* d = devices; d != nullptr && d->path != nullptr; ++d)
    std::free(const_cast<char*>(d->path));
  std::free(devices);
}

const char* edgetpu_version() { return "BuildLabel(tpufleet stand-in), RuntimeVersion(14)"; }

}  // extern "C"
