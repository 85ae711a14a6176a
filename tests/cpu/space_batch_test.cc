// SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND and DEPTH_TO_SPACE on every copyable type against naive
// references and, for the types TensorFlow Lite 2.9 takes, against TFLite byte for byte.
#include <gtest/gtest.h>

#include "op_oracle.h"

namespace tpufleet::cpu::testing {
namespace {

using Op = tfl::BuiltinOperator;

// TensorFlow Lite 2.9's kernels for the three take neither int16 nor bool.
bool TfLiteTakes(DataType type) { return type != DataType::kInt16 && type != DataType::kBool; }

// The padding value's real number: the zero point's, i.e. 0, for every type.
constexpr float kPad = 0;

class SpaceBatchTypeTest : public ::testing::TestWithParam<DataType> {
 protected:
  DataType type() const { return GetParam(); }
};

// Naive SPACE_TO_BATCH_ND of an [n, h, w, c] vector with block (bh, bw) and paddings.
std::vector<float> SpaceToBatch(const std::vector<float>& v, int n, int h, int w, int c, int bh,
                                int bw, int top, int bottom, int left, int right) {
  int oh = (h + top + bottom) / bh, ow = (w + left + right) / bw;
  std::vector<float> out;
  for (int sy = 0; sy < bh; ++sy)
    for (int sx = 0; sx < bw; ++sx)
      for (int b = 0; b < n; ++b)
        for (int y = 0; y < oh; ++y)
          for (int x = 0; x < ow; ++x)
            for (int k = 0; k < c; ++k) {
              int iy = y * bh + sy - top, ix = x * bw + sx - left;
              bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              out.push_back(inside ? v[((b * h + iy) * w + ix) * c + k] : kPad);
            }
  return out;
}

TEST_P(SpaceBatchTypeTest, SpaceToBatchPadsWithTheZeroPoint) {
  // [1, 3, 4, 2], block (2, 2), paddings top 1, bottom 0, left 0, right 2 -> [4, 2, 3, 2].
  TensorSpec in = SampleSpec(type(), {1, 3, 4, 2});
  std::vector<float> expected = SpaceToBatch(Representable(in), 1, 3, 4, 2, 2, 2, 1, 0, 0, 2);
  ExpectMoved(Op::SPACE_TO_BATCH_ND, {in, IntSpec({2}, {2, 2}), IntSpec({2, 2}, {1, 0, 0, 2})},
              {OutputSpec(type(), {4, 2, 3, 2})}, {expected}, TfLiteTakes(type()));
}

TEST_P(SpaceBatchTypeTest, BatchToSpaceUndoesSpaceToBatchAndCrops) {
  // The output above, back through block (2, 2) with crops top 1, right 2 -> [1, 3, 4, 2].
  TensorSpec original = SampleSpec(type(), {1, 3, 4, 2});
  TensorSpec in = OutputSpec(type(), {4, 2, 3, 2});
  in.values = SpaceToBatch(Representable(original), 1, 3, 4, 2, 2, 2, 1, 0, 0, 2);
  ExpectMoved(Op::BATCH_TO_SPACE_ND, {in, IntSpec({2}, {2, 2}), IntSpec({2, 2}, {1, 0, 0, 2})},
              {OutputSpec(type(), {1, 3, 4, 2})}, {Representable(original)}, TfLiteTakes(type()));
}

TEST_P(SpaceBatchTypeTest, DepthToSpaceUsesDcrOrder) {
  // [1, 2, 1, 8], block 2 -> [1, 4, 2, 2]: out[y*2+dy, x*2+dx, c] = in[y, x, (dy*2+dx)*2 + c].
  TensorSpec in = SampleSpec(type(), {1, 2, 1, 8});
  std::vector<float> v = Representable(in), expected;
  for (int oy = 0; oy < 4; ++oy)
    for (int ox = 0; ox < 2; ++ox)
      for (int c = 0; c < 2; ++c)
        expected.push_back(v[(oy / 2) * 8 + ((oy % 2) * 2 + ox % 2) * 2 + c]);
  tfl::DepthToSpaceOptionsT o;
  o.block_size = 2;
  tfl::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  ExpectMoved(Op::DEPTH_TO_SPACE, {in}, {OutputSpec(type(), {1, 4, 2, 2})}, {expected},
              TfLiteTakes(type()), u);
}

INSTANTIATE_TEST_SUITE_P(Types, SpaceBatchTypeTest, ::testing::ValuesIn(CopyableTypes()),
                         [](const ::testing::TestParamInfo<DataType>& info) {
                           return DataTypeName(info.param);
                         });

TEST(SpaceBatchTest, ThreeDimensionalInputsMatchTfLite) {
  // [2, 4, 3] with block (2,), paddings (0, 2) -> [4, 3, 3], and back with crops (0, 2).
  TensorSpec in = SampleSpec(DataType::kFloat32, {2, 4, 3});
  std::vector<float> expected = SpaceToBatch(Representable(in), 2, 4, 1, 3, 2, 1, 0, 2, 0, 0);
  ExpectMoved(Op::SPACE_TO_BATCH_ND, {in, IntSpec({1}, {2}), IntSpec({1, 2}, {0, 2})},
              {OutputSpec(DataType::kFloat32, {4, 3, 3})}, {expected}, true);
  TensorSpec batched = OutputSpec(DataType::kFloat32, {4, 3, 3});
  batched.values = expected;
  ExpectMoved(Op::BATCH_TO_SPACE_ND, {batched, IntSpec({1}, {2}), IntSpec({1, 2}, {0, 2})},
              {OutputSpec(DataType::kFloat32, {2, 4, 3})}, {Representable(in)}, true);
}

TEST(SpaceBatchTest, PrepareRefusesBadBlocksAndShapes) {
  TensorSpec in = SampleSpec(DataType::kFloat32, {1, 4, 4, 1});
  auto refused = [](Op op, const std::vector<TensorSpec>& inputs, const TensorSpec& out,
                    const std::string& message, const tfl::BuiltinOptionsUnion& options = {}) {
    Status s = FailureOf(op, inputs, {out}, options);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.ToString().find(tfl::EnumNameBuiltinOperator(op)), std::string::npos)
        << s.ToString();
    EXPECT_NE(s.ToString().find(message), std::string::npos) << s.ToString();
  };
  TensorSpec out = OutputSpec(DataType::kFloat32, {4, 2, 2, 1});
  refused(Op::SPACE_TO_BATCH_ND, {in, IntSpec({2}, {0, 2}), IntSpec({2, 2}, {0, 0, 0, 0})}, out,
          "block sizes must lie in [1, 2^31)");
  refused(Op::SPACE_TO_BATCH_ND, {in, IntSpec({2}, {3, 3}), IntSpec({2, 2}, {0, 0, 0, 0})}, out,
          "is not a multiple of the block 3x3");
  refused(Op::SPACE_TO_BATCH_ND, {in, IntSpec({2}, {2, 2}), IntSpec({2, 2}, {0, -2, 0, 2})}, out,
          "paddings must be non-negative");
  refused(Op::SPACE_TO_BATCH_ND, {in, IntSpec({3}, {2, 2, 1}), IntSpec({2, 2}, {0, 0, 0, 0})}, out,
          "needs 2 block sizes");
  refused(Op::BATCH_TO_SPACE_ND, {in, IntSpec({2}, {2, 2}), IntSpec({2, 2}, {0, 0, 0, 0})}, out,
          "input batch 1 is not a multiple of the block 2x2");
  refused(Op::BATCH_TO_SPACE_ND,
          {SampleSpec(DataType::kFloat32, {4, 1, 1, 1}), IntSpec({2}, {2, 2}),
           IntSpec({2, 2}, {2, 1, 0, 0})},
          out, "crops remove more than");
  tfl::DepthToSpaceOptionsT o;
  o.block_size = 3;
  tfl::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  refused(Op::DEPTH_TO_SPACE, {in}, OutputSpec(DataType::kFloat32, {1, 12, 12, 1}),
          "input depth 1 is not a multiple of block_size^2 = 9", u);
}

}  // namespace
}  // namespace tpufleet::cpu::testing
