// Models that verify but carry hostile operator options and shapes: each is refused with a
// message naming the operator (or runs correctly), never read or written out of bounds.
#include <flatbuffers/flexbuffers.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>

#include "cpu/interpreter.h"
#include "model/builder.h"
#include "support/shared_files.h"

namespace tpufleet::cpu {
namespace {

using Op = tfl::BuiltinOperator;
using ::testing::HasSubstr;

constexpr int32_t kIntMax = std::numeric_limits<int32_t>::max();

Result<ModelPtr> Load(const ModelBuilder& b) { return Model::FromBuffer(b.Finish(), "hostile"); }

// Loads, prepares and invokes once on zeros; the first error, or OK.
Status LoadAndRun(const ModelBuilder& b, const InterpreterOptions& options = {}) {
  TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, Load(b));
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<Interpreter> interpreter,
                            Interpreter::Create(model, options));
  for (size_t i = 0; i < interpreter->input_count(); ++i)
    std::memset(interpreter->input(i).data, 0, interpreter->input(i).byte_size());
  return interpreter->Invoke();
}

void ExpectRefused(const ModelBuilder& b, const std::string& op, const std::string& what) {
  Status status = LoadAndRun(b);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr(op));
  EXPECT_THAT(status.message(), HasSubstr(what));
}

template <typename Options>
tfl::BuiltinOptionsUnion Union(Options o) {
  tfl::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  return u;
}

// STRIDED_SLICE of a [4] float input with one shrunk axis at `begin`, stepping by `stride`.
ModelBuilder ShrinkSlice(int32_t begin, int32_t stride) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {4});
  int begins = b.AddConstant<int32_t>("begin", DataType::kInt32, {1}, {begin});
  int ends = b.AddConstant<int32_t>("end", DataType::kInt32, {1}, {begin + 1});
  int strides = b.AddConstant<int32_t>("strides", DataType::kInt32, {1}, {stride});
  int out = b.AddTensor("out", DataType::kFloat32, {});
  tfl::StridedSliceOptionsT o;
  o.shrink_axis_mask = 1;
  b.AddOperator(Op::STRIDED_SLICE, {in, begins, ends, strides}, {out}, Union(o));
  b.SetInputs({in});
  b.SetOutputs({out});
  return b;
}

TEST(HostileOpsTest, StridedSliceShrinkPastTheEndIsRefused) {
  ExpectRefused(ShrinkSlice(4, 1), "STRIDED_SLICE", "begin 4 of shrunk dimension 0");
}

TEST(HostileOpsTest, StridedSliceShrinkBeforeTheStartIsRefused) {
  // begin -5 of a dimension of 4 clamps to -1 for a negative stride: the element before the input.
  ExpectRefused(ShrinkSlice(-5, -1), "STRIDED_SLICE", "outside its size 4");
}

TEST(HostileOpsTest, StridedSliceHugeStrideTakesOneElement) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {4});
  int begins = b.AddConstant<int64_t>("begin", DataType::kInt64, {1}, {0});
  int ends = b.AddConstant<int64_t>("end", DataType::kInt64, {1}, {4});
  int strides = b.AddConstant<int64_t>("strides", DataType::kInt64, {1},
                                       {std::numeric_limits<int64_t>::min()});
  int out = b.AddTensor("out", DataType::kFloat32, {0});
  b.AddOperator(Op::STRIDED_SLICE, {in, begins, ends, strides}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  // From 0 to 4 with a negative step selects nothing: an empty output, computed without overflow.
  EXPECT_TRUE(LoadAndRun(b).ok()) << LoadAndRun(b).message();
}

TEST(HostileOpsTest, PadWithOverflowingPaddingsIsRefused) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1});
  int64_t huge = std::numeric_limits<int64_t>::max();
  int pads = b.AddConstant<int64_t>("pads", DataType::kInt64, {1, 2}, {huge, huge});
  int out = b.AddTensor("out", DataType::kFloat32, {3});
  b.AddOperator(Op::PAD, {in, pads}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  ExpectRefused(b, "PAD", "do not take");
}

