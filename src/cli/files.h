// Inputs commands read: whole text files (errors name the file and what it was for), models
// from files or the zoo, the simulated rig, comma-separated lists; and model files they write.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "model/zoo/zoo.h"
#include "sim/topology.h"
#include "tpufleet/model.h"
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

// "a,b,,c" as {"a", "b", "c"}: a comma-separated option's values.
inline std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream list(text);
  for (std::string part; std::getline(list, part, ',');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// A model file, or "zoo:NAME" for a zoo architecture at its default size.
inline Result<ModelPtr> LoadModel(const std::string& spec) {
  if (spec.starts_with("zoo:")) {
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, zoo::BuildZooModel(spec.substr(4), {}));
    return Model::FromBuffer(std::move(bytes), spec);
  }
  return Model::FromFile(spec);
}

// The text of a --topology file, checked here so that an error names the file as well as the
// field ("rig.json: devices[0].bus is -1; it must be ..."); empty (the default rig) when no file
// is given.
inline Result<std::string> ReadTopologyFile(const std::string& path) {
  if (path.empty()) return std::string();
  TPUFLEET_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, "the topology file"));
  TPUFLEET_RETURN_IF_ERROR(sim::ParseTopology(text).status().WithContext(path));
  return text;
}

// The simulated rig a topology file describes (its text, from ReadTopologyFile; empty: the
// default rig).
inline Result<std::vector<sim::SimDeviceConfig>> LoadRig(const std::string& topology_json) {
  if (topology_json.empty()) return sim::DefaultTopology();
  return sim::ParseTopology(topology_json);
}

// Writes `bytes` to `path` through a temporary file, so a failed write leaves no partial model.
inline Status WriteFile(const std::string& path, std::span<const uint8_t> bytes) {
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) return NotFoundError(fmt::format("{}: cannot write", path));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    (void)std::remove(temporary.c_str());  // best effort: the error says what failed
    return NotFoundError(fmt::format("{}: cannot write", path));
  }
  return OkStatus();
}

}  // namespace tpufleet::cli
