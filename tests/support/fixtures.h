// Paths to the project's own test fixtures (tests/fixtures).
#pragma once

#include <string>

#include "devices/discovery.h"

namespace tpufleet::testing {

// A sysfs fixture root, e.g. SysfsFixture("coral_hub_example").
inline std::string SysfsFixture(const std::string& name) {
  return std::string(TPUFLEET_FIXTURES_DIR) + "/sysfs/" + name;
}

// A model of one TensorFlow Lite operator the CPU backend does not run (SIN; built from its JSON
// beside it with `flatc -b src/model/tflite.fbs`).
inline std::string UnsupportedOperatorModel() {
  return std::string(TPUFLEET_FIXTURES_DIR) + "/models/sin_unsupported.tflite";
}

// The devices of a sysfs fixture, without asking libedgetpu.
inline Inventory DiscoverFixture(const std::string& name) {
  DiscoveryOptions options;
  options.sysfs_root = SysfsFixture(name);
  options.query_runtime = false;
  return DiscoverDevices(options);
}

}  // namespace tpufleet::testing
