// The fleet's metrics as tables for people: one row per device, one per model.
#pragma once

#include <string>

#include "tpufleet/fleet.h"

namespace tpufleet::cli {

std::string MetricsTable(const FleetMetrics& metrics);

}  // namespace tpufleet::cli
