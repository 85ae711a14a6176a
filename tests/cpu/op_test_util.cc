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

std::vector<uint8_t> Encode(const TensorSpec& spec) {
  size_t n = spec.values.size();
  std::vector<uint8_t> bytes(n * DataTypeSize(spec.type));
  for (size_t i = 0; i < n; ++i) {
    float v = spec.values[i];
    switch (spec.type) {
      case DataType::kFloat32: std::memcpy(&bytes[i * 4], &v, 4); break;
      case DataType::kInt32: {
        int32_t q = spec.q.empty()
                        ? static_cast<int32_t>(v)
                        : static_cast<int32_t>(std::lround(v / spec.q.scales[ChannelOf(spec, i)]));
        std::memcpy(&bytes[i * 4], &q, 4);
        break;
      }
      default: {
        size_t c = ChannelOf(spec, i);
        int32_t q = static_cast<int32_t>(std::lround(v / spec.q.scales[c])) +
                    static_cast<int32_t>(spec.q.zero_points[c]);
        bytes[i] = static_cast<uint8_t>(std::clamp(q, QMinOf(spec.type), QMaxOf(spec.type)));
      }
    }
  }
  return bytes;
}

std::vector<float> Representable(const TensorSpec& spec) {
  if (spec.type == DataType::kFloat32) return spec.values;
  std::vector<uint8_t> bytes = Encode(spec);
  std::vector<float> out(spec.values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    size_t c = ChannelOf(spec, i);
    if (spec.type == DataType::kInt32) {
      int32_t q;
      std::memcpy(&q, &bytes[i * 4], 4);
      out[i] = spec.q.empty() ? static_cast<float>(q) : q * spec.q.scales[c];
    } else {
      int32_t q = spec.type == DataType::kInt8 ? static_cast<int8_t>(bytes[i]) : bytes[i];
      out[i] = spec.q.scales[c] * static_cast<float>(q - spec.q.zero_points[c]);
    }
  }
  return out;
}

std::vector<float> Decode(const Tensor& t) {
  std::vector<float> out(t.element_count());
  for (size_t i = 0; i < out.size(); ++i) {
    switch (t.type) {
      case DataType::kFloat32: out[i] = t.as<float>()[i]; break;
      case DataType::kInt32: out[i] = static_cast<float>(t.as<int32_t>()[i]); break;
      case DataType::kInt64: out[i] = static_cast<float>(t.as<int64_t>()[i]); break;
      case DataType::kUInt8:
        out[i] = t.scale() * static_cast<float>(t.as<uint8_t>()[i] - t.zero_point());
        break;
      case DataType::kInt8:
        out[i] = t.scale() * static_cast<float>(t.as<int8_t>()[i] - t.zero_point());
        break;
      default: ADD_FAILURE() << "cannot decode " << DataTypeName(t.type);
    }
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

std::unique_ptr<Interpreter> RunSingleOp(tfl::BuiltinOperator op,
                                         const std::vector<TensorSpec>& inputs,
                                         const std::vector<TensorSpec>& outputs,
                                         tfl::BuiltinOptionsUnion options,
                                         const std::string& custom_code,
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
  Result<ModelPtr> model = Model::FromBuffer(b.Finish(), "single-op");
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return nullptr;
  Result<std::unique_ptr<Interpreter>> interpreter = Interpreter::Create(model.value());
  EXPECT_TRUE(interpreter.ok()) << interpreter.status().ToString();
  if (!interpreter.ok()) return nullptr;
  size_t fed = 0;
  for (const TensorSpec& s : inputs) {
    if (s.constant) continue;
    std::vector<uint8_t> bytes = Encode(s);
    Tensor& t = interpreter.value()->input(fed++);
    EXPECT_EQ(bytes.size(), t.byte_size());
    std::memcpy(t.data, bytes.data(), std::min(bytes.size(), t.byte_size()));
  }
  Status status = interpreter.value()->Invoke();
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
