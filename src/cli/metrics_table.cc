#include "cli/metrics_table.h"

#include <fmt/format.h>

#include <filesystem>

#include "common/text.h"

namespace tpufleet::cli {

std::string MetricsTable(const FleetMetrics& metrics) {
  std::string out = fmt::format(
      "{:<8} {:<5} {:>8} {:>6} {:>7} {:>10} {:>5} {:>6} {:>9} {:>9} {:>9}\n", "device", "state",
      "requests", "errors", "reloads", "reloaded", "busy", "queue", "p50 ms", "p95 ms", "p99 ms");
  for (const DeviceMetrics& d : metrics.devices) {
    out += fmt::format(
        "{:<8} {:<5} {:>8} {:>6} {:>7} {:>10} {:>4.0f}% {:>6} {:>9.3f} {:>9.3f} {:>9.3f}\n",
        d.device, d.healthy ? "up" : "down", d.requests, d.errors, d.reloads,
        FormatBytes(d.reloaded_bytes), 100 * d.busy_fraction, d.queue_depth, d.p50_ms, d.p95_ms,
        d.p99_ms);
  }
  for (const DeviceMetrics& d : metrics.devices) {
    if (!d.down_reason.empty()) {
      out += fmt::format("  {} went down {} time{} (rejoined {}): last because {}\n", d.device,
                         d.failures, d.failures == 1 ? "" : "s", d.rejoins, d.down_reason);
    }
  }
  out += fmt::format("\n{:<44} {:<14} {:>8} {:>6} {:>7} {:>9} {:>9} {:>9}\n", "model", "devices",
                     "requests", "errors", "reloads", "p50 ms", "p95 ms", "p99 ms");
  for (const ModelMetrics& m : metrics.models) {
    std::string name = std::filesystem::path(m.model).filename().string();
    if (name.size() > 44) name = name.substr(0, 41) + "...";
    out += fmt::format("{:<44} {:<14} {:>8} {:>6} {:>7} {:>9.3f} {:>9.3f} {:>9.3f}\n", name,
                       fmt::format("{}", fmt::join(m.devices, ",")), m.requests, m.errors,
                       m.reloads, m.p50_ms, m.p95_ms, m.p99_ms);
  }
  out += fmt::format("elapsed: {:.3f} s\n", metrics.elapsed_seconds);
  return out;
}

}  // namespace tpufleet::cli
