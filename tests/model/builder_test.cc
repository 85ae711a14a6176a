// ModelBuilder writes models that load back through the verifier unchanged, and the verifier's
// error messages name the broken index; models built by hand exercise each check.
#include "model/builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tpufleet {
namespace {

using ::testing::HasSubstr;
using Op = tfl::BuiltinOperator;

tfl::BuiltinOptionsUnion ConvOptions(int stride) {
  tfl::Conv2DOptionsT options;
  options.padding = tfl::Padding::SAME;
  options.stride_h = options.stride_w = stride;
  options.fused_activation_function = tfl::ActivationFunctionType::RELU6;
  tfl::BuiltinOptionsUnion u;
  u.Set(std::move(options));
  return u;
}

// input [1,8,8,3] int8 -> CONV_2D 3x3 stride 2, 4 filters, per-channel -> [1,4,4,4] -> CUMSUM.
ModelBuilder SmallInt8Model() {
  ModelBuilder b;
  int input = b.AddTensor("input", DataType::kInt8, {1, 8, 8, 3}, {{0.5f}, {-1}, 0});
  Quantization per_channel{{0.1f, 0.2f, 0.3f, 0.4f}, {0, 0, 0, 0}, 0};
  int weights = b.AddConstant("weights", DataType::kInt8, {4, 3, 3, 3},
                              std::vector<int8_t>(4 * 3 * 3 * 3, 1), per_channel);
  int bias = b.AddConstant("bias", DataType::kInt32, {4}, std::vector<int32_t>{1, 2, 3, 4},
                           {{0.05f, 0.1f, 0.15f, 0.2f}, {0, 0, 0, 0}, 0});
  int conv = b.AddTensor("conv", DataType::kInt8, {1, 4, 4, 4}, {{0.25f}, {-128}, 0});
  b.AddOperator(Op::CONV_2D, {input, weights, bias}, {conv}, ConvOptions(2));
  int axis = b.AddConstant("axis", DataType::kInt32, {}, std::vector<int32_t>{3});
  int out = b.AddTensor("out", DataType::kFloat32, {1, 4, 4, 4});
  b.AddOperator(Op::CUMSUM, {conv, axis}, {out});
  b.SetInputs({input});
  b.SetOutputs({out});
  return b;
}

Result<ModelPtr> Load(const ModelBuilder& b) { return Model::FromBuffer(b.Finish(), "built"); }

TEST(ModelBuilderTest, RoundTripsTensorsQuantizationAndOperators) {
  Result<ModelPtr> loaded = Load(SmallInt8Model());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Model& model = *loaded.value();
  ASSERT_EQ(model.operators().size(), 2u);
  EXPECT_EQ(model.operators()[0].name, "CONV_2D");
  // Codes above 127 are written to builtin_code only and read back by name.
  EXPECT_EQ(model.operators()[1].name, "CUMSUM");
  EXPECT_EQ(model.operators()[1].builtin_code, 128);

  const TensorInfo& weights = model.tensors()[1];
  EXPECT_EQ(weights.name, "weights");
  EXPECT_TRUE(weights.is_constant);
  EXPECT_TRUE(weights.quantization.per_channel());
  EXPECT_EQ(weights.quantization.scales, (std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}));
  EXPECT_EQ(model.input(0).quantization.zero_points, (std::vector<int64_t>{-1}));
  EXPECT_EQ(model.output(0).type, DataType::kFloat32);

  // MACs of the convolution: 4x4 outputs x 4 filters x (3x3x3) taps.
  EXPECT_EQ(model.operators()[0].macs, 4u * 4 * 4 * 27);
  EXPECT_EQ(model.total_macs(), 4u * 4 * 4 * 27);
  EXPECT_EQ(model.parameter_count(), 108u + 4 + 1);
  EXPECT_EQ(model.parameter_bytes(), 108u + 16 + 4);
}