TEST(HostileOpsTest, PadValueOfAnotherTypeIsRefused) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1});
  int pads = b.AddConstant<int32_t>("pads", DataType::kInt32, {1, 2}, {1, 1});
  int value = b.AddConstant<uint8_t>("value", DataType::kUInt8, {1}, {7});  // 1 byte, not 4
  int out = b.AddTensor("out", DataType::kFloat32, {3});
  b.AddOperator(Op::PADV2, {in, pads, value}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  ExpectRefused(b, "PADV2", "is not one float32 value");
}

TEST(HostileOpsTest, ConcatenationWhoseSizesOverflowInt32IsRefused) {
  ModelBuilder b;
  int x = b.AddTensor("x", DataType::kUInt8, {kIntMax});
  int y = b.AddTensor("y", DataType::kUInt8, {kIntMax});
  int out = b.AddTensor("out", DataType::kUInt8, {2});  // what (2^31 - 1) * 2 wraps to... almost
  b.AddOperator(Op::CONCATENATION, {x, y}, {out});
  b.SetInputs({x, y});
  b.SetOutputs({out});
  ExpectRefused(b, "CONCATENATION", "do not add up");
}

TEST(HostileOpsTest, ConcatenationOfAnOmittedInputIsRefused) {
  ModelBuilder b;
  int x = b.AddTensor("x", DataType::kFloat32, {2});
  int out = b.AddTensor("out", DataType::kFloat32, {2});
  b.AddOperator(Op::CONCATENATION, {-1, x}, {out});
  b.SetInputs({x});
  b.SetOutputs({out});
  ExpectRefused(b, "CONCATENATION", "input 0 is omitted");
}

TEST(HostileOpsTest, TransposeToALowerRankIsRefused) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {2, 3});
  int perm = b.AddConstant<int32_t>("perm", DataType::kInt32, {2}, {1, 0});
  int out = b.AddTensor("out", DataType::kFloat32, {3});
  b.AddOperator(Op::TRANSPOSE, {in, perm}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  ExpectRefused(b, "TRANSPOSE", "permutation does not fit");
}

ModelBuilder Depthwise(std::vector<int32_t> input, int depth_multiplier, int dilation) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, input);
  int filter =
      b.AddConstant<float>("filter", DataType::kFloat32, {1, 3, 3, 1}, std::vector<float>(9, 1.0f));
  int out = b.AddTensor("out", DataType::kFloat32, {1, 1, 1, 1});
  tfl::DepthwiseConv2DOptionsT o;
  o.padding = tfl::Padding::SAME;
  o.stride_h = o.stride_w = 1;
  o.dilation_h_factor = o.dilation_w_factor = dilation;
  o.depth_multiplier = depth_multiplier;
  b.AddOperator(Op::DEPTHWISE_CONV_2D, {in, filter}, {out}, Union(o));
  b.SetInputs({in});
  b.SetOutputs({out});
  return b;
}

TEST(HostileOpsTest, DepthwiseConvolutionOfNoChannelsIsRefused) {
  ExpectRefused(Depthwise({1, 1, 1, 0}, 0, 1), "DEPTHWISE_CONV_2D", "no channels");
}

TEST(HostileOpsTest, DepthwiseConvolutionWithHugeDilationIsRefused) {
  ExpectRefused(Depthwise({1, 1, 1, 1}, 1, kIntMax), "DEPTHWISE_CONV_2D",
                "the height window (kernel 3 dilated by 2147483647)");
}

TEST(HostileOpsTest, MaxPoolWithHugeStrideRunsInOneWindow) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1, 2, 2, 1});
  int out = b.AddTensor("out", DataType::kFloat32, {1, 1, 1, 1});
  tfl::Pool2DOptionsT o;
  o.padding = tfl::Padding::SAME;
  o.stride_h = o.stride_w = kIntMax;
  o.filter_height = o.filter_width = kIntMax;
  b.AddOperator(Op::MAX_POOL_2D, {in}, {out}, Union(o));
  b.SetInputs({in});
  b.SetOutputs({out});
  Result<ModelPtr> model = Load(b);
  ASSERT_TRUE(model.ok()) << model.status().message();
  Result<std::unique_ptr<Interpreter>> interpreter = Interpreter::Create(*model);
  ASSERT_TRUE(interpreter.ok()) << interpreter.status().message();
  float values[] = {1, 4, 3, 2};
  std::memcpy((*interpreter)->input(0).data, values, sizeof(values));
  ASSERT_TRUE((*interpreter)->Invoke().ok());
  EXPECT_EQ((*interpreter)->output(0).as<float>()[0], 4.0f);  // the window covers the input
}

