#include "tflite_single_op.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "oracle/tflite_reference.h"

namespace tpufleet::cpu::testing {

Result<std::vector<std::vector<uint8_t>>> RunWithTfLite(const std::vector<uint8_t>& model,
                                                        const std::vector<TensorSpec>& inputs) {
  // TFLite's C API loads files; each call writes its own.
  static int counter = 0;
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("tpufleet-single-op-" + std::to_string(getpid()) +
                                                "-" + std::to_string(counter++) + ".tflite");
  {
    std::ofstream file(path, std::ios::binary);
    file.write(reinterpret_cast<const char*>(model.data()),
               static_cast<std::streamsize>(model.size()));
  }
  auto reference = tpufleet::testing::TfLiteReference::Create(path.string());
  std::filesystem::remove(path);
  if (!reference.ok()) return reference.status();
  size_t fed = 0;
  for (const TensorSpec& spec : inputs) {
    if (spec.constant) continue;
    TPUFLEET_RETURN_IF_ERROR(reference.value()->SetInput(fed++, Encode(spec)));
  }
  TPUFLEET_RETURN_IF_ERROR(reference.value()->Invoke());
  std::vector<std::vector<uint8_t>> outputs;
  for (size_t i = 0; i < reference.value()->output_count(); ++i)
    outputs.push_back(reference.value()->Output(i));
  return outputs;
}

std::vector<uint8_t> BytesOf(const Tensor& t) {
  return std::vector<uint8_t>(t.data, t.data + t.byte_size());
}

}  // namespace tpufleet::cpu::testing
