#include "devices/sysfs_reader.h"

#include <fmt/format.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace tpufleet {

bool SysfsReader::Exists(const std::string& relative) const {
  std::error_code error;
  return std::filesystem::exists(Resolve(relative), error);
}

std::optional<std::string> SysfsReader::Text(const std::string& relative, bool required) {
  std::ifstream in(Resolve(relative));
  if (!in) {
    if (required) AddProblem(fmt::format("{}: missing or unreadable", Resolve(relative).string()));
    return std::nullopt;
  }
  std::stringstream contents;
  contents << in.rdbuf();
  std::string text = contents.str();
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return std::string();
  size_t last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::optional<int64_t> SysfsReader::Integer(const std::string& relative, int base, bool required) {
  std::optional<std::string> text = Text(relative, required);
  if (!text) return std::nullopt;
  std::string digits = *text;
  if (base == 16 && digits.starts_with("0x")) digits = digits.substr(2);
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(digits.c_str(), &end, base);
  if (digits.empty() || errno != 0 || end == nullptr || *end != '\0') {
    AddProblem(fmt::format("{}: '{}' is not a {} number", Resolve(relative).string(), *text,
                           base == 16 ? "hexadecimal" : "decimal"));
    return std::nullopt;
  }
  return value;
}

std::vector<std::string> SysfsReader::List(const std::string& relative) const {
  std::vector<std::string> names;
  std::error_code error;
  for (std::filesystem::directory_iterator it(Resolve(relative), error), end; !error && it != end;
       it.increment(error)) {
    names.push_back(it->path().filename().string());
  }
  return names;
}

}  // namespace tpufleet