TEST(HostileOpsTest, FloatFullyConnectedIntoUint8IsRefused) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1, 4});
  int weights =
      b.AddConstant<float>("w", DataType::kFloat32, {64, 4}, std::vector<float>(256, 1.0f));
  int out = b.AddTensor("out", DataType::kUInt8, {1, 64}, {{1.0f}, {0}, 0});
  b.AddOperator(Op::FULLY_CONNECTED, {in, weights}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  ExpectRefused(b, "FULLY_CONNECTED", "does not support input float32");
}

TEST(HostileOpsTest, ConvolutionBiasOfTheWrongSizeIsRefused) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1, 1, 1, 1});
  int filter = b.AddConstant<float>("filter", DataType::kFloat32, {64, 1, 1, 1},
                                    std::vector<float>(64, 1.0f));
  int bias = b.AddConstant<float>("bias", DataType::kFloat32, {1}, {0.0f});
  int out = b.AddTensor("out", DataType::kFloat32, {1, 1, 1, 64});
  tfl::Conv2DOptionsT o;
  o.stride_h = o.stride_w = o.dilation_h_factor = o.dilation_w_factor = 1;
  b.AddOperator(Op::CONV_2D, {in, filter, bias}, {out}, Union(o));
  b.SetInputs({in});
  b.SetOutputs({out});
  ExpectRefused(b, "CONV_2D", "does not hold 64 values");
}

TEST(HostileOpsTest, ResizeOfAnEmptyImageIsRefused) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1, 0, 0, 1});
  int size = b.AddConstant<int32_t>("size", DataType::kInt32, {2}, {2, 2});
  int out = b.AddTensor("out", DataType::kFloat32, {1, 2, 2, 1});
  b.AddOperator(Op::RESIZE_BILINEAR, {in, size}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  ExpectRefused(b, "RESIZE_BILINEAR", "cannot resize the empty");
}

TEST(HostileOpsTest, ArgMaxAxisOfAByteIsRefused) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1, 4});
  int axis = b.AddConstant<uint8_t>("axis", DataType::kUInt8, {1}, {1});
  int out = b.AddTensor("out", DataType::kInt32, {1});
  b.AddOperator(Op::ARG_MAX, {in, axis}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  ExpectRefused(b, "ARG_MAX", "an axis of type uint8");
}

std::vector<uint8_t> DetectionOptions(int max_detections, int max_classes_per_detection) {
  flexbuffers::Builder f;
  f.Map([&] {
    f.Int("max_detections", max_detections);
    f.Int("max_classes_per_detection", max_classes_per_detection);
    f.Int("num_classes", 1);
  });
  f.Finish();
  return f.GetBuffer();
}

ModelBuilder Detection(std::vector<int32_t> anchor_shape, std::vector<uint8_t> options) {
  ModelBuilder b;
  int boxes = b.AddTensor("boxes", DataType::kFloat32, {1, 1, 4});
  int scores = b.AddTensor("scores", DataType::kFloat32, {1, 1, 2});
  size_t anchor_count = 1;
  for (int32_t d : anchor_shape) anchor_count *= d;
  int anchors = b.AddConstant<float>("anchors", DataType::kFloat32, anchor_shape,
                                     std::vector<float>(anchor_count, 0.5f));
  std::vector<int> outputs;
  for (const char* name : {"boxes_out", "classes", "scores_out", "count"})
    outputs.push_back(b.AddTensor(name, DataType::kFloat32, {}));
  b.AddCustomOperator("TFLite_Detection_PostProcess", {boxes, scores, anchors}, outputs,
                      std::move(options));
  b.SetInputs({boxes, scores});
  b.SetOutputs(outputs);
  return b;
}

TEST(HostileOpsTest, DetectionsTimesClassesOverflowIsRefused) {
  ExpectRefused(Detection({1, 4}, DetectionOptions(10000, 1 << 30)), "TFLite_Detection_PostProcess",
                "max_classes_per_detection 1073741824 exceeds num_classes 1");
}

TEST(HostileOpsTest, DetectionWithScalarAnchorsIsRefused) {
  ExpectRefused(Detection({}, DetectionOptions(1, 1)), "TFLite_Detection_PostProcess",
                "must not be scalars");
}

