// ArmNN (Debian's 20.08 TFLite parser with the CpuRef backend) as an independent implementation
// for tests and benchmarks: loads a .tflite once, then runs it on input bytes laid out as TFLite
// lays them out, returning each output's raw bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tpufleet/status.h"

namespace tpufleet::testing {

class ArmNNReference {
 public:
  static Result<std::unique_ptr<ArmNNReference>> Create(const std::string& model_path);
  ~ArmNNReference();
  // Inputs and outputs in the model's order.
  Result<std::vector<std::vector<uint8_t>>> Run(const std::vector<std::vector<uint8_t>>& inputs);

 private:
  struct State;
  explicit ArmNNReference(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Create and Run in one call.
Result<std::vector<std::vector<uint8_t>>> RunWithArmNN(
    const std::string& model_path, const std::vector<std::vector<uint8_t>>& inputs);

}  // namespace tpufleet::testing
