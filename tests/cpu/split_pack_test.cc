// SLICE, TILE, SPLIT, SPLIT_V, PACK and UNPACK on every copyable type against naive references
// and, for the types TensorFlow Lite 2.9 takes for each, against TFLite byte for byte; and their
// refusals at Prepare.
#include <gtest/gtest.h>

#include <set>

#include "op_oracle.h"

namespace tpufleet::cpu::testing {
namespace {

using Op = tfl::BuiltinOperator;

template <typename Options>
tfl::BuiltinOptionsUnion Union(Options o) {
  tfl::BuiltinOptionsUnion u;
  u.Set(std::move(o));
  return u;
}

tfl::BuiltinOptionsUnion SplitOptions(int n) {
  tfl::SplitOptionsT o;
  o.num_splits = n;
  return Union(std::move(o));
}
tfl::BuiltinOptionsUnion SplitVOptions(int n) {
  tfl::SplitVOptionsT o;
  o.num_splits = n;
  return Union(std::move(o));
}
tfl::BuiltinOptionsUnion PackOptions(int n, int axis) {
  tfl::PackOptionsT o;
  o.values_count = n;
  o.axis = axis;
  return Union(std::move(o));
}
tfl::BuiltinOptionsUnion UnpackOptions(int n, int axis) {
  tfl::UnpackOptionsT o;
  o.num = n;
  o.axis = axis;
  return Union(std::move(o));
}

// The types TensorFlow Lite 2.9's kernel for `op` takes, among the copyable ones.
bool TfLiteTakes(Op op, DataType type) {
  using T = DataType;
  switch (op) {
    case Op::TILE: return type != T::kInt16;
    case Op::SPLIT: return type != T::kInt64 && type != T::kBool;
    case Op::SPLIT_V:
    case Op::PACK: return type != T::kBool;
    case Op::UNPACK: return type != T::kInt64;
    default: return true;
  }
}

// Element (i0, i1, i2) of a [d0, d1, d2] row-major vector.
float At(const std::vector<float>& v, int d1, int d2, int i0, int i1, int i2) {
  return v[(i0 * d1 + i1) * d2 + i2];
}

class MoveTypeTest : public ::testing::TestWithParam<DataType> {
 protected:
  DataType type() const { return GetParam(); }
};

TEST_P(MoveTypeTest, Slice) {
  // [2, 3, 4] from begin (1, 0, 1), size (1, -1, 2) -> [1, 3, 2].
  TensorSpec in = SampleSpec(type(), {2, 3, 4});
  std::vector<float> v = Representable(in), expected;
  for (int j = 0; j < 3; ++j)
    for (int k = 1; k < 3; ++k) expected.push_back(At(v, 3, 4, 1, j, k));
  ExpectMoved(Op::SLICE, {in, IntSpec({3}, {1, 0, 1}), IntSpec({3}, {1, -1, 2})},
              {OutputSpec(type(), {1, 3, 2})}, {expected}, TfLiteTakes(Op::SLICE, type()));
}

TEST_P(MoveTypeTest, Tile) {
  // [2, 3] tiled (2, 2) -> [4, 6].
  TensorSpec in = SampleSpec(type(), {2, 3});
  std::vector<float> v = Representable(in), expected;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 6; ++j) expected.push_back(v[(i % 2) * 3 + j % 3]);
  ExpectMoved(Op::TILE, {in, IntSpec({2}, {2, 2})}, {OutputSpec(type(), {4, 6})}, {expected},
              TfLiteTakes(Op::TILE, type()));
}

TEST_P(MoveTypeTest, SplitAndSplitV) {
  // [2, 6, 2] split in 3 along axis 1; split_v into 1, 3 and the rest (2) along axis 1.
  TensorSpec in = SampleSpec(type(), {2, 6, 2});
  std::vector<float> v = Representable(in);
  auto piece = [&](int begin, int size) {
    std::vector<float> out;
    for (int b = 0; b < 2; ++b)
      for (int j = begin; j < begin + size; ++j)
        for (int k = 0; k < 2; ++k) out.push_back(At(v, 6, 2, b, j, k));
    return out;
  };
  ExpectMoved(
      Op::SPLIT, {IntSpec({}, {1}), in},
      {OutputSpec(type(), {2, 2, 2}), OutputSpec(type(), {2, 2, 2}), OutputSpec(type(), {2, 2, 2})},
      {piece(0, 2), piece(2, 2), piece(4, 2)}, TfLiteTakes(Op::SPLIT, type()), SplitOptions(3));
  ExpectMoved(
      Op::SPLIT_V, {in, IntSpec({3}, {1, 3, -1}), IntSpec({}, {-2})},
      {OutputSpec(type(), {2, 1, 2}), OutputSpec(type(), {2, 3, 2}), OutputSpec(type(), {2, 2, 2})},
      {piece(0, 1), piece(1, 3), piece(4, 2)}, TfLiteTakes(Op::SPLIT_V, type()), SplitVOptions(3));
}

TEST_P(MoveTypeTest, PackAndUnpack) {
  // Two [2, 3] tensors packed along axis 1 -> [2, 2, 3]; [2, 2, 3] unpacked along axis -1 ->
  // three [2, 2].
  TensorSpec a = SampleSpec(type(), {2, 3}), b = SampleSpec(type(), {2, 3});
  std::reverse(b.values.begin(), b.values.end());
  std::vector<float> va = Representable(a), vb = Representable(b), packed;
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) packed.push_back(va[i * 3 + j]);
    for (int j = 0; j < 3; ++j) packed.push_back(vb[i * 3 + j]);
  }
  ExpectMoved(Op::PACK, {a, b}, {OutputSpec(type(), {2, 2, 3})}, {packed},
              TfLiteTakes(Op::PACK, type()), PackOptions(2, 1));

  TensorSpec in = SampleSpec(type(), {2, 2, 3});
  std::vector<float> v = Representable(in);
  std::vector<std::vector<float>> pieces(3);
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) pieces[k].push_back(At(v, 2, 3, i, j, k));
  ExpectMoved(Op::UNPACK, {in},
              {OutputSpec(type(), {2, 2}), OutputSpec(type(), {2, 2}), OutputSpec(type(), {2, 2})},
              pieces, TfLiteTakes(Op::UNPACK, type()), UnpackOptions(3, -1));
}

