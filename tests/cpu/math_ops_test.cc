// DIV, FLOOR_DIV, FLOOR_MOD, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, SQRT, RSQRT, EXP, LEAKY_RELU,
// PRELU, the comparisons, SELECT, SELECT_V2, SUM, REDUCE_MAX, LOG_SOFTMAX, L2_NORMALIZATION and
// CAST: each against a naive reference written here and, in the same test, against TensorFlow
// Lite 2.9 on the same one-operator model. Integer, bool and quantized outputs must equal
// TFLite's bytes; float outputs agree within 1e-6 relative.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "op_test_util.h"
#include "tflite_single_op.h"

namespace tpufleet::cpu::testing {
namespace {

using Op = tfl::BuiltinOperator;
using Act = tfl::ActivationFunctionType;

std::vector<float> Integers(size_t n, float lo, float hi, uint32_t seed) {
  std::vector<float> v = RandomValues(n, lo, hi, seed);
  for (float& x : v) x = std::round(x);
  return v;
}

// The output's real values of `reals` after quantizing them like `out` (for 8/16-bit outputs).
std::vector<float> AsOutput(TensorSpec out, std::vector<float> reals) {
  if (!IsQuantizedType(out.type)) return reals;
  out.values = std::move(reals);
  return Representable(out);
}

std::string Hex(const Tensor& t, size_t i, const std::vector<uint8_t>& theirs) {
  size_t size = DataTypeSize(t.type);
  std::string ours_text, theirs_text;
  for (size_t b = 0; b < size; ++b) {
    ours_text += fmt::format("{:02x}", t.data[i * size + size - 1 - b]);
    theirs_text += fmt::format("{:02x}", theirs[i * size + size - 1 - b]);
  }
  return "0x" + ours_text + " vs TFLite 0x" + theirs_text;
}

// Runs the model on tpufleet (which must accept it) and on TFLite 2.9 (which must too), and
// compares every output: bytes for integer, bool and quantized types; floats within 1e-6
// relative (NaN matching NaN).
std::unique_ptr<Interpreter> RunAndCompare(Op op, const std::vector<TensorSpec>& inputs,
                                           const std::vector<TensorSpec>& outputs,
                                           tfl::BuiltinOptionsUnion options = {}) {
  std::vector<uint8_t> model = BuildSingleOp(op, inputs, outputs, std::move(options));
  std::unique_ptr<Interpreter> ours = RunModel(model, inputs);
  if (!ours) return nullptr;
  auto theirs = RunWithTfLite(model, inputs);
  EXPECT_TRUE(theirs.ok()) << "TFLite 2.9 refused " << tfl::EnumNameBuiltinOperator(op) << ": "
                           << theirs.status().ToString();
  if (!theirs.ok()) return ours;
  for (size_t o = 0; o < outputs.size(); ++o) {
    const Tensor& t = ours->output(o);
    const std::vector<uint8_t>& bytes = theirs.value()[o];
    EXPECT_EQ(bytes.size(), t.byte_size());
    if (bytes.size() != t.byte_size()) continue;
    int reported = 0;
    for (size_t i = 0; i < t.element_count(); ++i) {
      bool same;
      if (t.type == DataType::kFloat32) {
        float a = t.as<float>()[i], b;
        std::memcpy(&b, &bytes[i * 4], 4);
        same = (std::isnan(a) && std::isnan(b)) || a == b ||
               std::fabs(a - b) <= 1e-6f * std::max(std::fabs(a), std::fabs(b));
      } else {
        size_t size = DataTypeSize(t.type);
        same = std::memcmp(t.data + i * size, &bytes[i * size], size) == 0;
      }
      if (!same && reported++ < 5) {
        ADD_FAILURE() << tfl::EnumNameBuiltinOperator(op) << " " << DataTypeName(t.type)
                      << " output " << o << " element " << i << ": " << Hex(t, i, bytes);
      }
    }
  }
  return ours;
}

// Expects TFLite 2.9 to refuse the model (it does not run the operator on these types), so
// that tpufleet is right to refuse it too.
void ExpectTfLiteRefuses(Op op, const std::vector<TensorSpec>& inputs,
                         const std::vector<TensorSpec>& outputs) {
  std::vector<uint8_t> model = BuildSingleOp(op, inputs, outputs);
  EXPECT_FALSE(RunWithTfLite(model, inputs).ok())
      << "TFLite 2.9 runs " << tfl::EnumNameBuiltinOperator(op) << " on "
      << DataTypeName(inputs[0].type) << ": tpufleet should too";
}

// ---------------------------------------------------------------- binary arithmetic

struct BinaryCase {
  Op op;
  DataType type;
  std::vector<int32_t> a, b, out;
};

double Reference(Op op, double x, double y) {
  switch (op) {
    case Op::DIV: return x / y;
    case Op::FLOOR_DIV: return std::floor(x / y);
    case Op::FLOOR_MOD: return x - std::floor(x / y) * y;
    case Op::MAXIMUM: return std::max(x, y);
    case Op::MINIMUM: return std::min(x, y);
    default: return (x - y) * (x - y);
  }
}

class BinaryMathTest : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(BinaryMathTest, MatchesReferenceAndTfLite) {
  const BinaryCase& c = GetParam();
  const bool divides = c.op == Op::DIV || c.op == Op::FLOOR_DIV || c.op == Op::FLOOR_MOD;
  const bool same_quantization = c.op == Op::MAXIMUM || c.op == Op::MINIMUM;
  TensorSpec a, b, out;
  if (c.type == DataType::kFloat32) {
    a = ValuesSpec(c.type, c.a, RandomValues(Count(c.a), -3, 3, 1));
    b = ValuesSpec(c.type, c.b, RandomValues(Count(c.b), -3, 3, 2));
    out = ValuesSpec(c.type, c.out);
  } else if (IsQuantizedType(c.type)) {
    // Scales chosen so DIV's fixed-point shifts stay within TFLite's defined range (output
    // multiplier of 64 or more; see docs/cpu.md).
    bool int8 = c.type == DataType::kInt8, int16 = c.type == DataType::kInt16;
    float sa = same_quantization ? 0.05f : 0.1f, sb = same_quantization ? 0.05f : 0.01f;
    int za = same_quantization ? (int8 ? -4 : 120) : (int8 ? 3 : 128);
    int zb = same_quantization ? za : (int8 ? -5 : 125);
    if (int16) za = zb = 0;
    float so = same_quantization ? sa : c.op == Op::DIV ? 0.125f : 0.2f;
    int zo = same_quantization ? za : int8 ? (c.op == Op::SQUARED_DIFFERENCE ? -128 : 0) : 128;
    a = ValuesSpec(c.type, c.a, RandomValues(Count(c.a), -5, 5, 3), sa, za);
    b = ValuesSpec(c.type, c.b, RandomValues(Count(c.b), -1.2f, 1.2f, 4), sb, zb);
    out = ValuesSpec(c.type, c.out, {}, so, zo);
  } else {
    a = ValuesSpec(c.type, c.a, Integers(Count(c.a), -50, 50, 5));
    b = ValuesSpec(c.type, c.b, Integers(Count(c.b), -9, 9, 6));
    out = ValuesSpec(c.type, c.out);
  }
  if (divides) {
    for (float& v : b.values) {
      if (std::fabs(v) < 0.1f) v = c.type == DataType::kFloat32 ? 0.5f : 3;
    }
    if (IsQuantizedType(c.type)) {  // also no divisor that quantizes to the zero point
      std::vector<float> rb = Representable(b);
      for (size_t i = 0; i < rb.size(); ++i) {
        if (rb[i] == 0) b.values[i] = 0.5f;
      }
    }
  }
  auto ours = RunAndCompare(c.op, {a, b}, {out});
  ASSERT_TRUE(ours);
  std::vector<float> ra = Representable(a), rb = Representable(b), expected(Count(c.out));
  for (size_t i = 0; i < expected.size(); ++i) {
    double x = ra[BroadcastIndex(i, c.out, c.a)], y = rb[BroadcastIndex(i, c.out, c.b)];
    double v = Reference(c.op, x, y);
    if (c.op == Op::DIV && c.type == DataType::kInt32) v = std::trunc(x / y);
    expected[i] = static_cast<float>(v);
  }
  expected = AsOutput(out, expected);
  float tolerance = c.type == DataType::kFloat32 ? 1e-4f
                    : IsQuantizedType(c.type)    ? out.q.scales[0] * 1.01f
                                                 : 0;
  ExpectNear(Decode(ours->output(0)), expected, tolerance);
}

std::vector<BinaryCase> BinaryCases() {
  using DT = DataType;
  std::vector<std::pair<Op, std::vector<DT>>> ops = {
      {Op::DIV, {DT::kFloat32, DT::kInt32, DT::kUInt8}},
      {Op::FLOOR_DIV, {DT::kFloat32, DT::kInt32}},
      {Op::FLOOR_MOD, {DT::kFloat32, DT::kInt32, DT::kInt64}},
      {Op::MAXIMUM, {DT::kFloat32, DT::kUInt8, DT::kInt8, DT::kInt16, DT::kInt32, DT::kInt64}},
      {Op::MINIMUM, {DT::kFloat32, DT::kUInt8, DT::kInt8, DT::kInt16, DT::kInt32, DT::kInt64}},
      {Op::SQUARED_DIFFERENCE, {DT::kFloat32, DT::kInt32, DT::kInt8}},
  };
  std::vector<BinaryCase> cases;
  for (const auto& [op, types] : ops) {
    for (DT type : types) {
      cases.push_back({op, type, {2, 3, 4}, {2, 3, 4}, {2, 3, 4}});
      cases.push_back({op, type, {2, 1, 4}, {1, 3, 1}, {2, 3, 4}});
      cases.push_back({op, type, {4}, {2, 3, 4}, {2, 3, 4}});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Kernels, BinaryMathTest, ::testing::ValuesIn(BinaryCases()),
                         [](const ::testing::TestParamInfo<BinaryCase>& info) {
                           return std::string(tfl::EnumNameBuiltinOperator(info.param.op)) + "_" +
                                  DataTypeName(info.param.type) + "_" +
                                  std::to_string(info.index % 3);
                         });

TEST(BinaryMathTest, DivAppliesItsFusedActivation) {
  TensorSpec a = ValuesSpec(DataType::kFloat32, {6}, {-6, -1, 0.5f, 3, 12, 30});
  TensorSpec b = ValuesSpec(DataType::kFloat32, {1}, {0.5f});
  tfl::DivOptionsT o;
  o.fused_activation_function = Act::RELU6;
  tfl::BuiltinOptionsUnion options;
  options.Set(std::move(o));
  auto ours =
      RunAndCompare(Op::DIV, {a, b}, {ValuesSpec(DataType::kFloat32, {6})}, std::move(options));
  ASSERT_TRUE(ours);
  ExpectNear(Decode(ours->output(0)), {0, 0, 1, 6, 6, 6}, 0);
}

TEST(BinaryMathTest, IntegerDivisionByZeroFailsTheInvocation) {
  TensorSpec a = ValuesSpec(DataType::kInt32, {2}, {4, 5});
  TensorSpec b = ValuesSpec(DataType::kInt32, {2}, {2, 0});
  ModelPtr model =
      Model::FromBuffer(BuildSingleOp(Op::FLOOR_DIV, {a, b}, {ValuesSpec(DataType::kInt32, {2})}),
                        "m")
          .value();
  auto interpreter = Interpreter::Create(model).value();
  std::vector<uint8_t> x = Encode(a), y = Encode(b);
  std::memcpy(interpreter->input(0).data, x.data(), x.size());
  std::memcpy(interpreter->input(1).data, y.data(), y.size());
  Status status = interpreter->Invoke();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("FLOOR_DIV"), std::string::npos) << status.ToString();
  EXPECT_NE(status.ToString().find("division by zero"), std::string::npos) << status.ToString();
}

TEST(BinaryMathTest, TypesTfLiteDoesNotRunAreRefusedByBoth) {
  for (auto [op, type] :
       {std::pair{Op::FLOOR_DIV, DataType::kInt8}, std::pair{Op::FLOOR_MOD, DataType::kUInt8},
        std::pair{Op::SQUARED_DIFFERENCE, DataType::kUInt8}, std::pair{Op::DIV, DataType::kInt64},
        std::pair{Op::DIV, DataType::kInt8}, std::pair{Op::DIV, DataType::kInt16},
        std::pair{Op::FLOOR_DIV, DataType::kInt16}, std::pair{Op::FLOOR_MOD, DataType::kInt16},
        std::pair{Op::SQUARED_DIFFERENCE, DataType::kInt16}}) {
    TensorSpec a = ValuesSpec(type, {2}, {1, 2}, 0.5f, 0),
               b = ValuesSpec(type, {2}, {1, 2}, 0.5f, 0);
    TensorSpec out = ValuesSpec(type, {2}, {}, 0.5f, 0);
    ExpectTfLiteRefuses(op, {a, b}, {out});
    auto model = Model::FromBuffer(BuildSingleOp(op, {a, b}, {out}), "m").value();
    auto created = Interpreter::Create(model);
    ASSERT_FALSE(created.ok());
    EXPECT_NE(created.status().ToString().find("does not support type " + DataTypeName(type)),
              std::string::npos)
        << created.status().ToString();
  }
}

TEST(BinaryMathTest, RefusesShapesThatDoNotBroadcast) {
  TensorSpec a = ValuesSpec(DataType::kFloat32, {2, 3}), b = ValuesSpec(DataType::kFloat32, {2, 2});
  auto model =
      Model::FromBuffer(
          BuildSingleOp(Op::MAXIMUM, {a, b}, {ValuesSpec(DataType::kFloat32, {2, 3})}), "m")
          .value();
  auto created = Interpreter::Create(model);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().ToString().find("operator #0 (MAXIMUM): cannot broadcast"),
            std::string::npos)
      << created.status().ToString();
}

// ---------------------------------------------------------------- element-wise functions

// Every stored value of an 8-bit type once, as reals of `scale` and `zero_point`.
std::vector<float> EveryValue(DataType type, float scale, int zero_point) {
  std::vector<float> values;
  int lo = type == DataType::kInt8 ? -128 : 0;
  for (int q = lo; q < lo + 256; ++q) values.push_back(scale * static_cast<float>(q - zero_point));
  return values;
}

struct UnaryCase {
  Op op;
  DataType type;
};

float UnaryReference(Op op, float x, float alpha) {
  switch (op) {
    case Op::SQRT: return std::sqrt(x);
    case Op::RSQRT: return 1 / std::sqrt(x);
    case Op::EXP: return std::exp(x);
    default: return x > 0 ? x : alpha * x;
  }
}

class UnaryMathTest : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryMathTest, MatchesReferenceAndTfLite) {
  const auto [op, type] = GetParam();
  const bool positive = op == Op::SQRT || op == Op::RSQRT;
  TensorSpec in, out;
  if (type == DataType::kFloat32) {
    in = ValuesSpec(type, {4, 16}, RandomValues(64, positive ? 0.01f : -4, 4, 7));
    out = ValuesSpec(type, {4, 16});
  } else if (type == DataType::kInt16) {
    std::vector<float> values;
    for (int q = -32768; q < 32768; q += 97) values.push_back(q / 4096.0f);
    in = ValuesSpec(type, {static_cast<int32_t>(values.size())}, values, 1.0f / 4096, 0);
    out = ValuesSpec(type, in.shape, {}, 1.0f / 8192, 0);
  } else {
    int zero = type == DataType::kInt8 ? (op == Op::RSQRT ? -128 : -10) : 100;
    float scale = op == Op::RSQRT ? 0.02f : 0.03f;
    std::vector<float> values = EveryValue(type, scale, zero);
    in = ValuesSpec(type, {256}, values, scale, zero);
    float out_scale = op == Op::EXP ? 0.25f : op == Op::RSQRT ? 0.1f : 0.04f;
    int out_zero = op == Op::EXP || op == Op::RSQRT ? (type == DataType::kInt8 ? -128 : 0)
                                                    : (type == DataType::kInt8 ? 20 : 110);
    out = ValuesSpec(type, {256}, {}, out_scale, out_zero);
  }
  constexpr float kAlpha = 0.3f;
  tfl::BuiltinOptionsUnion options;
  if (op == Op::LEAKY_RELU) {
    tfl::LeakyReluOptionsT o;
    o.alpha = kAlpha;
    options.Set(std::move(o));
  }
  auto ours = RunAndCompare(op, {in}, {out}, std::move(options));
  ASSERT_TRUE(ours);
  std::vector<float> expected;
  for (float x : Representable(in)) expected.push_back(UnaryReference(op, x, kAlpha));
  if (op == Op::RSQRT && IsQuantizedType(type)) {
    for (float& v : expected) v = std::min(v, out.q.scales[0] * (127 - out.q.zero_points[0]));
  }
  expected = AsOutput(out, expected);
  ExpectNear(Decode(ours->output(0)), expected,
             type == DataType::kFloat32 ? 1e-5f * 60 : out.q.scales[0] * 1.01f);
}

INSTANTIATE_TEST_SUITE_P(Kernels, UnaryMathTest,
                         ::testing::Values(UnaryCase{Op::SQRT, DataType::kFloat32},
                                           UnaryCase{Op::RSQRT, DataType::kFloat32},
                                           UnaryCase{Op::RSQRT, DataType::kInt8},
                                           UnaryCase{Op::EXP, DataType::kFloat32},
                                           UnaryCase{Op::LEAKY_RELU, DataType::kFloat32},
                                           UnaryCase{Op::LEAKY_RELU, DataType::kUInt8},
                                           UnaryCase{Op::LEAKY_RELU, DataType::kInt8},
                                           UnaryCase{Op::LEAKY_RELU, DataType::kInt16}),
                         [](const ::testing::TestParamInfo<UnaryCase>& info) {
                           return std::string(tfl::EnumNameBuiltinOperator(info.param.op)) + "_" +
                                  DataTypeName(info.param.type);
                         });

TEST(UnaryMathTest, LeakyReluWithoutOptionsHasAlphaZeroLikeTfLite) {
  TensorSpec in = ValuesSpec(DataType::kFloat32, {4}, {-2, -0.5f, 0, 3});
  auto ours = RunAndCompare(Op::LEAKY_RELU, {in}, {ValuesSpec(DataType::kFloat32, {4})});
  ASSERT_TRUE(ours);
  ExpectNear(Decode(ours->output(0)), {0, 0, 0, 3}, 0);
}

TEST(UnaryMathTest, QuantizedRsqrtOfANegativeValueFails) {
  TensorSpec in = ValuesSpec(DataType::kInt8, {3}, {1, -0.5f, 2}, 0.05f, 0);
  auto model =
      Model::FromBuffer(
          BuildSingleOp(Op::RSQRT, {in}, {ValuesSpec(DataType::kInt8, {3}, {}, 0.1f, -128)}), "m")
          .value();
  auto interpreter = Interpreter::Create(model).value();
  std::vector<uint8_t> bytes = Encode(in);
  std::memcpy(interpreter->input(0).data, bytes.data(), bytes.size());
  Status status = interpreter->Invoke();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("RSQRT needs values >= 0"), std::string::npos)
      << status.ToString();
}

