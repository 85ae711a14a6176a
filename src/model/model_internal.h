// What the model layer shares with the layers below it (cpu, sim, backends): the verified
// flatbuffer behind a Model. Not part of the public API.
#pragma once

#include "model/schema.h"
#include "tpufleet/model.h"

namespace tpufleet {

// The verified root table of `model`'s bytes; lives as long as the model.
const tfl::Model& FlatbufferOf(const Model& model);

}  // namespace tpufleet
