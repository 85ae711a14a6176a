// The uncompiled model a compiled one stands for, so the CPU can compute what the Edge TPU would
// (a simulated Edge TPU does): for "x_edgetpu.tflite" its twin "x.tflite", for a segment of a
// pipelined segment set the part of the full model between the segment's inputs and outputs.
#pragma once

#include <string>
#include <vector>

#include "tpufleet/model.h"
#include "tpufleet/status.h"

namespace tpufleet {

// The full models that may stand for `compiled`, in the order UncompiledSource tries them:
// `named` (a folder among them stands for the uncompiled .tflite files in it, sorted), then the
// twin (UncompiledTwinPath), then for a segment "X_segment_K_of_N_edgetpu.tflite"
// X.tflite and every other uncompiled X*.tflite beside it (sorted), then the same in the parent
// folder. Only files that exist.
std::vector<std::string> SourceCandidates(const std::string& compiled_path,
                                          const std::vector<std::string>& named = {});

// What computes `compiled` on the CPU: `compiled` itself when it is not compiled; else, from the
// first candidate that matches, the part between the tensors named as the compiled model's inputs
// and outputs (matched by base name, see model/submodel.h, each with the same element type,
// quantization and, where both are known, shape). That is the candidate itself when they are its
// own inputs and outputs. NOT_FOUND when there is no candidate; FAILED_PRECONDITION when none
// matches, naming each candidate and its first mismatch.
Result<ModelPtr> UncompiledSource(const ModelPtr& compiled,
                                  const std::vector<std::string>& named = {});

}  // namespace tpufleet
