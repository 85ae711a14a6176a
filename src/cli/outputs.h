// A model's raw output tensors as JSON, for programs (task_output.h says what they mean).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tpufleet/fleet.h"
#include "tpufleet/model.h"

namespace tpufleet::cli {

// Every output tensor: name, type, shape, quantization and raw values.
nlohmann::json RawOutputs(const Model& model, const TensorList& outputs);

}  // namespace tpufleet::cli
