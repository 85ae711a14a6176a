// Device strings: Coral's grammar, exactly, plus tpufleet's own forms.
//
//   ""  usb  pci        one device (of that type), as libedgetpu picks it: one already open in
//                       this process, else the first; PCIe before USB for ""
//   :N  usb:N  pci:N    the N-th Edge TPU (of that type) in libedgetpu's enumeration order
//   #N  usb#N  pci#N    the N-th Edge TPU (of that type) in tpufleet's stable order (by port)
//   cpu                 the CPU backend
//   sim  sim:N          any simulated Edge TPU / the N-th one
//   usb@2-1.3           the USB stick on that port (also usb@/sys/bus/usb/devices/2-1.3)
//   pci@/dev/apex_0     the PCIe device with that node (also pci@apex_0)
//
// Lowercase only; N is a non-negative decimal integer. Everything else is rejected with the
// reason and, on resolution, the list of devices that exist. Coral's forms (the first two lines)
// mean exactly what they mean in libedgetpu, so a device string moved from PyCoral opens the
// same device; `#N` and `@PORT` do not change when another process initialises a stick.
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
  bool stable_order = false;       // the index counts in the stable order (#N), not Coral's (:N)
  std::string port_or_node;        // for usb@ / pci@: "2-1.3" or "apex_0"

  bool is_any() const { return !index && port_or_node.empty(); }
};

Result<Selector> ParseSelector(std::string_view text);

// The devices `selector` names among `devices`, which are in libedgetpu's enumeration order
// (devices/order.h): exactly one for indexed and path forms (`:N` counts in the order given,
// `#N` in the stable order); every match for the "any" forms, in the order they are preferred
// in (PCIe first for ""); the caller takes one already open, else the first. Errors list what
// exists.
Result<std::vector<const DeviceInfo*>> ResolveSelector(const Selector& selector,
                                                       const std::vector<DeviceInfo>& devices);

// "pci:0 /dev/apex_0 (ready); usb:0 /sys/bus/usb/devices/2-1 (needs firmware)", or "none".
std::string DescribeDevices(const std::vector<DeviceInfo>& devices);

// The device string that names `device` whatever the enumeration order: "usb@2-1.3",
// "pci@apex_0"; "sim:N" and "cpu" for the others.
std::string StableDeviceString(const DeviceInfo& device);

// A real Edge TPU (USB or PCIe), not a simulated or CPU device.
bool IsEdgeTpu(const DeviceInfo& device);

// A model with the device it should run on: "model.tflite", "model.tflite@usb:1",
// "model.tflite@usb@2-1.3", "dir@host/model.tflite@sim:0". The device is what follows the first
// '@' that a valid device string follows, so device strings may hold '@' themselves. A file name
// with an '@' of its own ends with '@' when no device is meant ("model@2x.tflite@"): without it,
// INVALID_ARGUMENT says what is wrong after that '@'. The device is empty when none is given.
struct ModelSpec {
  std::string model;
  std::string device;
};
Result<ModelSpec> ParseModelSpec(std::string_view spec);

}  // namespace tpufleet