TEST(HostileOpsTest, ZeroPointOutsideTheTypeIsRefused) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kUInt8, {2}, {{0.5f}, {-2147483647}, 0});
  int out = b.AddTensor("out", DataType::kUInt8, {2}, {{0.5f}, {0}, 0});
  b.AddOperator(Op::RELU, {in}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  Status status = LoadAndRun(b);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("tensor #0 'in': zero point -2147483647 is outside the range of uint8"));
}

TEST(HostileOpsTest, GraphInputWithAConstantBufferIsRefused) {
  ModelBuilder b;
  int in = b.AddConstant<float>("in", DataType::kFloat32, {2}, {1.0f, 2.0f});
  int out = b.AddTensor("out", DataType::kFloat32, {2});
  b.AddOperator(Op::RELU, {in}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  Status status = LoadAndRun(b);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("graph input tensor #0 'in' is a constant"));
}

TEST(HostileOpsTest, OutputNoOperatorWritesReadsAsZeros) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {2});
  int relu = b.AddTensor("relu", DataType::kFloat32, {2});
  int orphan = b.AddTensor("orphan", DataType::kFloat32, {3});
  b.AddOperator(Op::RELU, {in}, {relu});
  b.SetInputs({in});
  b.SetOutputs({relu, orphan});
  Result<ModelPtr> model = Load(b);
  ASSERT_TRUE(model.ok()) << model.status().message();
  Result<std::unique_ptr<Interpreter>> interpreter = Interpreter::Create(*model);
  ASSERT_TRUE(interpreter.ok()) << interpreter.status().message();
  ASSERT_TRUE((*interpreter)->Invoke().ok());
  const Tensor& out = (*interpreter)->output(1);
  ASSERT_NE(out.data, nullptr);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out.as<float>()[i], 0.0f);
}

TEST(HostileOpsTest, ArenaBeyondTheLimitIsRefusedBeforeAllocating) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1 << 16, 1 << 16});  // 16 GiB
  int out = b.AddTensor("out", DataType::kFloat32, {1 << 16, 1 << 16});
  b.AddOperator(Op::RELU, {in}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  Status status = LoadAndRun(b);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("more than the 1073741824-byte arena limit"));

  ModelBuilder small;
  int x = small.AddTensor("x", DataType::kFloat32, {1024});
  int y = small.AddTensor("y", DataType::kFloat32, {1024});
  small.AddOperator(Op::RELU, {x}, {y});
  small.SetInputs({x});
  small.SetOutputs({y});
  InterpreterOptions tight;
  tight.max_arena_bytes = 4096;  // x and y need 8 KiB together
  Status limited = LoadAndRun(small, tight);
  EXPECT_EQ(limited.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(limited.message(), HasSubstr("8192-byte arena, more than the 4096-byte limit"));
  EXPECT_TRUE(LoadAndRun(small).ok());
}

// GATHER of a [3] float input at constant `indices`.
ModelBuilder GatherAt(std::vector<int32_t> indices) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {3});
  int32_t n = static_cast<int32_t>(indices.size());
  int at = b.AddConstant<int32_t>("indices", DataType::kInt32, {n}, std::move(indices));
  int out = b.AddTensor("out", DataType::kFloat32, {n});
  b.AddOperator(Op::GATHER, {in, at}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  return b;
}

TEST(HostileOpsTest, GatherIndexPastTheEndIsRefused) {
  ExpectRefused(GatherAt({0, 7}), "GATHER", "index 7 (element 1 of the indices) is outside [0, 3)");
}

TEST(HostileOpsTest, GatherNegativeIndexIsRefused) {
  ExpectRefused(GatherAt({-1}), "GATHER", "index -1 (element 0 of the indices) is outside [0, 3)");
}

TEST(HostileOpsTest, GatherNdIndexPastTheEndIsRefused) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {2, 3});
  int at = b.AddConstant<int64_t>("indices", DataType::kInt64, {1, 2}, {1, kIntMax});
  int out = b.AddTensor("out", DataType::kFloat32, {1});
  b.AddOperator(Op::GATHER_ND, {in, at}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  ExpectRefused(b, "GATHER_ND", "index 2147483647 (coordinate 1 of index tuple 0)");
}

