// FULLY_CONNECTED through XNNPACK: uint8, int8 (per-tensor weights) and float32.
#include <fmt/format.h>

#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"
#include "cpu/xnnpack_adapter.h"

namespace tpufleet::cpu {
namespace {

class FullyConnectedKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 3, 1));
    TPUFLEET_RETURN_IF_ERROR(xnn::Initialize());
    const tfl::FullyConnectedOptions* options = c.op->builtin_options_as_FullyConnectedOptions();
    tfl::ActivationFunctionType activation =
        options ? options->fused_activation_function() : tfl::ActivationFunctionType::NONE;
    if (options && options->weights_format() != tfl::FullyConnectedOptionsWeightsFormat::DEFAULT) {
      return c.Unsupported("shuffled weights format");
    }
    if (!IsSupportedActivation(activation)) return c.Unsupported("this fused activation");
    const Tensor& input = c.input(0);
    const Tensor& weights = c.input(1);
    Tensor& output = c.output(0);
    if (weights.rank() != 2 || !weights.is_constant)
      return c.Unsupported("weights must be a constant 2-D tensor");
    size_t out_features = weights.dim(0);
    in_features_ = weights.dim(1);
    if (in_features_ == 0 || input.element_count() % in_features_ != 0) {
      return c.Invalid(fmt::format("input {} is not a whole number of rows of {}", Describe(input),
                                   in_features_));
    }
    batch_ = input.element_count() / in_features_;
    if (output.element_count() / std::max<size_t>(out_features, 1) != batch_ ||
        output.element_count() != batch_ * out_features) {  // the division rules out a wrap
      return c.Invalid(fmt::format("output {} should hold {} x {} values", Describe(output), batch_,
                                   out_features));
    }
    const Tensor* bias = c.inputs.size() > 2 ? c.inputs[2] : nullptr;
    if (bias && !bias->is_constant) return c.Unsupported("a non-constant bias");
    if (bias && bias->element_count() != out_features)
      return c.Invalid(
          fmt::format("bias {} does not hold {} values", Describe(*bias), out_features));
    xnn_operator_t op = nullptr;
    xnn_status status;
    if (input.type == DataType::kFloat32 && weights.type == DataType::kFloat32 &&
        output.type == DataType::kFloat32) {
      if (bias && bias->type != DataType::kFloat32)
        return c.Unsupported("a float layer with a non-float32 bias");
      auto [lo, hi] = ActivationRangeFloat(activation);
      status = xnn_create_fully_connected_nc_f32(
          in_features_, out_features, in_features_, out_features, weights.as<float>(),
          bias ? bias->as<float>() : nullptr, lo, hi, 0, &op);
      kind_ = Kind::kF32;
    } else if (IsQuantized8(input.type) && weights.type == input.type &&
               output.type == input.type) {
      if (weights.quantization.per_channel()) return c.Unsupported("per-channel quantized weights");
      if (bias && bias->type != DataType::kInt32)
        return c.Unsupported("quantized layers need an int32 bias");
      const int32_t* bias_data = bias ? bias->as<int32_t>() : nullptr;
      ClampRange range = ActivationRange(activation, output);
      if (input.type == DataType::kUInt8) {
        status = xnn_create_fully_connected_nc_qu8(
            in_features_, out_features, in_features_, out_features,
            static_cast<uint8_t>(input.zero_point()), input.scale(),
            static_cast<uint8_t>(weights.zero_point()), weights.scale(), weights.as<uint8_t>(),
            bias_data, static_cast<uint8_t>(output.zero_point()), output.scale(),
            static_cast<uint8_t>(range.min), static_cast<uint8_t>(range.max), 0, &op);
        kind_ = Kind::kQU8;
      } else {
        if (weights.zero_point() != 0) return c.Unsupported("int8 weights need zero point 0");
        status = xnn_create_fully_connected_nc_qs8(
            in_features_, out_features, in_features_, out_features,
            static_cast<int8_t>(input.zero_point()), input.scale(), weights.scale(),
            weights.as<int8_t>(), bias_data, static_cast<int8_t>(output.zero_point()),
            output.scale(), static_cast<int8_t>(range.min), static_cast<int8_t>(range.max), 0, &op);
        kind_ = Kind::kQS8;
      }
    } else {
      return c.Unsupported(
          fmt::format("input {} with weights {}", Describe(input), Describe(weights)));
    }
    TPUFLEET_RETURN_IF_ERROR(xnn::Check(status, "create fully connected")
                                 .WithContext(fmt::format("operator #{} ({})", c.index, c.name)));
    op_.reset(op);
    return OkStatus();
  }

  bool RunsInXnnpack() const override { return true; }

  Status Eval(OpContext& c) override {
    const Tensor& input = c.input(0);
    Tensor& output = c.output(0);
    return op_.Run({input.data, output.data}, c.threadpool, "fully connected",
                   [&](xnn_operator_t op) {
                     switch (kind_) {
                       case Kind::kF32:
                         return xnn_setup_fully_connected_nc_f32(op, batch_, input.as<float>(),
                                                                 output.as<float>(), c.threadpool);
                       case Kind::kQU8:
                         return xnn_setup_fully_connected_nc_qu8(
                             op, batch_, input.as<uint8_t>(), output.as<uint8_t>(), c.threadpool);
                       case Kind::kQS8:
                         return xnn_setup_fully_connected_nc_qs8(op, batch_, input.as<int8_t>(),
                                                                 output.as<int8_t>(), c.threadpool);
                     }
                     return xnn_status_invalid_state;
                   });
  }

 private:
  enum class Kind { kF32, kQU8, kQS8 };
  Kind kind_ = Kind::kF32;
  size_t batch_ = 0;
  size_t in_features_ = 0;
  xnn::BoundOperator op_;
};

}  // namespace

std::unique_ptr<Kernel> MakeFullyConnected() { return std::make_unique<FullyConnectedKernel>(); }

}  // namespace tpufleet::cpu
