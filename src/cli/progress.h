// Progress on stderr, redrawn in place: "[##########          ]  50% one device, batches of 10".
// Drawn only when stderr is a terminal: a log file or a pipe gets no carriage-return frames.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <mutex>
#include <string>

namespace tpufleet::cli {

class Progress {
 public:
  // Draws nothing when `enabled` is false (JSON output, or too little work to show) or when
  // stderr is not a terminal.
  Progress(int total, bool enabled)
      : total_(total), enabled_(enabled && isatty(STDERR_FILENO) == 1) {}

  // One unit done. Thread-safe. Redraws every 1/200 of the total and at the end.
  void Step(const std::string& label) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++done_;
    if (!enabled_ || (done_ % std::max(1, total_ / 200) != 0 && done_ != total_)) return;
    int filled = 30 * done_ / total_;
    std::cerr << fmt::format("\r[{}{}] {:3}% {:<40}", std::string(filled, '#'),
                             std::string(30 - filled, ' '), 100 * done_ / total_, label)
              << std::flush;
    if (done_ == total_) std::cerr << "\n";
  }

 private:
  std::mutex mutex_;
  int total_, done_ = 0;
  bool enabled_;
};

}  // namespace tpufleet::cli