// SLICE of a [4] float input from `begin`, `size` long (int64 constants).
ModelBuilder SliceOf(int64_t begin, int64_t size, int32_t out_size) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {4});
  int begins = b.AddConstant<int64_t>("begin", DataType::kInt64, {1}, {begin});
  int sizes = b.AddConstant<int64_t>("size", DataType::kInt64, {1}, {size});
  int out = b.AddTensor("out", DataType::kFloat32, {out_size});
  b.AddOperator(Op::SLICE, {in, begins, sizes}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  return b;
}

TEST(HostileOpsTest, SlicePastTheEndIsRefused) {
  ExpectRefused(SliceOf(3, 2, 2), "SLICE", "begin 3 and size 2 leave dimension 0");
  ExpectRefused(SliceOf(1, std::numeric_limits<int64_t>::max(), 3), "SLICE",
                "size must be -1 or 0 to 3");
}

TEST(HostileOpsTest, SliceFromTheLowestBeginToTheEndIsRefused) {
  // size -1 means "to the end": 4 - INT64_MIN would overflow.
  ExpectRefused(SliceOf(std::numeric_limits<int64_t>::min(), -1, 4), "SLICE",
                "begin -9223372036854775808 is outside dimension 0");
}

TEST(HostileOpsTest, SplitIntoUnequalPiecesIsRefused) {
  ModelBuilder b;
  int axis = b.AddConstant<int32_t>("axis", DataType::kInt32, {1}, {0});
  int in = b.AddTensor("in", DataType::kFloat32, {5});
  int x = b.AddTensor("x", DataType::kFloat32, {2});
  int y = b.AddTensor("y", DataType::kFloat32, {3});
  tfl::SplitOptionsT o;
  o.num_splits = 2;
  b.AddOperator(Op::SPLIT, {axis, in}, {x, y}, Union(o));
  b.SetInputs({in});
  b.SetOutputs({x, y});
  ExpectRefused(b, "SPLIT", "dimension 0 of float32 [5] does not split into 2 equal pieces");
}

TEST(HostileOpsTest, SplitVSizesOverflowingInt64AreRefused) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {4});
  int64_t huge = std::numeric_limits<int64_t>::max();
  int sizes = b.AddConstant<int64_t>("sizes", DataType::kInt64, {2}, {huge, huge});
  int axis = b.AddConstant<int32_t>("axis", DataType::kInt32, {1}, {0});
  int x = b.AddTensor("x", DataType::kFloat32, {2});
  int y = b.AddTensor("y", DataType::kFloat32, {2});
  tfl::SplitVOptionsT o;
  o.num_splits = 2;
  b.AddOperator(Op::SPLIT_V, {in, sizes, axis}, {x, y}, Union(o));
  b.SetInputs({in});
  b.SetOutputs({x, y});
  ExpectRefused(b, "SPLIT_V", "add up to more than dimension 0");
}

TEST(HostileOpsTest, TileMultiplesOverflowingAreRefused) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {2});
  int multiples = b.AddConstant<int64_t>("multiples", DataType::kInt64, {1},
                                         {std::numeric_limits<int64_t>::max()});
  int out = b.AddTensor("out", DataType::kFloat32, {2});
  b.AddOperator(Op::TILE, {in, multiples}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  ExpectRefused(b, "TILE", "a tiled dimension needs more than");
}

TEST(HostileOpsTest, PackWithTheWrongValuesCountIsRefused) {
  ModelBuilder b;
  int x = b.AddTensor("x", DataType::kFloat32, {2});
  int y = b.AddTensor("y", DataType::kFloat32, {2});
  int out = b.AddTensor("out", DataType::kFloat32, {2, 2});
  tfl::PackOptionsT o;
  o.values_count = kIntMax;
  b.AddOperator(Op::PACK, {x, y}, {out}, Union(o));
  b.SetInputs({x, y});
  b.SetOutputs({out});
  ExpectRefused(b, "PACK", "values_count is 2147483647 but the operator has 2 inputs");
}

