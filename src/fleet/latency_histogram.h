// Latencies in logarithmic buckets (2% wide, 1 microsecond to about 17 minutes): constant memory
// however many requests, percentiles within 1% of the exact value.
#pragma once

#include <array>
#include <cstdint>

namespace tpufleet::fleet {

class LatencyHistogram {
 public:
  void Record(double seconds);
  // The p-th quantile (0 < p <= 1) in seconds; 0 when nothing was recorded.
  double Quantile(double p) const;
  uint64_t count() const { return count_; }
  double sum_seconds() const { return sum_seconds_; }

 private:
  static constexpr int kBuckets = 1050;
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  double sum_seconds_ = 0;
};

}  // namespace tpufleet::fleet
