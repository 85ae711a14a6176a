// What a model's raw output tensors mean to a person, as text and JSON: the top classes of a
// classifier, or the boxes of an SSD-style detector (fleet/results.h), with labels.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/labels.h"
#include "fleet/results.h"
#include "tpufleet/fleet.h"
#include "tpufleet/model.h"

namespace tpufleet::cli {

// Every output tensor: name, type, shape, quantization and raw values.
nlohmann::json RawOutputs(const Model& model, const TensorList& outputs);
// Coral's way of printing results: "Egyptian cat: 0.80078  (class 286)", or a detection block;
// `json` gets the same as "top" or "detections".
std::string DescribeResults(const Model& model, const TensorList& outputs, const Labels& labels,
                            int top, float threshold, nlohmann::json& json);

}  // namespace tpufleet::cli
