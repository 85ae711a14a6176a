// Runs the tpufleet command as a user runs it, for the CLI tests: its exit code and what it
// printed.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

namespace tpufleet {

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr
};

inline CommandResult Tpufleet(const std::string& args) {
  std::string command = std::string(TPUFLEET_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> chunk;
  size_t n;
  while ((n = fread(chunk.data(), 1, chunk.size(), pipe)) > 0) output.append(chunk.data(), n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

inline std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tpufleet_cli_test_" + name)).string();
}

}  // namespace tpufleet
