// ADD, SUB, MUL with broadcasting; the element-wise functions; SOFTMAX; QUANTIZE and DEQUANTIZE.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "op_oracle.h"
#include "op_test_util.h"

namespace tpufleet::cpu::testing {
namespace {

using Op = tfl::BuiltinOperator;
using Act = tfl::ActivationFunctionType;

struct BinaryCase {
  Op op;
  DataType type;
  std::vector<int32_t> a, b, out;
  Act activation;
};

class BinaryTest : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(BinaryTest, MatchesReference) {
  const BinaryCase& c = GetParam();
  TensorSpec a = Spec(c.type, c.a, 0.03f, c.type == DataType::kInt8 ? -3 : 130,
                      RandomValues(Count(c.a), -2, 2, 4));
  TensorSpec b = Spec(c.type, c.b, 0.02f, c.type == DataType::kInt8 ? 5 : 120,
                      RandomValues(Count(c.b), -2, 2, 5));
  TensorSpec out = Spec(c.type, c.out, 0.05f, c.type == DataType::kInt8 ? 0 : 128);
  tfl::BuiltinOptionsUnion options;
  if (c.op == Op::ADD) {
    tfl::AddOptionsT o;
    o.fused_activation_function = c.activation;
    options.Set(std::move(o));
  } else if (c.op == Op::SUB) {
    tfl::SubOptionsT o;
    o.fused_activation_function = c.activation;
    options.Set(std::move(o));
  } else {
    tfl::MulOptionsT o;
    o.fused_activation_function = c.activation;
    options.Set(std::move(o));
  }
  auto interpreter = RunSingleOp(c.op, {a, b}, {out}, std::move(options));
  ASSERT_TRUE(interpreter);
  std::vector<float> ra = Representable(a), rb = Representable(b), expected(Count(c.out));
  for (size_t i = 0; i < expected.size(); ++i) {
    float x = ra[BroadcastIndex(i, c.out, c.a)], y = rb[BroadcastIndex(i, c.out, c.b)];
    float v = c.op == Op::ADD ? x + y : c.op == Op::SUB ? x - y : x * y;
    if (c.activation == Act::RELU) v = std::max(v, 0.0f);
    if (c.activation == Act::RELU6) v = std::clamp(v, 0.0f, 6.0f);
    expected[i] = v;
  }
  if (c.type != DataType::kFloat32) {
    out.values = expected;
    expected = Representable(out);
  }
  ExpectNear(Decode(interpreter->output(0)), expected,
             c.type == DataType::kFloat32 ? 1e-5f : 0.0501f);
}

std::vector<BinaryCase> BinaryCases() {
  std::vector<BinaryCase> cases;
  for (Op op : {Op::ADD, Op::SUB, Op::MUL}) {
    for (DataType type : {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}) {
      cases.push_back({op, type, {1, 4, 5, 3}, {1, 4, 5, 3}, {1, 4, 5, 3}, Act::NONE});
      cases.push_back({op, type, {2, 1, 5, 1}, {1, 3, 1, 4}, {2, 3, 5, 4}, Act::RELU6});
      cases.push_back({op, type, {3}, {2, 4, 3}, {2, 4, 3}, Act::RELU});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Kernels, BinaryTest, ::testing::ValuesIn(BinaryCases()),
                         [](const ::testing::TestParamInfo<BinaryCase>& info) {
                           return "case" + std::to_string(info.index);
                         });

struct UnaryCase {
  Op op;
  float (*reference)(float);
};

float Logistic(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float Tanh(float x) { return std::tanh(x); }
float Relu(float x) { return std::max(x, 0.0f); }
float Relu6(float x) { return std::clamp(x, 0.0f, 6.0f); }
float HardSwish(float x) { return x * std::clamp(x + 3.0f, 0.0f, 6.0f) / 6.0f; }

class UnaryTest : public ::testing::TestWithParam<std::tuple<UnaryCase, DataType>> {};

TEST_P(UnaryTest, EveryInputValue) {
  auto [c, type] = GetParam();
  // Every representable 8-bit value once (the lookup table's whole domain).
  std::vector<float> values;
  float scale = 0.05f;
  int zp = type == DataType::kInt8 ? 0 : 128;
  for (int q = 0; q < 256; ++q)
    values.push_back(scale * static_cast<float>(q + (type == DataType::kInt8 ? -128 : 0) - zp));
  TensorSpec in = Spec(type, {1, 256}, scale, zp, values);
  TensorSpec out = Spec(type, {1, 256}, 1.0f / 32, type == DataType::kInt8 ? 0 : 128);
  auto interpreter = RunSingleOp(c.op, {in}, {out});
  ASSERT_TRUE(interpreter);
  std::vector<float> expected;
  for (float v : Representable(in)) expected.push_back(c.reference(v));
  if (type != DataType::kFloat32) {
    out.values = expected;
    expected = Representable(out);
  }
  ExpectNear(Decode(interpreter->output(0)), expected, type == DataType::kFloat32 ? 1e-5f : 1e-6f);
}

INSTANTIATE_TEST_SUITE_P(
    Kernels, UnaryTest,
    ::testing::Combine(::testing::Values(UnaryCase{Op::LOGISTIC, Logistic},
                                         UnaryCase{Op::TANH, Tanh}, UnaryCase{Op::RELU, Relu},
                                         UnaryCase{Op::RELU6, Relu6},
                                         UnaryCase{Op::HARD_SWISH, HardSwish}),
                       ::testing::Values(DataType::kUInt8, DataType::kInt8, DataType::kFloat32)),
    [](const auto& info) { return "case" + std::to_string(info.index); });

class SoftmaxTest : public ::testing::TestWithParam<DataType> {};

TEST_P(SoftmaxTest, RowsSumToOneLikeTheReference) {
  DataType type = GetParam();
  TensorSpec in =
      Spec(type, {3, 10}, 0.1f, type == DataType::kInt8 ? -20 : 100, RandomValues(30, -4, 4, 9));
  TensorSpec out = Spec(type, {3, 10}, 1.0f / 256, type == DataType::kInt8 ? -128 : 0);
  tfl::SoftmaxOptionsT o;
  o.beta = 1.5f;
  tfl::BuiltinOptionsUnion options;
  options.Set(std::move(o));
  auto interpreter = RunSingleOp(Op::SOFTMAX, {in}, {out}, std::move(options));
  ASSERT_TRUE(interpreter);
  std::vector<float> x = Representable(in), expected(30);
  for (int r = 0; r < 3; ++r) {
    float max = *std::max_element(x.begin() + r * 10, x.begin() + r * 10 + 10), sum = 0;
    for (int i = 0; i < 10; ++i)
      sum += expected[r * 10 + i] = std::exp(1.5f * (x[r * 10 + i] - max));
    for (int i = 0; i < 10; ++i) expected[r * 10 + i] /= sum;
  }
  ExpectNear(Decode(interpreter->output(0)), expected,
             type == DataType::kFloat32 ? 1e-6f : 1.01f / 256);
}

INSTANTIATE_TEST_SUITE_P(Kernels, SoftmaxTest,
                         ::testing::Values(DataType::kUInt8, DataType::kInt8, DataType::kFloat32));

TEST(QuantizeTest, FloatToInt8AndBackAndUint8ToInt8) {
  std::vector<float> values = {-1.0f, -0.5f, 0.0f, 0.26f, 0.99f, 3.0f};
  TensorSpec f = Spec(DataType::kFloat32, {6}, 0, 0, values);
  TensorSpec q = Spec(DataType::kInt8, {6}, 1.0f / 64, -10);
  auto quantize = RunSingleOp(Op::QUANTIZE, {f}, {q});
  ASSERT_TRUE(quantize);
  q.values = values;
  ExpectNear(Decode(quantize->output(0)), Representable(q), 1e-6f);  // 3.0 saturates to 137/64

  TensorSpec u = Spec(DataType::kUInt8, {6}, 1.0f / 64, 128, values);
  TensorSpec s = Spec(DataType::kInt8, {6}, 1.0f / 64, 0);
  auto requantize = RunSingleOp(Op::QUANTIZE, {u}, {s});
  ASSERT_TRUE(requantize);
  ExpectNear(Decode(requantize->output(0)), Representable(u),
             1e-6f);  // same scale: values carry over exactly

  TensorSpec int8_values = Spec(DataType::kInt8, {6}, 1.0f / 64, 0, values);
  auto dequantize =
      RunSingleOp(Op::DEQUANTIZE, {int8_values}, {Spec(DataType::kFloat32, {6}, 0, 0)});
  ASSERT_TRUE(dequantize);
  ExpectNear(Decode(dequantize->output(0)), Representable(int8_values), 1e-6f);
}

// Every code of an 8-bit tensor (the lookup table's whole domain) dequantizes to TFLite's float,
// bit for bit.
TEST(QuantizeTest, DequantizeOfEvery8BitCodeIsTfLites) {
  for (auto [type, scale, zero_point] :
       {std::tuple{DataType::kUInt8, 0.037f, 100}, std::tuple{DataType::kInt8, 0.011f, -7}}) {
    SCOPED_TRACE(DataTypeName(type));
    const int lowest = type == DataType::kInt8 ? -128 : 0;
    std::vector<float> values;
    for (int q = lowest; q < lowest + 256; ++q)
      values.push_back(scale * static_cast<float>(q - zero_point));
    ExpectSameAsTfLite(Op::DEQUANTIZE, {Spec(type, {1, 256}, scale, zero_point, values)},
                       {Spec(DataType::kFloat32, {1, 256}, 0, 0)});
  }
}

// Per-channel constants (a float model's int8 weights) dequantize with each channel's scale along
// the axis, as TFLite's do.
TEST(QuantizeTest, DequantizePerChannelUsesEachChannelsScale) {
  TensorSpec weights{DataType::kInt8,
                     {2, 3},
                     {{0.5f, 0.25f, 2.0f}, {0, 0, 0}, 1},
                     {1.0f, -0.5f, 4.0f, -2.0f, 0.75f, -6.0f}};
  auto run =
      ExpectSameAsTfLite(Op::DEQUANTIZE, {weights}, {Spec(DataType::kFloat32, {2, 3}, 0, 0)});
  ASSERT_TRUE(run);
  ExpectNear(Decode(run->output(0)), weights.values, 0);
  weights.q.axis = 0;  // 2 channels along it, not 3: the model is refused as it loads
  EXPECT_THAT(
      FailureOf(Op::DEQUANTIZE, {weights}, {Spec(DataType::kFloat32, {2, 3}, 0, 0)}).message(),
      ::testing::HasSubstr("3 per-channel scales for dimension 0 of size 2"));
}

// The functions read one scale per tensor: a per-channel tensor whose channels agree is read as
// per-tensor; one whose channels differ is refused, naming it.
TEST(UnaryTest, PerChannelTensorsRunWhereTheirChannelsAgree) {
  std::vector<float> values = {-1.0f, 0.0f, 0.5f, 2.0f};
  TensorSpec same{DataType::kUInt8, {1, 2, 2}, {{0.05f, 0.05f}, {128, 128}, 1}, values};
  TensorSpec out = Spec(DataType::kUInt8, {1, 2, 2}, 1.0f / 256, 0);
  auto run = RunSingleOp(Op::LOGISTIC, {same}, {out});
  ASSERT_TRUE(run);
  TensorSpec differing = same;
  differing.q.scales = {0.05f, 0.1f};
  EXPECT_THAT(FailureOf(Op::LOGISTIC, {differing}, {out}).message(),
              ::testing::HasSubstr("per-channel quantization with differing scales"));
}

}  // namespace
}  // namespace tpufleet::cpu::testing
