#include "model/zoo/post_processing.h"

namespace tpufleet::zoo {
namespace {

using Op = tfl::BuiltinOperator;

const char* KindOf(Op op) {
  switch (op) {
    case Op::ADD: return "add";
    case Op::SUB: return "sub";
    case Op::MUL: return "mul";
    case Op::DIV: return "div";
    case Op::FLOOR_DIV: return "floor_div";
    case Op::FLOOR_MOD: return "floor_mod";
    default: return "binary";
  }
}

tfl::BuiltinOptionsUnion BinaryOptions(Op op) {
  switch (op) {
    case Op::ADD: return OptionsUnion(tfl::AddOptionsT{});
    case Op::SUB: return OptionsUnion(tfl::SubOptionsT{});
    case Op::MUL: return OptionsUnion(tfl::MulOptionsT{});
    case Op::DIV: return OptionsUnion(tfl::DivOptionsT{});
    default: return {};  // FLOOR_DIV and FLOOR_MOD have none
  }
}

}  // namespace

int PostProcessing::Dequantize(int x) {
  if (builder_.type(x) == DataType::kFloat32) return x;
  int out = builder_.AddTensor(net_.Name("dequantize"), DataType::kFloat32, builder_.shape(x));
  builder_.AddOperator(Op::DEQUANTIZE, {x}, {out});
  return out;
}

int PostProcessing::FloatConstant(const std::string& name, std::vector<int32_t> shape,
                                  std::vector<float> values) {
  return builder_.AddConstant(net_.Name(name), DataType::kFloat32, std::move(shape), values);
}

int PostProcessing::IntConstant(const std::string& name, std::vector<int32_t> shape,
                                std::vector<int32_t> values) {
  return builder_.AddConstant(net_.Name(name), DataType::kInt32, std::move(shape), values);
}

int PostProcessing::Binary(Op op, int a, int b) {
  int out = builder_.AddTensor(net_.Name(KindOf(op)), builder_.type(a),
                               BroadcastShape(builder_.shape(a), builder_.shape(b)));
  builder_.AddOperator(op, {a, b}, {out}, BinaryOptions(op));
  return out;
}

int PostProcessing::Sqrt(int x) {
  int out = builder_.AddTensor(net_.Name("sqrt"), builder_.type(x), builder_.shape(x));
  builder_.AddOperator(Op::SQRT, {x}, {out});
  return out;
}

int PostProcessing::ArgMax(int x, int axis) {
  std::vector<int32_t> shape = builder_.shape(x);
  if (axis < 0) axis += static_cast<int>(shape.size());
  shape.erase(shape.begin() + axis);
  std::string name = net_.Name("arg_max");
  int axis_tensor = IntConstant(name + "/axis", {1}, {axis});
  int out = builder_.AddTensor(name, DataType::kInt32, shape);
  tfl::ArgMaxOptionsT options;
  options.output_type = tfl::TensorType::INT32;
  builder_.AddOperator(Op::ARG_MAX, {x, axis_tensor}, {out}, OptionsUnion(std::move(options)));
  return out;
}

int PostProcessing::Cast(int x, DataType type) {
  int out = builder_.AddTensor(net_.Name("cast"), type, builder_.shape(x));
  builder_.AddOperator(Op::CAST, {x}, {out});
  return out;
}

int PostProcessing::GatherNd(int params, int indices) {
  const std::vector<int32_t>& p = builder_.shape(params);
  std::vector<int32_t> shape = builder_.shape(indices);
  const size_t depth = static_cast<size_t>(shape.back());
  shape.pop_back();
  shape.insert(shape.end(), p.begin() + static_cast<std::ptrdiff_t>(depth), p.end());
  int out = builder_.AddTensor(net_.Name("gather_nd"), builder_.type(params), shape);
  builder_.AddOperator(Op::GATHER_ND, {params, indices}, {out});
  return out;
}

int PostProcessing::Pack(const std::vector<int>& xs, int axis) {
  std::vector<int32_t> shape = builder_.shape(xs[0]);
  if (axis < 0) axis += static_cast<int>(shape.size()) + 1;
  shape.insert(shape.begin() + axis, static_cast<int32_t>(xs.size()));
  int out = builder_.AddTensor(net_.Name("pack"), builder_.type(xs[0]), shape);
  tfl::PackOptionsT options;
  options.values_count = static_cast<int32_t>(xs.size());
  options.axis = axis;
  builder_.AddOperator(Op::PACK, xs, {out}, OptionsUnion(std::move(options)));
  return out;
}

std::vector<int> PostProcessing::Unpack(int x, int axis) {
  std::vector<int32_t> shape = builder_.shape(x);
  if (axis < 0) axis += static_cast<int>(shape.size());
  const int count = shape[axis];
  shape.erase(shape.begin() + axis);
  std::string name = net_.Name("unpack");
  std::vector<int> parts;
  for (int i = 0; i < count; ++i) {
    parts.push_back(builder_.AddTensor(name + "/" + std::to_string(i), builder_.type(x), shape));
  }
  tfl::UnpackOptionsT options;
  options.num = count;
  options.axis = axis;
  builder_.AddOperator(Op::UNPACK, {x}, parts, OptionsUnion(std::move(options)));
  return parts;
}

}  // namespace tpufleet::zoo
