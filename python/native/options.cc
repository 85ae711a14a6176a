#include "options.h"

#include <fmt/format.h>
#include <pybind11/stl.h>

#include "errors.h"

namespace py = pybind11;

namespace tpufleet::python {

DeviceOptions DeviceOptionsFrom(const py::dict& options) {
  DeviceOptions out;
  for (auto [key, value] : options) {
    std::string name = py::str(key);
    if (name == "sim_topology_json") {
      out.sim_topology_json = value.cast<std::string>();
    } else if (name == "sim_full_models") {
      out.sim_full_models = value.cast<std::vector<std::string>>();
    } else if (name == "real_time") {
      out.real_time = value.cast<bool>();
    } else if (name == "sim_outputs") {
      out.sim_outputs = value.cast<bool>();
    } else if (name == "allow_timing_only") {
      out.allow_timing_only = value.cast<bool>();
    } else if (name == "cpu_threads") {
      out.cpu_threads = value.cast<int>();
    } else if (name == "isolate") {
      out.isolate = value.cast<bool>();
    } else if (name == "device_host") {
      out.device_host = value.cast<std::string>();
    } else if (name == "edgetpu_options") {
      for (auto [k, v] : value.cast<py::dict>())
        out.edgetpu_options.emplace_back(py::str(k), py::str(v));
    } else {
      throw StatusError(InvalidArgumentError(
          fmt::format("unknown device option '{}'; the options are sim_topology_json, "
                      "sim_full_models, real_time, sim_outputs, allow_timing_only, cpu_threads, "
                      "edgetpu_options, isolate "
                      "and device_host",
                      name)));
    }
  }
  return out;
}

}  // namespace tpufleet::python