TEST(ModelBuilderTest, OperatorCodesAreShared) {
  ModelBuilder b = SmallInt8Model();
  int extra = b.AddTensor("extra", DataType::kFloat32, {1, 4, 4, 4});
  int axis = b.AddConstant("axis2", DataType::kInt32, {}, std::vector<int32_t>{3});
  b.AddOperator(Op::CUMSUM, {2, axis}, {extra});
  Result<ModelPtr> loaded = Load(b);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded.value()->op_histogram().at("CUMSUM"), 2);
}

TEST(VerifierTest, ConstantOfTheWrongSizeIsNamed) {
  ModelBuilder b;
  int t = b.AddConstant("short", DataType::kFloat32, {2, 3}, std::vector<float>{1, 2, 3});
  b.SetOutputs({t});
  Result<ModelPtr> loaded = Load(b);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(
      loaded.status().message(),
      HasSubstr("built: subgraph 0, tensor #0 'short': buffer 1 holds 12 bytes, but shape [2, 3] "
                "of float32 needs 24"));
}

TEST(VerifierTest, OperatorInputOutOfRangeIsNamed) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1, 4});
  int out = b.AddTensor("out", DataType::kFloat32, {1, 4});
  b.AddOperator(Op::ADD, {in, 7}, {out});
  Result<ModelPtr> loaded = Load(b);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(
      loaded.status().message(),
      HasSubstr(
          "subgraph 0, operator #0 (ADD): input 1 is tensor 7, but the subgraph has 2 tensors"));
}

TEST(VerifierTest, OmittedOptionalInputIsAccepted) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1, 4});
  int w = b.AddConstant("w", DataType::kFloat32, {2, 4}, std::vector<float>(8, 1.0f));
  int out = b.AddTensor("out", DataType::kFloat32, {1, 2});
  b.AddOperator(Op::FULLY_CONNECTED, {in, w, -1}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  Result<ModelPtr> loaded = Load(b);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded.value()->operators()[0].macs, 8u);
}

TEST(VerifierTest, OutputIndexMinusOneIsRejected) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1, 4});
  b.AddOperator(Op::RELU, {in}, {-1});
  Result<ModelPtr> loaded = Load(b);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("operator #0 (RELU): output 0 is tensor -1"));
}

TEST(VerifierTest, SubgraphOutputOutOfRangeIsNamed) {
  ModelBuilder b;
  b.AddTensor("in", DataType::kFloat32, {1});
  b.SetOutputs({3});
  Result<ModelPtr> loaded = Load(b);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("subgraph 0: output 0 is tensor 3, but the subgraph has 1 tensors"));
}

TEST(VerifierTest, NegativeDimensionIsRejected) {
  ModelBuilder b;
  b.AddTensor("bad", DataType::kFloat32, {1, -2});
  Result<ModelPtr> loaded = Load(b);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("tensor #0 'bad': dimension 1 of shape [1, -2] is negative"));
}

TEST(VerifierTest, PerChannelScalesMustMatchTheAxis) {
  ModelBuilder b;
  b.AddConstant("w", DataType::kInt8, {3, 2}, std::vector<int8_t>(6, 0), {{1.0f, 2.0f}, {0, 0}, 0});
  Result<ModelPtr> loaded = Load(b);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("2 per-channel scales for dimension 0 of size 3"));
}

TEST(VerifierTest, ScalesAndZeroPointsMustAgree) {
  ModelBuilder b;
  b.AddTensor("t", DataType::kUInt8, {2}, {{1.0f, 2.0f}, {0, 0, 0}, 0});
  Result<ModelPtr> loaded = Load(b);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("2 scales but 3 zero points"));
}

TEST(VerifierTest, HugeShapeIsRejectedWithoutOverflow) {
  ModelBuilder b;
  b.AddTensor("huge", DataType::kFloat32, {1 << 30, 1 << 30, 1 << 30});
  Result<ModelPtr> loaded = Load(b);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("too many elements"));
}

}  // namespace
}  // namespace tpufleet
