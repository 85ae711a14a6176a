// The CPU interpreter's view of a tensor: shape, type, quantization, and where its bytes live
// (the model's constant buffer, or the interpreter's arena).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tpufleet/model.h"

namespace tpufleet::cpu {

struct Tensor {
  int index = 0;
  std::string name;
  DataType type = DataType::kFloat32;
  std::vector<int32_t> shape;
  Quantization quantization;
  bool is_constant = false;
  uint8_t* data = nullptr;  // constants point into the model (never written through)

  size_t element_count() const {
    size_t n = 1;
    for (int32_t d : shape) n *= static_cast<size_t>(d);
    return n;
  }
  size_t byte_size() const { return element_count() * DataTypeSize(type); }
  int rank() const { return static_cast<int>(shape.size()); }
  int32_t dim(int i) const { return shape[i < 0 ? i + rank() : i]; }

  float scale() const { return quantization.scales.empty() ? 1.0f : quantization.scales[0]; }
  int32_t zero_point() const {
    return quantization.zero_points.empty() ? 0 : static_cast<int32_t>(quantization.zero_points[0]);
  }

  template <typename T>
  T* as() {
    return reinterpret_cast<T*>(data);
  }
  template <typename T>
  const T* as() const {
    return reinterpret_cast<const T*>(data);
  }
};

// "uint8 [1, 224, 224, 3]" for messages.
std::string Describe(const Tensor& t);

}  // namespace tpufleet::cpu
