// tpufleet._native.ModelEditor: host-side surgery on a model's main subgraph (tpufleet's
// ModelEditor), for the learning engines that retrain or extend a model's last layers.
#include "tpufleet/model_editor.h"

#include <pybind11/stl.h>

#include "bindings.h"
#include "errors.h"

namespace py = pybind11;

namespace tpufleet::python {

namespace {

// The DataType whose DataTypeName is `name` ("uint8", "int32", ...).
DataType DataTypeNamed(const std::string& name) {
  for (int value = 0; value <= static_cast<int>(DataType::kBFloat16); ++value) {
    auto type = static_cast<DataType>(value);
    if (DataTypeName(type) == name) return type;
  }
  throw StatusError(InvalidArgumentError("'" + name +
                                         "' is not a tensor type: give a name such as 'uint8', "
                                         "'int32' or 'float32'"));
}

Quantization QuantizationOf(const std::vector<float>& scales,
                            const std::vector<int64_t>& zero_points, int axis) {
  Quantization q;
  q.scales = scales;
  q.zero_points = zero_points;
  q.axis = axis;
  return q;
}

std::vector<uint8_t> BytesOf(const py::bytes& data) {
  std::string_view view = data;
  return {view.begin(), view.end()};
}

}  // namespace

void BindModelEditor(py::module_& m) {
  py::class_<OperatorOptions>(m, "OperatorOptions",
                              "Builtin options of an operator; only its kind's fields are used.")
      .def(py::init([](bool same_padding, int stride, int filter, float beta,
                       std::vector<int32_t> new_shape) {
             return OperatorOptions{same_padding, stride, filter, beta, std::move(new_shape)};
           }),
           py::kw_only(), py::arg("same_padding") = false, py::arg("stride") = 1,
           py::arg("filter") = 1, py::arg("beta") = 1.0f,
           py::arg("new_shape") = std::vector<int32_t>{});

  py::class_<ModelEditor>(m, "ModelEditor",
                          "Edits a copy of a model's main subgraph and writes a new verified "
                          "model. Tensors and operators are named by index; new ones are "
                          "appended.")
      .def(py::init<>(), "An empty model.")
      .def(py::init([](const Model& model) { return ModelEditor(model); }), py::arg("model"),
           "A copy of `model` to edit.")
      .def_property_readonly("tensor_count", &ModelEditor::tensor_count)
      .def_property_readonly("operator_count", &ModelEditor::operator_count)
      .def(
          "add_tensor",
          [](ModelEditor& e, const std::string& name, const std::string& type,
             std::vector<int32_t> shape, std::vector<float> scales,
             std::vector<int64_t> zero_points, int axis) {
            return Unwrap(e.AddTensor(name, DataTypeNamed(type), std::move(shape),
                                      QuantizationOf(scales, zero_points, axis)));
          },
          py::arg("name"), py::arg("type"), py::arg("shape"),
          py::arg("scales") = std::vector<float>{}, py::arg("zero_points") = std::vector<int64_t>{},
          py::arg("quantized_dimension") = 0, "Adds an activation tensor; returns its index.")
      .def(
          "add_constant",
          [](ModelEditor& e, const std::string& name, const std::string& type,
             std::vector<int32_t> shape, const py::bytes& data, std::vector<float> scales,
             std::vector<int64_t> zero_points, int axis) {
            return Unwrap(e.AddConstant(name, DataTypeNamed(type), std::move(shape), BytesOf(data),
                                        QuantizationOf(scales, zero_points, axis)));
          },
          py::arg("name"), py::arg("type"), py::arg("shape"), py::arg("data"),
          py::arg("scales") = std::vector<float>{}, py::arg("zero_points") = std::vector<int64_t>{},
          py::arg("quantized_dimension") = 0,
          "Adds a constant holding `data` (little-endian elements); returns its index.")
      .def(
          "set_shape",
          [](ModelEditor& e, int tensor, std::vector<int32_t> shape) {
            ThrowIfError(e.SetShape(tensor, std::move(shape)));
          },
          py::arg("tensor"), py::arg("shape"))
      .def(
          "set_quantization",
          [](ModelEditor& e, int tensor, std::vector<float> scales,
             std::vector<int64_t> zero_points, int axis) {
            ThrowIfError(e.SetQuantization(tensor, QuantizationOf(scales, zero_points, axis)));
          },
          py::arg("tensor"), py::arg("scales"), py::arg("zero_points"),
          py::arg("quantized_dimension") = 0)
      .def(
          "set_constant_data",
          [](ModelEditor& e, int tensor, const py::bytes& data) {
            ThrowIfError(e.SetConstantData(tensor, BytesOf(data)));
          },
          py::arg("tensor"), py::arg("data"),
          "Gives the tensor its own buffer holding `data` (sized for its current shape).")
      .def(
          "add_operator",
          [](ModelEditor& e, const std::string& name, std::vector<int> inputs,
             std::vector<int> outputs, const OperatorOptions& options) {
            ThrowIfError(e.AddOperator(name, std::move(inputs), std::move(outputs), options));
          },
          py::arg("name"), py::arg("inputs"), py::arg("outputs"),
          py::arg("options") = OperatorOptions{}, "Appends a builtin operator by its TFLite name.")
      .def(
          "set_operator_options",
          [](ModelEditor& e, int op, const OperatorOptions& options) {
            ThrowIfError(e.SetOperatorOptions(op, options));
          },
          py::arg("op"), py::arg("options"))
      .def(
          "keep_operators", [](ModelEditor& e, int count) { ThrowIfError(e.KeepOperators(count)); },
          py::arg("count"), "Keeps the first `count` operators.")
      .def(
          "set_inputs",
          [](ModelEditor& e, std::vector<int> tensors) {
            ThrowIfError(e.SetInputs(std::move(tensors)));
          },
          py::arg("tensors"))
      .def(
          "set_outputs",
          [](ModelEditor& e, std::vector<int> tensors) {
            ThrowIfError(e.SetOutputs(std::move(tensors)));
          },
          py::arg("tensors"))
      .def("set_description", &ModelEditor::SetDescription, py::arg("description"))
      .def(
          "finish",
          [](const ModelEditor& e, const std::string& name) {
            py::gil_scoped_release unlocked;
            return std::const_pointer_cast<Model>(Unwrap(e.Finish(name)));
          },
          py::arg("name") = "<edited>", "Writes and verifies the edited model (a new Model).");
}

}  // namespace tpufleet::python
