// Pooling, MEAN, FULLY_CONNECTED, RESIZE_*, ARG_MAX, and the data-movement kernels.
#include <gtest/gtest.h>

#include <numeric>

#include "op_test_util.h"

namespace tpufleet::cpu::testing {
namespace {

using Op = tfl::BuiltinOperator;

TensorSpec IntConstant(std::vector<int32_t> shape, std::vector<float> values) {
  TensorSpec s{DataType::kInt32, std::move(shape)};
  s.values = std::move(values);
  s.constant = true;
  return s;
}

std::vector<float> Iota(size_t n, float start = 0, float step = 1) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + step * i;
  return v;
}

tfl::BuiltinOptionsUnion PoolOptions(tfl::Padding padding, int stride, int filter) {
  tfl::Pool2DOptionsT o;
  o.padding = padding;
  o.stride_h = o.stride_w = stride;
  o.filter_height = o.filter_width = filter;
  tfl::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  return u;
}

TEST(PoolTest, AveragePoolSameCountsOnlyInsideElements) {
  // 1x3x3x1 input 0..8; 2x2 SAME stride 2 -> 2x2: windows {0,1,3,4}, {2,5}, {6,7}, {8}.
  TensorSpec in = Spec(DataType::kFloat32, {1, 3, 3, 1}, 0, 0, Iota(9));
  auto r = RunSingleOp(Op::AVERAGE_POOL_2D, {in}, {Spec(DataType::kFloat32, {1, 2, 2, 1}, 0, 0)},
                       PoolOptions(tfl::Padding::SAME, 2, 2));
  ASSERT_TRUE(r);
  ExpectNear(Decode(r->output(0)), {2.0f, 3.5f, 6.5f, 8.0f}, 1e-6f);
}

TEST(PoolTest, MaxPoolValidQuantized) {
  TensorSpec in = Spec(DataType::kUInt8, {1, 4, 4, 2}, 0.5f, 10, Iota(32, -5, 0.5f));
  auto r = RunSingleOp(Op::MAX_POOL_2D, {in}, {Spec(DataType::kUInt8, {1, 2, 2, 2}, 0.5f, 10)},
                       PoolOptions(tfl::Padding::VALID, 2, 2));
  ASSERT_TRUE(r);
  std::vector<float> v = Representable(in), expected;
  for (int oy = 0; oy < 2; ++oy)
    for (int ox = 0; ox < 2; ++ox)
      for (int c = 0; c < 2; ++c) {
        float m = -1e9f;
        for (int y = 0; y < 2; ++y)
          for (int x = 0; x < 2; ++x) m = std::max(m, v[((oy * 2 + y) * 4 + ox * 2 + x) * 2 + c]);
        expected.push_back(m);
      }
  ExpectNear(Decode(r->output(0)), expected, 1e-6f);
}

TEST(PoolTest, AveragePoolInt8RoundsToNearest) {
  TensorSpec in = Spec(DataType::kInt8, {1, 2, 2, 1}, 1.0f, -128, {0, 1, 1, 1});  // mean 0.75 -> 1
  auto r = RunSingleOp(Op::AVERAGE_POOL_2D, {in}, {Spec(DataType::kInt8, {1, 1, 1, 1}, 1.0f, -128)},
                       PoolOptions(tfl::Padding::VALID, 1, 2));
  ASSERT_TRUE(r);
  ExpectNear(Decode(r->output(0)), {1.0f}, 1e-6f);
}

TEST(MeanTest, SpatialMeanRequantizes) {
  TensorSpec in = Spec(DataType::kInt8, {1, 2, 3, 2}, 0.1f, 0, Iota(12, -0.6f, 0.1f));
  tfl::ReducerOptionsT o;
  o.keep_dims = true;
  tfl::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  auto r = RunSingleOp(Op::MEAN, {in, IntConstant({2}, {1, 2})},
                       {Spec(DataType::kInt8, {1, 1, 1, 2}, 0.05f, 3)}, std::move(u));
  ASSERT_TRUE(r);
  std::vector<float> v = Representable(in);
  float even = 0, odd = 0;
  for (int i = 0; i < 6; ++i) even += v[2 * i], odd += v[2 * i + 1];
  ExpectNear(Decode(r->output(0)), {even / 6, odd / 6}, 0.0251f);
}

TEST(MeanTest, NonContiguousAxesFloat) {
  // [2, 2, 3] over axes 0 and 2 -> [2]: means of {0,1,2,6,7,8} and {3,4,5,9,10,11}.
  TensorSpec in = Spec(DataType::kFloat32, {2, 2, 3}, 0, 0, Iota(12));
  auto r =
      RunSingleOp(Op::MEAN, {in, IntConstant({2}, {0, -1})}, {Spec(DataType::kFloat32, {2}, 0, 0)});
  ASSERT_TRUE(r);
  ExpectNear(Decode(r->output(0)), {4.0f, 7.0f}, 1e-6f);
}

TEST(FullyConnectedTest, Uint8MatchesReference) {
  TensorSpec in = Spec(DataType::kUInt8, {2, 5}, 0.05f, 128, RandomValues(10, -2, 2, 11));
  TensorSpec w = Spec(DataType::kUInt8, {3, 5}, 0.02f, 127, RandomValues(15, -1, 1, 12));
  w.constant = true;
  TensorSpec b{DataType::kInt32, {3}, {{0.05f * 0.02f}, {0}, 0}, {0.1f, -0.2f, 0.3f}, true};
  TensorSpec out = Spec(DataType::kUInt8, {2, 3}, 0.03f, 128);
  auto r = RunSingleOp(Op::FULLY_CONNECTED, {in, w, b}, {out});
  ASSERT_TRUE(r);
  std::vector<float> x = Representable(in), wt = Representable(w), bias = Representable(b),
                     expected;
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 3; ++o) {
      float acc = bias[o];
      for (int i = 0; i < 5; ++i) acc += x[n * 5 + i] * wt[o * 5 + i];
      expected.push_back(acc);
    }
  out.values = expected;
  ExpectNear(Decode(r->output(0)), Representable(out), 0.0301f);
}

