// Memory planning for intermediate tensors: every tensor lives from the operator that writes it
// (or the start, for graph inputs) to the last operator that reads it (or the end, for graph
// outputs). Tensors whose lifetimes do not overlap share bytes.
#pragma once

#include <cstddef>
#include <vector>

namespace tpufleet::cpu {

struct Allocation {
  size_t bytes = 0;
  int first_use = 0;  // operator index; inclusive
  int last_use = 0;   // inclusive
};

struct ArenaPlan {
  std::vector<size_t> offsets;  // one per allocation, aligned to kArenaAlignment
  size_t size = 0;              // peak bytes
};

inline constexpr size_t kArenaAlignment = 64;

// Greedy by size: the largest tensors are placed first, each at the lowest offset that does not
// overlap, in both time and space, any tensor already placed.
ArenaPlan PlanArena(const std::vector<Allocation>& allocations);

}  // namespace tpufleet::cpu
