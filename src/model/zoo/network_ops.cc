// Network's element-wise, shape and post-processing operators: those without weights.
#include <flatbuffers/flexbuffers.h>

#include <algorithm>
#include <cmath>

#include "model/zoo/network.h"

namespace tpufleet::zoo {
namespace {

using Op = tfl::BuiltinOperator;

}  // namespace

int Network::Constant(const std::string& name, std::vector<int32_t> shape,
                      std::vector<float> values) {
  size_t count = 1;
  for (int32_t d : shape) count *= static_cast<size_t>(d);
  if (values.size() == 1) values.resize(count, values[0]);
  if (precision_ == Precision::kFloat32) {
    return builder_.AddConstant(Name(name), DataType::kFloat32, std::move(shape), values);
  }
  auto [low, high] = std::minmax_element(values.begin(), values.end());
  Quantization q = RangeQuantization({*low, *high});
  std::vector<uint8_t> raw(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    int64_t level = std::lround(values[i] / q.scales[0]) + q.zero_points[0];
    raw[i] = precision_ == Precision::kInt8
                 ? static_cast<uint8_t>(static_cast<int8_t>(std::clamp<int64_t>(level, -128, 127)))
                 : static_cast<uint8_t>(std::clamp<int64_t>(level, 0, 255));
  }
  return builder_.AddConstant(Name(name), activation_type(), std::move(shape), std::move(raw), q);
}

int Network::HardSigmoid(int x) {
  int shifted = Add(x, Constant("three", {1}, {3.0f}), Activation::kRelu6);
  return Mul(shifted, Constant("one_sixth", {1}, {1.0f / 6.0f}), {0.0f, 1.0f});
}

int Network::SqueezeExcite(int x, int squeeze) {
  int reduced = Conv(Mean(x), squeeze, 1, 1, Activation::kRelu);
  int gate = HardSigmoid(Conv(reduced, channels(x), 1, 1, Activation::kNone));
  // x scaled by [0, 1] keeps x's range.
  return Binary(Op::MUL, x, gate, builder_.quantization(x), Activation::kNone);
}

int Network::Mean(int x) {
  std::string name = Name("mean");
  int axes =
      builder_.AddConstant(name + "/axes", DataType::kInt32, {2}, std::vector<int32_t>{1, 2});
  std::vector<int32_t> out_shape = shape(x);
  out_shape[1] = out_shape[2] = 1;
  int out = builder_.AddTensor(name, activation_type(), out_shape, builder_.quantization(x));
  tfl::ReducerOptionsT options;
  options.keep_dims = true;
  builder_.AddOperator(Op::MEAN, {x, axes}, {out}, OptionsUnion(std::move(options)));
  return out;
}

int Network::Sum(int x, int axis, Range range) {
  std::string name = Name("sum");
  std::vector<int32_t> out_shape = shape(x);
  if (axis < 0) axis += static_cast<int>(out_shape.size());
  out_shape.erase(out_shape.begin() + axis);
  int axes =
      builder_.AddConstant(name + "/axes", DataType::kInt32, {1}, std::vector<int32_t>{axis});
  int out = builder_.AddTensor(name, activation_type(), out_shape, RangeQuantization(range));
  tfl::ReducerOptionsT options;
  builder_.AddOperator(Op::SUM, {x, axes}, {out}, OptionsUnion(std::move(options)));
  return out;
}

int Network::ResizeNearest(int x, int factor) {
  return ResizeNearest(x, shape(x)[1] * factor, shape(x)[2] * factor);
}

int Network::ResizeNearest(int x, int height, int width) {
  std::string name = Name("resize_nearest");
  std::vector<int32_t> out_shape = shape(x);
  out_shape[1] = height;
  out_shape[2] = width;
  int size = builder_.AddConstant(name + "/size", DataType::kInt32, {2},
                                  std::vector<int32_t>{out_shape[1], out_shape[2]});
  int out = builder_.AddTensor(name, activation_type(), out_shape, builder_.quantization(x));
  tfl::ResizeNearestNeighborOptionsT options;
  builder_.AddOperator(Op::RESIZE_NEAREST_NEIGHBOR, {x, size}, {out},
                       OptionsUnion(std::move(options)));
  return out;
}

int Network::Concat(const std::vector<int>& xs, int axis) {
  std::vector<int32_t> out_shape = shape(xs[0]);
  if (axis < 0) axis += static_cast<int>(out_shape.size());
  out_shape[axis] = 0;
  for (int x : xs) out_shape[axis] += shape(x)[axis];
  // TFLite's int8 concatenation needs every input quantized as the output, as the converter
  // arranges: inputs that differ are requantized to the union of the inputs' ranges.
  auto same = [](const Quantization& a, const Quantization& b) {
    return a.scales == b.scales && a.zero_points == b.zero_points;
  };
  Quantization q = builder_.quantization(xs[0]);
  std::vector<int> inputs = xs;
  if (!std::all_of(xs.begin(), xs.end(),
                   [&](int x) { return same(builder_.quantization(x), q); })) {
    Range joint = RangeHeld(xs[0]);
    for (int x : xs) {
      joint = {std::min(joint.low, RangeHeld(x).low), std::max(joint.high, RangeHeld(x).high)};
    }
    q = RangeQuantization(joint);
    for (int& x : inputs) {
      if (same(builder_.quantization(x), q)) continue;
      int requantized = builder_.AddTensor(Name("requantize"), activation_type(), shape(x), q);
      builder_.AddOperator(Op::QUANTIZE, {x}, {requantized});
      x = requantized;
    }
  }
  int out = builder_.AddTensor(Name("concat"), activation_type(), out_shape, q);
  tfl::ConcatenationOptionsT options;
  options.axis = axis;
  builder_.AddOperator(Op::CONCATENATION, inputs, {out}, OptionsUnion(std::move(options)));
  return out;
}

std::vector<int> Network::SplitParts(const std::string& name, int x, int axis,
                                     const std::vector<int32_t>& sizes) {
  std::vector<int32_t> part = shape(x);
  std::vector<int> parts;
  for (size_t i = 0; i < sizes.size(); ++i) {
    part[axis] = sizes[i];
    parts.push_back(builder_.AddTensor(name + "/" + std::to_string(i), builder_.type(x), part,
                                       builder_.quantization(x)));
  }
  return parts;
}

std::vector<int> Network::Split(int x, int axis, int count) {
  std::string name = Name("split");
  if (axis < 0) axis += static_cast<int>(shape(x).size());
  int axis_tensor =
      builder_.AddConstant(name + "/axis", DataType::kInt32, {}, std::vector<int32_t>{axis});
  std::vector<int> parts =
      SplitParts(name, x, axis, std::vector<int32_t>(count, shape(x)[axis] / count));
  tfl::SplitOptionsT options;
  options.num_splits = count;
  builder_.AddOperator(Op::SPLIT, {axis_tensor, x}, parts, OptionsUnion(std::move(options)));
  return parts;
}

std::vector<int> Network::SplitV(int x, int axis, const std::vector<int32_t>& sizes) {
  std::string name = Name("split_v");
  if (axis < 0) axis += static_cast<int>(shape(x).size());
  int sizes_tensor = builder_.AddConstant(name + "/sizes", DataType::kInt32,
                                          {static_cast<int32_t>(sizes.size())}, sizes);
  int axis_tensor =
      builder_.AddConstant(name + "/axis", DataType::kInt32, {}, std::vector<int32_t>{axis});
  std::vector<int> parts = SplitParts(name, x, axis, sizes);
  tfl::SplitVOptionsT options;
  options.num_splits = static_cast<int32_t>(sizes.size());
  builder_.AddOperator(Op::SPLIT_V, {x, sizes_tensor, axis_tensor}, parts,
                       OptionsUnion(std::move(options)));
  return parts;
}

int Network::Reshape(int x, std::vector<int32_t> new_shape) {
  std::string name = Name("reshape");
  int shape_tensor = builder_.AddConstant(name + "/shape", DataType::kInt32,
                                          {static_cast<int32_t>(new_shape.size())}, new_shape);
  int out = builder_.AddTensor(name, builder_.type(x), new_shape, builder_.quantization(x));
  tfl::ReshapeOptionsT options;
  options.new_shape = new_shape;
  builder_.AddOperator(Op::RESHAPE, {x, shape_tensor}, {out}, OptionsUnion(std::move(options)));
  return out;
}

int Network::Transpose(int x, std::vector<int32_t> permutation) {
  std::string name = Name("transpose");
  std::vector<int32_t> out_shape;
  for (int32_t p : permutation) out_shape.push_back(shape(x)[p]);
  int perm = builder_.AddConstant(name + "/perm", DataType::kInt32,
                                  {static_cast<int32_t>(permutation.size())}, permutation);
  int out = builder_.AddTensor(name, builder_.type(x), out_shape, builder_.quantization(x));
  builder_.AddOperator(Op::TRANSPOSE, {x, perm}, {out});
  return out;
}

int Network::Softmax(int x) {
  int out =
      builder_.AddTensor(Name("softmax"), activation_type(), shape(x), ProbabilityQuantization());
  tfl::SoftmaxOptionsT options;
  options.beta = 1.0f;
  builder_.AddOperator(Op::SOFTMAX, {x}, {out}, OptionsUnion(std::move(options)));
  return out;
}

int Network::L2Normalize(int x) {
  Quantization q;  // values in [-1, 1] in steps of 1/128
  if (precision_ != Precision::kFloat32) {
    q = {{1.0f / 128.0f}, {precision_ == Precision::kInt8 ? 0 : 128}, 0};
  }
  int out = builder_.AddTensor(Name("l2_normalize"), activation_type(), shape(x), q);
  builder_.AddOperator(Op::L2_NORMALIZATION, {x}, {out}, OptionsUnion(tfl::L2NormOptionsT{}));
  return out;
}

int Network::Logistic(int x) {
  int out =
      builder_.AddTensor(Name("logistic"), activation_type(), shape(x), ProbabilityQuantization());
  builder_.AddOperator(Op::LOGISTIC, {x}, {out});
  return out;
}

std::vector<int> Network::DetectionPostProcess(int boxes, int scores,
                                               const std::vector<float>& anchors, int num_classes,
                                               int max_detections, BoxScales scales) {
  std::string name = Name("detection_postprocess");
  if (precision_ == Precision::kInt8) {
    // TensorFlow Lite 2.9's operator decodes uint8 and float32 inputs only: an int8 model's go
    // through DEQUANTIZE, as the converter writes them.
    for (int* x : {&boxes, &scores}) {
      int dequantized = builder_.AddTensor(Name("dequantize"), DataType::kFloat32, shape(*x));
      builder_.AddOperator(Op::DEQUANTIZE, {*x}, {dequantized});
      *x = dequantized;
    }
  }
  int anchor_count = static_cast<int>(anchors.size() / 4);
  int anchor_tensor =
      builder_.AddConstant(name + "/anchors", DataType::kFloat32, {anchor_count, 4}, anchors);
  std::vector<int> outputs = {
      builder_.AddTensor(name + "/boxes", DataType::kFloat32, {1, max_detections, 4}),
      builder_.AddTensor(name + "/classes", DataType::kFloat32, {1, max_detections}),
      builder_.AddTensor(name + "/scores", DataType::kFloat32, {1, max_detections}),
      builder_.AddTensor(name + "/count", DataType::kFloat32, {1}),
  };
  flexbuffers::Builder options;
  options.Map([&] {
    options.Int("max_detections", max_detections);
    options.Int("max_classes_per_detection", 1);
    options.Int("detections_per_class", 100);
    options.Bool("use_regular_nms", false);
    options.Float("nms_score_threshold", 1e-8f);
    options.Float("nms_iou_threshold", 0.6f);
    options.Int("num_classes", num_classes);
    options.Float("y_scale", scales.y);
    options.Float("x_scale", scales.x);
    options.Float("h_scale", scales.h);
    options.Float("w_scale", scales.w);
  });
  options.Finish();
  builder_.AddCustomOperator("TFLite_Detection_PostProcess", {boxes, scores, anchor_tensor},
                             outputs, options.GetBuffer());
  return outputs;
}

}  // namespace tpufleet::zoo
