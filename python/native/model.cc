// tpufleet._native.Model: a verified model and what it describes (tensors, operators, Edge TPU
// packages), read-only.
#include "tpufleet/model.h"

#include <pybind11/stl.h>

#include "arrays.h"
#include "bindings.h"
#include "errors.h"

namespace py = pybind11;

namespace tpufleet::python {

namespace {

py::dict TensorInfoDict(const TensorInfo& t) {
  py::dict d;
  d["index"] = t.index;
  d["name"] = t.name;
  d["type"] = DataTypeName(t.type);
  d["shape"] = t.shape;
  d["scales"] = t.quantization.scales;
  d["zero_points"] = t.quantization.zero_points;
  d["quantized_dimension"] = t.quantization.axis;
  d["is_constant"] = t.is_constant;
  d["is_sparse"] = t.is_sparse;
  d["byte_size"] = t.byte_size;
  return d;
}

py::dict OperatorInfoDict(const OperatorInfo& op) {
  py::dict d;
  d["index"] = op.index;
  d["name"] = op.name;
  d["is_custom"] = op.is_custom;
  d["inputs"] = op.inputs;
  d["outputs"] = op.outputs;
  d["macs"] = op.macs;
  return d;
}

}  // namespace

void BindModel(py::module_& m) {
  // pybind11 holds shared_ptr<Model>; nothing here mutates it (every Model method is const).
  py::class_<Model, std::shared_ptr<Model>>(
      m, "Model",
      "A verified TensorFlow Lite model (immutable, shared between "
      "interpreters and fleets).")
      .def_static(
          "from_file",
          [](const std::string& path) {
            py::gil_scoped_release unlocked;
            return std::const_pointer_cast<Model>(Unwrap(Model::FromFile(path)));
          },
          py::arg("path"), "Loads and verifies a .tflite file.")
      .def_static(
          "from_bytes",
          [](py::bytes content, const std::string& name) {
            std::string_view view = content;
            std::vector<uint8_t> bytes(view.begin(), view.end());
            py::gil_scoped_release unlocked;
            return std::const_pointer_cast<Model>(
                Unwrap(Model::FromBuffer(std::move(bytes), name)));
          },
          py::arg("content"), py::arg("name") = "<memory>",
          "Verifies the bytes of a .tflite file (copied).")
      .def_property_readonly("name", &Model::name)
      .def_property_readonly("description", &Model::description)
      .def_property_readonly("subgraph_count", &Model::subgraph_count)
      .def_property_readonly("is_edgetpu_compiled", &Model::is_edgetpu_compiled)
      .def_property_readonly("input_indices", &Model::input_indices)
      .def_property_readonly("output_indices", &Model::output_indices)
      .def_property_readonly(
          "numpy_dtypes",
          [](const Model& model) {
            py::list dtypes;
            for (const TensorInfo& t : model.tensors()) {
              try {
                dtypes.append(NumpyDtype(t.type));
              } catch (const StatusError&) {
                dtypes.append(py::none());
              }
            }
            return dtypes;
          },
          "Each tensor's numpy dtype (None where numpy has none).")
      .def_property_readonly(
          "tensors",
          [](const Model& model) {
            py::list out;
            for (const TensorInfo& t : model.tensors()) out.append(TensorInfoDict(t));
            return out;
          },
          "Every tensor of the main subgraph: index, name, type, shape, scales, zero_points, "
          "quantized_dimension, is_constant, is_sparse, byte_size.")
      .def_property_readonly(
          "operators",
          [](const Model& model) {
            py::list out;
            for (const OperatorInfo& op : model.operators()) out.append(OperatorInfoDict(op));
            return out;
          },
          "Every operator of the main subgraph: index, name, is_custom, inputs, outputs, macs.")
      .def_property_readonly(
          "bytes",
          [](const Model& model) {
            std::span<const uint8_t> data = model.bytes();
            return py::bytes(reinterpret_cast<const char*>(data.data()), data.size());
          },
          "The model's flatbuffer (a copy), as a .tflite file holds it.")
      .def(
          "constant_data",
          [](const Model& model, int tensor) {
            if (tensor < 0 || tensor >= static_cast<int>(model.tensors().size())) {
              throw StatusError(InvalidArgumentError("tensor " + std::to_string(tensor) +
                                                     " is not in the model: it has tensors 0 to " +
                                                     std::to_string(model.tensors().size() - 1)));
            }
            std::span<const uint8_t> data = model.constant_data(tensor);
            return py::bytes(reinterpret_cast<const char*>(data.data()), data.size());
          },
          py::arg("tensor"), "The constant data of a tensor (a copy; empty for activations).")
      .def("__repr__",
           [](const Model& model) { return "<tpufleet.Model '" + model.name() + "'>"; });
}

}  // namespace tpufleet::python
