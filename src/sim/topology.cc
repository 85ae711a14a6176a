#include "sim/topology.h"

#include <fmt/format.h>

#include <limits>
#include <nlohmann/json.hpp>

namespace tpufleet::sim {

namespace {

using nlohmann::json;

// An integer field within [lo, hi]. Checked before converting: a JSON 1e30 or -1 read as an int
// or uint64 would be undefined or wrap.
template <typename T>
Status ReadInteger(const json& object, const char* key, const std::string& where, int64_t lo,
                   int64_t hi, T& out) {
  if (!object.contains(key)) return OkStatus();
  const json& v = object[key];
  int64_t value = 0;
  bool in_range = false;
  if (v.is_number_unsigned()) {  // non-negative integers; may exceed int64
    in_range = v.get<uint64_t>() <= static_cast<uint64_t>(hi);
    value = in_range ? static_cast<int64_t>(v.get<uint64_t>()) : 0;
  } else if (v.is_number_integer()) {
    value = v.get<int64_t>();
    in_range = value <= hi;
  }
  if (!in_range || value < lo) {
    return InvalidArgumentError(fmt::format("{}.{} is {}; it must be an integer from {} to {}",
                                            where, key, v.dump(), lo, hi));
  }
  out = static_cast<T>(value);
  return OkStatus();
}

// A number field within [lo, hi] (finite).
template <typename T>
Status ReadNumber(const json& object, const char* key, const std::string& where, double lo,
                  double hi, T& out) {
  if (!object.contains(key)) return OkStatus();
  const json& v = object[key];
  if (!v.is_number() || !(v.get<double>() >= lo && v.get<double>() <= hi)) {
    return InvalidArgumentError(fmt::format("{}.{} is {}; it must be a number from {} to {}", where,
                                            key, v.dump(), lo, hi));
  }
  out = v.get<double>();
  return OkStatus();
}

Status ReadText(const json& object, const char* key, const std::string& where, std::string& out) {
  if (!object.contains(key)) return OkStatus();
  if (!object[key].is_string())
    return InvalidArgumentError(fmt::format("{}.{} must be a string", where, key));
  out = object[key].get<std::string>();
  return OkStatus();
}

constexpr int64_t kMaxCount = std::numeric_limits<int32_t>::max();
constexpr double kMaxSeconds = 1e9;  // about 30 years

Status ReadFaults(const json& f, const std::string& where, FaultPlan& plan) {
  if (!f.is_object()) return InvalidArgumentError(where + " must be an object");
  int count = 0;
  if (f.contains("disconnect_after")) {
    TPUFLEET_RETURN_IF_ERROR(ReadInteger(f, "disconnect_after", where, 0, kMaxCount, count));
    plan.disconnect_after = count;
  }
  if (f.contains("hang_after")) {
    TPUFLEET_RETURN_IF_ERROR(ReadInteger(f, "hang_after", where, 0, kMaxCount, count));
    plan.hang_after = count;
  }
  if (f.contains("slow_after")) {
    TPUFLEET_RETURN_IF_ERROR(ReadInteger(f, "slow_after", where, 0, kMaxCount, count));
    plan.slow_after = count;
  }
  if (f.contains("recover_after_probes")) {
    TPUFLEET_RETURN_IF_ERROR(ReadInteger(f, "recover_after_probes", where, 0, kMaxCount, count));
    plan.recover_after_probes = count;
  }
  if (f.contains("disconnect_at")) {
    double at = 0;
    TPUFLEET_RETURN_IF_ERROR(ReadNumber(f, "disconnect_at", where, 0, kMaxSeconds, at));
    plan.disconnect_at = at;
  }
  TPUFLEET_RETURN_IF_ERROR(ReadNumber(f, "hang_seconds", where, 0, kMaxSeconds, plan.hang_seconds));
  TPUFLEET_RETURN_IF_ERROR(ReadNumber(f, "slowdown", where, 1, 1e6, plan.slowdown));
  TPUFLEET_RETURN_IF_ERROR(
      ReadNumber(f, "prepare_seconds", where, 0, kMaxSeconds, plan.prepare_seconds));
  TPUFLEET_RETURN_IF_ERROR(
      ReadNumber(f, "reopen_seconds", where, 0, kMaxSeconds, plan.reopen_seconds));
  if (f.contains("abort_on_input_byte")) {
    TPUFLEET_RETURN_IF_ERROR(ReadInteger(f, "abort_on_input_byte", where, 0, 255, count));
    plan.abort_on_input_byte = count;
  }
  return ReadInteger(f, "transient_error_every", where, 0, kMaxCount, plan.transient_error_every);
}

Result<SimDeviceConfig> ReadDevice(const json& d, size_t index) {
  std::string where = fmt::format("devices[{}]", index);
  if (!d.is_object()) return InvalidArgumentError(where + " is not an object");
  SimDeviceConfig config;
  config.hardware.bus = static_cast<int>(index) + 1;
  std::string text;
  if (d.contains("link")) {
    TPUFLEET_RETURN_IF_ERROR(ReadText(d, "link", where, text));
    Result<Link> link = ParseLink(text);
    if (!link.ok()) return link.status().WithContext(where + ".link");
    config.hardware.link = link.value();
  }
  if (d.contains("clock")) {
    TPUFLEET_RETURN_IF_ERROR(ReadText(d, "clock", where, text));
    Result<Clock> clock = ParseClock(text);
    if (!clock.ok()) return clock.status().WithContext(where + ".clock");
    config.hardware.clock = clock.value();
  }
  TPUFLEET_RETURN_IF_ERROR(
      ReadInteger(d, "sram_bytes", where, 1024, int64_t{1} << 40, config.hardware.sram_bytes));
  TPUFLEET_RETURN_IF_ERROR(ReadInteger(d, "bus", where, 0, 65535, config.hardware.bus));
  TPUFLEET_RETURN_IF_ERROR(ReadNumber(d, "time_scale", where, 0, 1e6, config.hardware.time_scale));
  if (d.contains("compute_outputs")) {
    if (!d["compute_outputs"].is_boolean())
      return InvalidArgumentError(where + ".compute_outputs must be true or false");
    config.compute_outputs = d["compute_outputs"].get<bool>();
  }
  if (d.contains("faults"))
    TPUFLEET_RETURN_IF_ERROR(ReadFaults(d["faults"], where + ".faults", config.faults));
  return config;
}

}  // namespace

Result<std::vector<SimDeviceConfig>> ParseTopology(const std::string& json_text) {
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object() || !root.contains("devices") ||
      !root["devices"].is_array()) {
    return InvalidArgumentError(
        "a simulated topology is a JSON object {\"devices\": [{\"link\": \"usb3\", ...}, ...]}");
  }
  std::vector<SimDeviceConfig> devices;
  for (size_t i = 0; i < root["devices"].size(); ++i) {
    TPUFLEET_ASSIGN_OR_RETURN(SimDeviceConfig config, ReadDevice(root["devices"][i], i));
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