TEST(UnaryMathTest, TypesTfLiteDoesNotRunAreRefusedByBoth) {
  for (auto [op, type] :
       {std::pair{Op::SQRT, DataType::kInt8}, std::pair{Op::EXP, DataType::kInt8},
        std::pair{Op::SQRT, DataType::kInt16}, std::pair{Op::EXP, DataType::kInt16},
        std::pair{Op::RSQRT, DataType::kInt16}, std::pair{Op::RSQRT, DataType::kUInt8},
        std::pair{Op::LOG_SOFTMAX, DataType::kInt16},
        std::pair{Op::L2_NORMALIZATION, DataType::kInt16}}) {
    TensorSpec in = ValuesSpec(type, {1, 3}, {1, 2, 3}, 0.05f, 0);
    TensorSpec out = ValuesSpec(type, {1, 3}, {}, 0.05f, 0);
    ExpectTfLiteRefuses(op, {in}, {out});
    auto created =
        Interpreter::Create(Model::FromBuffer(BuildSingleOp(op, {in}, {out}), "m").value());
    ASSERT_FALSE(created.ok());
    EXPECT_NE(created.status().ToString().find(std::string("operator #0 (") +
                                               tfl::EnumNameBuiltinOperator(op) + ")"),
              std::string::npos)
        << created.status().ToString();
  }
}

