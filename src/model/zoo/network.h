// Network: layer-level construction of quantized or float models on top of ModelBuilder, with
// deterministic pseudo-random weights. The synthetic zoo's architectures are written with it.
//
// Layers return the index of their output tensor and take NHWC inputs. Convolution biases stand
// for folded batch normalisation, as in every deployed TFLite model. Quantization follows the
// chosen precision: uint8 per-tensor (Coral's classic models), int8 with per-channel weights
// (TF2 post-training quantization), or float32. Activations TFLite fuses (ReLU, ReLU6) are
// fused; hard-swish is its own HARD_SWISH operator and SiLU is LOGISTIC then MUL, as the TFLite
// converter writes them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/builder.h"

namespace tpufleet::zoo {

enum class Precision { kUInt8, kInt8, kFloat32 };
enum class Activation { kNone, kRelu, kRelu6, kHardSwish, kSilu };

// The real values a tensor is quantized to hold.
struct Range {
  float low, high;
};
using Padding = tfl::Padding;

// The divisors of TFLite_Detection_PostProcess's box encodings (y, x, h, w): by default the
// Object Detection API's SSD box coder; EfficientDet's has none (all 1).
struct BoxScales {
  float y = 10, x = 10, h = 5, w = 5;
};

class Network {
 public:
  Network(Precision precision, uint64_t seed);

  // The image input [1, height, width, channels], quantized to hold `range`: [-1, 1] (Coral's
  // classifiers) or [0, 1] (YOLO's exports).
  int Input(const std::string& name, int height, int width, int channels,
            Range range = {-1.0f, 1.0f});

  int Conv(int x, int out_channels, int kernel_h, int kernel_w, int stride, Padding padding,
           Activation activation);
  int Conv(int x, int out_channels, int kernel, int stride, Activation activation,
           Padding padding = Padding::SAME) {
    return Conv(x, out_channels, kernel, kernel, stride, padding, activation);
  }
  int Depthwise(int x, int kernel, int stride, Activation activation, int multiplier = 1);
  // A separable 3x3 convolution: depthwise without an activation, then 1x1 to `out_channels`.
  int SeparableConv(int x, int out_channels, Activation activation);
  // Upsampling by `stride` (SAME padding) to `out_channels`; the activation is its own operator,
  // as TensorFlow Lite 2.9 fuses none into TRANSPOSE_CONV.
  int TransposeConv(int x, int out_channels, int kernel, int stride, Activation activation);
  int FullyConnected(int x, int out_features, Activation activation);
  int Add(int a, int b, Activation activation);
  // Element-wise with broadcasting; the output holds `range`.
  int Add(int a, int b, Range range);
  int Sub(int a, int b, Range range);
  int Mul(int a, int b, Range range);
  // A constant of `shape` holding `values` (one value is repeated), quantized to their range.
  int Constant(const std::string& name, std::vector<int32_t> shape, std::vector<float> values);
  // relu6(x + 3) / 6, the hard sigmoid of MobileNet v3, on [0, 1].
  int HardSigmoid(int x);
  // Squeeze-and-excite: x times the hard sigmoid of two 1x1 convolutions (`squeeze` channels,
  // ReLU) over x's spatial mean.
  int SqueezeExcite(int x, int squeeze);
  int MaxPool(int x, int kernel, int stride, Padding padding);
  int AvgPool(int x, int kernel, int stride, Padding padding);
  // Average over the whole spatial extent: [1, H, W, C] -> [1, 1, 1, C].
  int GlobalAvgPool(int x);
  // The same as MEAN over height and width, keeping them: [1, H, W, C] -> [1, 1, 1, C].
  int Mean(int x);
  // SUM over `axis` (negative counts from the end), which goes; the output holds `range`.
  int Sum(int x, int axis, Range range);
  // Nearest-neighbour upsampling of height and width by `factor`, or to `height` x `width`.
  int ResizeNearest(int x, int factor);
  int ResizeNearest(int x, int height, int width);
  // Concatenation along `axis` (negative counts from the end; -1 is channels for NHWC). Inputs
  // quantized unlike the others are requantized (QUANTIZE) to the union of their ranges first,
  // as TFLite's int8 kernel needs every input quantized as the output.
  int Concat(const std::vector<int>& xs, int axis = -1);
  // `count` equal parts along `axis` (negative counts from the end); SplitV: parts of `sizes`.
  std::vector<int> Split(int x, int axis, int count);
  std::vector<int> SplitV(int x, int axis, const std::vector<int32_t>& sizes);
  int Reshape(int x, std::vector<int32_t> shape);
  int Transpose(int x, std::vector<int32_t> permutation);
  // Over the last dimension, to unit Euclidean norm, quantized as TFLite requires.
  int L2Normalize(int x);
  // Softmax over the last dimension of any shape; and the logistic function, both on [0, 1].
  int Softmax(int x);
  int Logistic(int x);
  // TFLite_Detection_PostProcess over boxes [1, N, 4], scores [1, N, classes] after an optional
  // background column, and anchors [N, 4] (ycenter, xcenter, h, w); int8 inputs are dequantized
  // first, as TensorFlow Lite 2.9 takes only uint8 and float32. Returns the four float32 outputs
  // (boxes, classes, scores, count).
  std::vector<int> DetectionPostProcess(int boxes, int scores, const std::vector<float>& anchors,
                                        int num_classes, int max_detections, BoxScales scales = {});

