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

// Model bytes loaded into an interpreter (Prepare run), or the error on the way.
Result<std::unique_ptr<Interpreter>> Load(const std::vector<uint8_t>& bytes) {
  TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, Model::FromBuffer(bytes, "single-op"));
  return Interpreter::Create(model);
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
      case DataType::kInt64: {
        auto q = static_cast<int64_t>(v);
        std::memcpy(&bytes[i * 8], &q, 8);
        break;
      }
      case DataType::kBool: bytes[i] = v != 0 ? 1 : 0; break;
      case DataType::kInt16: {
        int32_t q = static_cast<int32_t>(v);
        if (!spec.q.empty()) {
          size_t c = ChannelOf(spec, i);
          q = static_cast<int32_t>(std::lround(v / spec.q.scales[c])) +
              static_cast<int32_t>(spec.q.zero_points[c]);
        }
        auto stored = static_cast<int16_t>(std::clamp(q, -32768, 32767));
        std::memcpy(&bytes[i * 2], &stored, 2);
        break;
      }
      default: {
        int32_t q = static_cast<int32_t>(v);  // unquantized 8-bit values are stored as given
        if (!spec.q.empty()) {
          size_t c = ChannelOf(spec, i);
          q = static_cast<int32_t>(std::lround(v / spec.q.scales[c])) +
              static_cast<int32_t>(spec.q.zero_points[c]);
        }
        bytes[i] = static_cast<uint8_t>(std::clamp(q, QMinOf(spec.type), QMaxOf(spec.type)));
      }
    }
  }
  return bytes;
}

std::vector<float> Representable(const TensorSpec& spec) {
  if (spec.type == DataType::kFloat32) return spec.values;
  std::vector<uint8_t> bytes = Encode(spec);
  Tensor t;
  t.type = spec.type;
  t.shape = {static_cast<int32_t>(spec.values.size())};
  t.data = bytes.data();
  if (spec.q.scales.size() <= 1) {
    t.quantization = spec.q;
    return Decode(t);
  }
  std::vector<float> out(spec.values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    size_t c = ChannelOf(spec, i);
    if (spec.type == DataType::kInt32) {
      int32_t q;
      std::memcpy(&q, &bytes[i * 4], 4);
      out[i] = q * spec.q.scales[c];
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
      case DataType::kInt32:
        out[i] = static_cast<float>(t.as<int32_t>()[i]);
        if (!t.quantization.empty()) out[i] *= t.scale();
        break;
      case DataType::kInt64: out[i] = static_cast<float>(t.as<int64_t>()[i]); break;
      case DataType::kBool: out[i] = t.as<uint8_t>()[i] != 0 ? 1.0f : 0.0f; break;
      case DataType::kInt16:
        out[i] = t.scale() * static_cast<float>(t.as<int16_t>()[i] - t.zero_point());
        break;
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

size_t Count(const std::vector<int32_t>& shape) {
  size_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

size_t BroadcastIndex(size_t i, const std::vector<int32_t>& out, const std::vector<int32_t>& in) {
  size_t index = 0, stride = 1;
  for (int d = static_cast<int>(out.size()) - 1, e = static_cast<int>(in.size()) - 1; d >= 0;
       --d, --e) {
    size_t coordinate = i % out[d];
    i /= out[d];
    if (e >= 0) {
      if (in[e] != 1) index += coordinate * stride;
      stride *= in[e];
    }
  }
  return index;
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
  return Load(BuildSingleOp(op, inputs, outputs, std::move(options), custom_code,
                            std::move(custom_options)));
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

std::unique_ptr<Interpreter> RunModel(const std::vector<uint8_t>& bytes,
                                      const std::vector<TensorSpec>& inputs) {
  Result<std::unique_ptr<Interpreter>> interpreter = Load(bytes);
  EXPECT_TRUE(interpreter.ok()) << interpreter.status().ToString();
  if (!interpreter.ok()) return nullptr;
  Status status = InvokeWith(*interpreter.value(), inputs);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return std::move(interpreter).value();
}

std::unique_ptr<Interpreter> RunSingleOp(tfl::BuiltinOperator op,
                                         const std::vector<TensorSpec>& inputs,
                                         const std::vector<TensorSpec>& outputs,
                                         tfl::BuiltinOptionsUnion options,
                                         const std::string& custom_code,
                                         std::vector<uint8_t> custom_options) {
  return RunModel(BuildSingleOp(op, inputs, outputs, std::move(options), custom_code,
                                std::move(custom_options)),
                  inputs);
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
