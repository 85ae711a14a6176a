// What a model's raw output tensors mean to a person: the top classes of a classifier, or the
// boxes of an SSD-style detector (one ending in TFLite_Detection_PostProcess), with labels.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/labels.h"
#include "tpufleet/fleet.h"
#include "tpufleet/model.h"

namespace tpufleet::cli {

struct Classification {
  int id = 0;
  float score = 0;
};

struct Detection {
  int id = 0;
  float score = 0;
  std::array<float, 4> box{};  // ymin, xmin, ymax, xmax, relative to the image
};

// Ends in TFLite_Detection_PostProcess: four outputs, boxes [1, N, 4] first.
bool IsDetector(const Model& model);
// The k best classes of output 0, best first.
std::vector<Classification> TopClasses(const Model& model, const TensorList& outputs, int k);
// Up to k detections scoring at least `threshold`, best first.
std::vector<Detection> Detections(const Model& model, const TensorList& outputs, int k,
                                  float threshold);

// Every output tensor: name, type, shape, quantization and raw values.
nlohmann::json RawOutputs(const Model& model, const TensorList& outputs);
// Coral's way of printing results: "Egyptian cat: 0.80078  (class 286)", or a detection block;
// `json` gets the same as "top" or "detections".
std::string DescribeResults(const Model& model, const TensorList& outputs, const Labels& labels,
                            int top, float threshold, nlohmann::json& json);

}  // namespace tpufleet::cli
