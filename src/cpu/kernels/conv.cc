// CONV_2D and DEPTHWISE_CONV_2D through XNNPACK: uint8 (per-tensor), int8 (per-channel or
// per-tensor weights) and float32. Weights are packed once at Prepare.
#include <fmt/format.h>

#include <array>

#include "cpu/kernels/kernels.h"
#include "cpu/kernels/window.h"
#include "cpu/quantization.h"
#include "cpu/xnnpack_adapter.h"

namespace tpufleet::cpu {
namespace {

struct ConvParams {
  tfl::Padding padding;
  int stride_h, stride_w, dilation_h, dilation_w;
  int depth_multiplier;  // depthwise only
  tfl::ActivationFunctionType activation;
};

class ConvKernel : public Kernel {
 public:
  explicit ConvKernel(bool depthwise) : depthwise_(depthwise) {}

  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 3, 1));
    TPUFLEET_RETURN_IF_ERROR(xnn::Initialize());
    TPUFLEET_ASSIGN_OR_RETURN(ConvParams p, Params(c));
    const Tensor& input = c.input(0);
    const Tensor& filter = c.input(1);
    Tensor& output = c.output(0);
    if (input.rank() != 4 || filter.rank() != 4 || output.rank() != 4) {
      return c.Invalid("input, filter and output must be 4-D (NHWC)");
    }
    if (!filter.is_constant) return c.Unsupported("the filter must be a constant");
    int64_t in_channels = input.dim(3);
    int64_t out_channels = depthwise_ ? filter.dim(3) : filter.dim(0);
    int kernel_h = filter.dim(1), kernel_w = filter.dim(2);
    int64_t groups = 1, group_in = in_channels, group_out = out_channels;
    if (depthwise_) {
      if (in_channels == 0) return c.Invalid("the input has no channels");
      groups = in_channels;
      group_in = 1;
      group_out = p.depth_multiplier > 0 ? p.depth_multiplier : out_channels / in_channels;
      if (groups * group_out != out_channels) {  // both below 2^31: no overflow
        return c.Invalid(
            fmt::format("filter channels ({}) are not input channels ({}) x depth multiplier ({})",
                        out_channels, in_channels, group_out));
      }
      if (filter.dim(0) != 1)
        return c.Invalid("a depthwise filter is [1, height, width, channels]");
    } else if (in_channels != filter.dim(3)) {
      if (filter.dim(3) == 0 || in_channels % filter.dim(3) != 0)
        return c.Invalid("filter depth does not divide input channels");
      groups = in_channels / filter.dim(3);
      group_in = filter.dim(3);
      group_out = out_channels / groups;
      if (group_out * groups != out_channels)
        return c.Invalid("filter count does not divide into the input's groups");
    }
    TPUFLEET_ASSIGN_OR_RETURN(Window wh, ComputeWindow(c, input.dim(1), kernel_h, p.stride_h,
                                                       p.dilation_h, p.padding, "height"));
    TPUFLEET_ASSIGN_OR_RETURN(Window ww, ComputeWindow(c, input.dim(2), kernel_w, p.stride_w,
                                                       p.dilation_w, p.padding, "width"));
    if (output.dim(0) != input.dim(0) || output.dim(1) != wh.output || output.dim(2) != ww.output ||
        output.dim(3) != out_channels) {
      return c.Invalid(fmt::format("output shape {} does not match the computed [{}, {}, {}, {}]",
                                   Describe(output), input.dim(0), wh.output, ww.output,
                                   out_channels));
    }
    if (output.element_count() == 0)
      return c.Invalid(fmt::format("the window leaves an empty output {}", Describe(output)));
    const Tensor* bias = c.inputs.size() > 2 ? c.inputs[2] : nullptr;
    if (bias && !bias->is_constant) return c.Unsupported("a non-constant bias");
    if (bias && bias->element_count() != static_cast<size_t>(out_channels))
      return c.Invalid(
          fmt::format("bias {} does not hold {} values", Describe(*bias), out_channels));
    geometry_ = {static_cast<uint32_t>(wh.pad_before), static_cast<uint32_t>(ww.pad_after),
                 static_cast<uint32_t>(wh.pad_after), static_cast<uint32_t>(ww.pad_before)};
    uint32_t flags = depthwise_ ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0;
    xnn_operator_t op = nullptr;
    xnn_status status;

