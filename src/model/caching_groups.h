// Which models share an Edge TPU parameter-caching token, i.e. were co-compiled
// together and can take turns on one device without reloading parameters.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tpufleet/model.h"

namespace tpufleet {

struct CachingGroup {
  uint64_t token = 0;
  std::vector<size_t> members;  // indices into the models given, ascending
};

// One group per distinct non-zero token, in order of first appearance. A model
// with several Edge TPU packages (pipeline segments) may appear in several
// groups.
std::vector<CachingGroup> GroupByCachingToken(std::span<const ModelPtr> models);

}  // namespace tpufleet
