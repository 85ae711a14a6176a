// CONV_2D and DEPTHWISE_CONV_2D against a naive float convolution: padding, strides, dilation,
// depth multiplier, per-channel scales, fused activations, and zero points at the range limits.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "op_test_util.h"

namespace tpufleet::cpu::testing {
namespace {

using Act = tfl::ActivationFunctionType;

struct ConvCase {
  DataType type;
  tfl::Padding padding;
  int stride, dilation;
  Act activation;
  bool depthwise;
  int multiplier;
  int input_zero_point;  // for 8-bit types
};

std::string Name(const ConvCase& c) {
  return fmt::format("{}_{}_{}_s{}_d{}_{}_m{}_zp{}", c.depthwise ? "dw" : "conv",
                     DataTypeName(c.type), c.padding == tfl::Padding::SAME ? "same" : "valid",
                     c.stride, c.dilation, tfl::EnumNameActivationFunctionType(c.activation),
                     c.multiplier,
                     c.input_zero_point < 0 ? "m" + std::to_string(-c.input_zero_point)
                                            : std::to_string(c.input_zero_point));
}

// out[n, y, x, o] = act(bias[o] + sum input[n, y*s + ky*d - pad, x*s + kx*d - pad, i] * w[...]).
std::vector<float> ReferenceConv(const std::vector<float>& in, const std::vector<int32_t>& in_shape,
                                 const std::vector<float>& w, const std::vector<int32_t>& w_shape,
                                 const std::vector<float>& bias, const ConvCase& c, int out_h,
                                 int out_w, int pad_top, int pad_left) {
  int H = in_shape[1], W = in_shape[2], C = in_shape[3];
  int KH = w_shape[1], KW = w_shape[2];
  int O = c.depthwise ? w_shape[3] : w_shape[0];
  std::vector<float> out(static_cast<size_t>(out_h) * out_w * O);
  for (int y = 0; y < out_h; ++y) {
    for (int x = 0; x < out_w; ++x) {
      for (int o = 0; o < O; ++o) {
        float acc = bias[o];
        for (int ky = 0; ky < KH; ++ky) {
          for (int kx = 0; kx < KW; ++kx) {
            int iy = y * c.stride + ky * c.dilation - pad_top,
                ix = x * c.stride + kx * c.dilation - pad_left;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            if (c.depthwise) {
              int i = o / c.multiplier;
              acc += in[(iy * W + ix) * C + i] * w[(ky * KW + kx) * O + o];
            } else {
              for (int i = 0; i < C; ++i)
                acc += in[(iy * W + ix) * C + i] * w[((o * KH + ky) * KW + kx) * C + i];
            }
          }
        }
        if (c.activation == Act::RELU) acc = std::max(acc, 0.0f);
        if (c.activation == Act::RELU6) acc = std::clamp(acc, 0.0f, 6.0f);
        out[(y * out_w + x) * O + o] = acc;
      }
    }
  }
  return out;
}

class ConvTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvTest, MatchesNaiveConvolution) {
  const ConvCase& c = GetParam();
  const bool quantized = c.type != DataType::kFloat32;
  const int C = 3, KH = 3, KW = 3, H = 7, W = 9;
  const int O = c.depthwise ? C * c.multiplier : 4;

  TensorSpec input{c.type, {1, H, W, C}};
  float in_scale = 0.05f;
  if (quantized) input.q = {{in_scale}, {c.input_zero_point}, 0};
  // Values inside the representable range for the zero point (which may sit at a range limit).
  float lo = quantized ? in_scale * (QMinOf(c.type) - c.input_zero_point) : -3.0f;
  float hi = quantized ? in_scale * (QMaxOf(c.type) - c.input_zero_point) : 3.0f;
  input.values = RandomValues(H * W * C, std::max(lo, -3.0f), std::min(hi, 3.0f), 1);

  TensorSpec filter{c.type, c.depthwise ? std::vector<int32_t>{1, KH, KW, O}
                                        : std::vector<int32_t>{O, KH, KW, C}};
  filter.constant = true;
  filter.values = RandomValues(c.depthwise ? KH * KW * O : O * KH * KW * C, -1, 1, 2);
  std::vector<float> weight_scales;
  if (c.type == DataType::kUInt8) {
    filter.q = {{0.01f}, {120}, 0};
  } else if (c.type == DataType::kInt8) {  // per-channel, symmetric
    for (int o = 0; o < O; ++o) weight_scales.push_back(0.004f + 0.002f * o);
    filter.q = {weight_scales, std::vector<int64_t>(O, 0), c.depthwise ? 3 : 0};
  }

