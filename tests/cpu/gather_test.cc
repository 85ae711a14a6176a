// GATHER and GATHER_ND on every copyable type against naive references and TensorFlow Lite 2.9,
// and their refusals: bad options and shapes at Prepare, out-of-range indices at Invoke.
#include <gtest/gtest.h>

#include "op_oracle.h"

namespace tpufleet::cpu::testing {
namespace {

using Op = tfl::BuiltinOperator;

tfl::BuiltinOptionsUnion GatherOptions(int axis, int batch_dims = 0) {
  tfl::GatherOptionsT o;
  o.axis = axis;
  o.batch_dims = batch_dims;
  tfl::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  return u;
}

// TFLite 2.9's GATHER takes every copyable type; its GATHER_ND all but bool.
bool TfLiteGathersNd(DataType type) { return type != DataType::kBool; }

class GatherTypeTest : public ::testing::TestWithParam<DataType> {};

TEST_P(GatherTypeTest, AxisOneMatchesReferenceAndTfLite) {
  // params [2, 3, 2], indices [4] = {2, 0, 2, 1} along axis 1 -> [2, 4, 2].
  TensorSpec params = SampleSpec(GetParam(), {2, 3, 2});
  TensorSpec indices = IntSpec({4}, {2, 0, 2, 1}, false);
  std::vector<float> p = Representable(params), expected;
  for (int b = 0; b < 2; ++b)
    for (int i : {2, 0, 2, 1})
      for (int k = 0; k < 2; ++k) expected.push_back(p[(b * 3 + i) * 2 + k]);
  ExpectMoved(Op::GATHER, {params, indices}, {OutputSpec(GetParam(), {2, 4, 2})}, {expected},
              /*tflite=*/true, GatherOptions(1));
}

TEST_P(GatherTypeTest, GatherNdMatchesReferenceAndTfLite) {
  // params [3, 2, 2], indices [2, 2] (pairs (2, 1) and (0, 0)) -> slices of 2 -> [2, 2].
  TensorSpec params = SampleSpec(GetParam(), {3, 2, 2});
  TensorSpec indices = IntSpec({2, 2}, {2, 1, 0, 0}, false, DataType::kInt64);
  std::vector<float> p = Representable(params);
  std::vector<float> expected = {p[10], p[11], p[0], p[1]};
  ExpectMoved(Op::GATHER_ND, {params, indices}, {OutputSpec(GetParam(), {2, 2})}, {expected},
              TfLiteGathersNd(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Types, GatherTypeTest, ::testing::ValuesIn(CopyableTypes()),
                         [](const ::testing::TestParamInfo<DataType>& info) {
                           return DataTypeName(info.param);
                         });

TEST(GatherTest, BatchDimsAndNegativeAxisMatchTfLite) {
  // params [2, 3, 2], indices [2, 2], axis -2 (= 1), batch_dims 1: out[b, j, k] =
  // params[b, indices[b, j], k].
  TensorSpec params = SampleSpec(DataType::kFloat32, {2, 3, 2});
  std::vector<float> idx = {2, 0, 1, 1};
  TensorSpec indices = IntSpec({2, 2}, idx, false);
  std::vector<float> p = Representable(params), expected;
  for (int b = 0; b < 2; ++b)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k)
        expected.push_back(p[(b * 3 + static_cast<int>(idx[b * 2 + j])) * 2 + k]);
  ExpectMoved(Op::GATHER, {params, indices}, {OutputSpec(DataType::kFloat32, {2, 2, 2})},
              {expected}, true, GatherOptions(-2, 1));
}

TEST(GatherTest, ScalarIndexDropsTheAxis) {
  TensorSpec params = SampleSpec(DataType::kInt32, {3, 2});
  ExpectMoved(Op::GATHER, {params, IntSpec({}, {1}, false)}, {OutputSpec(DataType::kInt32, {2})},
              {{Representable(params)[2], Representable(params)[3]}}, true, GatherOptions(0));
}

TEST(GatherTest, OutOfRangeIndexFailsTheInvocation) {
  TensorSpec params = SampleSpec(DataType::kUInt8, {3, 2});
  for (float bad : {3.0f, -1.0f}) {
    Status s = FailureOf(Op::GATHER, {params, IntSpec({2}, {0, bad}, false)},
                         {OutputSpec(DataType::kUInt8, {2, 2})}, GatherOptions(0));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.ToString().find("GATHER"), std::string::npos) << s.ToString();
    EXPECT_NE(s.ToString().find("outside [0, 3)"), std::string::npos) << s.ToString();
  }
}

TEST(GatherTest, GatherNdOutOfRangeIndexFailsTheInvocation) {
  TensorSpec params = SampleSpec(DataType::kFloat32, {3, 2});
  Status s = FailureOf(Op::GATHER_ND, {params, IntSpec({1, 2}, {1, 2}, false)},
                       {OutputSpec(DataType::kFloat32, {1})});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.ToString().find("GATHER_ND"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("dimension 1 of size 2"), std::string::npos) << s.ToString();
}

TEST(GatherTest, PrepareRefusesBadOptionsAndShapes) {
  TensorSpec params = SampleSpec(DataType::kFloat32, {3, 2});
  TensorSpec indices = IntSpec({2}, {0, 1}, false);
  TensorSpec out = OutputSpec(DataType::kFloat32, {2, 2});
  struct Case {
    std::vector<TensorSpec> inputs;
    TensorSpec output;
    tfl::BuiltinOptionsUnion options;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({{params, indices}, out, GatherOptions(2), "axis 2 is outside"});
  cases.push_back({{params, indices}, out, GatherOptions(0, 1), "batch_dims 1"});
  cases.push_back({{params, indices},
                   OutputSpec(DataType::kFloat32, {2, 3}),
                   GatherOptions(0),
                   "should have shape [2, 2]"});
  cases.push_back({{params, IntSpec({2}, {0, 1}, false, DataType::kFloat32)},
                   out,
                   GatherOptions(0),
                   "must be int32 or int64"});
  cases.push_back({{params, indices},
                   OutputSpec(DataType::kInt32, {2, 2}),
                   GatherOptions(0),
                   "must have input"});
  for (const Case& c : cases) {
    Status s = FailureOf(Op::GATHER, c.inputs, {c.output}, c.options);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.ToString().find("(GATHER)"), std::string::npos) << s.ToString();
    EXPECT_NE(s.ToString().find(c.message), std::string::npos) << s.ToString();
  }
  Status deep = FailureOf(Op::GATHER_ND, {params, IntSpec({1, 3}, {0, 0, 0}, false)},
                          {OutputSpec(DataType::kFloat32, {1})});
  EXPECT_NE(deep.ToString().find("index 3 dimensions of params"), std::string::npos)
      << deep.ToString();
}

}  // namespace
}  // namespace tpufleet::cpu::testing
