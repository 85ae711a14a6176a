#include "backends/edgetpu/tflite_c.h"

#include "common/shared_library.h"

namespace tpufleet::backends {

std::vector<std::string> TfLiteCCandidates() {
  return LibraryCandidates("TPUFLEET_TFLITE_LIB", "libtensorflowlite_c.so");
}

Result<TfLiteCApi> LoadTfLiteC(const std::vector<std::string>& candidates) {
  TPUFLEET_ASSIGN_OR_RETURN(
      SharedLibrary library,
      SharedLibrary::Open(candidates, "the TensorFlow Lite C library (libtensorflowlite_c.so)"));
  TfLiteCApi api;
  TPUFLEET_RETURN_IF_ERROR(ResolveSymbols(
      library,
      {Slot("TfLiteVersion", api.Version), Slot("TfLiteModelCreate", api.ModelCreate),
       Slot("TfLiteModelDelete", api.ModelDelete),
       Slot("TfLiteInterpreterOptionsCreate", api.OptionsCreate),
       Slot("TfLiteInterpreterOptionsDelete", api.OptionsDelete),
       Slot("TfLiteInterpreterOptionsSetNumThreads", api.OptionsSetNumThreads),
       Slot("TfLiteInterpreterOptionsAddDelegate", api.OptionsAddDelegate),
       Slot("TfLiteInterpreterOptionsSetErrorReporter", api.OptionsSetErrorReporter),
       Slot("TfLiteInterpreterCreate", api.InterpreterCreate),
       Slot("TfLiteInterpreterDelete", api.InterpreterDelete),
       Slot("TfLiteInterpreterAllocateTensors", api.AllocateTensors),
       Slot("TfLiteInterpreterInvoke", api.Invoke),
       Slot("TfLiteInterpreterGetInputTensorCount", api.InputCount),
       Slot("TfLiteInterpreterGetInputTensor", api.Input),
       Slot("TfLiteInterpreterGetOutputTensorCount", api.OutputCount),
       Slot("TfLiteInterpreterGetOutputTensor", api.Output),
       Slot("TfLiteTensorByteSize", api.TensorByteSize), Slot("TfLiteTensorData", api.TensorData)},
      "it is not TensorFlow Lite's C library, or one older than 2.2"));
  api.library = library.path();
  api.version = api.Version();
  return api;
}

}  // namespace tpufleet::backends
