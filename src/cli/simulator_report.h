// What `tpufleet simulate` and `tpufleet plan` print of the simulator's estimates: one
// invocation's time split by cause, and a pipelining comparison (sim/pipelining.h), as a line of
// text for people and as JSON for programs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sim/pipelining.h"
#include "sim/timing.h"

namespace tpufleet::cli {

// {"total_ms", "overhead_ms", "input_ms", "output_ms", "compute_ms", "streaming_ms", "reload_ms"}.
nlohmann::json TimeJson(const sim::InvocationTime& time);
// "1.23 ms = overhead 0.10 + input 0.20 + output 0.01 + max(compute 0.90, streaming 0.00)", with
// "+ reload R" when there is one.
std::string TimeLine(const sim::InvocationTime& time);

// `comparison` of `model` as JSON: the whole model's and each segment's on-chip fit and time,
// each deployment's rate and latency, the best and why.
nlohmann::json PipeliningJson(const std::string& model,
                              const sim::PipeliningComparison& comparison);
// The same as text on standard output, every line indented by `indent`.
void PrintPipelining(const std::string& model, const sim::DeviceConfig& device,
                     const sim::PipeliningComparison& comparison, const std::string& indent = "");

}  // namespace tpufleet::cli
