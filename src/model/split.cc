#include "model/split.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "model/submodel.h"

namespace tpufleet {
namespace {

// Parameter bytes each operator reads (a constant read by several counts for the first).
std::vector<uint64_t> OperatorParameters(const Model& model) {
  std::vector<uint64_t> bytes;
  std::set<int> counted;
  for (const OperatorInfo& op : model.operators()) {
    uint64_t sum = 0;
    for (int t : op.inputs) {
      if (t >= 0 && model.tensors()[t].is_constant && counted.insert(t).second) {
        sum += model.tensors()[t].byte_size;
      }
    }
    bytes.push_back(sum);
  }
  return bytes;
}

// Where each of `segments` runs of `weights` starts, so no run weighs more than `cap`; empty
// when that needs more runs. Each run has at least one operator.
std::vector<int> CutsUnder(const std::vector<uint64_t>& weights, int segments, uint64_t cap) {
  std::vector<int> starts = {0};
  uint64_t run = 0;
  int n = static_cast<int>(weights.size());
  for (int k = 0; k < n; ++k) {
    int runs_left = segments - static_cast<int>(starts.size());
    bool must_cut = n - k == runs_left;  // one operator left for each run still to start
    if (k > starts.back() && (run + weights[k] > cap || must_cut) && runs_left > 0) {
      starts.push_back(k);
      run = 0;
    }
    run += weights[k];
    if (run > cap) return {};
  }
  return static_cast<int>(starts.size()) == segments ? starts : std::vector<int>{};
}

}  // namespace

Result<std::vector<ModelSegment>> SplitModel(const Model& model, int segments,
                                             const std::string& name_stem) {
  if (model.is_edgetpu_compiled()) {
    return InvalidArgumentError(fmt::format(
        "{}: a model compiled for the Edge TPU cannot be cut; cut its uncompiled twin and compile "
        "the segments (edgetpu_compiler --num_segments cuts and compiles in one step)",
        model.name()));
  }
  int n = static_cast<int>(model.operators().size());
  if (segments < 1 || segments > n) {
    return InvalidArgumentError(
        fmt::format("{}: cannot cut {} operators into {} segments: give 1 to {}", model.name(), n,
                    segments, n));
  }
  std::vector<uint64_t> weights = OperatorParameters(model);
  uint64_t low = *std::max_element(weights.begin(), weights.end()), high = 0;
  for (uint64_t w : weights) high += w;
  while (low < high) {  // the smallest cap that `segments` runs can keep
    uint64_t mid = low + (high - low) / 2;
    if (CutsUnder(weights, segments, mid).empty()) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  std::vector<int> starts = CutsUnder(weights, segments, low);
  starts.push_back(n);

  std::vector<int> segment_of(model.tensors().size(), -1);  // the segment computing a tensor
  for (int s = 0; s < segments; ++s) {
    for (int k = starts[s]; k < starts[s + 1]; ++k) {
      for (int t : model.operators()[k].outputs) {
        if (t >= 0) segment_of[t] = s;
      }
    }
  }
  for (int t : model.output_indices()) {
    if (segment_of[t] >= 0 && segment_of[t] < segments - 1) {
      return InvalidArgumentError(fmt::format(
          "{}: output '{}' is computed in segment {}, before the last; a pipeline gives the last "
          "segment's outputs only: cut into fewer segments",
          model.name(), model.tensors()[t].name, segment_of[t]));
    }
  }
  // The last segment reading each tensor.
  std::vector<int> last_reader(model.tensors().size(), -1);
  for (int s = 0; s < segments; ++s) {
    for (int k = starts[s]; k < starts[s + 1]; ++k) {
      for (int t : model.operators()[k].inputs) {
        if (t >= 0) last_reader[t] = std::max(last_reader[t], s);
      }
    }
  }
  std::vector<ModelSegment> out;
  for (int s = 0; s < segments; ++s) {
    std::vector<int> inputs = s == 0 ? model.input_indices() : std::vector<int>{};
    std::set<int> read;
    for (int k = starts[s]; k < starts[s + 1]; ++k) {
      for (int t : model.operators()[k].inputs) {
        if (t < 0 || segment_of[t] == s) continue;
        const TensorInfo& tensor = model.tensors()[t];
        if (!tensor.is_constant && !tensor.is_variable) read.insert(t);
      }
    }
    for (int t : read) {
      if (std::find(inputs.begin(), inputs.end(), t) == inputs.end()) inputs.push_back(t);
    }
    std::vector<int> outputs;
    if (s == segments - 1) {
      outputs = model.output_indices();
    } else {
      for (size_t t = 0; t < segment_of.size(); ++t) {
        if (segment_of[t] == s && last_reader[t] > s) outputs.push_back(static_cast<int>(t));
      }
    }
    ModelSegment segment;
    std::string name = fmt::format("{}_segment_{}_of_{}", name_stem, s, segments);
    TPUFLEET_ASSIGN_OR_RETURN(segment.model, ExtractSubmodel(model, inputs, outputs, name));
    segment.first_operator = starts[s];
    segment.end_operator = starts[s + 1];
    for (int k = starts[s]; k < starts[s + 1]; ++k) segment.parameter_bytes += weights[k];
    out.push_back(std::move(segment));
  }
  return out;
}

}  // namespace tpufleet
