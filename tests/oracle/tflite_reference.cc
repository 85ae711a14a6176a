#include "oracle/tflite_reference.h"

#include <tensorflow/lite/c/c_api.h>

// The XNNPACK delegate's entry points exist in the library, but its header is not shipped: the
// declarations below follow TFLite 2.9's tensorflow/lite/delegates/xnnpack/xnnpack_delegate.h.
extern "C" {
struct TfLiteXNNPackDelegateOptions {
  int32_t num_threads;
  uint32_t flags;  // 2.9 delegates quantized operators only when QS8/QU8 flags are set
  void* weights_cache;
};
TfLiteXNNPackDelegateOptions TfLiteXNNPackDelegateOptionsDefault();
TfLiteDelegate* TfLiteXNNPackDelegateCreate(const TfLiteXNNPackDelegateOptions* options);
void TfLiteXNNPackDelegateDelete(TfLiteDelegate* delegate);
}

namespace {
constexpr uint32_t kXnnpackFlagQs8 = 0x1;
constexpr uint32_t kXnnpackFlagQu8 = 0x2;
}  // namespace

namespace tpufleet::testing {

Result<std::unique_ptr<TfLiteReference>> TfLiteReference::Create(const std::string& model_path,
                                                                 int threads, bool xnnpack) {
  std::unique_ptr<TfLiteReference> ref(new TfLiteReference());
  ref->model_ = TfLiteModelCreateFromFile(model_path.c_str());
  if (ref->model_ == nullptr) return InvalidArgumentError("TFLite cannot load " + model_path);
  TPUFLEET_RETURN_IF_ERROR(ref->CreateInterpreter(model_path, threads, xnnpack));
  return ref;
}

Result<std::unique_ptr<TfLiteReference>> TfLiteReference::FromBuffer(std::vector<uint8_t> model) {
  std::unique_ptr<TfLiteReference> ref(new TfLiteReference());
  ref->buffer_ = std::move(model);
  ref->model_ = TfLiteModelCreate(ref->buffer_.data(), ref->buffer_.size());
  if (ref->model_ == nullptr) return InvalidArgumentError("TFLite cannot load the model buffer");
  TPUFLEET_RETURN_IF_ERROR(ref->CreateInterpreter("the model buffer", 1, false));
  return ref;
}

Status TfLiteReference::CreateInterpreter(const std::string& what, int threads, bool xnnpack) {
  TfLiteInterpreterOptions* options = TfLiteInterpreterOptionsCreate();
  TfLiteInterpreterOptionsSetNumThreads(options, threads);
  if (xnnpack) {
    TfLiteXNNPackDelegateOptions xnnpack_options = TfLiteXNNPackDelegateOptionsDefault();
    xnnpack_options.num_threads = threads;
    xnnpack_options.flags |= kXnnpackFlagQs8 | kXnnpackFlagQu8;
    delegate_ = TfLiteXNNPackDelegateCreate(&xnnpack_options);
    TfLiteInterpreterOptionsAddDelegate(options, delegate_);
  }
  interpreter_ = TfLiteInterpreterCreate(model_, options);
  TfLiteInterpreterOptionsDelete(options);
  if (interpreter_ == nullptr)
    return UnimplementedError("TFLite cannot create an interpreter for " + what);
  if (TfLiteInterpreterAllocateTensors(interpreter_) != kTfLiteOk)
    return UnimplementedError("TFLite cannot allocate tensors for " + what);
  return OkStatus();
}

TfLiteReference::~TfLiteReference() {
  if (interpreter_) TfLiteInterpreterDelete(interpreter_);
  if (delegate_) TfLiteXNNPackDelegateDelete(delegate_);
  if (model_) TfLiteModelDelete(model_);
}

size_t TfLiteReference::input_count() const {
  return TfLiteInterpreterGetInputTensorCount(interpreter_);
}
size_t TfLiteReference::output_count() const {
  return TfLiteInterpreterGetOutputTensorCount(interpreter_);
}

Status TfLiteReference::SetInput(size_t i, const std::vector<uint8_t>& bytes) {
  TfLiteTensor* tensor = TfLiteInterpreterGetInputTensor(interpreter_, static_cast<int32_t>(i));
  if (tensor == nullptr || TfLiteTensorByteSize(tensor) != bytes.size())
    return InvalidArgumentError("input size mismatch for TFLite");
  return TfLiteTensorCopyFromBuffer(tensor, bytes.data(), bytes.size()) == kTfLiteOk
             ? OkStatus()
             : InternalError("TFLite rejected the input");
}

Status TfLiteReference::Invoke() {
  return TfLiteInterpreterInvoke(interpreter_) == kTfLiteOk ? OkStatus()
                                                            : InternalError("TFLite Invoke failed");
}

std::vector<uint8_t> TfLiteReference::Output(size_t i) const {
  const TfLiteTensor* tensor =
      TfLiteInterpreterGetOutputTensor(interpreter_, static_cast<int32_t>(i));
  std::vector<uint8_t> bytes(TfLiteTensorByteSize(tensor));
  TfLiteTensorCopyToBuffer(tensor, bytes.data(), bytes.size());
  return bytes;
}

}  // namespace tpufleet::testing
