// Reading a whole text file for a command, with an error that names it and what it was for.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "tpufleet/status.h"

namespace tpufleet::cli {

// `what` names the file's role in the message: "the topology file".
inline Result<std::string> ReadTextFile(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return NotFoundError(path + ": cannot read " + what);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace tpufleet::cli
