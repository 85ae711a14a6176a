// The two enumeration orders, which give `:N`, `usb:N` and `pci:N` their meaning.
//
// kCoral reproduces libedgetpu: PCIe devices first, in readdir order of /sys/class/apex
// (unsorted); then USB sticks still in bootloader mode (1a6e:089a), then those already running
// firmware (18d1:9302), each group in libusb's order. A stick changes group when any process
// opens it, so Coral's `usb:0` can name a different stick from one run to the next.
//
// kStable is tpufleet's default: PCIe by N of apex_N, then USB by bus and port chain. It depends
// only on where devices are plugged in.
#pragma once

#include <string>
#include <vector>

#include "devices/discovery.h"
#include "tpufleet/device.h"
#include "tpufleet/status.h"

namespace tpufleet {

enum class EnumerationOrder { kStable, kCoral };

// "stable" or "coral".
Result<EnumerationOrder> ParseEnumerationOrder(const std::string& text);
const char* EnumerationOrderName(EnumerationOrder order);

// Sorts Edge TPUs (discovery order in, see devices/discovery.h) into `order`. CPU and simulated
// devices keep their relative order after the Edge TPUs.
std::vector<DeviceInfo> Ordered(std::vector<DeviceInfo> devices, EnumerationOrder order);

// True when `a` comes before `b` in the stable order.
bool StableBefore(const DeviceInfo& a, const DeviceInfo& b);

// The inventory's Edge TPUs in libedgetpu's order: when the runtime loaded, the order it lists
// them in (what `:N` indexes in Coral), devices it does not list after those; else kCoral's
// reconstruction from sysfs.
std::vector<DeviceInfo> CoralOrdered(const Inventory& inventory);

}  // namespace tpufleet
