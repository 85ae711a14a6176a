#include "server/event_log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace tpufleet::server {
namespace {

std::string Now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(now)), ms.count());
}

// A text value as it is, or quoted when it holds spaces, quotes or '=' (one line stays one).
std::string TextValue(const std::string& value) {
  if (!value.empty() && value.find_first_of(" \"=\n\r\t") == std::string::npos) return value;
  return nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void EventLog::Write(const std::string& event, const LogFields& fields) {
  std::string line;
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json object = {{"time", Now()}, {"event", event}};
    for (const auto& [key, value] : fields) object[key] = value;
    line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = Now() + " " + event;
    for (const auto& [key, value] : fields) line += " " + key + "=" + TextValue(value);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  out_ << line << std::endl;
}

}  // namespace tpufleet::server
