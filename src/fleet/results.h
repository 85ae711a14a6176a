// What a model's raw output tensors mean: the top classes of a classifier, or the boxes of an
// SSD-style detector (one ending in TFLite_Detection_PostProcess).
#pragma once

#include <array>
#include <vector>

#include "cpu/tensor.h"
#include "tpufleet/fleet.h"
#include "tpufleet/model.h"

namespace tpufleet {

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
// The k best classes of output 0, best first. `outputs` holds the model's outputs, in order.
std::vector<Classification> TopClasses(const Model& model, const TensorList& outputs, int k);
// Up to k detections scoring at least `threshold`, best first. `model` must be a detector
// (IsDetector); outputs shorter than the detection count claims are read as far as they go.
std::vector<Detection> Detections(const Model& model, const TensorList& outputs, int k,
                                  float threshold);
// The CPU backend's view of output `i`'s bytes (not a copy: valid while `outputs` is). Outputs
// whose shape the file leaves open (detection post-processing) are seen flat, as many elements
// as arrived.
cpu::Tensor OutputView(const Model& model, const TensorList& outputs, size_t i);
// The real values of output `i` (dequantized when quantized), as many as its bytes hold.
std::vector<float> RealValues(const Model& model, const TensorList& outputs, size_t i);

}  // namespace tpufleet
