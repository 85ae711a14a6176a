// tpufleet: run many TensorFlow Lite models on many Edge TPUs, simulated Edge
// TPUs and the CPU.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"

// NOLINTNEXTLINE(bugprone-exception-escape): errors are statuses; an exception (bad_alloc) ends it
int main(int argc, char** argv) {
  CLI::App app{
      "tpufleet runs many TensorFlow Lite models on many Coral Edge "
      "TPUs (USB and PCIe),\n"
      "simulated Edge TPUs and the CPU, from one process."};
  app.name("tpufleet");
  app.set_version_flag("--version", "tpufleet 0.1.0");
  app.require_subcommand(1);
  app.footer("Run 'tpufleet COMMAND --help' for a command's options and examples.");
  int exit_code = 0;
  tpufleet::cli::AddInspectCommand(app, exit_code);
  tpufleet::cli::AddZooCommand(app, exit_code);
  tpufleet::cli::AddRunCommand(app, exit_code);
  tpufleet::cli::AddSplitCommand(app, exit_code);
  tpufleet::cli::AddSimulateCommand(app, exit_code);
  tpufleet::cli::AddBenchCommand(app, exit_code);
  tpufleet::cli::AddPlanCommand(app, exit_code);
  tpufleet::cli::AddDevicesCommand(app, exit_code);
  tpufleet::cli::AddServeCommand(app, exit_code);

  if (argc == 1) {
    std::cout << app.help();
    return 0;
  }
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