class PreluTest : public ::testing::TestWithParam<DataType> {};

TEST_P(PreluTest, AlphaBroadcastsPerChannel) {
  DataType type = GetParam();
  bool int8 = type == DataType::kInt8;
  TensorSpec in =
      ValuesSpec(type, {1, 2, 3, 4}, RandomValues(24, -3, 3, 11), 0.03f, int8 ? 2 : 130);
  TensorSpec alpha =
      ValuesSpec(type, {1, 1, 4}, {0.1f, 0.25f, -0.5f, 0.9f}, 0.01f, int8 ? -20 : 50);
  alpha.constant = true;
  TensorSpec out = ValuesSpec(type, {1, 2, 3, 4}, {}, 0.025f, int8 ? -3 : 125);
  auto ours = RunAndCompare(Op::PRELU, {in, alpha}, {out});
  ASSERT_TRUE(ours);
  std::vector<float> x = Representable(in), a = Representable(alpha), expected;
  for (size_t i = 0; i < 24; ++i) expected.push_back(x[i] >= 0 ? x[i] : x[i] * a[i % 4]);
  expected = AsOutput(out, expected);
  ExpectNear(Decode(ours->output(0)), expected,
             type == DataType::kFloat32 ? 1e-6f : out.q.scales[0] * 1.01f);
}

