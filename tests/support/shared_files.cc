#include "support/shared_files.h"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace tpufleet::testing {

std::vector<std::string> AllSharedModels() {
  std::vector<std::string> models;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(SharedDir() / "models", error)) {
    if (entry.path().extension() == ".tflite") models.push_back(entry.path().string());
  }
  std::sort(models.begin(), models.end());
  return models;
}

std::vector<uint8_t> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace tpufleet::testing
