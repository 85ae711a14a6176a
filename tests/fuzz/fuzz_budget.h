// Bounds for fuzz targets that run models: each input must take little time and memory, so a
// model that asks for more is skipped before anything runs (the limits themselves are tested
// elsewhere; see tests/cpu/hostile_ops_test.cc).
#pragma once

#include <cstdint>

#include "tpufleet/model.h"

namespace tpufleet::fuzz {

inline constexpr uint64_t kMaxArenaBytes = 16 << 20;
inline constexpr uint64_t kMaxMacs = 20'000'000;

// True when `model`'s operators together need at most kMaxMacs (summed without overflow).
inline bool WithinMacBudget(const Model& model) {
  uint64_t total = 0;
  for (const OperatorInfo& op : model.operators()) {
    total += op.macs;  // each at most 2^52: no overflow before the check
    if (total > kMaxMacs) return false;
  }
  return true;
}

}  // namespace tpufleet::fuzz