TEST(FullyConnectedTest, Float32WithoutBias) {
  TensorSpec in = Spec(DataType::kFloat32, {1, 3}, 0, 0, {1, 2, 3});
  TensorSpec w = Spec(DataType::kFloat32, {2, 3}, 0, 0, {1, 0, -1, 0.5f, 0.5f, 0.5f});
  w.constant = true;
  auto r = RunSingleOp(Op::FULLY_CONNECTED, {in, w}, {Spec(DataType::kFloat32, {1, 2}, 0, 0)});
  ASSERT_TRUE(r);
  ExpectNear(Decode(r->output(0)), {-2.0f, 3.0f}, 1e-6f);
}

TEST(ResizeTest, BilinearHalfPixelAndNearestAlignCorners) {
  TensorSpec in = Spec(DataType::kFloat32, {1, 2, 2, 1}, 0, 0, {0, 1, 2, 3});
  tfl::ResizeBilinearOptionsT o;
  o.half_pixel_centers = true;
  tfl::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  auto r = RunSingleOp(Op::RESIZE_BILINEAR, {in, IntConstant({2}, {4, 4})},
                       {Spec(DataType::kFloat32, {1, 4, 4, 1}, 0, 0)}, std::move(u));
  ASSERT_TRUE(r);
  // Half-pixel centres: output x=0 samples input x=-0.25, clamped to 0; x=1 samples 0.25.
  std::vector<float> row0 = {0, 0.25f, 0.75f, 1}, expected;
  for (float yw : {0.0f, 0.25f, 0.75f, 1.0f})
    for (float v : row0) expected.push_back(v + 2 * yw);
  ExpectNear(Decode(r->output(0)), expected, 1e-6f);

  tfl::ResizeNearestNeighborOptionsT n;
  n.align_corners = true;
  tfl::BuiltinOptionsUnion un;
  un.Set(std::move(n));
  auto nearest = RunSingleOp(Op::RESIZE_NEAREST_NEIGHBOR, {in, IntConstant({2}, {3, 3})},
                             {Spec(DataType::kFloat32, {1, 3, 3, 1}, 0, 0)}, std::move(un));
  ASSERT_TRUE(nearest);
  ExpectNear(Decode(nearest->output(0)), {0, 1, 1, 2, 3, 3, 2, 3, 3}, 1e-6f);
}

