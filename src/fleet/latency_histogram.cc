#include "fleet/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace tpufleet::fleet {
namespace {

constexpr double kSmallest = 1e-6;  // lower edge of bucket 0, seconds
constexpr double kGrowth = 1.02;    // each bucket's upper edge over its lower edge

}  // namespace

void LatencyHistogram::Record(double seconds) {
  int bucket = 0;
  if (seconds > kSmallest) {
    bucket = static_cast<int>(std::log(seconds / kSmallest) / std::log(kGrowth));
  }
  ++counts_[std::clamp(bucket, 0, kBuckets - 1)];
  ++count_;
  sum_seconds_ += seconds;
}

double LatencyHistogram::Quantile(double p) const {
  if (count_ == 0) return 0;
  uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(p * count_)));
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    // The bucket's geometric middle: within 1% of anything inside it.
    if (seen >= rank) return kSmallest * std::pow(kGrowth, b + 0.5);
  }
  return kSmallest * std::pow(kGrowth, kBuckets);
}

}  // namespace tpufleet::fleet
