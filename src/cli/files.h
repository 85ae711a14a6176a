// Inputs commands read: whole text files (errors name the file and what it was for), models
// from files or the zoo, and the simulated rig.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

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

}  // namespace tpufleet::cli