// SPACE_TO_BATCH_ND or BATCH_TO_SPACE_ND of a [batch, 2, 2, 1] float input with `block` and
// zero paddings or crops, into `out`.
ModelBuilder SpaceBatch(Op op, int32_t batch, std::vector<int32_t> block,
                        std::vector<int32_t> out_shape) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {batch, 2, 2, 1});
  int blocks = b.AddConstant<int32_t>("block", DataType::kInt32, {2}, std::move(block));
  int pads = b.AddConstant<int32_t>("pads", DataType::kInt32, {2, 2}, {0, 0, 0, 0});
  int out = b.AddTensor("out", DataType::kFloat32, out_shape);
  b.AddOperator(op, {in, blocks, pads}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  return b;
}

TEST(HostileOpsTest, SpaceToBatchWithZeroBlocksIsRefused) {
  ExpectRefused(SpaceBatch(Op::SPACE_TO_BATCH_ND, 1, {0, 0}, {1, 2, 2, 1}), "SPACE_TO_BATCH_ND",
                "block sizes must lie in [1, 2^31), not [0, 0]");
}

TEST(HostileOpsTest, BatchToSpaceWithHugeBlocksIsRefused) {
  ExpectRefused(SpaceBatch(Op::BATCH_TO_SPACE_ND, 4, {kIntMax, kIntMax}, {1, 4, 4, 1}),
                "BATCH_TO_SPACE_ND",
                "input batch 4 is not a multiple of the block 2147483647x2147483647");
}

TEST(HostileOpsTest, DepthToSpaceWithHugeBlockIsRefused) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1, 1, 1, 4});
  int out = b.AddTensor("out", DataType::kFloat32, {1, 2, 2, 1});
  tfl::DepthToSpaceOptionsT o;
  o.block_size = kIntMax;  // its square overflows int32
  b.AddOperator(Op::DEPTH_TO_SPACE, {in}, {out}, Union(o));
  b.SetInputs({in});
  b.SetOutputs({out});
  ExpectRefused(b, "DEPTH_TO_SPACE",
                "input depth 4 is not a multiple of block_size^2 = 4611686014132420609");
}

// TRANSPOSE_CONV of a [1, 2, 2, 1] float input by a 2x2 filter of ones, VALID padding.
ModelBuilder TransposeConv(std::vector<int32_t> output_shape, std::vector<int32_t> out_shape,
                           int32_t stride) {
  ModelBuilder b;
  int shape = b.AddConstant<int32_t>("shape", DataType::kInt32, {4}, std::move(output_shape));
  int filter =
      b.AddConstant<float>("filter", DataType::kFloat32, {1, 2, 2, 1}, std::vector<float>(4, 1));
  int in = b.AddTensor("in", DataType::kFloat32, {1, 2, 2, 1});
  int out = b.AddTensor("out", DataType::kFloat32, out_shape);
  tfl::TransposeConvOptionsT o;
  o.padding = tfl::Padding::VALID;
  o.stride_h = o.stride_w = stride;
  b.AddOperator(Op::TRANSPOSE_CONV, {shape, filter, in}, {out}, Union(o));
  b.SetInputs({in});
  b.SetOutputs({out});
  return b;
}

TEST(HostileOpsTest, TransposeConvWhoseOutputShapeDisagreesIsRefused) {
  ExpectRefused(TransposeConv({1, 4, 4, 1}, {1, 3, 3, 1}, 1), "TRANSPOSE_CONV",
                "output float32 [1, 3, 3, 1] should have shape [1, 4, 4, 1]");
}

TEST(HostileOpsTest, TransposeConvWithHugeStrideScattersOnlyTheFirstPixel) {
  Result<ModelPtr> model = Load(TransposeConv({1, 2, 2, 1}, {1, 2, 2, 1}, kIntMax));
  ASSERT_TRUE(model.ok()) << model.status().message();
  Result<std::unique_ptr<Interpreter>> interpreter = Interpreter::Create(*model);
  ASSERT_TRUE(interpreter.ok()) << interpreter.status().message();
  float values[] = {1, 2, 3, 4};
  std::memcpy((*interpreter)->input(0).data, values, sizeof(values));
  ASSERT_TRUE((*interpreter)->Invoke().ok());
  // Every other input pixel lands 2^31 - 1 pixels away, outside the output.
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*interpreter)->output(0).as<float>()[i], 1.0f);
}