INSTANTIATE_TEST_SUITE_P(Kernels, PreluTest,
                         ::testing::Values(DataType::kFloat32, DataType::kUInt8, DataType::kInt8),
                         [](const auto& info) { return DataTypeName(info.param); });

// ---------------------------------------------------------------- comparisons and selection

struct CompareCase {
  Op op;
  DataType type;
};

bool CompareReference(Op op, float x, float y) {
  switch (op) {
    case Op::EQUAL: return x == y;
    case Op::NOT_EQUAL: return x != y;
    case Op::LESS: return x < y;
    case Op::LESS_EQUAL: return x <= y;
    case Op::GREATER: return x > y;
    default: return x >= y;
  }
}

class CompareTest : public ::testing::TestWithParam<CompareCase> {};

TEST_P(CompareTest, MatchesReferenceAndTfLite) {
  const auto [op, type] = GetParam();
  std::vector<int32_t> sa = {2, 1, 5}, sb = {3, 1}, so = {2, 3, 5};
  TensorSpec a, b;
  if (type == DataType::kFloat32 || type == DataType::kInt32 || type == DataType::kInt64) {
    a = ValuesSpec(type, sa, Integers(10, -3, 3, 21));
    b = ValuesSpec(type, sb, Integers(3, -3, 3, 22));
  } else if (type == DataType::kBool) {
    a = ValuesSpec(type, sa, Integers(10, 0, 1, 23));
    b = ValuesSpec(type, sb, {1, 0, 1});
  } else {
    // Different scales: values compare by real value after TFLite's rescaling. b's values lie
    // on a's grid so that equality happens.
    bool int8 = type == DataType::kInt8;
    a = ValuesSpec(type, sa, Integers(10, -3, 3, 24), 0.5f, int8 ? -1 : 128);
    b = ValuesSpec(type, sb, {-1, 0, 2}, 0.25f, int8 ? 3 : 120);
  }
  auto ours = RunAndCompare(op, {a, b}, {ValuesSpec(DataType::kBool, so)});
  ASSERT_TRUE(ours);
  std::vector<float> ra = Representable(a), rb = Representable(b), expected;
  for (size_t i = 0; i < Count(so); ++i) {
    expected.push_back(
        CompareReference(op, ra[BroadcastIndex(i, so, sa)], rb[BroadcastIndex(i, so, sb)]));
  }
  ExpectNear(Decode(ours->output(0)), expected, 0);
}

