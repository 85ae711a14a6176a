#include "common/text.h"

#include <fmt/format.h>

#include <cmath>

namespace tpufleet {

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  // Halves round away from zero, as the compiler prints them (566,912 B ->
  // 553.63KiB).
  return fmt::format("{:.2f}{}", std::round(value * 100.0) / 100.0, kUnits[unit]);
}

std::string WithThousands(uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string FormatToken(uint64_t token) { return fmt::format("0x{:016x}", token); }

std::string FormatCount(uint64_t value) {
  static constexpr const char* kSuffixes[] = {"", "K", "M", "G", "T"};
  double scaled = static_cast<double>(value);
  size_t suffix = 0;
  while (scaled >= 1000.0 && suffix + 1 < std::size(kSuffixes)) {
    scaled /= 1000.0;
    ++suffix;
  }
  if (suffix == 0) return std::to_string(value);
  int decimals = scaled >= 100 ? 1 : 2;
  return fmt::format("{:.{}f}{}", scaled, decimals, kSuffixes[suffix]);
}

}  // namespace tpufleet
