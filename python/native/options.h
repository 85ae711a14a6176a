// DeviceOptions from Python keyword arguments, one conversion for every entry point that opens
// devices (open_device, make_interpreter, Fleet).
#pragma once

#include <pybind11/pybind11.h>

#include "tpufleet/device.h"

namespace tpufleet::python {

// Reads sim_topology_json (str), real_time (bool), cpu_threads (int), edgetpu_options
// (dict of str to str) and isolate (bool) from `options`; keys not there keep their defaults.
// Other keys raise tpufleet.Error (INVALID_ARGUMENT) naming the ones there are.
DeviceOptions DeviceOptionsFrom(const pybind11::dict& options);

}  // namespace tpufleet::python