  // The standard classifier head: global average pool, 1x1 convolution (or fully connected
  // layer) to `classes` logits, softmax. Returns [1, classes].
  int ClassifierHead(int x, int classes, bool conv_logits);

  const std::vector<int32_t>& shape(int tensor) const { return builder_.shape(tensor); }
  int channels(int tensor) const { return shape(tensor).back(); }

  // Marks graph outputs and serializes.
  std::vector<uint8_t> Finish(const std::vector<int>& outputs, const std::string& description);

 private:
  // The unquantized operators after a network build on the same model and names.
  friend class PostProcessing;
  // A name for a new tensor of `kind`, unique in the model.
  std::string Name(const std::string& kind);

  DataType activation_type() const;
  Quantization RangeQuantization(Range range) const;
  // The real values quantized tensor `x` can hold.
  Range RangeHeld(int x) const;
  Quantization OutputQuantization(Activation activation) const;
  // The quantization of a layer's own output: that of its activation when TFLite fuses it.
  Quantization LayerQuantization(Activation activation) const;
  // Appends the operators of an activation TFLite does not fuse; `x` when it does.
  int Unfused(int x, Activation activation);
  // Appends the operators of any activation (none for kNone).
  int ActivationOperator(int x, Activation activation);
  int Binary(tfl::BuiltinOperator op, int a, int b, const Quantization& quantization,
             Activation fused);
  Quantization ProbabilityQuantization() const;
  // Weights of `shape` with `fan_in` inputs per output; per-channel along `axis` for int8.
  int Weights(const std::string& name, std::vector<int32_t> shape, int fan_in, int axis);
  // Bias of `channels` values; quantized with scale input_scale * weight_scale[channel].
  int Bias(const std::string& name, int input, int weights, int channels);
  int Pool(tfl::BuiltinOperator op, int x, int kernel_h, int kernel_w, int stride, Padding padding);
  // The output tensors `name`/0, `name`/1, ... of a split of `x` into parts of `sizes` along
  // `axis` (non-negative).
  std::vector<int> SplitParts(const std::string& name, int x, int axis,
                              const std::vector<int32_t>& sizes);

  Precision precision_;
  uint64_t rng_state_;
  int layer_count_ = 0;
  std::vector<int> inputs_;
  ModelBuilder builder_;

  uint64_t NextRandom();
  double Uniform();  // in [-1, 1)
};

// An operator's options as the builder takes them.
template <typename Options>
tfl::BuiltinOptionsUnion OptionsUnion(Options options) {
  tfl::BuiltinOptionsUnion u;
  u.Set(std::move(options));
  return u;
}

// The channel rounding of the MobileNet and EfficientNet builders: `value` to the nearest
// multiple of `divisor`, at least `divisor` and never below 90% of `value`.
int MakeDivisible(double value, int divisor = 8);

// Numpy's broadcasting of two shapes.
std::vector<int32_t> BroadcastShape(std::vector<int32_t> a, std::vector<int32_t> b);

// Output size of a window operation along one spatial dimension, as TFLite computes it.
int OutputSize(int input, int kernel, int stride, Padding padding);

// The description the zoo writes into a model: the architecture, its width multiplier when it
// has one, the resolution, and that the weights are synthetic.
std::string ZooDescription(const std::string& architecture, double width, bool has_width,
                           int resolution);

}  // namespace tpufleet::zoo
