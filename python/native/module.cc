// tpufleet._native: the public C++ API (include/tpufleet) for Python. The Python packages
// tpufleet, tflite_runtime and pycoral are written over it.
#include "bindings.h"

PYBIND11_MODULE(_native, m) {
  m.doc() = "tpufleet's C++ runtime: models, devices, interpreters and fleets.";
  tpufleet::python::BindErrors(m);
  tpufleet::python::BindModel(m);
  tpufleet::python::BindModelEditor(m);
  tpufleet::python::BindDevices(m);
  tpufleet::python::BindInterpreter(m);
  tpufleet::python::BindFleet(m);
  tpufleet::python::BindPipeline(m);
}