std::vector<CompareCase> CompareCases() {
  std::vector<CompareCase> cases;
  for (Op op :
       {Op::EQUAL, Op::NOT_EQUAL, Op::LESS, Op::LESS_EQUAL, Op::GREATER, Op::GREATER_EQUAL}) {
    for (DataType type : {DataType::kFloat32, DataType::kInt32, DataType::kInt64, DataType::kUInt8,
                          DataType::kInt8}) {
      cases.push_back({op, type});
    }
    if (op == Op::EQUAL || op == Op::NOT_EQUAL) cases.push_back({op, DataType::kBool});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Kernels, CompareTest, ::testing::ValuesIn(CompareCases()),
                         [](const ::testing::TestParamInfo<CompareCase>& info) {
                           return std::string(tfl::EnumNameBuiltinOperator(info.param.op)) + "_" +
                                  DataTypeName(info.param.type);
                         });

struct SelectCase {
  Op op;
  DataType type;
  std::vector<int32_t> condition, x, y, out;
};

class SelectTest : public ::testing::TestWithParam<SelectCase> {};

TEST_P(SelectTest, MatchesReferenceAndTfLite) {
  const SelectCase& c = GetParam();
  TensorSpec condition =
      ValuesSpec(DataType::kBool, c.condition, Integers(Count(c.condition), 0, 1, 31));
  float scale = IsQuantizedType(c.type) ? 0.5f : 1;
  int zero = c.type == DataType::kUInt8 ? 100 : c.type == DataType::kInt8 ? -7 : 0;
  float lo = c.type == DataType::kBool ? 0 : -20, hi = c.type == DataType::kBool ? 1 : 20;
  TensorSpec x = ValuesSpec(c.type, c.x, Integers(Count(c.x), lo, hi, 32), scale, zero);
  TensorSpec y = ValuesSpec(c.type, c.y, Integers(Count(c.y), lo, hi, 33), scale, zero);
  TensorSpec out = ValuesSpec(c.type, c.out, {}, scale, zero);
  auto ours = RunAndCompare(c.op, {condition, x, y}, {out});
  ASSERT_TRUE(ours);
  // SELECT's rank-1 condition indexes x's first axis; SELECT_V2 broadcasts numpy-style.
  std::vector<int32_t> aligned = c.condition;
  if (c.op == Op::SELECT && c.condition.size() == 1 && c.x.size() > 1)
    aligned.resize(c.x.size(), 1);
  std::vector<float> rc = Representable(condition), rx = Representable(x), ry = Representable(y);
  std::vector<float> expected;
  for (size_t i = 0; i < Count(c.out); ++i) {
    expected.push_back(rc[BroadcastIndex(i, c.out, aligned)] != 0
                           ? rx[BroadcastIndex(i, c.out, c.x)]
                           : ry[BroadcastIndex(i, c.out, c.y)]);
  }
  ExpectNear(Decode(ours->output(0)), expected, 0);
}

std::vector<SelectCase> SelectCases() {
  std::vector<SelectCase> cases;
  for (DataType type : {DataType::kBool, DataType::kFloat32, DataType::kUInt8, DataType::kInt8,
                        DataType::kInt16, DataType::kInt32, DataType::kInt64}) {
    cases.push_back({Op::SELECT, type, {2, 3}, {2, 3}, {2, 3}, {2, 3}});
    cases.push_back({Op::SELECT, type, {2}, {2, 3}, {2, 3}, {2, 3}});
    cases.push_back({Op::SELECT_V2, type, {2, 1}, {1, 3}, {2, 3}, {2, 3}});
    cases.push_back({Op::SELECT_V2, type, {}, {2, 3}, {3}, {2, 3}});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Kernels, SelectTest, ::testing::ValuesIn(SelectCases()),
                         [](const ::testing::TestParamInfo<SelectCase>& info) {
                           return std::string(tfl::EnumNameBuiltinOperator(info.param.op)) + "_" +
                                  DataTypeName(info.param.type) + "_" +
                                  std::to_string(info.index % 2);
                         });

TEST(CompareTest, Int16IsRefusedByBoth) {
  for (Op op : {Op::EQUAL, Op::LESS}) {
    TensorSpec a = ValuesSpec(DataType::kInt16, {2}, {1, 2}, 0.5f, 0);
    TensorSpec out = ValuesSpec(DataType::kBool, {2});
    ExpectTfLiteRefuses(op, {a, a}, {out});
    auto created =
        Interpreter::Create(Model::FromBuffer(BuildSingleOp(op, {a, a}, {out}), "m").value());
    ASSERT_FALSE(created.ok());
    EXPECT_NE(created.status().ToString().find("does not support comparing int16"),
              std::string::npos)
        << created.status().ToString();
  }
}

TEST(SelectTest, RefusesAConditionOfAnotherShape) {
  TensorSpec condition = ValuesSpec(DataType::kBool, {3}),
             x = ValuesSpec(DataType::kFloat32, {2, 3});
  auto created = Interpreter::Create(
      Model::FromBuffer(BuildSingleOp(Op::SELECT, {condition, x, x}, {x}), "m").value());
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().ToString().find("operator #0 (SELECT): the condition"),
            std::string::npos)
      << created.status().ToString();
}

// ---------------------------------------------------------------- reductions

struct ReduceCase {
  Op op;
  DataType type;
  std::vector<int32_t> axes;
  bool keep_dims;
  bool requantize;  // 8-bit SUM with the output quantized unlike the input
};

class ReduceTest : public ::testing::TestWithParam<ReduceCase> {};

TEST_P(ReduceTest, MatchesReferenceAndTfLite) {
  const ReduceCase& c = GetParam();
  std::vector<int32_t> shape = {2, 3, 4};
  std::vector<bool> reduced(3, false);
  for (int32_t a : c.axes) reduced[a < 0 ? a + 3 : a] = true;
  std::vector<int32_t> out_shape;
  for (int d = 0; d < 3; ++d) {
    if (!reduced[d])
      out_shape.push_back(shape[d]);
    else if (c.keep_dims)
      out_shape.push_back(1);
  }
  const bool int8 = c.type == DataType::kInt8;
  TensorSpec in;
  TensorSpec out = ValuesSpec(c.type, out_shape);
  if (c.type == DataType::kFloat32) {
    in = ValuesSpec(c.type, shape, RandomValues(24, -2, 2, 41));
  } else if (c.type == DataType::kUInt8 || int8) {
    float scale = 0.1f;
    int zero = int8 ? -3 : 20;
    in = ValuesSpec(c.type, shape, RandomValues(24, -1, 2, 42), scale, zero);
    out = c.requantize ? ValuesSpec(c.type, out_shape, {}, 0.4f, int8 ? -100 : 10)
                       : ValuesSpec(c.type, out_shape, {}, scale, zero);
    if (!c.requantize && c.op == Op::SUM) {
      // Stored values are summed as stored (TFLite's rule for matching quantization): keep the
      // sums of stored values within range so the test reads them as reals.
      in = ValuesSpec(c.type, shape, Integers(24, 0, 9, 43), 1, 0);
      out = ValuesSpec(c.type, out_shape, {}, 1, 0);
    }
  } else {
    in = ValuesSpec(c.type, shape, Integers(24, -100, 100, 44));
    if (c.type == DataType::kInt16) {
      in.q = {{1}, {0}, 0};
      out.q = in.q;
    }
  }
  TensorSpec axes = ValuesSpec(DataType::kInt32, {static_cast<int32_t>(c.axes.size())},
                               std::vector<float>(c.axes.begin(), c.axes.end()));
  axes.constant = true;
  tfl::ReducerOptionsT o;
  o.keep_dims = c.keep_dims;
  tfl::BuiltinOptionsUnion options;
  options.Set(std::move(o));
  auto ours = RunAndCompare(c.op, {in, axes}, {out}, std::move(options));
  ASSERT_TRUE(ours);
  std::vector<float> x = Representable(in);
  std::vector<float> expected(Count(out_shape), c.op == Op::SUM ? 0 : -INFINITY);
  for (size_t i = 0; i < 24; ++i) {
    size_t coordinate[3] = {i / 12, (i / 4) % 3, i % 4}, o = 0;
    for (int d = 0; d < 3; ++d) {
      if (!reduced[d]) o = o * shape[d] + coordinate[d];
    }
    expected[o] = c.op == Op::SUM ? expected[o] + x[i] : std::max(expected[o], x[i]);
  }
  expected = AsOutput(out, expected);
  float tolerance = c.type == DataType::kFloat32 ? 1e-5f : c.requantize ? 0.4f * 1.01f : 0;
  ExpectNear(Decode(ours->output(0)), expected, tolerance);
}

std::vector<ReduceCase> ReduceCases() {
  std::vector<ReduceCase> cases;
  for (Op op : {Op::SUM, Op::REDUCE_MAX}) {
    for (DataType type : {DataType::kFloat32, DataType::kInt32, DataType::kInt64, DataType::kInt16,
                          DataType::kUInt8, DataType::kInt8}) {
      cases.push_back({op, type, {1}, false, false});
      cases.push_back({op, type, {0, -1}, true, false});
      cases.push_back({op, type, {2, 0, 2}, false, false});
    }
  }
  for (DataType type : {DataType::kUInt8, DataType::kInt8}) {
    cases.push_back({Op::SUM, type, {1}, false, true});
    cases.push_back({Op::SUM, type, {0, 2}, true, true});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Kernels, ReduceTest, ::testing::ValuesIn(ReduceCases()),
                         [](const ::testing::TestParamInfo<ReduceCase>& info) {
                           return std::string(tfl::EnumNameBuiltinOperator(info.param.op)) + "_" +
                                  DataTypeName(info.param.type) + "_" + std::to_string(info.index);
                         });

// Sums beyond the 8-bit range: stored values as TFLite combines them (matching quantization) and
// the requantized sum (different quantization).
TEST(ReduceTest, EightBitSumsBeyondTheRangeMatchTfLite) {
  TensorSpec axes = ValuesSpec(DataType::kInt32, {1}, {0});
  axes.constant = true;
  tfl::ReducerOptionsT o;
  tfl::BuiltinOptionsUnion options;
  options.Set(o);
  TensorSpec same = ValuesSpec(DataType::kUInt8, {3, 2}, {200, 10, 100, 20, 30, 30}, 1, 0);
  ASSERT_TRUE(
      RunAndCompare(Op::SUM, {same, axes}, {ValuesSpec(DataType::kUInt8, {2}, {}, 1, 0)}, options));
  TensorSpec requantized =
      ValuesSpec(DataType::kInt8, {3, 2}, {127, -128, 127, -128, 127, 5}, 1, 0);
  ASSERT_TRUE(RunAndCompare(Op::SUM, {requantized, axes},
                            {ValuesSpec(DataType::kInt8, {2}, {}, 0.5f, 0)}, options));
}

TEST(ReduceTest, RefusesAnAxisOutsideTheRank) {
  TensorSpec in = ValuesSpec(DataType::kFloat32, {2, 3});
  TensorSpec axes = ValuesSpec(DataType::kInt32, {1}, {2});
  axes.constant = true;
  auto created = Interpreter::Create(
      Model::FromBuffer(BuildSingleOp(Op::SUM, {in, axes}, {ValuesSpec(DataType::kFloat32, {2})}),
                        "m")
          .value());
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().ToString().find("operator #0 (SUM): axis 2 is outside"),
            std::string::npos)
      << created.status().ToString();
}

// ---------------------------------------------------------------- normalizations

class NormalizationTest : public ::testing::TestWithParam<std::tuple<Op, DataType>> {};

TEST_P(NormalizationTest, MatchesReferenceAndTfLite) {
  const auto [op, type] = GetParam();
  const bool int8 = type == DataType::kInt8;
  TensorSpec in = ValuesSpec(type, {3, 10}, RandomValues(30, -4, 4, 51), 0.05f, int8 ? -5 : 120);
  if (type == DataType::kFloat32) in.q = {};
  TensorSpec out = ValuesSpec(type, {3, 10});
  if (IsQuantizedType(type)) {
    out = op == Op::LOG_SOFTMAX ? ValuesSpec(type, {3, 10}, {}, 16.0f / 256, int8 ? 127 : 255)
                                : ValuesSpec(type, {3, 10}, {}, 1.0f / 128, int8 ? 0 : 128);
  }
  auto ours = RunAndCompare(op, {in}, {out});
  ASSERT_TRUE(ours);
  std::vector<float> x = Representable(in), expected(30);
  for (int r = 0; r < 3; ++r) {
    const float* row = x.data() + r * 10;
    double max = *std::max_element(row, row + 10), sum = 0, squares = 0;
    for (int i = 0; i < 10; ++i) {
      sum += std::exp(row[i] - max);
      squares += row[i] * row[i];
    }
    for (int i = 0; i < 10; ++i) {
      expected[r * 10 + i] = static_cast<float>(
          op == Op::LOG_SOFTMAX ? row[i] - max - std::log(sum) : row[i] / std::sqrt(squares));
    }
  }
  expected = AsOutput(out, expected);
  ExpectNear(Decode(ours->output(0)), expected,
             type == DataType::kFloat32 ? 1e-5f : out.q.scales[0] * 1.01f);
}

INSTANTIATE_TEST_SUITE_P(
    Kernels, NormalizationTest,
    ::testing::Combine(::testing::Values(Op::LOG_SOFTMAX, Op::L2_NORMALIZATION),
                       ::testing::Values(DataType::kFloat32, DataType::kUInt8, DataType::kInt8)),
    [](const auto& info) {
      return std::string(tfl::EnumNameBuiltinOperator(std::get<0>(info.param))) + "_" +
             DataTypeName(std::get<1>(info.param));
    });

TEST(NormalizationTest, RefusesAnOutputQuantizationTfLiteDoesNotProduce) {
  TensorSpec in = ValuesSpec(DataType::kUInt8, {1, 4}, {}, 0.1f, 128);
  TensorSpec out = ValuesSpec(DataType::kUInt8, {1, 4}, {}, 1.0f / 256, 0);
  auto created = Interpreter::Create(
      Model::FromBuffer(BuildSingleOp(Op::LOG_SOFTMAX, {in}, {out}), "m").value());
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().ToString().find("operator #0 (LOG_SOFTMAX)"), std::string::npos);
  EXPECT_NE(created.status().ToString().find("scale 0.0625 and zero point 255"), std::string::npos)
      << created.status().ToString();
}

