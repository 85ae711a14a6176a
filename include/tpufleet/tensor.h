// Tensor: an interpreter's input or output in place, as TensorFlow Lite's TfLiteTensor is: its
// description (name, element type, shape, quantization) and the bytes the device reads or wrote.
//
// A Tensor belongs to its Interpreter and lives as long as it; its bytes stay where they are for
// that whole time. Inputs are writable (Interpreter::input gives a Tensor&), outputs read-only
// (a const Tensor&). Not thread-safe: use it from the thread that invokes its interpreter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "tpufleet/model.h"
#include "tpufleet/status.h"

namespace tpufleet {

// The element type a C++ type stands for in Tensor::data<T>().
template <typename T>
constexpr DataType DataTypeOf() {
  if constexpr (std::is_same_v<T, float>)
    return DataType::kFloat32;
  else if constexpr (std::is_same_v<T, double>)
    return DataType::kFloat64;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return DataType::kUInt8;
  else if constexpr (std::is_same_v<T, int8_t>)
    return DataType::kInt8;
  else if constexpr (std::is_same_v<T, int16_t>)
    return DataType::kInt16;
  else if constexpr (std::is_same_v<T, uint16_t>)
    return DataType::kUInt16;
  else if constexpr (std::is_same_v<T, int32_t>)
    return DataType::kInt32;
  else if constexpr (std::is_same_v<T, uint32_t>)
    return DataType::kUInt32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return DataType::kInt64;
  else if constexpr (std::is_same_v<T, uint64_t>)
    return DataType::kUInt64;
  else if constexpr (std::is_same_v<T, bool>)
    return DataType::kBool;
  else
    static_assert(sizeof(T) == 0, "no tensor element type stands for this C++ type");
}

class Tensor {
 public:
  Tensor(const TensorInfo& info, std::span<uint8_t> bytes) : info_(&info), bytes_(bytes) {}

  int index() const { return info_->index; }  // in the model's main subgraph
  const std::string& name() const { return info_->name; }
  DataType type() const { return info_->type; }
  const std::vector<int32_t>& shape() const { return info_->shape; }
  // Per-tensor (one scale) or per-channel along quantization().axis; empty when not quantized.
  const Quantization& quantization() const { return info_->quantization; }
  uint64_t element_count() const { return info_->element_count; }
  size_t byte_size() const { return bytes_.size(); }

  // The elements, when T is the tensor's element type (DataTypeOf<T>()); null otherwise.
  template <typename T>
  T* data() {
    return DataTypeOf<T>() == type() ? reinterpret_cast<T*>(bytes_.data()) : nullptr;
  }
  template <typename T>
  const T* data() const {
    return DataTypeOf<T>() == type() ? reinterpret_cast<const T*>(bytes_.data()) : nullptr;
  }
  std::span<uint8_t> bytes() { return bytes_; }
  std::span<const uint8_t> bytes() const { return bytes_; }

  // Real values: scale * (q - zero_point) with each element's channel's scale and zero point
  // for a quantized tensor; the values themselves for a float or unquantized integer one.
  // INVALID_ARGUMENT for types without numbers (string, resource, ...).
  Result<std::vector<float>> Dequantize() const;
  // Writes real values as the tensor's type holds them: round(value / scale) + zero_point,
  // clamped to the type's range, per channel when the quantization is; floats as they are.
  // INVALID_ARGUMENT when `values` has another element count, or the tensor is an unquantized
  // integer tensor (write those through data<T>()).
  Status Quantize(std::span<const float> values);

 private:
  const TensorInfo* info_;
  std::span<uint8_t> bytes_;
};

}  // namespace tpufleet
