// The tpufleet subcommands. Each Add* function registers one subcommand on the
// root app; when the subcommand runs, it stores its process exit code in
// `exit_code`.
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>

#include "tpufleet/status.h"

namespace tpufleet::cli {

// Prints "error: <message>" on stderr; returns the exit code: 2 for bad arguments, else 1.
inline int ReportFailure(const Status& status) {
  std::cerr << "error: " << status.message() << "\n";
  return status.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

void AddInspectCommand(CLI::App& root, int& exit_code);
void AddZooCommand(CLI::App& root, int& exit_code);
void AddDevicesCommand(CLI::App& root, int& exit_code);
void AddRunCommand(CLI::App& root, int& exit_code);
void AddSimulateCommand(CLI::App& root, int& exit_code);
void AddBenchCommand(CLI::App& root, int& exit_code);
void AddPlanCommand(CLI::App& root, int& exit_code);
void AddServeCommand(CLI::App& root, int& exit_code);
void AddSplitCommand(CLI::App& root, int& exit_code);

}  // namespace tpufleet::cli
