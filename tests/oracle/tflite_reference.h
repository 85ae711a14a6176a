// TensorFlow Lite 2.9 (its C library, fetched by scripts/fetch_tflite.sh) as an independent
// implementation for tests and as the anchor of benchmarks. Built-in kernels by default; with
// `xnnpack` its XNNPACK delegate (which works on int8 and float models, not on uint8 ones).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tpufleet/status.h"

struct TfLiteModel;
struct TfLiteInterpreter;
struct TfLiteDelegate;

namespace tpufleet::testing {

class TfLiteReference {
 public:
  static Result<std::unique_ptr<TfLiteReference>> Create(const std::string& model_path,
                                                         int threads = 1, bool xnnpack = false);
  // The same for a model held in memory (built-in kernels, one thread).
  static Result<std::unique_ptr<TfLiteReference>> FromBuffer(std::vector<uint8_t> model);
  ~TfLiteReference();

  size_t input_count() const;
  size_t output_count() const;
  Status SetInput(size_t i, const std::vector<uint8_t>& bytes);
  Status Invoke();
  std::vector<uint8_t> Output(size_t i) const;

 private:
  TfLiteReference() = default;
  // Creates the interpreter for model_, with or without the XNNPACK delegate.
  Status CreateInterpreter(const std::string& what, int threads, bool xnnpack);

  std::vector<uint8_t> buffer_;  // the model's bytes when it came from memory
  TfLiteModel* model_ = nullptr;
  TfLiteInterpreter* interpreter_ = nullptr;
  TfLiteDelegate* delegate_ = nullptr;
};

}  // namespace tpufleet::testing
