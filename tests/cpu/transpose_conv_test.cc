// TRANSPOSE_CONV against a naive scatter reference in real numbers (within one output step for
// quantized types) and against TensorFlow Lite 2.9: byte for byte for uint8 and int8, within
// 1e-5 for float32 (whose sums TFLite orders differently).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "op_oracle.h"

namespace tpufleet::cpu::testing {
namespace {

using Op = tfl::BuiltinOperator;

struct Case {
  DataType type;
  tfl::Padding padding;
  int stride;
  bool bias;
  int height, width, in_c, out_c, kernel;
};

void PrintTo(const Case& c, std::ostream* out) {
  *out << DataTypeName(c.type) << (c.padding == tfl::Padding::SAME ? " SAME" : " VALID")
       << " stride " << c.stride << (c.bias ? " bias" : "") << " " << c.height << "x" << c.width
       << "x" << c.in_c << " -> " << c.out_c << " kernel " << c.kernel;
}

class TransposeConvTest : public ::testing::TestWithParam<Case> {};

TEST_P(TransposeConvTest, MatchesReferenceAndTfLite) {
  const Case& c = GetParam();
  bool quantized = c.type != DataType::kFloat32;
  // The output size TF's conv2d_transpose gives: the convolution of it has the input's size.
  int out_h =
      c.padding == tfl::Padding::SAME ? c.height * c.stride : (c.height - 1) * c.stride + c.kernel;
  int out_w =
      c.padding == tfl::Padding::SAME ? c.width * c.stride : (c.width - 1) * c.stride + c.kernel;
  TensorSpec input{c.type, {1, c.height, c.width, c.in_c}};
  input.values = RandomValues(c.height * c.width * c.in_c, -1, 1, 21);
  TensorSpec filter{c.type, {c.out_c, c.kernel, c.kernel, c.in_c}};
  filter.values = RandomValues(c.out_c * c.kernel * c.kernel * c.in_c, -0.5f, 0.5f, 22);
  filter.constant = true;
  TensorSpec output{c.type, {1, out_h, out_w, c.out_c}};
  std::vector<float> filter_scales(c.out_c, 0.004f);
  if (c.type == DataType::kUInt8) {
    input.q = {{1.0f / 128}, {128}, 0};
    filter.q = {{0.004f}, {127}, 0};
    output.q = {{0.02f}, {120}, 0};
  } else if (c.type == DataType::kInt8) {
    input.q = {{1.0f / 128}, {0}, 0};
    for (int o = 0; o < c.out_c; ++o) filter_scales[o] = 0.003f + 0.001f * o;
    filter.q = {filter_scales, std::vector<int64_t>(c.out_c, 0), 0};
    output.q = {{0.02f}, {-5}, 0};
  }
  std::vector<TensorSpec> inputs = {
      IntSpec({4}, {1, static_cast<float>(out_h), static_cast<float>(out_w),
                    static_cast<float>(c.out_c)}),
      filter, input};
  std::vector<float> bias_values(c.out_c, 0);
  if (c.bias) {
    TensorSpec bias{quantized ? DataType::kInt32 : DataType::kFloat32, {c.out_c}};
    bias.values = RandomValues(c.out_c, -0.3f, 0.3f, 23);
    bias.constant = true;
    if (quantized) {
      for (int o = 0; o < c.out_c; ++o) {
        bias.q.scales.push_back(input.q.scales[0] *
                                filter.q.scales[filter.q.per_channel() ? o : 0]);
        bias.q.zero_points.push_back(0);
      }
      if (!filter.q.per_channel()) bias.q = {{bias.q.scales[0]}, {0}, 0};
    }
    bias_values = Representable(bias);
    inputs.push_back(bias);
  }
  tfl::TransposeConvOptionsT o;
  o.padding = c.padding;
  o.stride_h = o.stride_w = c.stride;
  tfl::BuiltinOptionsUnion options;
  options.Set(std::move(o));

  // Naive scatter in real numbers, padding as TFLite derives it from the output size.
  std::vector<float> x = Representable(input), w = Representable(filter);
  std::vector<float> expected(out_h * out_w * c.out_c, 0);
  auto pad_before = [&](int size) {  // TFLite's SAME padding of a convolution over `size`
    if (c.padding != tfl::Padding::SAME) return 0;
    int windows = (size + c.stride - 1) / c.stride;
    return std::max((windows - 1) * c.stride + c.kernel - size, 0) / 2;
  };
  int pad_h = pad_before(out_h), pad_w = pad_before(out_w);
  for (int iy = 0; iy < c.height; ++iy)
    for (int ix = 0; ix < c.width; ++ix)
      for (int fy = 0; fy < c.kernel; ++fy)
        for (int fx = 0; fx < c.kernel; ++fx) {
          int oy = iy * c.stride - pad_h + fy, ox = ix * c.stride - pad_w + fx;
          if (oy < 0 || oy >= out_h || ox < 0 || ox >= out_w) continue;
          for (int oc = 0; oc < c.out_c; ++oc)
            for (int ic = 0; ic < c.in_c; ++ic)
              expected[(oy * out_w + ox) * c.out_c + oc] +=
                  x[(iy * c.width + ix) * c.in_c + ic] *
                  w[((oc * c.kernel + fy) * c.kernel + fx) * c.in_c + ic];
        }
  for (size_t i = 0; i < expected.size(); ++i) expected[i] += bias_values[i % c.out_c];
  TensorSpec representable = output;
  representable.values = expected;

  std::vector<uint8_t> model = BuildSingleOp(Op::TRANSPOSE_CONV, inputs, {output}, options);
  std::unique_ptr<Interpreter> ours = RunModel(model, inputs);
  ASSERT_TRUE(ours);
  const Tensor& out = ours->output(0);
  if (quantized) {
    ExpectNear(Decode(out), Representable(representable), output.q.scales[0] * 1.01f);
  } else {
    ExpectNear(Decode(out), expected, 1e-5f);
  }
  Result<std::vector<std::vector<uint8_t>>> theirs = RunWithTfLite(model, inputs);
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  ASSERT_EQ(theirs.value()[0].size(), out.byte_size());
  if (quantized) {
    EXPECT_EQ(BytesOf(out), theirs.value()[0]) << "not bit for bit TensorFlow Lite 2.9's";
  } else {
    std::vector<float> tflite(out.element_count());
    std::memcpy(tflite.data(), theirs.value()[0].data(), out.byte_size());
    ExpectNear(Decode(out), tflite, 1e-5f);
  }
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (DataType type : {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}) {
    cases.push_back({type, tfl::Padding::SAME, 2, true, 3, 4, 5, 3, 3});
    cases.push_back({type, tfl::Padding::VALID, 2, false, 3, 3, 4, 2, 3});
    cases.push_back({type, tfl::Padding::SAME, 1, true, 4, 3, 3, 4, 2});
    cases.push_back({type, tfl::Padding::VALID, 3, true, 2, 2, 8, 16, 4});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, TransposeConvTest, ::testing::ValuesIn(Cases()));

TEST(TransposeConvRefusalTest, PrepareRefusesBadShapesAndTypes) {
  TensorSpec input = SampleSpec(DataType::kFloat32, {1, 2, 2, 3});
  TensorSpec filter = SampleSpec(DataType::kFloat32, {4, 3, 3, 3}, true);
  tfl::TransposeConvOptionsT o;
  o.padding = tfl::Padding::SAME;
  o.stride_h = o.stride_w = 2;
  tfl::BuiltinOptionsUnion options;
  options.Set(o);
  auto refused = [&](const std::vector<TensorSpec>& inputs, const TensorSpec& out,
                     const tfl::BuiltinOptionsUnion& u, const std::string& message) {
    Status s = FailureOf(Op::TRANSPOSE_CONV, inputs, {out}, u);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.ToString().find("(TRANSPOSE_CONV)"), std::string::npos) << s.ToString();
    EXPECT_NE(s.ToString().find(message), std::string::npos) << s.ToString();
  };
  TensorSpec out = OutputSpec(DataType::kFloat32, {1, 4, 4, 4});
  refused({IntSpec({4}, {1, 4, 4, 5}), filter, input}, out, options, "should have shape");
  refused({IntSpec({4}, {1, 4, 4, 4}), SampleSpec(DataType::kFloat32, {4, 3, 3, 2}, true), input},
          out, options, "does not fit input");
  refused({IntSpec({4}, {1, 4, 4, 4}), SampleSpec(DataType::kFloat32, {4, 3, 3, 3}), input}, out,
          options, "a filter that is not a constant");
  refused({IntSpec({4}, {1, 4, 4, 4}), filter, input, SampleSpec(DataType::kFloat32, {3}, true)},
          out, options, "bias float32 [3] should be float32 [4]");
  o.stride_h = 0;
  tfl::BuiltinOptionsUnion zero_stride;
  zero_stride.Set(o);
  refused({IntSpec({4}, {1, 4, 4, 4}), filter, input}, out, zero_stride,
          "strides must be at least 1");
  refused({IntSpec({4}, {1, 4, 4, 4}), SampleSpec(DataType::kInt16, {4, 3, 3, 3}, true),
           SampleSpec(DataType::kInt16, {1, 2, 2, 3})},
          OutputSpec(DataType::kInt16, {1, 4, 4, 4}), options, "it takes uint8, int8 or float32");
}

}  // namespace
}  // namespace tpufleet::cpu::testing
