#include "devices/order.h"

#include <algorithm>
#include <charconv>
#include <tuple>

namespace tpufleet {
namespace {

int ApexNumber(const DeviceInfo& device) {
  int n = -1;
  std::string_view name = device.name;
  if (name.starts_with("apex_")) std::from_chars(name.data() + 5, name.data() + name.size(), n);
  return n;
}

// Group rank: Edge TPUs before others; within Coral's order PCIe, then bootloader, then ready USB.
int Group(const DeviceInfo& device, EnumerationOrder order) {
  switch (device.type) {
    case DeviceType::kPci: return 0;
    case DeviceType::kUsb:
      return order == EnumerationOrder::kCoral && device.state != DeviceState::kNeedsFirmware ? 2
                                                                                              : 1;
    case DeviceType::kSim: return 3;
    case DeviceType::kCpu: return 4;
  }
  return 5;
}

}  // namespace

Result<EnumerationOrder> ParseEnumerationOrder(const std::string& text) {
  if (text == "stable") return EnumerationOrder::kStable;
  if (text == "coral") return EnumerationOrder::kCoral;
  return InvalidArgumentError(
      "unknown order '" + text +
      "'; use 'stable' (by port, the default) or 'coral' "
      "(libedgetpu's: PCIe, then sticks needing firmware, then ready sticks)");
}

const char* EnumerationOrderName(EnumerationOrder order) {
  return order == EnumerationOrder::kCoral ? "coral" : "stable";
}

std::vector<DeviceInfo> Ordered(std::vector<DeviceInfo> devices, EnumerationOrder order) {
  if (order == EnumerationOrder::kCoral) {
    std::stable_sort(devices.begin(), devices.end(), [&](const DeviceInfo& a, const DeviceInfo& b) {
      return Group(a, order) < Group(b, order);
    });
  } else {
    std::stable_sort(devices.begin(), devices.end(), StableBefore);
  }
  return devices;
}

bool StableBefore(const DeviceInfo& a, const DeviceInfo& b) {
  constexpr EnumerationOrder kOrder = EnumerationOrder::kStable;
  return std::make_tuple(Group(a, kOrder), ApexNumber(a), a.bus, a.ports) <
         std::make_tuple(Group(b, kOrder), ApexNumber(b), b.bus, b.ports);
}

std::vector<DeviceInfo> CoralOrdered(const Inventory& inventory) {
  std::vector<DeviceInfo> devices = Ordered(inventory.devices, EnumerationOrder::kCoral);
  if (!inventory.runtime || !inventory.runtime->loaded) return devices;
  const std::vector<RuntimeDevice>& listed = inventory.runtime->devices;
  auto position = [&](const DeviceInfo& d) {
    auto it = std::find_if(listed.begin(), listed.end(), [&](const RuntimeDevice& r) {
      return r.type == d.type && r.path == d.path;
    });
    return it - listed.begin();  // listed.size() for a device the runtime does not list
  };
  std::stable_sort(devices.begin(), devices.end(), [&](const DeviceInfo& a, const DeviceInfo& b) {
    return position(a) < position(b);
  });
  return devices;
}

}  // namespace tpufleet
