#include "tpufleet/device.h"

namespace tpufleet {

const char* DeviceTypeName(DeviceType type) {
  switch (type) {
    case DeviceType::kPci: return "pci";
    case DeviceType::kUsb: return "usb";
    case DeviceType::kCpu: return "cpu";
    case DeviceType::kSim: return "sim";
  }
  return "unknown";
}

const char* DeviceStateName(DeviceState state) {
  switch (state) {
    case DeviceState::kReady: return "ready";
    case DeviceState::kNeedsFirmware: return "needs firmware";
    case DeviceState::kOwnedElsewhere: return "owned by another process";
    case DeviceState::kMissingNode: return "no device node";
  }
  return "unknown";
}

}  // namespace tpufleet
