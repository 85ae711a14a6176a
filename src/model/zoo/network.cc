#include "model/zoo/network.h"

#include <algorithm>
#include <cmath>

namespace tpufleet::zoo {
namespace {

using Op = tfl::BuiltinOperator;

bool IsFusable(Activation activation) {
  return activation != Activation::kHardSwish && activation != Activation::kSilu;
}

tfl::ActivationFunctionType Fused(Activation activation) {
  switch (activation) {
    case Activation::kRelu: return tfl::ActivationFunctionType::RELU;
    case Activation::kRelu6: return tfl::ActivationFunctionType::RELU6;
    default: break;
  }
  return tfl::ActivationFunctionType::NONE;
}

// Real-valued range an activation's output is quantized to.
Range RangeOf(Activation activation) {
  switch (activation) {
    case Activation::kRelu6: return {0.0f, 6.0f};
    case Activation::kRelu: return {0.0f, 8.0f};
    case Activation::kHardSwish: return {-0.375f, 8.0f};  // its minimum is -3/8, at -1.5
    case Activation::kSilu: return {-0.28f, 8.0f};        // its minimum is about -0.278
    case Activation::kNone: break;
  }
  return {-8.0f, 8.0f};
}

}  // namespace

std::vector<int32_t> BroadcastShape(std::vector<int32_t> a, std::vector<int32_t> b) {
  if (a.size() < b.size()) std::swap(a, b);
  b.insert(b.begin(), a.size() - b.size(), 1);
  for (size_t d = 0; d < a.size(); ++d) a[d] = std::max(a[d], b[d]);
  return a;
}

int MakeDivisible(double value, int divisor) {
  int rounded = std::max(divisor, static_cast<int>(value + divisor / 2.0) / divisor * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

int OutputSize(int input, int kernel, int stride, Padding padding) {
  if (padding == Padding::SAME) return (input + stride - 1) / stride;
  return (input - kernel) / stride + 1;
}

Network::Network(Precision precision, uint64_t seed) : precision_(precision), rng_state_(seed) {}

uint64_t Network::NextRandom() {  // splitmix64
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Network::Uniform() { return static_cast<double>(NextRandom() >> 11) * 0x1.0p-52 - 1.0; }

std::string Network::Name(const std::string& kind) {
  return kind + "_" + std::to_string(layer_count_++);
}

DataType Network::activation_type() const {
  switch (precision_) {
    case Precision::kUInt8: return DataType::kUInt8;
    case Precision::kInt8: return DataType::kInt8;
    case Precision::kFloat32: break;
  }
  return DataType::kFloat32;
}

Quantization Network::RangeQuantization(Range range) const {
  if (precision_ == Precision::kFloat32) return {};
  float low = std::min(range.low, 0.0f), high = std::max(range.high, 0.0f);
  if (high == low) high = low + 1.0f;
  float scale = (high - low) / 255.0f;
  int64_t zero_point = static_cast<int64_t>(std::lround(-low / scale));
  if (precision_ == Precision::kInt8) zero_point -= 128;
  return {{scale}, {zero_point}, 0};
}

Range Network::RangeHeld(int x) const {
  const Quantization& q = builder_.quantization(x);
  const float lowest = precision_ == Precision::kInt8 ? -128.0f : 0.0f;
  return {q.scales[0] * (lowest - q.zero_points[0]),
          q.scales[0] * (lowest + 255 - q.zero_points[0])};
}

Quantization Network::OutputQuantization(Activation activation) const {
  return RangeQuantization(RangeOf(activation));
}

Quantization Network::LayerQuantization(Activation activation) const {
  return OutputQuantization(IsFusable(activation) ? activation : Activation::kNone);
}

int Network::Unfused(int x, Activation activation) {
  return IsFusable(activation) ? x : ActivationOperator(x, activation);
}

int Network::ActivationOperator(int x, Activation activation) {
  if (activation == Activation::kNone) return x;
  if (activation == Activation::kSilu) return Mul(x, Logistic(x), RangeOf(activation));
  const Op op = activation == Activation::kRelu    ? Op::RELU
                : activation == Activation::kRelu6 ? Op::RELU6
                                                   : Op::HARD_SWISH;
  int out = builder_.AddTensor(Name(op == Op::HARD_SWISH ? "hard_swish" : "relu"),
                               activation_type(), shape(x), OutputQuantization(activation));
  builder_.AddOperator(op, {x}, {out});
  return out;
}

Quantization Network::ProbabilityQuantization() const {
  if (precision_ == Precision::kFloat32) return {};
  return {{1.0f / 256.0f}, {precision_ == Precision::kInt8 ? -128 : 0}, 0};
}

int Network::Input(const std::string& name, int height, int width, int channels, Range range) {
  Quantization q = RangeQuantization(range);
  if (precision_ != Precision::kFloat32 && range.low == -1.0f && range.high == 1.0f) {
    q = {{1.0f / 128.0f}, {precision_ == Precision::kInt8 ? 0 : 128}, 0};  // Coral's
  }
  int input = builder_.AddTensor(name, activation_type(), {1, height, width, channels}, q);
  inputs_.push_back(input);
  return input;
}

int Network::Weights(const std::string& name, std::vector<int32_t> shape, int fan_in, int axis) {
  size_t count = 1;
  for (int32_t d : shape) count *= static_cast<size_t>(d);
  double limit = std::sqrt(6.0 / fan_in);
  switch (precision_) {
    case Precision::kFloat32: {
      std::vector<float> values(count);
      for (float& v : values) v = static_cast<float>(limit * Uniform());
      return builder_.AddConstant(name, DataType::kFloat32, std::move(shape), values);
    }
    case Precision::kUInt8: {
      std::vector<uint8_t> values(count);
      for (uint8_t& v : values) v = static_cast<uint8_t>(128 + std::lround(127 * Uniform()));
      Quantization q{{static_cast<float>(limit / 127)}, {128}, 0};
      return builder_.AddConstant(name, DataType::kUInt8, std::move(shape), std::move(values), q);
    }
    case Precision::kInt8: break;
  }
  int channels = shape[axis];
  Quantization q;
  q.axis = axis;
  for (int c = 0; c < channels; ++c) {
    q.scales.push_back(static_cast<float>(limit / 127 * (1.0 + 0.25 * Uniform())));
    q.zero_points.push_back(0);
  }
  std::vector<int8_t> values(count);
  for (int8_t& v : values) v = static_cast<int8_t>(std::lround(127 * Uniform()));
  return builder_.AddConstant(name, DataType::kInt8, std::move(shape), values, q);
}

int Network::Bias(const std::string& name, int input, int weights, int channels) {
  constexpr double kBiasRange = 0.1;
  if (precision_ == Precision::kFloat32) {
    std::vector<float> values(channels);
    for (float& v : values) v = static_cast<float>(kBiasRange * Uniform());
    return builder_.AddConstant(name, DataType::kFloat32, {channels}, values);
  }
  const Quantization& in_q = builder_.quantization(input);
  const Quantization& w_q = builder_.quantization(weights);
  Quantization q;
  std::vector<int32_t> values(channels);
  for (int c = 0; c < channels; ++c) {
    float scale = in_q.scales[0] * w_q.scales[w_q.per_channel() ? c : 0];
    q.scales.push_back(scale);
    q.zero_points.push_back(0);
    values[c] = static_cast<int32_t>(std::lround(kBiasRange * Uniform() / scale));
  }
  if (!w_q.per_channel()) {
    q.scales.resize(1);
    q.zero_points.resize(1);
  }
  return builder_.AddConstant(name, DataType::kInt32, {channels}, values, q);
}

int Network::Conv(int x, int out_channels, int kernel_h, int kernel_w, int stride, Padding padding,
                  Activation activation) {
  const std::vector<int32_t> in = shape(x);
  std::string name = Name("conv");
  int in_channels = in[3];
  int weights = Weights(name + "/weights", {out_channels, kernel_h, kernel_w, in_channels},
                        kernel_h * kernel_w * in_channels, 0);
  int bias = Bias(name + "/bias", x, weights, out_channels);
  int out = builder_.AddTensor(name, activation_type(),
                               {1, OutputSize(in[1], kernel_h, stride, padding),
                                OutputSize(in[2], kernel_w, stride, padding), out_channels},
                               LayerQuantization(activation));
  tfl::Conv2DOptionsT options;
  options.padding = padding;
  options.stride_h = options.stride_w = stride;
  options.fused_activation_function = Fused(activation);
  builder_.AddOperator(Op::CONV_2D, {x, weights, bias}, {out}, OptionsUnion(std::move(options)));
  return Unfused(out, activation);
}

int Network::Depthwise(int x, int kernel, int stride, Activation activation, int multiplier) {
  const std::vector<int32_t> in = shape(x);
  std::string name = Name("depthwise");
  int out_channels = in[3] * multiplier;
  int weights = Weights(name + "/weights", {1, kernel, kernel, out_channels}, kernel * kernel, 3);
  int bias = Bias(name + "/bias", x, weights, out_channels);
  int out = builder_.AddTensor(name, activation_type(),
                               {1, OutputSize(in[1], kernel, stride, Padding::SAME),
                                OutputSize(in[2], kernel, stride, Padding::SAME), out_channels},
                               LayerQuantization(activation));
  tfl::DepthwiseConv2DOptionsT options;
  options.padding = Padding::SAME;
  options.stride_h = options.stride_w = stride;
  options.depth_multiplier = multiplier;
  options.fused_activation_function = Fused(activation);
  builder_.AddOperator(Op::DEPTHWISE_CONV_2D, {x, weights, bias}, {out},
                       OptionsUnion(std::move(options)));
  return Unfused(out, activation);
}

int Network::SeparableConv(int x, int out_channels, Activation activation) {
  return Conv(Depthwise(x, 3, 1, Activation::kNone), out_channels, 1, 1, activation);
}

int Network::TransposeConv(int x, int out_channels, int kernel, int stride, Activation activation) {
  const std::vector<int32_t> in = shape(x);
  std::string name = Name("transpose_conv");
  const std::vector<int32_t> out_shape = {1, in[1] * stride, in[2] * stride, out_channels};
  int output_shape = builder_.AddConstant(name + "/output_shape", DataType::kInt32, {4}, out_shape);
  int weights = Weights(name + "/weights", {out_channels, kernel, kernel, in[3]},
                        std::max(1, kernel * kernel * in[3] / (stride * stride)), 0);
  int bias = Bias(name + "/bias", x, weights, out_channels);
  int out =
      builder_.AddTensor(name, activation_type(), out_shape, OutputQuantization(Activation::kNone));
  tfl::TransposeConvOptionsT options;
  options.padding = Padding::SAME;
  options.stride_h = options.stride_w = stride;
  builder_.AddOperator(Op::TRANSPOSE_CONV, {output_shape, weights, x, bias}, {out},
                       OptionsUnion(std::move(options)));
  return ActivationOperator(out, activation);
}

int Network::FullyConnected(int x, int out_features, Activation activation) {
  int in_features = channels(x);
  std::string name = Name("fc");
  int weights = Weights(name + "/weights", {out_features, in_features}, in_features, 0);
  int bias = Bias(name + "/bias", x, weights, out_features);
  int out =
      builder_.AddTensor(name, activation_type(), {1, out_features}, LayerQuantization(activation));
  tfl::FullyConnectedOptionsT options;
  options.fused_activation_function = Fused(activation);
  builder_.AddOperator(Op::FULLY_CONNECTED, {x, weights, bias}, {out},
                       OptionsUnion(std::move(options)));
  return Unfused(out, activation);
}

int Network::Binary(Op op, int a, int b, const Quantization& quantization, Activation fused) {
  const char* kind = op == Op::ADD ? "add" : op == Op::MUL ? "mul" : "sub";
  int out = builder_.AddTensor(Name(kind), activation_type(), BroadcastShape(shape(a), shape(b)),
                               quantization);
  auto with_activation = [&](auto options) {
    options.fused_activation_function = Fused(fused);
    return OptionsUnion(std::move(options));
  };
  builder_.AddOperator(op, {a, b}, {out},
                       op == Op::ADD   ? with_activation(tfl::AddOptionsT{})
                       : op == Op::MUL ? with_activation(tfl::MulOptionsT{})
                                       : with_activation(tfl::SubOptionsT{}));
  return out;
}

int Network::Add(int a, int b, Activation activation) {
  return Unfused(Binary(Op::ADD, a, b, LayerQuantization(activation), activation), activation);
}
int Network::Add(int a, int b, Range range) {
  return Binary(Op::ADD, a, b, RangeQuantization(range), Activation::kNone);
}
int Network::Sub(int a, int b, Range range) {
  return Binary(Op::SUB, a, b, RangeQuantization(range), Activation::kNone);
}
int Network::Mul(int a, int b, Range range) {
  return Binary(Op::MUL, a, b, RangeQuantization(range), Activation::kNone);
}

int Network::Pool(Op op, int x, int kernel_h, int kernel_w, int stride, Padding padding) {
  const std::vector<int32_t> in = shape(x);
  int out =
      builder_.AddTensor(Name(op == Op::MAX_POOL_2D ? "maxpool" : "avgpool"), activation_type(),
                         {1, OutputSize(in[1], kernel_h, stride, padding),
                          OutputSize(in[2], kernel_w, stride, padding), in[3]},
                         builder_.quantization(x));
  tfl::Pool2DOptionsT options;
  options.padding = padding;
  options.stride_h = options.stride_w = stride;
  options.filter_height = kernel_h;
  options.filter_width = kernel_w;
  builder_.AddOperator(op, {x}, {out}, OptionsUnion(std::move(options)));
  return out;
}

int Network::MaxPool(int x, int kernel, int stride, Padding padding) {
  return Pool(Op::MAX_POOL_2D, x, kernel, kernel, stride, padding);
}

int Network::AvgPool(int x, int kernel, int stride, Padding padding) {
  return Pool(Op::AVERAGE_POOL_2D, x, kernel, kernel, stride, padding);
}

int Network::GlobalAvgPool(int x) {
  const std::vector<int32_t> in = shape(x);
  return Pool(Op::AVERAGE_POOL_2D, x, in[1], in[2], 1, Padding::VALID);
}

int Network::ClassifierHead(int x, int classes, bool conv_logits) {
  int pooled = GlobalAvgPool(x);
  int logits;
  if (conv_logits) {
    logits = Reshape(Conv(pooled, classes, 1, 1, Activation::kNone), {1, classes});
  } else {
    logits = FullyConnected(Reshape(pooled, {1, channels(pooled)}), classes, Activation::kNone);
  }
  return Softmax(logits);
}

std::vector<uint8_t> Network::Finish(const std::vector<int>& outputs,
                                     const std::string& description) {
  builder_.SetInputs(inputs_);
  builder_.SetOutputs(outputs);
  builder_.SetDescription(description);
  return builder_.Finish();
}

std::string ZooDescription(const std::string& architecture, double width, bool has_width,
                           int resolution) {
  std::string text = architecture;
  if (has_width) text += " width " + std::to_string(width).substr(0, 4);
  return text + " resolution " + std::to_string(resolution) + " (tpufleet zoo, synthetic weights)";
}

}  // namespace tpufleet::zoo
