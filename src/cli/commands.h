// The tpufleet subcommands. Each Add* function registers one subcommand on the
// root app; when the subcommand runs, it stores its process exit code in
// `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace tpufleet::cli {

void AddInspectCommand(CLI::App& root, int& exit_code);
void AddZooCommand(CLI::App& root, int& exit_code);
void AddDevicesCommand(CLI::App& root, int& exit_code);
void AddRunCommand(CLI::App& root, int& exit_code);
void AddSimulateCommand(CLI::App& root, int& exit_code);
void AddBenchCommand(CLI::App& root, int& exit_code);
void AddPlanCommand(CLI::App& root, int& exit_code);

}  // namespace tpufleet::cli
