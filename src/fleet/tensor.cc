#include "tpufleet/tensor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tpufleet {
namespace {

template <typename T>
T Load(const uint8_t* bytes, size_t i) {
  T value;
  std::memcpy(&value, bytes + i * sizeof(T), sizeof(T));
  return value;
}

template <typename T>
void Store(uint8_t* bytes, size_t i, T value) {
  std::memcpy(bytes + i * sizeof(T), &value, sizeof(T));
}

// Element i as a number, whatever the type holds; false for types without numbers.
bool Element(DataType type, const uint8_t* bytes, size_t i, double& value) {
  switch (type) {
    case DataType::kFloat32: value = Load<float>(bytes, i); return true;
    case DataType::kFloat64: value = Load<double>(bytes, i); return true;
    case DataType::kUInt8: value = Load<uint8_t>(bytes, i); return true;
    case DataType::kInt8: value = Load<int8_t>(bytes, i); return true;
    case DataType::kInt16: value = Load<int16_t>(bytes, i); return true;
    case DataType::kUInt16: value = Load<uint16_t>(bytes, i); return true;
    case DataType::kInt32: value = static_cast<double>(Load<int32_t>(bytes, i)); return true;
    case DataType::kUInt32: value = static_cast<double>(Load<uint32_t>(bytes, i)); return true;
    case DataType::kInt64: value = static_cast<double>(Load<int64_t>(bytes, i)); return true;
    case DataType::kUInt64: value = static_cast<double>(Load<uint64_t>(bytes, i)); return true;
    case DataType::kBool: value = bytes[i] != 0; return true;
    default: return false;
  }
}

template <typename T>
void StoreClamped(uint8_t* bytes, size_t i, double q) {
  double low = static_cast<double>(std::numeric_limits<T>::lowest());
  double high = static_cast<double>(std::numeric_limits<T>::max());
  Store<T>(bytes, i, static_cast<T>(std::clamp(q, low, high)));
}

// Stores the quantized value q; false for types quantization does not use.
bool StoreQuantized(DataType type, uint8_t* bytes, size_t i, double q) {
  switch (type) {
    case DataType::kUInt8: StoreClamped<uint8_t>(bytes, i, q); return true;
    case DataType::kInt8: StoreClamped<int8_t>(bytes, i, q); return true;
    case DataType::kInt16: StoreClamped<int16_t>(bytes, i, q); return true;
    case DataType::kInt32: StoreClamped<int32_t>(bytes, i, q); return true;
    case DataType::kInt64: StoreClamped<int64_t>(bytes, i, q); return true;
    default: return false;
  }
}

// Maps each element to its quantization channel: (element / inner) % channels.
struct Channels {
  Channels(const Quantization& q, const std::vector<int32_t>& shape) {
    if (!q.per_channel() || q.axis < 0 || static_cast<size_t>(q.axis) >= shape.size()) return;
    count = static_cast<size_t>(shape[q.axis]);
    for (size_t d = static_cast<size_t>(q.axis) + 1; d < shape.size(); ++d)
      inner *= static_cast<size_t>(shape[d]);
  }
  size_t Of(size_t element) const { return count > 1 ? (element / inner) % count : 0; }
  size_t count = 1, inner = 1;
};

}  // namespace

Result<std::vector<float>> Tensor::Dequantize() const {
  const Quantization& q = quantization();
  Channels channels(q, shape());
  size_t n = static_cast<size_t>(element_count());
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i) {
    double value = 0;
    if (!Element(type(), bytes_.data(), i, value)) {
      return InvalidArgumentError(fmt::format(
          "tensor '{}' is {}, which holds no numbers to dequantize", name(), DataTypeName(type())));
    }
    if (!q.empty()) {
      size_t c = channels.Of(i);
      value = q.scales[c] * (value - static_cast<double>(q.zero_points[c]));
    }
    values[i] = static_cast<float>(value);
  }
  return values;
}

Status Tensor::Quantize(std::span<const float> values) {
  if (values.size() != element_count()) {
    return InvalidArgumentError(fmt::format("tensor '{}' has {} elements; {} values given", name(),
                                            element_count(), values.size()));
  }
  if (type() == DataType::kFloat32) {
    std::memcpy(bytes_.data(), values.data(), values.size_bytes());
    return OkStatus();
  }
  const Quantization& q = quantization();
  if (q.empty()) {
    return InvalidArgumentError(
        fmt::format("tensor '{}' is {} without quantization: write its values through data<T>()",
                    name(), DataTypeName(type())));
  }
  Channels channels(q, shape());
  for (size_t i = 0; i < values.size(); ++i) {
    size_t c = channels.Of(i);
    double quantized = std::round(values[i] / q.scales[c]) + static_cast<double>(q.zero_points[c]);
    if (!StoreQuantized(type(), bytes_.data(), i, quantized)) {
      return InvalidArgumentError(fmt::format("tensor '{}' is {}, which quantization does not use",
                                              name(), DataTypeName(type())));
    }
  }
  return OkStatus();
}

}  // namespace tpufleet
