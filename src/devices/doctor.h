// The topology doctor: why an Edge TPU will be slow or unusable, found before deployment.
#pragma once

#include <string>
#include <vector>

#include "devices/discovery.h"

namespace tpufleet {

enum class Severity { kError, kWarning, kInfo };
const char* SeverityName(Severity severity);

struct Finding {
  Severity severity = Severity::kInfo;
  std::string device;  // the device or hub it concerns: "usb@2-3.2.2", "pci@/dev/apex_1", "hub 1-2"
  std::string message;  // what is wrong, what it costs, what to do
};

// Checks, in order of severity:
// - error: a stick on a secondary port (any but port 1) of a hub that sits inside another hub
//   cannot get an Edge TPU context (Coral's hub rule);
// - error: a PCIe device without its /dev/apex_N node;
// - warning: a USB 2 link (about 4x slower on small models, up to 12x on large ones);
// - warning: several Edge TPUs behind one root port (they share its bandwidth);
// - warning: a bus-powered hub that cannot give each stick 500 mA (900 mA at the max clock);
// - warning: a PCIe device at or within 5 C of its first thermal trip point, or owned by
//   another process;
// - info: a stick still in bootloader mode (the first open loads firmware, 3 s or more).
std::vector<Finding> Diagnose(const Inventory& inventory);

// The device's tpufleet path selector: "usb@2-1.3" or "pci@/dev/apex_0".
std::string PathSelector(const DeviceInfo& device);

}  // namespace tpufleet
