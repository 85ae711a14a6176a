#include "sim/topology.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace tpufleet::sim {

Result<std::vector<SimDeviceConfig>> ParseTopology(const std::string& json_text) {
  nlohmann::json root = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object() || !root.contains("devices") ||
      !root["devices"].is_array()) {
    return InvalidArgumentError(
        "a simulated topology is a JSON object {\"devices\": [{\"link\": \"usb3\", ...}, ...]}");
  }
  std::vector<SimDeviceConfig> devices;
  for (size_t i = 0; i < root["devices"].size(); ++i) {
    const nlohmann::json& d = root["devices"][i];
    std::string where = fmt::format("devices[{}]", i);
    if (!d.is_object()) return InvalidArgumentError(where + " is not an object");
    SimDeviceConfig config;
    config.hardware.bus = static_cast<int>(i) + 1;
    try {
      if (d.contains("link")) {
        TPUFLEET_ASSIGN_OR_RETURN(config.hardware.link, ParseLink(d["link"].get<std::string>()));
      }
      if (d.contains("clock")) {
        TPUFLEET_ASSIGN_OR_RETURN(config.hardware.clock, ParseClock(d["clock"].get<std::string>()));
      }
      if (d.contains("sram_bytes")) config.hardware.sram_bytes = d["sram_bytes"].get<uint64_t>();
      if (d.contains("bus")) config.hardware.bus = d["bus"].get<int>();
      if (d.contains("compute_outputs")) config.compute_outputs = d["compute_outputs"].get<bool>();
      if (d.contains("faults")) {
        const nlohmann::json& f = d["faults"];
        FaultPlan& plan = config.faults;
        if (f.contains("disconnect_after"))
          plan.disconnect_after = f["disconnect_after"].get<int>();
        if (f.contains("disconnect_at")) plan.disconnect_at = f["disconnect_at"].get<double>();
        if (f.contains("hang_after")) plan.hang_after = f["hang_after"].get<int>();
        if (f.contains("hang_seconds")) plan.hang_seconds = f["hang_seconds"].get<double>();
        if (f.contains("recover_after_probes"))
          plan.recover_after_probes = f["recover_after_probes"].get<int>();
        if (f.contains("slowdown")) plan.slowdown = f["slowdown"].get<double>();
        if (f.contains("transient_error_every"))
          plan.transient_error_every = f["transient_error_every"].get<int>();
      }
    } catch (const nlohmann::json::exception& e) {
      return InvalidArgumentError(fmt::format("{}: {}", where, e.what()));
    } catch (...) {
      return InvalidArgumentError(where + ": malformed");
    }
    if (config.hardware.sram_bytes < 1024)
      return InvalidArgumentError(where + ": sram_bytes must be at least 1024");
    if (config.faults.slowdown < 1)
      return InvalidArgumentError(where + ": faults.slowdown must be at least 1");
    devices.push_back(config);
  }
  return devices;
}

std::vector<SimDeviceConfig> DefaultTopology() {
  SimDeviceConfig first, second;
  first.hardware.bus = 1;
  second.hardware.bus = 2;
  return {first, second};
}

}  // namespace tpufleet::sim
