// ArmNN (Debian's 20.08 TFLite parser with the CpuRef backend) as an independent implementation
// for tests: runs a .tflite file on given input bytes and returns each output's raw bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tpufleet/status.h"

namespace tpufleet::testing {

// Inputs and outputs in the model's order; bytes as TFLite lays them out.
Result<std::vector<std::vector<uint8_t>>> RunWithArmNN(
    const std::string& model_path, const std::vector<std::vector<uint8_t>>& inputs);

}  // namespace tpufleet::testing
