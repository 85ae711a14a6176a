// Number formatting shared by reports: byte sizes as the Edge TPU compiler
// prints them, counts with thousands separators, caching tokens in hex.
#pragma once

#include <cstdint>
#include <string>

namespace tpufleet {

// "0.00B", "553.63KiB", "7.62MiB", "1.50GiB": two decimals, binary units, as
// edgetpu_compiler prints.
std::string FormatBytes(uint64_t bytes);

// "566,912".
std::string WithThousands(uint64_t value);

// "0x6d146c3f97d6648c" (always 16 hex digits).
std::string FormatToken(uint64_t token);

// "569.0M", "1.50G", "14.2K": a count with an SI suffix and three significant
// digits.
std::string FormatCount(uint64_t value);

}  // namespace tpufleet
