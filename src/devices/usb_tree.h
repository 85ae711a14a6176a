// A drawing of the USB topology in the manner of `lsusb -t`, with the doctor's findings beside the
// devices they concern, followed by the PCIe devices.
#pragma once

#include <string>
#include <vector>

#include "devices/discovery.h"
#include "devices/doctor.h"

namespace tpufleet {

std::string DrawTopology(const Inventory& inventory, const std::vector<Finding>& findings);

}  // namespace tpufleet
