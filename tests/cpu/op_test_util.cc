#include "op_test_util.h"

#include <cstring>

namespace tpufleet::cpu::testing {
namespace {

// The channel of flat element i for per-channel quantization along q.axis.
size_t ChannelOf(const TensorSpec& spec, size_t i) {
  if (spec.q.scales.size() <= 1) return 0;
  size_t inner = 1;
  for (size_t d = spec.q.axis + 1; d < spec.shape.size(); ++d) inner *= spec.shape[d];
  return (i / inner) % spec.shape[spec.q.axis];
}

}  // namespace

namespace {

// The integer a spec value is stored as: quantized when the spec has scales, else truncated,
// and clamped to the type's range.
int64_t StoredInteger(const TensorSpec& spec, size_t i) {
  float v = spec.values[i];
  if (spec.type == DataType::kBool) return v != 0;
  int64_t q = static_cast<int64_t>(v);
  if (!spec.q.empty()) {
    size_t c = ChannelOf(spec, i);
    q = std::lround(v / spec.q.scales[c]) + spec.q.zero_points[c];
  }
  switch (spec.type) {
    case DataType::kUInt8: return std::clamp<int64_t>(q, 0, 255);
    case DataType::kInt8: return std::clamp<int64_t>(q, -128, 127);
    case DataType::kInt16: return std::clamp<int64_t>(q, INT16_MIN, INT16_MAX);
    case DataType::kInt32: return std::clamp<int64_t>(q, INT32_MIN, INT32_MAX);
    default: return q;
  }
}

}  // namespace

std::vector<uint8_t> Encode(const TensorSpec& spec) {
  size_t n = spec.values.size(), size = DataTypeSize(spec.type);
  std::vector<uint8_t> bytes(n * size);
  for (size_t i = 0; i < n; ++i) {
    if (spec.type == DataType::kFloat32) {
      std::memcpy(&bytes[i * 4], &spec.values[i], 4);
    } else {
      int64_t q = StoredInteger(spec, i);  // little-endian: the low bytes of the int64
      std::memcpy(&bytes[i * size], &q, size);
    }
  }
  return bytes;
}

std::vector<float> Representable(const TensorSpec& spec) {
  if (spec.type == DataType::kFloat32) return spec.values;
  std::vector<float> out(spec.values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t q = StoredInteger(spec, i);
    if (spec.q.empty() || spec.type == DataType::kBool) {
      out[i] = static_cast<float>(q);
    } else {
      size_t c = ChannelOf(spec, i);
      out[i] = spec.q.scales[c] * static_cast<float>(q - spec.q.zero_points[c]);
    }
  }
  return out;
}

std::vector<float> Decode(const Tensor& t) {
  std::vector<float> out(t.element_count());
  bool quantized = !t.quantization.empty();
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t q = 0;
    switch (t.type) {
      case DataType::kFloat32: out[i] = t.as<float>()[i]; continue;
      case DataType::kInt32: q = t.as<int32_t>()[i]; break;
      case DataType::kInt64: q = t.as<int64_t>()[i]; break;
      case DataType::kInt16: q = t.as<int16_t>()[i]; break;
      case DataType::kBool: q = t.as<uint8_t>()[i]; break;
      case DataType::kUInt8: q = t.as<uint8_t>()[i]; break;
      case DataType::kInt8: q = t.as<int8_t>()[i]; break;
      default: ADD_FAILURE() << "cannot decode " << DataTypeName(t.type); continue;
    }
    bool scaled = t.type == DataType::kUInt8 || t.type == DataType::kInt8 ||
                  (t.type == DataType::kInt16 && quantized);
    out[i] = scaled ? t.scale() * static_cast<float>(q - t.zero_point()) : static_cast<float>(q);
  }
  return out;
}

std::vector<float> RandomValues(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> values(n);
  for (float& v : values) v = dist(random);
  return values;
}

std::vector<uint8_t> BuildSingleOp(tfl::BuiltinOperator op, const std::vector<TensorSpec>& inputs,
                                   const std::vector<TensorSpec>& outputs,
                                   tfl::BuiltinOptionsUnion options, const std::string& custom_code,
                                   std::vector<uint8_t> custom_options) {
  ModelBuilder b;
  std::vector<int> op_inputs, graph_inputs, op_outputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec& s = inputs[i];
    int index = s.constant
                    ? b.AddConstant("in" + std::to_string(i), s.type, s.shape, Encode(s), s.q)
                    : b.AddTensor("in" + std::to_string(i), s.type, s.shape, s.q);
    op_inputs.push_back(index);
    if (!s.constant) graph_inputs.push_back(index);
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    op_outputs.push_back(
        b.AddTensor("out" + std::to_string(i), outputs[i].type, outputs[i].shape, outputs[i].q));
  }
  if (custom_code.empty()) {
    b.AddOperator(op, op_inputs, op_outputs, std::move(options));
  } else {
    b.AddCustomOperator(custom_code, op_inputs, op_outputs, std::move(custom_options));
  }
  b.SetInputs(graph_inputs);
  b.SetOutputs(op_outputs);
  return b.Finish();
}

Result<std::unique_ptr<Interpreter>> CreateSingleOp(tfl::BuiltinOperator op,
                                                    const std::vector<TensorSpec>& inputs,
                                                    const std::vector<TensorSpec>& outputs,
                                                    tfl::BuiltinOptionsUnion options,
                                                    const std::string& custom_code,
                                                    std::vector<uint8_t> custom_options) {
  TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model,
                            Model::FromBuffer(BuildSingleOp(op, inputs, outputs, std::move(options),
                                                            custom_code, std::move(custom_options)),
                                              "single-op"));
  return Interpreter::Create(model);
}

Status InvokeWith(Interpreter& interpreter, const std::vector<TensorSpec>& inputs) {
  size_t fed = 0;
  for (const TensorSpec& s : inputs) {
    if (s.constant) continue;
    std::vector<uint8_t> bytes = Encode(s);
    Tensor& t = interpreter.input(fed++);
    if (bytes.size() != t.byte_size())
      return InvalidArgumentError("input " + std::to_string(fed - 1) + " has the wrong size");
    std::memcpy(t.data, bytes.data(), bytes.size());
  }
  return interpreter.Invoke();
}

std::unique_ptr<Interpreter> RunSingleOp(tfl::BuiltinOperator op,
                                         const std::vector<TensorSpec>& inputs,
                                         const std::vector<TensorSpec>& outputs,
                                         tfl::BuiltinOptionsUnion options,
                                         const std::string& custom_code,
                                         std::vector<uint8_t> custom_options) {
  Result<std::unique_ptr<Interpreter>> interpreter = CreateSingleOp(
      op, inputs, outputs, std::move(options), custom_code, std::move(custom_options));
  EXPECT_TRUE(interpreter.ok()) << interpreter.status().ToString();
  if (!interpreter.ok()) return nullptr;
  Status status = InvokeWith(*interpreter.value(), inputs);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return std::move(interpreter).value();
}

void ExpectNear(const std::vector<float>& actual, const std::vector<float>& expected,
                float tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  int reported = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::fabs(actual[i] - expected[i]) > tolerance && reported++ < 5) {
      ADD_FAILURE() << "element " << i << ": " << actual[i] << " vs reference " << expected[i]
                    << " (tolerance " << tolerance << ")";
    }
  }
}

}  // namespace tpufleet::cpu::testing
