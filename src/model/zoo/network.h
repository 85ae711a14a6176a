// Network: layer-level construction of quantized or float models on top of ModelBuilder, with
// deterministic pseudo-random weights. The synthetic zoo's architectures are written with it.
//
// Layers return the index of their output tensor and take NHWC inputs. Convolution biases stand
// for folded batch normalisation, as in every deployed TFLite model. Quantization follows the
// chosen precision: uint8 per-tensor (Coral's classic models), int8 with per-channel weights
// (TF2 post-training quantization), or float32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/builder.h"

namespace tpufleet::zoo {

enum class Precision { kUInt8, kInt8, kFloat32 };
enum class Activation { kNone, kRelu, kRelu6 };
using Padding = tfl::Padding;

class Network {
 public:
  Network(Precision precision, uint64_t seed);

  // The image input [1, height, width, channels]; uint8/int8 images are scaled to [-1, 1].
  int Input(const std::string& name, int height, int width, int channels);

  int Conv(int x, int out_channels, int kernel_h, int kernel_w, int stride, Padding padding,
           Activation activation);
  int Conv(int x, int out_channels, int kernel, int stride, Activation activation,
           Padding padding = Padding::SAME) {
    return Conv(x, out_channels, kernel, kernel, stride, padding, activation);
  }
  int Depthwise(int x, int kernel, int stride, Activation activation, int multiplier = 1);
  int FullyConnected(int x, int out_features, Activation activation);
  int Add(int a, int b, Activation activation);
  int MaxPool(int x, int kernel, int stride, Padding padding);
  int AvgPool(int x, int kernel, int stride, Padding padding);
  // Average over the whole spatial extent: [1, H, W, C] -> [1, 1, 1, C].
  int GlobalAvgPool(int x);
  // Concatenation along `axis` (negative counts from the end; -1 is channels for NHWC).
  int Concat(const std::vector<int>& xs, int axis = -1);
  int Reshape(int x, std::vector<int32_t> shape);
  int Softmax(int x);
  int Logistic(int x);
  // TFLite_Detection_PostProcess over boxes [1, N, 4], scores [1, N, classes + 1] and anchors
  // [N, 4] (ycenter, xcenter, h, w). Returns the four float32 outputs.
  std::vector<int> DetectionPostProcess(int boxes, int scores, const std::vector<float>& anchors,
                                        int num_classes, int max_detections);

  // The standard classifier head: global average pool, 1x1 convolution (or fully connected
  // layer) to `classes` logits, softmax. Returns [1, classes].
  int ClassifierHead(int x, int classes, bool conv_logits);

  const std::vector<int32_t>& shape(int tensor) const { return builder_.shape(tensor); }
  int channels(int tensor) const { return shape(tensor).back(); }

  // Marks graph outputs and serializes.
  std::vector<uint8_t> Finish(const std::vector<int>& outputs, const std::string& description);

 private:
  DataType activation_type() const;
  Quantization OutputQuantization(Activation activation) const;
  Quantization ProbabilityQuantization() const;
  // Weights of `shape` with `fan_in` inputs per output; per-channel along `axis` for int8.
  int Weights(const std::string& name, std::vector<int32_t> shape, int fan_in, int axis);
  // Bias of `channels` values; quantized with scale input_scale * weight_scale[channel].
  int Bias(const std::string& name, int input, int weights, int channels);
  std::string Name(const std::string& kind);
  int Pool(tfl::BuiltinOperator op, int x, int kernel_h, int kernel_w, int stride, Padding padding);

  Precision precision_;
  uint64_t rng_state_;
  int layer_count_ = 0;
  std::vector<int> inputs_;
  ModelBuilder builder_;

  uint64_t NextRandom();
  double Uniform();  // in [-1, 1)
};

// Output size of a window operation along one spatial dimension, as TFLite computes it.
int OutputSize(int input, int kernel, int stride, Padding padding);

// The description the zoo writes into a model: the architecture, its width multiplier when it
// has one, the resolution, and that the weights are synthetic.
std::string ZooDescription(const std::string& architecture, double width, bool has_width,
                           int resolution);

}  // namespace tpufleet::zoo
