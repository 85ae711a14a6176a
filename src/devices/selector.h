// Device strings: Coral's grammar, exactly, plus tpufleet's own forms.
//
//   ""  usb  pci        any device (of that type); the caller prefers one already open, then PCIe
//   :N  usb:N  pci:N    the N-th Edge TPU (of that type) in the enumeration order
//   cpu                 the CPU backend
//   sim  sim:N          any simulated Edge TPU / the N-th one
//   usb@2-1.3           the USB stick on that port (also usb@/sys/bus/usb/devices/2-1.3)
//   pci@/dev/apex_0     the PCIe device with that node (also pci@apex_0)
//
// Lowercase only; N is a non-negative decimal integer. Everything else is rejected with the
// reason and, on resolution, the list of devices that exist.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tpufleet/device.h"
#include "tpufleet/status.h"

namespace tpufleet {

struct Selector {
  std::string text;                // as written
  std::optional<DeviceType> type;  // none: any Edge TPU type
  std::optional<int> index;        // for the indexed forms
  std::string port_or_node;        // for usb@ / pci@: "2-1.3" or "apex_0"

  bool is_any() const { return !index && port_or_node.empty(); }
};

Result<Selector> ParseSelector(std::string_view text);

// The devices `selector` names among `devices` (already in enumeration order): exactly one for
// indexed and path forms; every match, in order, for the "any" forms. Errors list what exists.
Result<std::vector<const DeviceInfo*>> ResolveSelector(const Selector& selector,
                                                       const std::vector<DeviceInfo>& devices);

// "pci:0 /dev/apex_0 (ready); usb:0 /sys/bus/usb/devices/2-1 (needs firmware)", or "none".
std::string DescribeDevices(const std::vector<DeviceInfo>& devices);

// The device string that names `device` whatever the enumeration order: "usb@2-1.3",
// "pci@apex_0"; "sim:N" and "cpu" for the others.
std::string StableDeviceString(const DeviceInfo& device);

}  // namespace tpufleet