  TensorSpec bias{quantized ? DataType::kInt32 : DataType::kFloat32, {O}};
  bias.constant = true;
  bias.values = RandomValues(O, -0.5f, 0.5f, 3);
  if (quantized) {
    for (int o = 0; o < O; ++o) {
      float ws = filter.q.scales.size() > 1 ? filter.q.scales[o] : filter.q.scales[0];
      bias.q.scales.push_back(in_scale * ws);
      bias.q.zero_points.push_back(0);
    }
    if (c.type == DataType::kUInt8) bias.q = {{bias.q.scales[0]}, {0}, 0};
  }

  int out_h = c.padding == tfl::Padding::SAME ? (H + c.stride - 1) / c.stride
                                              : (H - (KH - 1) * c.dilation - 1) / c.stride + 1;
  int out_w = c.padding == tfl::Padding::SAME ? (W + c.stride - 1) / c.stride
                                              : (W - (KW - 1) * c.dilation - 1) / c.stride + 1;
  int pad_top = 0, pad_left = 0;
  if (c.padding == tfl::Padding::SAME) {
    pad_top = std::max((out_h - 1) * c.stride + (KH - 1) * c.dilation + 1 - H, 0) / 2;
    pad_left = std::max((out_w - 1) * c.stride + (KW - 1) * c.dilation + 1 - W, 0) / 2;
  }
  TensorSpec output{c.type, {1, out_h, out_w, O}};
  float out_scale = 0.04f;
  if (quantized) output.q = {{out_scale}, {c.type == DataType::kInt8 ? -10 : 118}, 0};

  tfl::BuiltinOptionsUnion options;
  if (c.depthwise) {
    tfl::DepthwiseConv2DOptionsT o;
    o.padding = c.padding;
    o.stride_h = o.stride_w = c.stride;
    o.dilation_h_factor = o.dilation_w_factor = c.dilation;
    o.depth_multiplier = c.multiplier;
    o.fused_activation_function = c.activation;
    options.Set(std::move(o));
  } else {
    tfl::Conv2DOptionsT o;
    o.padding = c.padding;
    o.stride_h = o.stride_w = c.stride;
    o.dilation_h_factor = o.dilation_w_factor = c.dilation;
    o.fused_activation_function = c.activation;
    options.Set(std::move(o));
  }
  auto interpreter = RunSingleOp(
      c.depthwise ? tfl::BuiltinOperator::DEPTHWISE_CONV_2D : tfl::BuiltinOperator::CONV_2D,
      {input, filter, bias}, {output}, std::move(options));
  ASSERT_TRUE(interpreter);
  std::vector<float> expected =
      ReferenceConv(Representable(input), input.shape, Representable(filter), filter.shape,
                    Representable(bias), c, out_h, out_w, pad_top, pad_left);
  if (quantized) {  // the reference, saturated to what the output can hold
    TensorSpec saturated = output;
    saturated.values = expected;
    expected = Representable(saturated);
  }
  ExpectNear(Decode(interpreter->output(0)), expected, quantized ? out_scale * 1.01f : 1e-4f);
}

std::vector<ConvCase> Cases() {
  std::vector<ConvCase> cases;
  for (DataType type : {DataType::kUInt8, DataType::kInt8, DataType::kFloat32}) {
    for (bool depthwise : {false, true}) {
      for (tfl::Padding padding : {tfl::Padding::SAME, tfl::Padding::VALID}) {
        for (int stride : {1, 2}) {
          cases.push_back({type, padding, stride, 1, Act::NONE, depthwise, depthwise ? 2 : 1,
                           type == DataType::kInt8 ? 0 : 128});
        }
      }
      cases.push_back({type, tfl::Padding::SAME, 1, 2, Act::RELU6, depthwise, 1,
                       type == DataType::kInt8 ? 3 : 100});
      cases.push_back({type, tfl::Padding::VALID, 2, 1, Act::RELU, depthwise, 1,
                       type == DataType::kInt8 ? -7 : 140});
    }
  }
  // Zero points at the range limits.
  cases.push_back({DataType::kUInt8, tfl::Padding::SAME, 1, 1, Act::NONE, false, 1, 0});
  cases.push_back({DataType::kUInt8, tfl::Padding::SAME, 1, 1, Act::NONE, true, 1, 255});
  cases.push_back({DataType::kInt8, tfl::Padding::SAME, 1, 1, Act::NONE, false, 1, -128});
  cases.push_back({DataType::kInt8, tfl::Padding::SAME, 2, 1, Act::RELU6, true, 1, 127});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Kernels, ConvTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<ConvCase>& info) {
                           return Name(info.param);
                         });

}  // namespace
}  // namespace tpufleet::cpu::testing
