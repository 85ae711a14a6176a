// Splitting a model into segments for a pipeline, balanced as the Edge TPU compiler balances
// them (edgetpu_compiler --num_segments): by parameter bytes, so that each segment's share of the
// parameters fits a device's on-chip memory where the whole model's would not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tpufleet/model.h"
#include "tpufleet/status.h"

namespace tpufleet {

struct ModelSegment {
  ModelPtr model;          // the segment as a model of its own (model/submodel.h)
  int first_operator = 0;  // its operators in the whole model: [first, end)
  int end_operator = 0;
  uint64_t parameter_bytes = 0;  // of its constant tensors
};

// `model`'s operators, in its order, cut into `segments` runs of consecutive operators whose
// largest parameter share is as small as it can be. Segment 0 takes the model's inputs; each
// segment's inputs are the tensors it reads that earlier ones compute, its outputs those that
// later ones read (the last segment's: the model's outputs). Segment k is named
// "`name_stem`_segment_k_of_N". INVALID_ARGUMENT for a model compiled for the Edge TPU (its
// uncompiled twin is cut, and each segment compiled), when `segments` is below 1 or above the
// number of operators, or when a model output is computed before the last segment (a pipeline
// gives the last segment's outputs only).
Result<std::vector<ModelSegment>> SplitModel(const Model& model, int segments,
                                             const std::string& name_stem);

}  // namespace tpufleet
