#include "cli/simulator_report.h"

#include <fmt/format.h>

#include <iostream>

#include "common/text.h"

namespace tpufleet::cli {

using nlohmann::json;

json TimeJson(const sim::InvocationTime& t) {
  return {{"total_ms", t.total() * 1e3},   {"overhead_ms", t.overhead * 1e3},
          {"input_ms", t.input * 1e3},     {"output_ms", t.output * 1e3},
          {"compute_ms", t.compute * 1e3}, {"streaming_ms", t.streaming * 1e3},
          {"reload_ms", t.reload * 1e3}};
}

std::string TimeLine(const sim::InvocationTime& t) {
  return fmt::format(
      "{:.2f} ms = overhead {:.2f} + input {:.2f} + output {:.2f} + max(compute {:.2f}, streaming "
      "{:.2f}){}",
      t.total() * 1e3, t.overhead * 1e3, t.input * 1e3, t.output * 1e3, t.compute * 1e3,
      t.streaming * 1e3, t.reload > 0 ? fmt::format(" + reload {:.2f}", t.reload * 1e3) : "");
}

json PipeliningJson(const std::string& model, const sim::PipeliningComparison& c) {
  json deployments = json::array();
  for (const sim::Deployment& d : c.deployments) {
    deployments.push_back({{"name", d.name},
                           {"requests_per_second", d.requests_per_second},
                           {"latency_ms", d.latency_seconds * 1e3}});
  }
  json segments = json::array();
  for (size_t i = 0; i < c.segments.size(); ++i) {
    segments.push_back({{"cached_bytes", c.segments[i].cached_bytes},
                        {"streamed_bytes", c.segments[i].streamed_bytes},
                        {"input_bytes", c.segments[i].input_bytes},
                        {"output_bytes", c.segments[i].output_bytes},
                        {"time", TimeJson(c.segment_times[i])}});
  }
  return {{"model", model},
          {"whole",
           {{"cached_bytes", c.whole.cached_bytes},
            {"streamed_bytes", c.whole.streamed_bytes},
            {"time", TimeJson(c.whole_time)}}},
          {"segments", segments},
          {"deployments", deployments},
          {"best", c.deployments[c.best].name},
          {"why", c.why}};
}

void PrintPipelining(const std::string& model, const sim::DeviceConfig& device,
                     const sim::PipeliningComparison& c, const std::string& indent) {
  std::cout << fmt::format("{}{} on simulated Edge TPUs ({}, {} clock)\n", indent, model,
                           sim::LinkName(device.link), sim::ClockName(device.clock));
  std::cout << fmt::format("{}  whole model: on chip {}, streamed {}: {}\n", indent,
                           FormatBytes(c.whole.cached_bytes), FormatBytes(c.whole.streamed_bytes),
                           TimeLine(c.whole_time));
  for (size_t i = 0; i < c.segments.size(); ++i) {
    std::cout << fmt::format("{}  segment {}: on chip {}, streamed {}: {}\n", indent, i,
                             FormatBytes(c.segments[i].cached_bytes),
                             FormatBytes(c.segments[i].streamed_bytes),
                             TimeLine(c.segment_times[i]));
  }
  for (const sim::Deployment& d : c.deployments) {
    std::cout << fmt::format("{}  {:<22} {:9.1f} requests/s  {:8.2f} ms latency\n", indent, d.name,
                             d.requests_per_second, d.latency_seconds * 1e3);
  }
  std::cout << fmt::format("{}  best: {}: {}\n", indent, c.deployments[c.best].name, c.why);
}

}  // namespace tpufleet::cli
