// Cutting models between tensors and into pipeline segments: the parts compute what the whole
// does between the cuts, keep only what they use, and bad cuts say what is missing.
#include "model/submodel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/builder.h"
#include "model/split.h"
#include "support/shared_files.h"

namespace tpufleet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// x -> ADD(x, a) -> y -> ADD(y, b) -> z -> ADD(z, c) -> out, constants of 4, 40 and 400 bytes'
// worth of parameters (a, b, c), the compiler-style name "y;fused" for y.
ModelPtr Chain() {
  ModelBuilder builder;
  Quantization q{{1.0f}, {0}, 0};
  int x = builder.AddTensor("x", DataType::kUInt8, {1, 4}, q);
  std::vector<int> consts = {
      builder.AddConstant("a", DataType::kUInt8, {1, 4}, std::vector<uint8_t>(4, 1), q),
      builder.AddConstant("b", DataType::kUInt8, {10, 4}, std::vector<uint8_t>(40, 1), q),
      builder.AddConstant("c", DataType::kUInt8, {100, 4}, std::vector<uint8_t>(400, 1), q)};
  builder.AddConstant("unused", DataType::kUInt8, {8}, std::vector<uint8_t>(8, 1), q);
  std::vector<int> outs = {builder.AddTensor("y;fused", DataType::kUInt8, {1, 4}, q),
                           builder.AddTensor("z", DataType::kUInt8, {1, 4}, q),
                           builder.AddTensor("out", DataType::kUInt8, {1, 4}, q)};
  int in = x;
  for (int k = 0; k < 3; ++k) {
    tfl::BuiltinOptionsUnion options;
    options.Set(tfl::AddOptionsT{});
    builder.AddOperator(tfl::BuiltinOperator::ADD, {in, consts[k]}, {outs[k]}, std::move(options));
    in = outs[k];
  }
  builder.SetInputs({x});
  builder.SetOutputs({outs[2]});
  return Model::FromBuffer(builder.Finish(), "chain").value();
}

TEST(SubmodelTest, TensorsAreFoundByTheirNameBeforeTheFirstSemicolon) {
  ModelPtr chain = Chain();
  EXPECT_EQ(BaseTensorName("a/b;c;d"), "a/b");
  EXPECT_EQ(FindTensorByBaseName(*chain, "y"), FindTensorByBaseName(*chain, "y;other/fused"));
  EXPECT_GE(FindTensorByBaseName(*chain, "y"), 0);
  EXPECT_EQ(FindTensorByBaseName(*chain, "nothing"), -1);
}

TEST(SubmodelTest, APartKeepsOnlyTheOperatorsAndTensorsBetweenTheCuts) {
  ModelPtr chain = Chain();
  int y = FindTensorByBaseName(*chain, "y"), z = FindTensorByBaseName(*chain, "z");
  Result<ModelPtr> middle = ExtractSubmodel(*chain, {y}, {z}, "middle");
  ASSERT_TRUE(middle.ok()) << middle.status().ToString();
  ASSERT_EQ((*middle)->operators().size(), 1u);
  EXPECT_EQ((*middle)->tensors().size(), 3u);  // y, b, z: the other constants are left out
  EXPECT_EQ((*middle)->parameter_bytes(), 40u);
  EXPECT_EQ((*middle)->input(0).name, "y;fused");
  EXPECT_EQ((*middle)->output(0).name, "z");

  EXPECT_TRUE(ExtractSubmodel(*chain, {y}, chain->output_indices(), "tail").ok());
  Status gap = ExtractSubmodel(*chain, {z}, {y}, "bad").status();
  EXPECT_EQ(gap.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(gap.message(), HasSubstr("chain: output 'y' needs tensor 'x', which is neither "
                                       "among the inputs given"));
  EXPECT_THAT(ExtractSubmodel(*chain, {99}, {y}, "bad").status().message(),
              HasSubstr("cutting at tensor 99, but the model has"));
}

TEST(SubmodelTest, SplitBalancesTheParameters) {
  ModelPtr chain = Chain();
  // 4, 40 and 400 bytes: the best two-way cut puts the 400 alone.
  Result<std::vector<ModelSegment>> two = SplitModel(*chain, 2, "chain");
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].end_operator, 2);
  EXPECT_EQ((*two)[0].parameter_bytes, 44u);
  EXPECT_EQ((*two)[1].parameter_bytes, 400u);
  EXPECT_EQ((*two)[0].model->name(), "chain_segment_0_of_2");
  EXPECT_EQ((*two)[0].model->output(0).name, "z");
  EXPECT_EQ((*two)[1].model->input(0).name, "z");
  Result<std::vector<ModelSegment>> three = SplitModel(*chain, 3, "chain");
  ASSERT_TRUE(three.ok());
  std::vector<uint64_t> bytes;
  for (const ModelSegment& s : *three) bytes.push_back(s.parameter_bytes);
  EXPECT_THAT(bytes, ElementsAre(4, 40, 400));
  EXPECT_THAT(SplitModel(*chain, 4, "chain").status().message(),
              HasSubstr("cannot cut 3 operators into 4 segments: give 1 to 3"));
}

TEST(SubmodelTest, ACompiledModelIsNotCut) {
  std::string path = testing::SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  ModelPtr compiled = Model::FromFile(path).value();
  EXPECT_THAT(
      SplitModel(*compiled, 2, "m").status().message(),
      HasSubstr("a model compiled for the Edge TPU cannot be cut; cut its uncompiled twin"));
}

}  // namespace
}  // namespace tpufleet
