// PostProcessing: the unquantized operators a model runs after its network, as converters write
// them after a DEQUANTIZE (MoveNet's decoding of its heatmaps, for one): arithmetic on float32
// and int32 tensors, arg max, gathers, casts, packing. Each returns its output tensor, typed as
// its inputs (or as stated) and without quantization; shapes broadcast as numpy's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/zoo/network.h"

namespace tpufleet::zoo {

class PostProcessing {
 public:
  explicit PostProcessing(Network& net) : net_(net), builder_(net.builder_) {}

  // float32 values of `x`: a DEQUANTIZE where it is quantized, `x` itself where it is not.
  int Dequantize(int x);
  int FloatConstant(const std::string& name, std::vector<int32_t> shape, std::vector<float> values);
  int IntConstant(const std::string& name, std::vector<int32_t> shape, std::vector<int32_t> values);

  // `op`, one of ADD, SUB, MUL, DIV, FLOOR_DIV and FLOOR_MOD, of two tensors of one type.
  int Binary(tfl::BuiltinOperator op, int a, int b);
  int Sqrt(int x);
  // The int32 index of the largest value along `axis`, which goes.
  int ArgMax(int x, int axis);
  int Cast(int x, DataType type);
  // The slices of `params` at the int32 index vectors of the last dimension of `indices`.
  int GatherNd(int params, int indices);
  // Tensors of one shape stacked along a new `axis`; and the reverse.
  int Pack(const std::vector<int>& xs, int axis);
  std::vector<int> Unpack(int x, int axis);

 private:
  Network& net_;
  ModelBuilder& builder_;
};

}  // namespace tpufleet::zoo
