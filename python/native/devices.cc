// tpufleet._native: list_devices, DeviceInfo, open_device and Device (a shared device handle).
#include <pybind11/stl.h>

#include "bindings.h"
#include "errors.h"
#include "options.h"
#include "tpufleet/device.h"
#include "tpufleet/interpreter.h"

namespace py = pybind11;

namespace tpufleet::python {

void BindDevices(py::module_& m) {
  py::class_<DeviceInfo>(m, "DeviceInfo", "What tpufleet knows about one device.")
      .def_property_readonly("type", [](const DeviceInfo& d) { return DeviceTypeName(d.type); })
      .def_readonly("path", &DeviceInfo::path)
      .def_readonly("name", &DeviceInfo::name)
      .def_property_readonly("state", [](const DeviceInfo& d) { return DeviceStateName(d.state); })
      .def_readonly("link_speed_mbps", &DeviceInfo::link_speed_mbps)
      .def_readonly("serial", &DeviceInfo::serial)
      .def("__repr__", [](const DeviceInfo& d) {
        return std::string("<tpufleet.DeviceInfo ") + DeviceTypeName(d.type) + " '" + d.path + "'>";
      });

  m.def(
      "list_devices",
      [] {
        py::gil_scoped_release unlocked;
        return ListDevices().devices;
      },
      "The Edge TPUs on this machine in libedgetpu's enumeration order (':N' indexes it).");

  py::class_<DeviceHandle, DevicePtr>(m, "Device",
                                      "An opened device, shared by the interpreters made on it.")
      .def_property_readonly("info", &DeviceHandle::info)
      .def_property_readonly("name", &DeviceHandle::name)
      .def("__repr__",
           [](const DeviceHandle& d) { return "<tpufleet.Device '" + d.name() + "'>"; });

  m.def(
      "open_device",
      [](const std::string& device, const py::dict& options) {
        DeviceOptions parsed = DeviceOptionsFrom(options);
        py::gil_scoped_release unlocked;
        return Unwrap(OpenDevice(device, parsed));
      },
      py::arg("device") = "", py::arg("options") = py::dict(),
      "Opens the device a device string names ('', 'usb:1', ':0', 'sim:1', 'cpu', ...).");
}

}  // namespace tpufleet::python
