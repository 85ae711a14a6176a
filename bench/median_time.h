// The benchmarks' one timing rule: the median of repeated runs within a time budget.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace tpufleet::bench {

// Median milliseconds of `run` over at least 5 runs and about `budget` seconds (after 2
// warm-ups), at most `max_runs` runs; -1 when a run fails.
inline double MedianMs(const std::function<bool()>& run, double budget, size_t max_runs = 200) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < 2; ++i) run();
  std::vector<double> times;
  Clock::time_point start = Clock::now();
  while (times.size() < 5 ||
         (std::chrono::duration<double>(Clock::now() - start).count() < budget &&
          times.size() < max_runs)) {
    Clock::time_point before = Clock::now();
    if (!run()) return -1;
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - before).count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

}  // namespace tpufleet::bench
