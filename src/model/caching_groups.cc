#include "model/caching_groups.h"

#include <algorithm>

namespace tpufleet {

std::vector<CachingGroup> GroupByCachingToken(std::span<const ModelPtr> models) {
  std::vector<CachingGroup> groups;
  for (size_t m = 0; m < models.size(); ++m) {
    for (const EdgeTpuPackage& package : models[m]->edgetpu_packages()) {
      uint64_t token = package.caching_token();
      if (token == 0) continue;
      auto group = std::find_if(groups.begin(), groups.end(),
                                [&](const CachingGroup& g) { return g.token == token; });
      if (group == groups.end()) {
        groups.push_back({token, {m}});
      } else if (group->members.back() != m) {
        group->members.push_back(m);
      }
    }
  }
  return groups;
}

}  // namespace tpufleet