INSTANTIATE_TEST_SUITE_P(Types, MoveTypeTest, ::testing::ValuesIn(CopyableTypes()),
                         [](const ::testing::TestParamInfo<DataType>& info) {
                           return DataTypeName(info.param);
                         });

TEST(MoveTest, TileByZeroAndInt64MultiplesMatchTfLite) {
  TensorSpec in = SampleSpec(DataType::kFloat32, {2, 1});
  std::vector<float> v = Representable(in);
  ExpectMoved(Op::TILE, {in, IntSpec({2}, {1, 3}, true, DataType::kInt64)},
              {OutputSpec(DataType::kFloat32, {2, 3})}, {{v[0], v[0], v[0], v[1], v[1], v[1]}},
              true);
  ExpectMoved(Op::TILE, {in, IntSpec({2}, {0, 2})}, {OutputSpec(DataType::kFloat32, {0, 2})}, {{}},
              true);
}

TEST(MoveTest, PackAlongTheLastAxisMatchesTfLite) {
  TensorSpec a = SampleSpec(DataType::kInt32, {3}), b = SampleSpec(DataType::kInt32, {3});
  b.values = {7, 8, 9};
  std::vector<float> va = Representable(a);
  ExpectMoved(Op::PACK, {a, b}, {OutputSpec(DataType::kInt32, {3, 2})},
              {{va[0], 7, va[1], 8, va[2], 9}}, true, PackOptions(2, -1));
}