TEST(ArgMaxTest, LastAxisFirstMaximumWins) {
  TensorSpec in = Spec(DataType::kUInt8, {2, 4}, 1, 0, {1, 7, 7, 2, 9, 0, 3, 9});
  auto r =
      RunSingleOp(Op::ARG_MAX, {in, IntConstant({1}, {-1})}, {Spec(DataType::kInt32, {2}, 0, 0)});
  ASSERT_TRUE(r);
  ExpectNear(Decode(r->output(0)), {1, 0}, 0);
}

TEST(LayoutTest, ConcatenationRequantizesMismatchedInputs) {
  TensorSpec a = Spec(DataType::kUInt8, {1, 2, 1}, 0.1f, 0, {0.1f, 0.2f});
  TensorSpec b = Spec(DataType::kUInt8, {1, 2, 2}, 0.2f, 10, {-1.0f, 0.4f, 1.0f, 2.0f});
  tfl::ConcatenationOptionsT o;
  o.axis = -1;
  tfl::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  auto r = RunSingleOp(Op::CONCATENATION, {a, b}, {Spec(DataType::kUInt8, {1, 2, 3}, 0.1f, 0)},
                       std::move(u));
  ASSERT_TRUE(r);
  ExpectNear(Decode(r->output(0)), {0.1f, 0.0f, 0.4f, 0.2f, 1.0f, 2.0f},
             1e-5f);  // -1.0 saturates at 0
}

TEST(LayoutTest, PadUsesTheZeroPoint) {
  TensorSpec in = Spec(DataType::kUInt8, {1, 2, 2, 1}, 0.5f, 7, {1, 2, 3, 4});
  auto r = RunSingleOp(Op::PAD, {in, IntConstant({4, 2}, {0, 0, 1, 0, 0, 1, 0, 0})},
                       {Spec(DataType::kUInt8, {1, 3, 3, 1}, 0.5f, 7)});
  ASSERT_TRUE(r);
  ExpectNear(Decode(r->output(0)), {0, 0, 0, 1, 2, 0, 3, 4, 0}, 1e-6f);
}

TEST(LayoutTest, TransposeAndStridedSlice) {
  TensorSpec in = Spec(DataType::kFloat32, {2, 3, 4}, 0, 0, Iota(24));
  auto t = RunSingleOp(Op::TRANSPOSE, {in, IntConstant({3}, {2, 0, 1})},
                       {Spec(DataType::kFloat32, {4, 2, 3}, 0, 0)});
  ASSERT_TRUE(t);
  std::vector<float> expected;
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) expected.push_back(static_cast<float>(i * 12 + j * 4 + k));
  ExpectNear(Decode(t->output(0)), expected, 0);

  // in[1, ::-2, 1:3] with the first axis shrunk: rows 2 and 0, columns 1 and 2.
  tfl::StridedSliceOptionsT o;
  o.shrink_axis_mask = 1;
  o.begin_mask = 2;
  o.end_mask = 2;
  tfl::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  auto s = RunSingleOp(
      Op::STRIDED_SLICE,
      {in, IntConstant({3}, {1, 0, 1}), IntConstant({3}, {2, 0, 3}), IntConstant({3}, {1, -2, 1})},
      {Spec(DataType::kFloat32, {2, 2}, 0, 0)}, std::move(u));
  ASSERT_TRUE(s);
  ExpectNear(Decode(s->output(0)), {21, 22, 13, 14}, 0);
}

TEST(LayoutTest, ReshapeKeepsBytes) {
  TensorSpec in = Spec(DataType::kInt8, {2, 3}, 0.5f, 1, Iota(6, -1, 0.5f));
  auto r = RunSingleOp(Op::RESHAPE, {in, IntConstant({2}, {3, 2})},
                       {Spec(DataType::kInt8, {3, 2}, 0.5f, 1)});
  ASSERT_TRUE(r);
  ExpectNear(Decode(r->output(0)), Representable(in), 0);
}

}  // namespace
}  // namespace tpufleet::cpu::testing
