// Verification of untrusted .tflite bytes, run before anything else reads them.
//
// Errors are DATA_LOSS (or UNIMPLEMENTED for valid features the project does
// not support) and say what is wrong and where: "subgraph 0, operator #3
// (CONV_2D): input 1 is tensor 57, but the subgraph has 40 tensors". Callers
// prefix the file name.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/schema.h"
#include "tpufleet/status.h"

namespace tpufleet {

// Checks the file identifier and the flatbuffer structure against the project's
// schema. On success the returned root may be read without bounds worries.
Result<const tfl::Model*> VerifyFlatbuffer(std::span<const uint8_t> bytes);

// Resolves each buffer's data (inline, or at offset/size in the file) and
// checks it lies in `bytes`.
Result<std::vector<std::span<const uint8_t>>> ResolveBuffers(const tfl::Model& model,
                                                             std::span<const uint8_t> bytes);

// Checks every index of every subgraph (tensor to buffer, operator to opcode,
// operator and subgraph inputs/outputs to tensors), shapes, quantization
// parameters, and that each constant buffer holds exactly the bytes its
// tensor's shape and type need.
Status VerifyGraph(const tfl::Model& model, std::span<const std::span<const uint8_t>> buffers,
                   std::span<const uint8_t> bytes);

// The axis of per-channel quantization of a tensor with `shape`, as TFLite
// interprets it.
int QuantizedAxis(const tfl::QuantizationParameters& q, std::span<const int32_t> shape);

// TFLite's opcode: max(deprecated_builtin_code, builtin_code).
int32_t BuiltinCodeOf(const tfl::OperatorCode& code);

// "CONV_2D", the custom code for custom operators, or "BUILTIN(n)" for codes
// the schema lacks.
std::string OperatorNameOf(const tfl::OperatorCode& code);

}  // namespace tpufleet