void ExpectRefused(Op op, const std::vector<TensorSpec>& inputs,
                   const std::vector<TensorSpec>& outputs, const tfl::BuiltinOptionsUnion& options,
                   const std::string& message) {
  Status s = FailureOf(op, inputs, outputs, options);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("(" + std::string(tfl::EnumNameBuiltinOperator(op)) + ")"),
            std::string::npos)
      << s.ToString();
  EXPECT_NE(s.ToString().find(message), std::string::npos) << s.ToString();
}

TEST(MoveTest, PrepareRefusesBadShapesAndOptions) {
  using T = DataType;
  TensorSpec in = SampleSpec(T::kFloat32, {2, 4});
  TensorSpec out22 = OutputSpec(T::kFloat32, {2, 2});
  ExpectRefused(Op::SLICE, {in, IntSpec({2}, {0, 3}), IntSpec({2}, {2, 2})}, {out22}, {},
                "begin 3 and size 2 leave dimension 1");
  ExpectRefused(Op::SLICE, {in, IntSpec({1}, {0}), IntSpec({1}, {2})}, {out22}, {},
                "begin and size need 2 values");
  ExpectRefused(Op::SLICE, {in, IntSpec({2}, {0, 0}, false), IntSpec({2}, {2, 2})}, {out22}, {},
                "begin must be a constant");
  ExpectRefused(Op::TILE, {in, IntSpec({2}, {1, -1})}, {out22}, {}, "is negative");
  ExpectRefused(Op::TILE, {in, IntSpec({2}, {1, 2})}, {out22}, {}, "should have shape [2, 8]");
  ExpectRefused(Op::TILE, {in, IntSpec({2}, {1 << 30, 1 << 30}, true, T::kInt64)}, {out22}, {},
                "should have shape");
  ExpectRefused(Op::SPLIT, {IntSpec({}, {1}), in},
                {OutputSpec(T::kFloat32, {2, 1}), OutputSpec(T::kFloat32, {2, 1}),
                 OutputSpec(T::kFloat32, {2, 1})},
                SplitOptions(3), "does not split into 3 equal pieces");
  ExpectRefused(Op::SPLIT, {IntSpec({}, {2}), in}, {out22, out22}, SplitOptions(2),
                "axis 2 is outside [-2, 2)");
  ExpectRefused(Op::SPLIT, {IntSpec({}, {1}), in}, {out22, out22}, SplitOptions(3),
                "num_splits is 3 but the operator has 2 outputs");
  ExpectRefused(Op::SPLIT_V, {in, IntSpec({2}, {-1, -1}), IntSpec({}, {1})}, {out22, out22},
                SplitVOptions(2), "at most one -1");
  ExpectRefused(Op::SPLIT_V, {in, IntSpec({2}, {1, 1}), IntSpec({}, {1})}, {out22, out22},
                SplitVOptions(2), "add up to 2, not dimension 1");
  ExpectRefused(Op::PACK, {in, SampleSpec(T::kFloat32, {2, 3})},
                {OutputSpec(T::kFloat32, {2, 2, 4})}, PackOptions(2, 0), "should have shape");
  ExpectRefused(Op::PACK, {in, in}, {OutputSpec(T::kFloat32, {2, 2, 4})}, PackOptions(3, 0),
                "values_count is 3 but the operator has 2 inputs");
  ExpectRefused(Op::PACK, {in, in}, {OutputSpec(T::kFloat32, {2, 2, 4})}, PackOptions(2, 4),
                "axis 4 is outside [-3, 3)");
  ExpectRefused(Op::UNPACK, {in}, {OutputSpec(T::kFloat32, {4}), OutputSpec(T::kFloat32, {4})},
                UnpackOptions(3, 0), "num is 3 but the operator has 2 outputs");
  TensorSpec q = SampleSpec(T::kUInt8, {2, 4});
  TensorSpec requantized = OutputSpec(T::kUInt8, {2, 2});
  requantized.q.scales = {0.25f};
  ExpectRefused(Op::SLICE, {q, IntSpec({2}, {0, 0}), IntSpec({2}, {2, 2})}, {requantized}, {},
                "values are copied, not requantized");
}

}  // namespace
}  // namespace tpufleet::cpu::testing
