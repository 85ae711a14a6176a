#include "common/labels.h"

#include <cctype>
#include <fstream>

namespace tpufleet {

Result<Labels> Labels::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError(path + ": cannot read the labels file");
  Labels labels;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    int id = line_number++;
    // "<id> <label>" or "<id>: <label>" when the line starts with a number and has a label after
    // it.
    size_t digits = 0;
    while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
    if (digits > 0 && digits <= 9 && digits < line.size() &&  // 9 digits fit an int
        (line[digits] == ' ' || line[digits] == ':' || line[digits] == '\t')) {
      size_t start = line.find_first_not_of(" :\t", digits);
      if (start != std::string::npos) {
        id = std::stoi(line.substr(0, digits));
        line = line.substr(start);
      }
    }
    labels.names_[id] = line;
  }
  return labels;
}

std::string Labels::Name(int id) const {
  auto it = names_.find(id);
  return it == names_.end() ? "class " + std::to_string(id) : it->second;
}

}  // namespace tpufleet