// ---------------------------------------------------------------- CAST

class CastTest : public ::testing::TestWithParam<std::tuple<DataType, DataType>> {};

TEST_P(CastTest, MatchesReferenceAndTfLite) {
  const auto [from, to] = GetParam();
  std::vector<float> values = {0, 1, -1, 2.75f, -2.75f, 7, 100, -100, 0.5f, 127, 3, -128};
  if (from == DataType::kBool) values = {0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0};
  if (from == DataType::kUInt8) {
    for (float& v : values) v = std::fabs(v);
  }
  TensorSpec in = ValuesSpec(from, {3, 4}, values, 0);
  in.q = {};
  TensorSpec out = ValuesSpec(to, {3, 4}, {}, 0);
  out.q = {};
  // Float values out of the target's range are undefined in TFLite; keep them in range.
  if (from == DataType::kFloat32 && to == DataType::kUInt8) {
    for (float& v : in.values) v = std::fabs(v);
  }
  auto ours = RunAndCompare(Op::CAST, {in}, {out});
  ASSERT_TRUE(ours);
  std::vector<float> expected;
  for (float v : Representable(in)) {
    double r = to == DataType::kBool ? (v != 0) : to == DataType::kFloat32 ? v : std::trunc(v);
    if (to == DataType::kUInt8) r = static_cast<uint8_t>(static_cast<int64_t>(r));
    if (to == DataType::kInt8) r = static_cast<int8_t>(static_cast<int64_t>(r));
    expected.push_back(static_cast<float>(r));
  }
  ExpectNear(Decode(ours->output(0)), expected, 0);
}

