// The small model the daemon's request fuzzers decode against: inputs "a" UINT8 [1, 4] and
// "b" FP32 [2], outputs "a_flat" UINT8 [4] and "b_same" FP32 [2] (the inputs' own bytes).
#pragma once

#include <vector>

#include "model/builder.h"

namespace tpufleet::fuzz {

inline ModelPtr TwoInputModel() {
  ModelBuilder b;
  int a = b.AddTensor("a", DataType::kUInt8, {1, 4});
  int b_in = b.AddTensor("b", DataType::kFloat32, {2});
  int four = b.AddConstant("four", DataType::kInt32, {1}, std::vector<int32_t>{4});
  int two = b.AddConstant("two", DataType::kInt32, {1}, std::vector<int32_t>{2});
  int a_out = b.AddTensor("a_flat", DataType::kUInt8, {4});
  int b_out = b.AddTensor("b_same", DataType::kFloat32, {2});
  b.AddOperator(tfl::BuiltinOperator::RESHAPE, {a, four}, {a_out});
  b.AddOperator(tfl::BuiltinOperator::RESHAPE, {b_in, two}, {b_out});
  b.SetInputs({a, b_in});
  b.SetOutputs({a_out, b_out});
  return Model::FromBuffer(b.Finish(), "fuzz").value();
}

}  // namespace tpufleet::fuzz
