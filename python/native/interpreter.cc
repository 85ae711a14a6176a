// tpufleet._native.Interpreter: one model prepared on one device, tensors as numpy arrays in
// place, invocations with the GIL released.
#include "tpufleet/interpreter.h"

#include <fmt/format.h>
#include <pybind11/stl.h>

#include "arrays.h"
#include "bindings.h"
#include "errors.h"
#include "options.h"

namespace py = pybind11;

namespace tpufleet::python {

namespace {

size_t CheckedIndex(int64_t i, size_t count, const char* what) {
  if (i < 0 || static_cast<size_t>(i) >= count) {
    throw py::index_error(fmt::format("{} {} does not exist; the model has {} {}s (0 to {})", what,
                                      i, count, what, static_cast<int64_t>(count) - 1));
  }
  return static_cast<size_t>(i);
}

}  // namespace

void BindInterpreter(py::module_& m) {
  // Held by shared_ptr: a pipeline shares the interpreters it runs (native/pipeline.cc).
  py::class_<Interpreter, std::shared_ptr<Interpreter>>(
      m, "Interpreter",
      "One model prepared on one device. One thread at a time, as TensorFlow "
      "Lite's; interpreters on one device may run from different threads.")
      .def_property_readonly("device", &Interpreter::device_handle)
      .def_property_readonly("input_count", &Interpreter::input_count)
      .def_property_readonly("output_count", &Interpreter::output_count)
      .def(
          "input_index",
          [](Interpreter& self, int64_t i) {
            return self.input(CheckedIndex(i, self.input_count(), "input")).index();
          },
          "The model's tensor index of input i.")
      .def(
          "output_index",
          [](Interpreter& self, int64_t i) {
            return self.output(CheckedIndex(i, self.output_count(), "output")).index();
          },
          "The model's tensor index of output i.")
      .def(
          "input",
          [](py::object self, int64_t i) {
            Interpreter& interpreter = self.cast<Interpreter&>();
            return TensorView(
                interpreter.model(),
                interpreter.input(CheckedIndex(i, interpreter.input_count(), "input")), self,
                /*writable=*/true);
          },
          "Input i as a writable numpy array over the tensor itself (it keeps the interpreter "
          "alive).")
      .def(
          "output",
          [](py::object self, int64_t i) {
            Interpreter& interpreter = self.cast<Interpreter&>();
            return TensorView(
                interpreter.model(),
                interpreter.output(CheckedIndex(i, interpreter.output_count(), "output")), self,
                /*writable=*/false);
          },
          "Output i as a read-only numpy array over the tensor itself (it keeps the interpreter "
          "alive); the next invoke overwrites it.")
      .def(
          "invoke",
          [](Interpreter& self) {
            Status status;
            {
              py::gil_scoped_release unlocked;
              status = self.Invoke();
            }
            ThrowIfError(status);
          },
          "Runs the model on its inputs as they are now, with the GIL released.")
      .def_property_readonly(
          "last_invocation",
          [](const Interpreter& self) {
            py::dict d;
            d["device_seconds"] = self.last_invocation().device_seconds;
            d["timing_only"] = self.last_invocation().timing_only;
            return d;
          },
          "{'device_seconds': modeled or measured device time, 'timing_only': outputs are "
          "zeros because a simulated device could not compute them}.")
      .def_property_readonly(
          "address", [](const Interpreter& self) { return reinterpret_cast<uintptr_t>(&self); },
          "The C++ object's address: an opaque handle, as TensorFlow Lite's _native_handle().");

  m.def(
      "make_interpreter",
      [](std::shared_ptr<Model> model, const DevicePtr& device) {
        py::gil_scoped_release unlocked;
        return std::shared_ptr<Interpreter>(Unwrap(MakeInterpreter(std::move(model), device)));
      },
      py::arg("model"), py::arg("device"), "Prepares `model` on an opened Device.");
  m.def(
      "make_interpreter",
      [](std::shared_ptr<Model> model, const std::string& device, const py::dict& options) {
        DeviceOptions parsed = DeviceOptionsFrom(options);
        py::gil_scoped_release unlocked;
        return std::shared_ptr<Interpreter>(
            Unwrap(MakeInterpreter(std::move(model), device, parsed)));
      },
      py::arg("model"), py::arg("device") = "", py::arg("options") = py::dict(),
      "Prepares `model` on the device a device string names.");
}

}  // namespace tpufleet::python
