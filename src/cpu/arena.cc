#include "cpu/arena.h"

#include <algorithm>
#include <numeric>

namespace tpufleet::cpu {

ArenaPlan PlanArena(const std::vector<Allocation>& allocations) {
  auto aligned = [](size_t n) {
    return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  };
  std::vector<size_t> order(allocations.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return allocations[a].bytes > allocations[b].bytes; });
  ArenaPlan plan;
  plan.offsets.assign(allocations.size(), 0);
  std::vector<size_t> placed;
  for (size_t i : order) {
    const Allocation& a = allocations[i];
    // Occupied ranges of placed tensors alive at the same time, sorted by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t j : placed) {
      const Allocation& b = allocations[j];
      if (a.first_use <= b.last_use && b.first_use <= a.last_use) {
        busy.push_back({plan.offsets[j], plan.offsets[j] + aligned(b.bytes)});
      }
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (auto [start, end] : busy) {
      if (offset + aligned(a.bytes) <= start) break;
      offset = std::max(offset, end);
    }
    plan.offsets[i] = offset;
    plan.size = std::max(plan.size, offset + aligned(a.bytes));
    placed.push_back(i);
  }
  return plan;
}

}  // namespace tpufleet::cpu
