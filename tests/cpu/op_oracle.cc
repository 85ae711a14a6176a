#include "op_oracle.h"

namespace tpufleet::cpu::testing {

std::unique_ptr<Interpreter> ExpectSameAsTfLite(tfl::BuiltinOperator op,
                                                const std::vector<TensorSpec>& inputs,
                                                const std::vector<TensorSpec>& outputs,
                                                const tfl::BuiltinOptionsUnion& options) {
  std::vector<uint8_t> model = BuildSingleOp(op, inputs, outputs, options);
  std::unique_ptr<Interpreter> ours = RunModel(model, inputs);
  Result<std::vector<std::vector<uint8_t>>> theirs = RunWithTfLite(model, inputs);
  EXPECT_TRUE(theirs.ok()) << theirs.status().ToString();
  if (!ours || !theirs.ok()) return nullptr;
  EXPECT_EQ(theirs.value().size(), ours->output_count());
  for (size_t i = 0; i < std::min(theirs.value().size(), ours->output_count()); ++i) {
    EXPECT_EQ(BytesOf(ours->output(i)), theirs.value()[i])
        << "output " << i << " differs from TensorFlow Lite 2.9's";
  }
  return ours;
}

}  // namespace tpufleet::cpu::testing

namespace tpufleet::cpu::testing {
namespace {

Quantization SampleQuantization(DataType type) {
  if (type == DataType::kUInt8) return {{0.5f}, {10}, 0};
  if (type == DataType::kInt8) return {{0.5f}, {-3}, 0};
  return {};
}

}  // namespace

const std::vector<DataType>& CopyableTypes() {
  static const std::vector<DataType> kTypes = {
      DataType::kUInt8, DataType::kInt8,    DataType::kInt16, DataType::kInt32,
      DataType::kInt64, DataType::kFloat32, DataType::kBool};
  return kTypes;
}

TensorSpec SampleSpec(DataType type, std::vector<int32_t> shape, bool constant) {
  TensorSpec s = OutputSpec(type, std::move(shape));
  size_t n = 1;
  for (int32_t d : s.shape) n *= d;
  for (size_t i = 0; i < n; ++i) {
    s.values.push_back(type == DataType::kBool ? static_cast<float>(i % 2)
                                               : static_cast<float>(i) - static_cast<float>(n / 3));
  }
  s.constant = constant;
  return s;
}

TensorSpec OutputSpec(DataType type, std::vector<int32_t> shape) {
  return TensorSpec{type, std::move(shape), SampleQuantization(type)};
}

TensorSpec IntSpec(std::vector<int32_t> shape, std::vector<float> values, bool constant,
                   DataType type) {
  TensorSpec s{type, std::move(shape)};
  s.values = std::move(values);
  s.constant = constant;
  return s;
}

void ExpectMoved(tfl::BuiltinOperator op, const std::vector<TensorSpec>& inputs,
                 const std::vector<TensorSpec>& outputs,
                 const std::vector<std::vector<float>>& expected, bool tflite,
                 const tfl::BuiltinOptionsUnion& options) {
  std::unique_ptr<Interpreter> ours = tflite ? ExpectSameAsTfLite(op, inputs, outputs, options)
                                             : RunSingleOp(op, inputs, outputs, options);
  ASSERT_TRUE(ours);
  ASSERT_EQ(ours->output_count(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) ExpectNear(Decode(ours->output(i)), expected[i], 0);
}

Status FailureOf(tfl::BuiltinOperator op, const std::vector<TensorSpec>& inputs,
                 const std::vector<TensorSpec>& outputs, const tfl::BuiltinOptionsUnion& options) {
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<Interpreter> interpreter,
                            CreateSingleOp(op, inputs, outputs, options));
  return InvokeWith(*interpreter, inputs);
}

}  // namespace tpufleet::cpu::testing
