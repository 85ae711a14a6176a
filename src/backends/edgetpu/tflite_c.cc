#include "backends/edgetpu/tflite_c.h"

#include <cstdlib>

#include "common/shared_library.h"

namespace tpufleet::backends {

std::vector<std::string> TfLiteCCandidates() {
  std::vector<std::string> candidates;
  if (const char* path = std::getenv("TPUFLEET_TFLITE_LIB"); path != nullptr && *path != '\0') {
    candidates.push_back(path);
  }
  candidates.push_back("libtensorflowlite_c.so");
  return candidates;
}

Result<TfLiteCApi> LoadTfLiteC(const std::vector<std::string>& candidates) {
  TPUFLEET_ASSIGN_OR_RETURN(
      SharedLibrary library,
      SharedLibrary::Open(candidates, "the TensorFlow Lite C library (libtensorflowlite_c.so)"));
  TfLiteCApi api;
  auto slot = [](const char* name, auto& function) {
    return SymbolSlot{name, reinterpret_cast<void**>(&function)};
  };
  TPUFLEET_RETURN_IF_ERROR(ResolveSymbols(
      library,
      {slot("TfLiteVersion", api.Version), slot("TfLiteModelCreate", api.ModelCreate),
       slot("TfLiteModelDelete", api.ModelDelete),
       slot("TfLiteInterpreterOptionsCreate", api.OptionsCreate),
       slot("TfLiteInterpreterOptionsDelete", api.OptionsDelete),
       slot("TfLiteInterpreterOptionsSetNumThreads", api.OptionsSetNumThreads),
       slot("TfLiteInterpreterOptionsAddDelegate", api.OptionsAddDelegate),
       slot("TfLiteInterpreterOptionsSetErrorReporter", api.OptionsSetErrorReporter),
       slot("TfLiteInterpreterCreate", api.InterpreterCreate),
       slot("TfLiteInterpreterDelete", api.InterpreterDelete),
       slot("TfLiteInterpreterAllocateTensors", api.AllocateTensors),
       slot("TfLiteInterpreterInvoke", api.Invoke),
       slot("TfLiteInterpreterGetInputTensorCount", api.InputCount),
       slot("TfLiteInterpreterGetInputTensor", api.Input),
       slot("TfLiteInterpreterGetOutputTensorCount", api.OutputCount),
       slot("TfLiteInterpreterGetOutputTensor", api.Output),
       slot("TfLiteTensorByteSize", api.TensorByteSize),
       slot("TfLiteTensorCopyFromBuffer", api.CopyFromBuffer),
       slot("TfLiteTensorCopyToBuffer", api.CopyToBuffer)},
      "it is not TensorFlow Lite's C library, or one older than 2.2"));
  api.library = library.path();
  api.version = api.Version();
  return api;
}

}  // namespace tpufleet::backends
