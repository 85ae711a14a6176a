#include "fleet/dispatch_order.h"

#include <algorithm>
#include <tuple>

namespace tpufleet::fleet {

std::vector<size_t> DispatchOrder(const std::vector<DispatchCandidate>& candidates, int max_batch) {
  double fastest = 0;
  for (const DispatchCandidate& c : candidates) {
    if (c.service_seconds > 0 && (fastest == 0 || c.service_seconds < fastest)) {
      fastest = c.service_seconds;
    }
  }
  std::vector<std::tuple<bool, double, size_t>> keys;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const DispatchCandidate& c = candidates[i];
    bool resident = c.resident && c.waiting < static_cast<size_t>(max_batch);
    double service = c.service_seconds > 0 ? c.service_seconds : (fastest > 0 ? fastest : 1);
    keys.emplace_back(!resident, (c.waiting + 1) * service, i);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<size_t> order;
  for (const auto& key : keys) order.push_back(std::get<2>(key));
  return order;
}

}  // namespace tpufleet::fleet
