// The part of TensorFlow Lite's C API (tensorflow/lite/c/c_api.h, stable since 2.2) the Edge TPU
// driver uses, loaded at run time from libtensorflowlite_c.so. The types are opaque here.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tpufleet/status.h"

extern "C" {
struct TfLiteModel;
struct TfLiteInterpreter;
struct TfLiteInterpreterOptions;
struct TfLiteTensor;
struct TfLiteDelegate;
}

namespace tpufleet::backends {

struct TfLiteCApi {
  std::string library;  // where it was loaded from
  std::string version;  // TfLiteVersion()

  const char* (*Version)();
  TfLiteModel* (*ModelCreate)(const void* data, size_t size);
  void (*ModelDelete)(TfLiteModel* model);
  TfLiteInterpreterOptions* (*OptionsCreate)();
  void (*OptionsDelete)(TfLiteInterpreterOptions* options);
  void (*OptionsSetNumThreads)(TfLiteInterpreterOptions* options, int32_t threads);
  void (*OptionsAddDelegate)(TfLiteInterpreterOptions* options, TfLiteDelegate* delegate);
  void (*OptionsSetErrorReporter)(TfLiteInterpreterOptions* options,
                                  void (*reporter)(void* user_data, const char* format,
                                                   va_list args),
                                  void* user_data);
  TfLiteInterpreter* (*InterpreterCreate)(const TfLiteModel* model,
                                          const TfLiteInterpreterOptions* options);
  void (*InterpreterDelete)(TfLiteInterpreter* interpreter);
  int (*AllocateTensors)(TfLiteInterpreter* interpreter);  // TfLiteStatus, 0 = ok
  int (*Invoke)(TfLiteInterpreter* interpreter);
  int32_t (*InputCount)(const TfLiteInterpreter* interpreter);
  TfLiteTensor* (*Input)(const TfLiteInterpreter* interpreter, int32_t index);
  int32_t (*OutputCount)(const TfLiteInterpreter* interpreter);
  const TfLiteTensor* (*Output)(const TfLiteInterpreter* interpreter, int32_t index);
  size_t (*TensorByteSize)(const TfLiteTensor* tensor);
  void* (*TensorData)(const TfLiteTensor* tensor);  // fixed once tensors are allocated
};

// Candidates in search order: $TPUFLEET_TFLITE_LIB when set, then libtensorflowlite_c.so through
// the dynamic loader's search path.
std::vector<std::string> TfLiteCCandidates();

// Loads the first candidate with every function above. The error lists the paths tried, or the
// functions a library lacks (an old or stripped build).
Result<TfLiteCApi> LoadTfLiteC(const std::vector<std::string>& candidates);

}  // namespace tpufleet::backends
