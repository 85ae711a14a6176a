// Paths to the project's own test fixtures (tests/fixtures).
#pragma once

#include <string>

namespace tpufleet::testing {

// A sysfs fixture root, e.g. SysfsFixture("coral_hub_example").
inline std::string SysfsFixture(const std::string& name) {
  return std::string(TPUFLEET_FIXTURES_DIR) + "/sysfs/" + name;
}

}  // namespace tpufleet::testing