// Floats TFLite leaves undefined (NaN, beyond int32) take the documented rule: through int64,
// then wrapped; NaN and values beyond int64 give 0. One such value sends the whole tensor down the
// element-by-element path, which must agree with the fast one on the values in range.
TEST(CastTest, FloatsBeyondInt32GoThroughInt64) {
  std::vector<float> values = {std::nanf(""), 3e9f, -3e9f, 1e20f, 2.75f, -2.75f, 70000.5f, 0};
  for (DataType to : {DataType::kInt32, DataType::kInt16, DataType::kInt8, DataType::kUInt8}) {
    SCOPED_TRACE(DataTypeName(to));
    TensorSpec in = ValuesSpec(DataType::kFloat32, {8}, values, 0);
    in.q = {};
    TensorSpec out = ValuesSpec(to, {8}, {}, 0);
    out.q = {};
    auto ours =
        Interpreter::Create(Model::FromBuffer(BuildSingleOp(Op::CAST, {in}, {out}), "m").value());
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    std::memcpy((*ours)->input(0).data, values.data(), values.size() * sizeof(float));
    ASSERT_TRUE((*ours)->Invoke().ok());
    std::vector<float> expected;
    for (float v : values) {
      int64_t wide =
          std::isnan(v) || std::fabs(v) >= 9.2233720368547758e18f ? 0 : static_cast<int64_t>(v);
      switch (to) {
        case DataType::kInt32:
          expected.push_back(static_cast<float>(static_cast<int32_t>(wide)));
          break;
        case DataType::kInt16: expected.push_back(static_cast<int16_t>(wide)); break;
        case DataType::kInt8: expected.push_back(static_cast<int8_t>(wide)); break;
        default: expected.push_back(static_cast<uint8_t>(wide)); break;
      }
    }
    ExpectNear(Decode((*ours)->output(0)), expected, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kernels, CastTest,
    ::testing::Combine(::testing::Values(DataType::kBool, DataType::kUInt8, DataType::kInt8,
                                         DataType::kInt16, DataType::kInt32, DataType::kInt64,
                                         DataType::kFloat32),
                       ::testing::Values(DataType::kBool, DataType::kUInt8, DataType::kInt8,
                                         DataType::kInt16, DataType::kInt32, DataType::kInt64,
                                         DataType::kFloat32)),
    [](const auto& info) {
      return DataTypeName(std::get<0>(info.param)) + "_to_" + DataTypeName(std::get<1>(info.param));
    });

}  // namespace
}  // namespace tpufleet::cpu::testing
