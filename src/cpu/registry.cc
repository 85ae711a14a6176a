#include "cpu/registry.h"

#include <algorithm>
#include <map>

#include "cpu/kernels/kernels.h"
#include "model/schema.h"

namespace tpufleet::cpu {
namespace {

using Op = tfl::BuiltinOperator;

const std::map<Op, KernelFactory>& Builtins() {
  static const std::map<Op, KernelFactory> kBuiltins = {
      {Op::CONV_2D, MakeConv2D},
      {Op::DEPTHWISE_CONV_2D, MakeDepthwiseConv2D},
      {Op::FULLY_CONNECTED, MakeFullyConnected},
      {Op::UNIDIRECTIONAL_SEQUENCE_LSTM, MakeUnidirectionalSequenceLstm},
      {Op::ADD, MakeAdd},
      {Op::SUB, MakeSub},
      {Op::MUL, MakeMul},
      {Op::AVERAGE_POOL_2D, MakeAveragePool2D},
      {Op::MAX_POOL_2D, MakeMaxPool2D},
      {Op::MEAN, MakeMean},
      {Op::RESHAPE, MakeReshape},
      {Op::SQUEEZE, MakeReshape},
      {Op::EXPAND_DIMS, MakeReshape},
      {Op::SOFTMAX, MakeSoftmax},
      {Op::LOGISTIC, MakeLogistic},
      {Op::TANH, MakeTanh},
      {Op::RELU, MakeRelu},
      {Op::RELU6, MakeRelu6},
      {Op::HARD_SWISH, MakeHardSwish},
      {Op::CONCATENATION, MakeConcatenation},
      {Op::PAD, MakePad},
      {Op::PADV2, MakePad},
      {Op::QUANTIZE, MakeQuantize},
      {Op::DEQUANTIZE, MakeDequantize},
      {Op::RESIZE_BILINEAR, MakeResizeBilinear},
      {Op::RESIZE_NEAREST_NEIGHBOR, MakeResizeNearestNeighbor},
      {Op::ARG_MAX, MakeArgMax},
      {Op::STRIDED_SLICE, MakeStridedSlice},
      {Op::TRANSPOSE, MakeTranspose},
      {Op::CAST, MakeCast},
      {Op::DIV, MakeDiv},
      {Op::FLOOR_DIV, MakeFloorDiv},
      {Op::FLOOR_MOD, MakeFloorMod},
      {Op::MAXIMUM, MakeMaximum},
      {Op::MINIMUM, MakeMinimum},
      {Op::SQUARED_DIFFERENCE, MakeSquaredDifference},
      {Op::SQRT, MakeSqrt},
      {Op::RSQRT, MakeRsqrt},
      {Op::EXP, MakeExp},
      {Op::LOG_SOFTMAX, MakeLogSoftmax},
      {Op::L2_NORMALIZATION, MakeL2Normalization},
      {Op::LEAKY_RELU, MakeLeakyRelu},
      {Op::PRELU, MakePrelu},
      {Op::EQUAL, MakeEqual},
      {Op::NOT_EQUAL, MakeNotEqual},
      {Op::LESS, MakeLess},
      {Op::LESS_EQUAL, MakeLessEqual},
      {Op::GREATER, MakeGreater},
      {Op::GREATER_EQUAL, MakeGreaterEqual},
      {Op::SELECT, MakeSelect},
      {Op::SELECT_V2, MakeSelectV2},
      {Op::SUM, MakeSum},
      {Op::REDUCE_MAX, MakeReduceMax},
      {Op::GATHER, MakeGather},
      {Op::GATHER_ND, MakeGatherNd},
      {Op::SLICE, MakeSlice},
      {Op::TILE, MakeTile},
      {Op::SPLIT, MakeSplit},
      {Op::SPLIT_V, MakeSplitV},
      {Op::PACK, MakePack},
      {Op::UNPACK, MakeUnpack},
      {Op::SPACE_TO_BATCH_ND, MakeSpaceToBatchNd},
      {Op::BATCH_TO_SPACE_ND, MakeBatchToSpaceNd},
      {Op::DEPTH_TO_SPACE, MakeDepthToSpace},
      {Op::TRANSPOSE_CONV, MakeTransposeConv},
  };
  return kBuiltins;
}

const std::map<std::string, KernelFactory>& Customs() {
  static const std::map<std::string, KernelFactory> kCustoms = {
      {"TFLite_Detection_PostProcess", MakeDetectionPostProcess},
      {"PosenetDecoderOp", MakePosenetDecoder},
  };
  return kCustoms;
}

}  // namespace

KernelFactory FindKernel(int32_t builtin_code, const std::string& custom_name) {
  if (builtin_code == static_cast<int32_t>(Op::CUSTOM)) {
    auto it = Customs().find(custom_name);
    return it == Customs().end() ? nullptr : it->second;
  }
  auto it = Builtins().find(static_cast<Op>(builtin_code));
  return it == Builtins().end() ? nullptr : it->second;
}

std::vector<std::string> SupportedOperators() {
  std::vector<std::string> names;
  for (const auto& [op, factory] : Builtins()) names.push_back(tfl::EnumNameBuiltinOperator(op));
  for (const auto& [name, factory] : Customs()) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace tpufleet::cpu
