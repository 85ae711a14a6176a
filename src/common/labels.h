// Label files: one label per line ("cat"), or Coral's "<id> <label>" / "<id>: <label>" lines.
#pragma once

#include <map>
#include <string>

#include "tpufleet/status.h"

namespace tpufleet {

class Labels {
 public:
  static Result<Labels> Load(const std::string& path);
  // The label of class `id`, or "class <id>" when the file has none.
  std::string Name(int id) const;
  size_t size() const { return names_.size(); }

 private:
  std::map<int, std::string> names_;
};

}  // namespace tpufleet
