// What the model layer shares with the layers below it (cpu, sim, backends):
// the verified flatbuffer and resolved constant buffers behind a Model. Not
// part of the public API.
#pragma once

#include <span>
#include <string>
#include <variant>
#include <vector>

#include "model/mapped_file.h"
#include "model/schema.h"
#include "tpufleet/model.h"

namespace tpufleet {

struct Model::State {
  std::string name;
  std::string description;
  std::variant<std::vector<uint8_t>, MappedFile> storage;
  std::span<const uint8_t> bytes;
  const tfl::Model* root = nullptr;
  // Data of every buffer, inline or at an offset in the file; verified in
  // range.
  std::vector<std::span<const uint8_t>> buffer_data;

  std::vector<TensorInfo> tensors;
  std::vector<OperatorInfo> operators;
  std::vector<int> inputs;
  std::vector<int> outputs;
  std::vector<EdgeTpuPackage> packages;
  uint64_t parameter_count = 0;
  uint64_t parameter_bytes = 0;
  uint64_t total_macs = 0;
};

// The verified root table of a Model.
const tfl::Model& FlatbufferOf(const Model& model);

}  // namespace tpufleet
