#include "backends/edgetpu/edgetpu_device.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>

namespace tpufleet::backends {
namespace {

const char* TypeWord(DeviceType type) { return type == DeviceType::kPci ? "pci" : "usb"; }

// TFLite's messages during the calls of one interpreter, for errors that say more than "failed".
struct ErrorLog {
  std::string text;
  static void Report(void* self, const char* format, va_list args) {
    char line[1024];
    (void)std::vsnprintf(line, sizeof(line), format, args);  // a longer line is cut
    std::string& text = static_cast<ErrorLog*>(self)->text;
    if (!text.empty()) text += "; ";
    text += line;
  }
  std::string Take() { return std::exchange(text, ""); }
};

// A model with its TFLite interpreter on one device's delegate.
class TfLiteProgram : public Program {
 public:
  TfLiteProgram(ModelPtr model, const TfLiteCApi& api)
      : Program(model, PackageCachingToken(*model)), api_(api) {}
  ~TfLiteProgram() override {
    if (interpreter != nullptr) api_.InterpreterDelete(interpreter);
    if (tflite_model != nullptr) api_.ModelDelete(tflite_model);
  }
  // TensorFlow Lite's own tensors: the delegate copies inputs to the device from there.
  std::span<uint8_t> input_buffer(size_t i) override {
    return Bytes(api_.Input(interpreter, static_cast<int32_t>(i)));
  }
  std::span<uint8_t> output_buffer(size_t i) override {
    return Bytes(api_.Output(interpreter, static_cast<int32_t>(i)));
  }
  TfLiteModel* tflite_model = nullptr;
  TfLiteInterpreter* interpreter = nullptr;
  ErrorLog log;  // its address is the interpreter's error reporter argument

 private:
  std::span<uint8_t> Bytes(const TfLiteTensor* tensor) const {
    return {static_cast<uint8_t*>(api_.TensorData(tensor)), api_.TensorByteSize(tensor)};
  }
  const TfLiteCApi& api_;
};

}  // namespace

Result<std::unique_ptr<EdgeTpuDevice>> EdgeTpuDevice::Open(const EdgeTpuRuntime& runtime,
                                                           const DeviceInfo& info,
                                                           const EdgeTpuDeviceOptions& options) {
  TPUFLEET_RETURN_IF_ERROR(ValidateEdgeTpuOptions(options.options));
  if (info.owner_pid) {
    return FailedPreconditionError(fmt::format(
        "{} {} is owned by process {} (its device_owner in sysfs); stop that process or choose "
        "another Edge TPU",
        TypeWord(info.type), info.path, *info.owner_pid));
  }
  TPUFLEET_ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::Acquire(info.path));
  std::unique_ptr<EdgeTpuDevice> device(new EdgeTpuDevice(runtime, info, options, std::move(lock)));
  TPUFLEET_RETURN_IF_ERROR(device->Listed());
  TPUFLEET_RETURN_IF_ERROR(device->CreateDelegate());
  return device;
}

EdgeTpuDevice::~EdgeTpuDevice() {
  if (delegate_ != nullptr) runtime_.edgetpu.FreeDelegate(delegate_);
}

Status EdgeTpuDevice::Listed() const {
  std::vector<std::string> listed;
  for (const RuntimeDevice& d : runtime_.edgetpu.List()) {
    if (d.type == info_.type && d.path == info_.path) return OkStatus();
    listed.push_back(fmt::format("{} {}", TypeWord(d.type), d.path));
  }
  return NotFoundError(fmt::format(
      "{} {}: libedgetpu ({}) does not list it; it lists {}. Unplugged, or a stick still in "
      "bootloader mode that the runtime could not load firmware into?",
      TypeWord(info_.type), info_.path, runtime_.edgetpu.library,
      listed.empty() ? "no device" : fmt::format("{}", fmt::join(listed, ", "))));
}

