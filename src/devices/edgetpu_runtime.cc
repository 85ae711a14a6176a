#include "devices/edgetpu_runtime.h"

#include <fmt/format.h>

#include <regex>

#include "common/shared_library.h"

namespace tpufleet {
namespace {

constexpr char kWhat[] = "the Edge TPU runtime (libedgetpu)";

// The library at `candidate` with the whole API, or why not ("PATH: why").
Result<EdgeTpuApi> LoadOne(const std::string& candidate) {
  Result<SharedLibrary> opened = SharedLibrary::Open({candidate}, kWhat);
  if (!opened.ok()) {  // the message ends with dlopen's own, which names the candidate
    std::string message = opened.status().message();
    return NotFoundError(message.substr(message.find("tried: ") + 7));
  }
  const SharedLibrary& library = opened.value();
  EdgeTpuApi api;
  TPUFLEET_RETURN_IF_ERROR(ResolveSymbols(
      library,
      {Slot("edgetpu_list_devices", api.ListDevices), Slot("edgetpu_free_devices", api.FreeDevices),
       Slot("edgetpu_create_delegate", api.CreateDelegate),
       Slot("edgetpu_free_delegate", api.FreeDelegate), Slot("edgetpu_version", api.Version)},
      "it is not libedgetpu, or a version without the C API (older than 2019)"));
  api.library = library.path();
  const char* version = api.Version();
  api.version = version ? version : "";
  api.runtime_version = ParseRuntimeVersion(api.version);
  return api;
}

}  // namespace

std::vector<std::string> DefaultRuntimeCandidates() {
  return LibraryCandidates("TPUFLEET_EDGETPU_LIB", "libedgetpu.so.1");
}

int ParseRuntimeVersion(const std::string& version) {
  std::smatch match;
  static const std::regex pattern(R"(RuntimeVersion\((\d{1,6})\))");
  return std::regex_search(version, match, pattern) ? std::stoi(match[1]) : 0;
}

std::vector<RuntimeDevice> EdgeTpuApi::List() const {
  std::vector<RuntimeDevice> devices;
  size_t count = 0;
  edgetpu_device* records = ListDevices(&count);
  for (size_t i = 0; records != nullptr && i < count; ++i) {
    devices.push_back({records[i].type == EDGETPU_APEX_PCI ? DeviceType::kPci : DeviceType::kUsb,
                       records[i].path ? records[i].path : ""});
  }
  if (records != nullptr) FreeDevices(records);
  return devices;
}

Result<EdgeTpuApi> LoadEdgeTpuApi(const std::vector<std::string>& candidates) {
  std::vector<std::string> tried;
  for (const std::string& candidate : candidates) {
    Result<EdgeTpuApi> api = LoadOne(candidate);
    if (api.ok()) return api;
    tried.push_back(api.status().message());
  }
  return NotFoundError(fmt::format("{} not found; tried: {}", kWhat, fmt::join(tried, "; ")));
}

RuntimeProbe ProbeEdgeTpuRuntime(const std::vector<std::string>& candidates) {
  RuntimeProbe probe;
  for (const std::string& candidate : candidates) {
    Result<EdgeTpuApi> api = LoadOne(candidate);
    if (!api.ok()) {
      probe.tried.push_back(api.status().message());
      continue;
    }
    probe.loaded = true;
    probe.library = candidate;
    probe.tried.push_back(candidate + ": loaded");
    probe.version = api->version;
    probe.devices = api->List();
    return probe;
  }
  return probe;
}

}  // namespace tpufleet
