// The parts of the tpufleet._native extension module, one per area of the public C++ API
// (include/tpufleet). Each Bind* adds its classes and functions to the module; module.cc calls
// them in dependency order (errors first: the others raise through it).
#pragma once

#include <pybind11/pybind11.h>

namespace tpufleet::python {

void BindErrors(pybind11::module_& m);
void BindModel(pybind11::module_& m);
void BindModelEditor(pybind11::module_& m);
void BindDevices(pybind11::module_& m);
void BindInterpreter(pybind11::module_& m);
void BindFleet(pybind11::module_& m);
void BindPipeline(pybind11::module_& m);

}  // namespace tpufleet::python