    if (input.type == DataType::kFloat32 && filter.type == DataType::kFloat32 &&
        output.type == DataType::kFloat32) {
      if (bias && bias->type != DataType::kFloat32)
        return c.Unsupported("a float convolution with a non-float32 bias");
      auto [lo, hi] = ActivationRangeFloat(p.activation);
      std::vector<float> zero_bias;
      const float* bias_data =
          bias ? bias->as<float>() : (zero_bias.assign(out_channels, 0.0f), zero_bias.data());
      status = xnn_create_convolution2d_nhwc_f32(
          geometry_[0], geometry_[1], geometry_[2], geometry_[3], kernel_h, kernel_w, p.stride_h,
          p.stride_w, p.dilation_h, p.dilation_w, groups, group_in, group_out, in_channels,
          out_channels, filter.as<float>(), bias_data, lo, hi, flags, &op);
      kind_ = Kind::kF32;
    } else if (IsQuantized8(input.type) && input.type == output.type && filter.type == input.type) {
      if (bias && bias->type != DataType::kInt32)
        return c.Unsupported("quantized convolution needs an int32 bias");
      std::vector<int32_t> zero_bias;
      const int32_t* bias_data =
          bias ? bias->as<int32_t>() : (zero_bias.assign(out_channels, 0), zero_bias.data());
      ClampRange range = ActivationRange(p.activation, output);
      if (input.type == DataType::kUInt8) {
        if (filter.quantization.per_channel())
          return c.Unsupported("uint8 filters with per-channel scales");
        status = xnn_create_convolution2d_nhwc_qu8(
            geometry_[0], geometry_[1], geometry_[2], geometry_[3], kernel_h, kernel_w, p.stride_h,
            p.stride_w, p.dilation_h, p.dilation_w, groups, group_in, group_out, in_channels,
            out_channels, static_cast<uint8_t>(input.zero_point()), input.scale(),
            static_cast<uint8_t>(filter.zero_point()), filter.scale(), filter.as<uint8_t>(),
            bias_data, static_cast<uint8_t>(output.zero_point()), output.scale(),
            static_cast<uint8_t>(range.min), static_cast<uint8_t>(range.max), flags, &op);
        kind_ = Kind::kQU8;
      } else {
        std::vector<float> scales = filter.quantization.scales;
        if (scales.size() == 1) scales.assign(out_channels, scales[0]);
        if (static_cast<int>(scales.size()) != out_channels)
          return c.Invalid("filter scales do not match output channels");
        for (int64_t zp : filter.quantization.zero_points) {
          if (zp != 0)
            return c.Unsupported("int8 filters need zero point 0 (symmetric quantization)");
        }
        status = xnn_create_convolution2d_nhwc_qc8(
            geometry_[0], geometry_[1], geometry_[2], geometry_[3], kernel_h, kernel_w, p.stride_h,
            p.stride_w, p.dilation_h, p.dilation_w, groups, group_in, group_out, in_channels,
            out_channels, static_cast<int8_t>(input.zero_point()), input.scale(), scales.data(),
            filter.as<int8_t>(), bias_data, static_cast<int8_t>(output.zero_point()),
            output.scale(), static_cast<int8_t>(range.min), static_cast<int8_t>(range.max), flags,
            &op);
        kind_ = Kind::kQC8;
      }
    } else {
      return c.Unsupported(fmt::format("input {} with filter {} and output {}", Describe(input),
                                       Describe(filter), Describe(output)));
    }
    TPUFLEET_RETURN_IF_ERROR(
        xnn::Check(status, depthwise_ ? "create depthwise convolution" : "create convolution")
            .WithContext(fmt::format("operator #{} ({})", c.index, c.name)));
    op_.reset(op);
    return OkStatus();
  }

  bool RunsInXnnpack() const override { return true; }

  Status Eval(OpContext& c) override {
    const Tensor& input = c.input(0);
    Tensor& output = c.output(0);
    size_t n = input.dim(0), h = input.dim(1), w = input.dim(2);
    return op_.Run({input.data, output.data}, c.threadpool, "convolution", [&](xnn_operator_t op) {
      switch (kind_) {
        case Kind::kF32:
          return xnn_setup_convolution2d_nhwc_f32(op, n, h, w, input.as<float>(),
                                                  output.as<float>(), c.threadpool);
        case Kind::kQU8:
          return xnn_setup_convolution2d_nhwc_qu8(op, n, h, w, input.as<uint8_t>(),
                                                  output.as<uint8_t>(), c.threadpool);
        case Kind::kQC8:
          return xnn_setup_convolution2d_nhwc_qc8(op, n, h, w, input.as<int8_t>(),
                                                  output.as<int8_t>(), c.threadpool);
      }
      return xnn_status_invalid_state;
    });
  }

 private:
  enum class Kind { kF32, kQU8, kQC8 };

  Result<ConvParams> Params(const OpContext& c) const {
    ConvParams p{};
    if (depthwise_) {
      const tfl::DepthwiseConv2DOptions* o = c.op->builtin_options_as_DepthwiseConv2DOptions();
      if (o == nullptr) return c.Invalid("missing DepthwiseConv2DOptions");
      p = {o->padding(),
           o->stride_h(),
           o->stride_w(),
           o->dilation_h_factor(),
           o->dilation_w_factor(),
           o->depth_multiplier(),
           o->fused_activation_function()};
    } else {
      const tfl::Conv2DOptions* o = c.op->builtin_options_as_Conv2DOptions();
      if (o == nullptr) return c.Invalid("missing Conv2DOptions");
      p = {o->padding(),
           o->stride_h(),
           o->stride_w(),
           o->dilation_h_factor(),
           o->dilation_w_factor(),
           0,
           o->fused_activation_function()};
    }
    if (p.stride_h < 1 || p.stride_w < 1 || p.dilation_h < 1 || p.dilation_w < 1) {
      return c.Invalid(fmt::format("strides ({}, {}) and dilations ({}, {}) must be positive",
                                   p.stride_h, p.stride_w, p.dilation_h, p.dilation_w));
    }
    if (!IsSupportedActivation(p.activation)) {
      return c.Unsupported(
          fmt::format("fused activation {}", tfl::EnumNameActivationFunctionType(p.activation)));
    }
    return p;
  }

  bool depthwise_;
  Kind kind_ = Kind::kF32;
  std::array<uint32_t, 4> geometry_{};  // top, right, bottom, left padding
  xnn::BoundOperator op_;
};

}  // namespace

std::unique_ptr<Kernel> MakeConv2D() { return std::make_unique<ConvKernel>(false); }
std::unique_ptr<Kernel> MakeDepthwiseConv2D() { return std::make_unique<ConvKernel>(true); }

}  // namespace tpufleet::cpu