TEST(HostileOpsTest, PosenetDecoderWithNaNOffsetsStaysOnTheGrid) {
  ModelBuilder b;
  int heat = b.AddTensor("heat", DataType::kFloat32, {1, 2, 2, 17});
  int offsets = b.AddTensor("short", DataType::kFloat32, {1, 2, 2, 34});
  int mid = b.AddTensor("mid", DataType::kFloat32, {1, 2, 2, 64});
  std::vector<int> outputs;
  for (const char* name : {"keypoints", "keypoint_scores", "pose_scores", "count"})
    outputs.push_back(b.AddTensor(name, DataType::kFloat32, {}));
  flexbuffers::Builder f;
  f.Map([&] {
    f.Int("max_detections", 2);
    f.Float("score_threshold", 0.1f);
    f.Int("stride", 16);
    f.Float("nms_radius", 1.0f);
  });
  f.Finish();
  b.AddCustomOperator("PosenetDecoderOp", {heat, offsets, mid}, outputs, f.GetBuffer());
  b.SetInputs({heat, offsets, mid});
  b.SetOutputs(outputs);
  Result<ModelPtr> model = Load(b);
  ASSERT_TRUE(model.ok()) << model.status().message();
  Result<std::unique_ptr<Interpreter>> interpreter = Interpreter::Create(*model);
  ASSERT_TRUE(interpreter.ok()) << interpreter.status().message();
  Interpreter& run = **interpreter;
  std::memset(run.input(0).data, 0, run.input(0).byte_size());  // every cell a candidate
  for (int i : {1, 2}) {
    float* v = run.input(i).as<float>();
    std::fill(v, v + run.input(i).element_count(), std::numeric_limits<float>::quiet_NaN());
  }
  ASSERT_TRUE(run.Invoke().ok());
  const Tensor& keypoints = run.output(0);
  EXPECT_GT(run.output(3).as<float>()[0], 0.0f);
  for (size_t i = 0; i < keypoints.element_count(); ++i) {
    EXPECT_GE(keypoints.as<float>()[i], 0.0f);
    EXPECT_LE(keypoints.as<float>()[i], 16.0f);  // (2 - 1) cells of stride 16
  }
}

// Moves buffer `index` out of the flatbuffer to an odd offset past its end (buffers may live at
// any offset and size in the file).
std::vector<uint8_t> WithMisalignedBuffer(const std::vector<uint8_t>& bytes, size_t index) {
  std::unique_ptr<tfl::ModelT> model = tfl::UnPackModel(bytes.data());
  std::vector<uint8_t> data = std::move(model->buffers[index]->data);
  model->buffers[index]->data.clear();
  model->buffers[index]->size = data.size();
  auto pack = [&](uint64_t offset) {
    model->buffers[index]->offset = offset;
    flatbuffers::FlatBufferBuilder fbb;
    fbb.Finish(tfl::Model::Pack(fbb, model.get()), tfl::ModelIdentifier());
    return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  };
  size_t packed = pack(0xffffffff).size();  // the offset's value does not change the layout
  std::vector<uint8_t> out = pack(packed + 1);
  out.push_back(0);  // the odd byte
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

TEST(HostileOpsTest, MisalignedConstantsAreCopiedBeforeKernelsReadThem) {
  ModelBuilder b;
  int in = b.AddTensor("in", DataType::kFloat32, {1, 4});
  int perm = b.AddConstant<int64_t>("perm", DataType::kInt64, {2}, {1, 0});
  int out = b.AddTensor("out", DataType::kFloat32, {4, 1});
  b.AddOperator(Op::TRANSPOSE, {in, perm}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  std::vector<uint8_t> bytes = b.Finish();
  size_t buffer = tfl::GetModel(bytes.data())->subgraphs()->Get(0)->tensors()->Get(perm)->buffer();
  Result<ModelPtr> model = Model::FromBuffer(WithMisalignedBuffer(bytes, buffer), "misaligned");
  ASSERT_TRUE(model.ok()) << model.status().message();
  ASSERT_NE(reinterpret_cast<uintptr_t>((*model)->constant_data(perm).data()) % 8, 0u);
  Result<std::unique_ptr<Interpreter>> interpreter = Interpreter::Create(*model);
  ASSERT_TRUE(interpreter.ok()) << interpreter.status().message();
  float values[] = {1, 2, 3, 4};
  std::memcpy((*interpreter)->input(0).data, values, sizeof(values));
  ASSERT_TRUE((*interpreter)->Invoke().ok());
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*interpreter)->output(0).as<float>()[i], values[i]);
}

