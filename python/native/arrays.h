// Tensors as numpy arrays: element types to numpy dtypes, and arrays over a tensor's bytes.
#pragma once

#include <pybind11/numpy.h>

#include <span>
#include <vector>

#include "tpufleet/model.h"
#include "tpufleet/tensor.h"

namespace tpufleet::python {

// The numpy dtype of an element type. Raises tpufleet.Error (UNIMPLEMENTED) for types numpy
// has no fixed-size equivalent of (string, resource, variant, int4, bfloat16).
pybind11::dtype NumpyDtype(DataType type);

// An array of `tensor`'s dtype and run-time shape (HeldShape) over its bytes, in place: `owner`
// is kept alive as the array's base (the object the bytes belong to). Read-only unless
// `writable`.
pybind11::array TensorView(const Model& model, const Tensor& tensor, pybind11::handle owner,
                           bool writable);

// A copy of `bytes` as an array of `info`'s dtype and run-time shape (HeldShape).
pybind11::array TensorCopy(const Model& model, const TensorInfo& info,
                           std::span<const uint8_t> bytes);

}  // namespace tpufleet::python
