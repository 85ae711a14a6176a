#include "cpu/arena.h"

#include <gtest/gtest.h>

#include <random>

namespace tpufleet::cpu {
namespace {

bool Overlap(size_t a0, size_t a1, size_t b0, size_t b1) { return a0 < b1 && b0 < a1; }

void ExpectValid(const std::vector<Allocation>& allocations, const ArenaPlan& plan) {
  ASSERT_EQ(plan.offsets.size(), allocations.size());
  for (size_t i = 0; i < allocations.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % kArenaAlignment, 0u);
    EXPECT_LE(plan.offsets[i] + allocations[i].bytes, plan.size);
    for (size_t j = i + 1; j < allocations.size(); ++j) {
      const Allocation& a = allocations[i];
      const Allocation& b = allocations[j];
      bool alive_together = a.first_use <= b.last_use && b.first_use <= a.last_use;
      if (alive_together && a.bytes && b.bytes) {
        EXPECT_FALSE(Overlap(plan.offsets[i], plan.offsets[i] + a.bytes, plan.offsets[j],
                             plan.offsets[j] + b.bytes))
            << "allocations " << i << " and " << j << " share bytes while both alive";
      }
    }
  }
}

TEST(ArenaTest, ChainReusesMemory) {
  // a -> op0 -> b -> op1 -> c -> op2 -> d: a and c can share, b and d can share.
  std::vector<Allocation> chain = {{1000, 0, 0}, {1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}};
  ArenaPlan plan = PlanArena(chain);
  ExpectValid(chain, plan);
  EXPECT_EQ(plan.size, 2 * 1024u);
}

TEST(ArenaTest, RandomLifetimesNeverCollide) {
  std::mt19937 random(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Allocation> allocations;
    int n = 1 + random() % 40;
    for (int i = 0; i < n; ++i) {
      int first = random() % 30;
      allocations.push_back(
          {static_cast<size_t>(random() % 5000), first, first + static_cast<int>(random() % 6)});
    }
    ExpectValid(allocations, PlanArena(allocations));
  }
}

}  // namespace
}  // namespace tpufleet::cpu
