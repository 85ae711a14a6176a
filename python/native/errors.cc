#include "errors.h"

#include "bindings.h"

namespace py = pybind11;

namespace tpufleet::python {

void BindErrors(py::module_& m) {
  // Created once per process; the module keeps its reference for the interpreter's life.
  static PyObject* error_type =
      PyErr_NewExceptionWithDoc("tpufleet._native.Error",
                                "A tpufleet call failed. str(e) is tpufleet's message (what was "
                                "wrong and what would be right); e.code the status code's name, "
                                "e.g. 'NOT_FOUND' or 'INVALID_ARGUMENT'.",
                                PyExc_RuntimeError, nullptr);
  m.add_object("Error", py::handle(error_type));
  py::register_exception_translator([](std::exception_ptr pending) {
    try {
      if (pending) std::rethrow_exception(pending);
    } catch (const StatusError& e) {
      py::object error = py::reinterpret_borrow<py::object>(error_type)(e.status().message());
      error.attr("code") = StatusCodeName(e.status().code());
      PyErr_SetObject(error_type, error.ptr());
    }
  });
}

}  // namespace tpufleet::python
