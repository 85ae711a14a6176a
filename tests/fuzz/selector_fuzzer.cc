// libFuzzer target: arbitrary text as a device string, parsed and resolved against a fixed list,
// and as a model spec (MODEL@DEVICE).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "devices/selector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<tpufleet::DeviceInfo> devices = [] {
    std::vector<tpufleet::DeviceInfo> list(3);
    list[0].type = tpufleet::DeviceType::kPci;
    list[0].name = "apex_0";
    list[0].path = "/dev/apex_0";
    list[1].name = "2-1";
    list[1].path = "/sys/bus/usb/devices/2-1";
    list[2].type = tpufleet::DeviceType::kSim;
    list[2].name = "sim:0";
    return list;
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tpufleet::Result<tpufleet::Selector> selector = tpufleet::ParseSelector(text);
  if (selector.ok()) (void)tpufleet::ResolveSelector(*selector, devices);
  (void)tpufleet::ParseModelSpec(text);
  return 0;
}
