// The benchmarks' simulated rigs: N devices, each on a USB bus of its own, so that no figure
// measures bus sharing unless it means to.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

namespace tpufleet::bench {

// A topology of `devices` devices on buses 1 to N, each device's JSON object also holding
// `fields` (e.g. R"(, "compute_outputs": false)").
inline std::string OwnBusRig(int devices, std::string_view fields = "") {
  std::string json = R"({"devices": [)";
  for (int i = 0; i < devices; ++i)
    json += fmt::format(R"({}{{"bus": {}{}}})", i ? ", " : "", i + 1, fields);
  return json + "]}";
}

// "sim:0" to "sim:N-1".
inline std::vector<std::string> SimDevices(int devices) {
  std::vector<std::string> names;
  for (int i = 0; i < devices; ++i) names.push_back(fmt::format("sim:{}", i));
  return names;
}

}  // namespace tpufleet::bench
