// The daemon's log: one line per event that matters (listening, model loaded or refused, device
// down and why, device back, draining, stopped), as text or as one JSON object per line.
//
// Text:  2026-12-01T17:00:00.123Z model loaded name=ssd file=/models/ssd/ssd.tflite
// JSON:  {"time":"2026-12-01T17:00:00.123Z","event":"model loaded","name":"ssd",...}
//
// Thread-safety: Write may be called from any thread; lines never interleave.
#pragma once

#include <mutex>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace tpufleet::server {

enum class LogFormat { kText, kJson };

using LogFields = std::vector<std::pair<std::string, std::string>>;

class EventLog {
 public:
  EventLog(LogFormat format, std::ostream& out) : format_(format), out_(out) {}
  void Write(const std::string& event, const LogFields& fields = {});

 private:
  const LogFormat format_;
  std::ostream& out_;
  std::mutex mutex_;
};

}  // namespace tpufleet::server
