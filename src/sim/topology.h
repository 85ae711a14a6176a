// Rigs of simulated Edge TPUs: the topology files of `--topology` and the default rig.
#pragma once

#include <string>
#include <vector>

#include "sim/sim_device.h"
#include "tpufleet/status.h"

namespace tpufleet::sim {

// A rig of simulated devices from JSON:
//   {"devices": [{"link": "usb3", "clock": "max", "sram_bytes": 8388608, "bus": 1,
//                 "time_scale": 1, "faults": {"disconnect_after": 10, "slowdown": 2.0, ...}},
//                ...]}
// Every field is optional (defaults: usb3, max, 8 MiB, bus = the device's index + 1, time scale
// 1, no faults).
Result<std::vector<SimDeviceConfig>> ParseTopology(const std::string& json_text);
// Two USB 3 sticks on separate root ports (buses 1 and 2).
std::vector<SimDeviceConfig> DefaultTopology();

}  // namespace tpufleet::sim