// The Keras LSTM with one thing changed at a time: each is refused by name, none crashes.
TEST(HostileOpsTest, LstmVariantsItCannotRunAreRefused) {
  std::string path = tpufleet::testing::SharedModel("keras_lstm_mnist_ptq.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  ModelPtr lstm = Model::FromFile(path).value();
  std::span<const uint8_t> bytes = lstm->bytes();
  const int lstm_op = 1;
  const int input = lstm->operators()[lstm_op].inputs[0];
  const int output_state = lstm->operators()[lstm_op].inputs[18];
  const int cell_state = lstm->operators()[lstm_op].inputs[19];
  ASSERT_TRUE(LoadAndRun(ModelBuilder(bytes)).ok());
  {
    ModelBuilder b(bytes);
    b.SetOptions(lstm_op, {});
    ExpectRefused(b, "UNIDIRECTIONAL_SEQUENCE_LSTM", "has no UnidirectionalSequenceLSTMOptions");
  }
  {
    ModelBuilder b(bytes);
    Quantization q = b.quantization(cell_state);
    q.scales = {0.0003f};
    b.SetQuantization(cell_state, q);
    ExpectRefused(b, "UNIDIRECTIONAL_SEQUENCE_LSTM", "cell state scale 0.0003");
  }
  {
    ModelBuilder b(bytes);
    b.SetShape(output_state, {1, 19});
    ExpectRefused(b, "UNIDIRECTIONAL_SEQUENCE_LSTM", "do not hold 1 x 20 values");
  }
  {
    // The input-to-forget weights omitted (-1 in the operator's input list), which only an
    // input gate's weights may be (and then the CIFG form is refused).
    std::vector<uint8_t> edited(bytes.begin(), bytes.end());
    const int32_t inputs[] = {input, lstm->operators()[lstm_op].inputs[1],
                              lstm->operators()[lstm_op].inputs[2]};
    auto at = std::search(edited.begin(), edited.end(), reinterpret_cast<const uint8_t*>(inputs),
                          reinterpret_cast<const uint8_t*>(inputs) + sizeof(inputs));
    ASSERT_NE(at, edited.end());
    const int32_t omitted = -1;
    std::memcpy(&*at + 2 * sizeof(int32_t), &omitted, sizeof(omitted));
    Result<ModelPtr> model = Model::FromBuffer(edited, "omitted");
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    ASSERT_EQ((*model)->operators()[lstm_op].inputs[2], -1);
    Result<std::unique_ptr<Interpreter>> refused = Interpreter::Create(*model);
    ASSERT_FALSE(refused.ok());
    EXPECT_THAT(refused.status().message(), HasSubstr("required input 2 is omitted"));
  }
  {
    ModelBuilder b(bytes);  // a batch of 3 sequences, whose states are not there
    b.SetShape(lstm->input_indices()[0], {3, 28, 28});
    b.SetShape(input, {3, 28, 28});
    ExpectRefused(b, "UNIDIRECTIONAL_SEQUENCE_LSTM", "do not hold 3 x 20 values");
    b.SetShape(input, {kIntMax, 28, 28});  // refused by the verifier
    ExpectRefused(b, "tfl.quantize", "has too many elements");
  }
}

// tests/fixtures/hostile holds the models above (and any input a fuzzer found crashing): each is
// refused with a status when its name says so, and none crashes.
TEST(HostileFixturesTest, EveryFixtureIsRefusedOrRuns) {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(TPUFLEET_FIXTURES_DIR) + "/hostile")) {
    std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    Result<ModelPtr> model = Model::FromFile(entry.path().string());
    ASSERT_TRUE(model.ok()) << model.status().message();
    Status status = [&]() -> Status {
      TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<Interpreter> interpreter,
                                Interpreter::Create(*model));
      return interpreter->Invoke();
    }();
    if (name.ends_with("Refused.tflite")) {
      EXPECT_FALSE(status.ok());
      EXPECT_FALSE(status.message().empty());
    }
    ++count;
  }
  EXPECT_GE(count, 19);
}

}  // namespace
}  // namespace tpufleet::cpu
