#include "arrays.h"

#include <fmt/format.h>

#include <cstring>

#include "errors.h"
#include "shapes.h"

namespace py = pybind11;

namespace tpufleet::python {

py::dtype NumpyDtype(DataType type) {
  switch (type) {
    case DataType::kFloat32: return py::dtype("float32");
    case DataType::kFloat16: return py::dtype("float16");
    case DataType::kFloat64: return py::dtype("float64");
    case DataType::kInt8: return py::dtype("int8");
    case DataType::kInt16: return py::dtype("int16");
    case DataType::kInt32: return py::dtype("int32");
    case DataType::kInt64: return py::dtype("int64");
    case DataType::kUInt8: return py::dtype("uint8");
    case DataType::kUInt16: return py::dtype("uint16");
    case DataType::kUInt32: return py::dtype("uint32");
    case DataType::kUInt64: return py::dtype("uint64");
    case DataType::kBool: return py::dtype("bool");
    case DataType::kComplex64: return py::dtype("complex64");
    case DataType::kComplex128: return py::dtype("complex128");
    default:
      throw StatusError(UnimplementedError(fmt::format(
          "tensors of type {} have no numpy equivalent; tpufleet gives numpy arrays for "
          "numeric and bool tensors only",
          DataTypeName(type))));
  }
}

namespace {

std::vector<py::ssize_t> Shape(const Model& model, const TensorInfo& info, size_t byte_size) {
  std::vector<int32_t> dims = HeldShape(model, info, byte_size);
  return std::vector<py::ssize_t>(dims.begin(), dims.end());
}

}  // namespace

py::array TensorView(const Model& model, const Tensor& tensor, py::handle owner, bool writable) {
  py::dtype dtype = NumpyDtype(tensor.type());
  // Writable in numpy's sense only: the tensor's bytes are mutable memory of the interpreter.
  auto* data = const_cast<uint8_t*>(tensor.bytes().data());
  const TensorInfo& info = model.tensors()[tensor.index()];
  py::array view(dtype, Shape(model, info, tensor.byte_size()), {}, data, owner);
  if (!writable) view.attr("setflags")(py::arg("write") = false);
  return view;
}

py::array TensorCopy(const Model& model, const TensorInfo& info, std::span<const uint8_t> bytes) {
  py::array copy(NumpyDtype(info.type), Shape(model, info, bytes.size()));
  if (static_cast<size_t>(copy.nbytes()) != bytes.size()) {
    throw StatusError(InternalError(fmt::format("tensor '{}' has {} bytes where its shape needs {}",
                                                info.name, bytes.size(), copy.nbytes())));
  }
  std::memcpy(copy.mutable_data(), bytes.data(), bytes.size());
  return copy;
}

}  // namespace tpufleet::python