Status EdgeTpuDevice::CreateDelegate() {
  std::vector<edgetpu_option> records;
  for (const auto& [name, value] : options_.options)
    records.push_back({name.c_str(), value.c_str()});
  delegate_ = runtime_.edgetpu.CreateDelegate(
      info_.type == DeviceType::kPci ? EDGETPU_APEX_PCI : EDGETPU_APEX_USB, info_.path.c_str(),
      records.data(), records.size());
  if (delegate_ == nullptr) {
    return UnavailableError(fmt::format(
        "edgetpu_create_delegate failed for {} {} (libedgetpu {}, {}); the runtime prints its "
        "reason on stderr",
        TypeWord(info_.type), info_.path, runtime_.edgetpu.library, runtime_.edgetpu.version));
  }
  return OkStatus();
}

Result<std::unique_ptr<Program>> EdgeTpuDevice::Prepare(ModelPtr model) {
  const int runtime_version = runtime_.edgetpu.runtime_version;
  for (const EdgeTpuPackage& package : model->edgetpu_packages()) {
    if (runtime_version > 0 && package.min_runtime_version > runtime_version) {
      return FailedPreconditionError(fmt::format(
          "{} needs Edge TPU runtime version {} or newer (edgetpu_compiler {}); libedgetpu at {} "
          "is version {}: update libedgetpu, or compile with an older edgetpu_compiler",
          model->name(), package.min_runtime_version, package.compiler_version,
          runtime_.edgetpu.library, runtime_version));
    }
  }
  const TfLiteCApi& api = runtime_.tflite;
  auto program = std::make_unique<TfLiteProgram>(model, api);
  std::span<const uint8_t> bytes = model->bytes();  // kept alive by the program's ModelPtr
  program->tflite_model = api.ModelCreate(bytes.data(), bytes.size());
  if (program->tflite_model == nullptr) {
    return InvalidArgumentError(
        fmt::format("TensorFlow Lite {} cannot load {}", api.version, model->name()));
  }
  TfLiteInterpreterOptions* options = api.OptionsCreate();
  api.OptionsSetErrorReporter(options, &ErrorLog::Report, &program->log);
  api.OptionsSetNumThreads(options, options_.cpu_threads);
  api.OptionsAddDelegate(options, delegate_);
  program->interpreter = api.InterpreterCreate(program->tflite_model, options);
  api.OptionsDelete(options);
  std::string where = fmt::format("{} on {} {}", model->name(), TypeWord(info_.type), info_.path);
  if (program->interpreter == nullptr) {
    return FailedPreconditionError(
        fmt::format("{}: TensorFlow Lite {} cannot build an "
                    "interpreter: {}",
                    where, api.version, program->log.Take()));
  }
  if (api.AllocateTensors(program->interpreter) != 0) {
    return FailedPreconditionError(fmt::format("{}: TensorFlow Lite {} cannot prepare it: {}",
                                               where, api.version, program->log.Take()));
  }
  if (static_cast<size_t>(api.InputCount(program->interpreter)) != model->input_indices().size() ||
      static_cast<size_t>(api.OutputCount(program->interpreter)) !=
          model->output_indices().size()) {
    return InternalError(fmt::format("{}: TensorFlow Lite sees other inputs or outputs", where));
  }
  return std::unique_ptr<Program>(std::move(program));
}

Result<RunResult> EdgeTpuDevice::Run(Program& program, const std::vector<TensorBytes>& inputs) {
  return RunThroughBuffers(*this, program, inputs);
}

Result<RunResult> EdgeTpuDevice::RunInPlace(Program& base, cpu::Profile* profile) {
  if (profile != nullptr) return Device::RunInPlace(base, profile);  // says why not
  auto& program = static_cast<TfLiteProgram&>(base);
  auto start = std::chrono::steady_clock::now();
  if (runtime_.tflite.Invoke(program.interpreter) != 0) {
    return AbortedError(fmt::format("{} {}: invocation failed: {}", TypeWord(info_.type),
                                    info_.path, program.log.Take()));
  }
  RunResult result;
  result.device_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

Status EdgeTpuDevice::Probe() { return Listed(); }

Status EdgeTpuDevice::Reopen() {
  TPUFLEET_RETURN_IF_ERROR(Listed());
  // No interpreter uses the old delegate any more: a new one starts from a clean device.
  if (delegate_ != nullptr) runtime_.edgetpu.FreeDelegate(delegate_);
  delegate_ = nullptr;
  return CreateDelegate();
}

}  // namespace tpufleet::backends
