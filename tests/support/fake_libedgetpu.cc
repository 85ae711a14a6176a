// A stand-in for libedgetpu.so.1, built only in the test tree. It implements the C API
// (edgetpu_c.h): listing devices, and delegates that claim `edgetpu-custom-op` nodes through
// TensorFlow Lite's C/common API and compute them with tpufleet's simulator (outputs from the
// uncompiled twin on the CPU, time from the timing model). Configured by environment variables:
//
//   TPUFLEET_FAKE_EDGETPU_DEVICES  "usb:PATH,pci:PATH": the devices, in the order listed
//   TPUFLEET_FAKE_EDGETPU_MODELS   compiled model files whose custom ops it can compute
//                                  (matched by the op's custom options bytes), comma-separated
//   TPUFLEET_FAKE_EDGETPU_FAULTS   comma-separated: fail_create, abort_after=N (abort() on the
//                                  N+1-th invocation in the process), hang_after=N (the N+1-th
//                                  never returns), fail_after=N (invocations fail after N),
//                                  delegate_fails_after=N (each delegate's invocations fail
//                                  after its N-th: a new delegate, as after a reset, works
//                                  again), garbage_after=N (the N+1-th sends a malformed packet
//                                  on the device host's channel, fd 3, and never returns),
//                                  runtime_version=N (default 14); "@PATH" after a fault limits
//                                  it to that device
//   TPUFLEET_FAKE_EDGETPU_LOG      a file each edgetpu_create_delegate call appends a line to:
//                                  "create usb PATH Name=Value ..."
//   TPUFLEET_FAKE_EDGETPU_REAL_TIME  "1": invocations take their modeled time
#include <sys/socket.h>
#include <tensorflow/lite/c/common.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "devices/edgetpu_runtime.h"
#include "model/model_internal.h"
#include "sim/sim_device.h"

namespace {

std::vector<std::string> SplitCommas(const char* text) {
  std::vector<std::string> parts;
  std::string list = text ? text : "";
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) parts.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// The value of fault `name` for the device at `path` ("abort_after=3" or "abort_after=3@PATH"
// -> 3); -1 when absent, 0 for a bare flag.
long Fault(const char* name, const std::string& path = "") {
  for (std::string fault : SplitCommas(std::getenv("TPUFLEET_FAKE_EDGETPU_FAULTS"))) {
    if (size_t at = fault.find('@'); at != std::string::npos) {
      if (fault.substr(at + 1) != path) continue;
      fault.resize(at);
    }
    size_t equals = fault.find('=');
    if (fault.substr(0, equals) != name) continue;
    return equals == std::string::npos ? 0 : std::atol(fault.c_str() + equals + 1);
  }
  return -1;
}

struct ListedDevice {
  int type;  // 0 pci, 1 usb
  std::string path;
};

std::vector<ListedDevice> Listed() {
  std::vector<ListedDevice> devices;
  for (const std::string& entry : SplitCommas(std::getenv("TPUFLEET_FAKE_EDGETPU_DEVICES"))) {
    size_t colon = entry.find(':');
    if (colon == std::string::npos) continue;
    devices.push_back({entry.substr(0, colon) == "pci" ? 0 : 1, entry.substr(colon + 1)});
  }
  return devices;
}

// The registered compiled model whose edgetpu-custom-op has exactly these custom options.
tpufleet::ModelPtr FindModel(const void* options, size_t size) {
  for (const std::string& path : SplitCommas(std::getenv("TPUFLEET_FAKE_EDGETPU_MODELS"))) {
    tpufleet::Result<tpufleet::ModelPtr> model = tpufleet::Model::FromFile(path);
    if (!model.ok()) continue;
    const auto* ops = tpufleet::FlatbufferOf(**model).subgraphs()->Get(0)->operators();
    for (const tpufleet::EdgeTpuPackage& package : (*model)->edgetpu_packages()) {
      const auto* custom = ops->Get(package.operator_index)->custom_options();
      if (custom != nullptr && custom->size() == size &&
          std::memcmp(custom->data(), options, size) == 0) {
        return *model;
      }
    }
  }
  return nullptr;
}

std::atomic<long> invocations{0};

// One opened device: a simulated Edge TPU behind the delegate.
struct FakeDelegate {
  TfLiteDelegate base;  // first: the runtime hands back TfLiteDelegate*
  std::string path;
  std::mutex mutex;
  std::unique_ptr<tpufleet::sim::SimDevice> device;
  std::atomic<long> invocations{0};  // through this delegate
};

// In tpufleet-device-host, its channel to the parent is fd 3, a SOCK_SEQPACKET socket: what a
// broken runtime scribbling over it would send. Elsewhere (in-process) it sends nothing.
void SendGarbageToTheParent() {
  int type = 0;
  socklen_t size = sizeof(type);
  if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &size) != 0 || type != SOCK_SEQPACKET) return;
  const char garbage[] = "not a message";
  send(3, garbage, sizeof(garbage), MSG_NOSIGNAL);
}

// One claimed custom op: the compiled model it belongs to, prepared on the simulated device.
struct Kernel {
  FakeDelegate* delegate = nullptr;
  std::unique_ptr<tpufleet::backends::Program> program;
  std::string error;  // why this op cannot run, reported at prepare
};

void* KernelInit(TfLiteContext* context, const char* buffer, size_t) {
  auto* params = reinterpret_cast<const TfLiteDelegateParams*>(buffer);
  auto* kernel = new Kernel;
  kernel->delegate = reinterpret_cast<FakeDelegate*>(params->delegate);
  TfLiteNode* node = nullptr;
  TfLiteRegistration* registration = nullptr;
  context->GetNodeAndRegistration(context, params->nodes_to_replace->data[0], &node, &registration);
  tpufleet::ModelPtr model = FindModel(node->custom_initial_data, node->custom_initial_data_size);
  if (model == nullptr) {
    kernel->error =
        "stand-in libedgetpu: no model in TPUFLEET_FAKE_EDGETPU_MODELS has this edgetpu-custom-op";
    return kernel;
  }
  std::lock_guard<std::mutex> lock(kernel->delegate->mutex);
  auto program = kernel->delegate->device->Prepare(model);
  if (!program.ok()) {
    kernel->error = "stand-in libedgetpu: " + program.status().ToString();
  } else {
    kernel->program = std::move(program).value();
  }
  return kernel;
}

void KernelFree(TfLiteContext*, void* buffer) { delete static_cast<Kernel*>(buffer); }

TfLiteStatus KernelPrepare(TfLiteContext* context, TfLiteNode* node) {
  auto* kernel = static_cast<Kernel*>(node->user_data);
  if (!kernel->error.empty()) {
    context->ReportError(context, "%s", kernel->error.c_str());
    return kTfLiteError;
  }
  return kTfLiteOk;
}

TfLiteStatus KernelInvoke(TfLiteContext* context, TfLiteNode* node) {
  auto* kernel = static_cast<Kernel*>(node->user_data);
  const std::string& path = kernel->delegate->path;
  long n = invocations.fetch_add(1), on_delegate = kernel->delegate->invocations.fetch_add(1);
  long abort_after = Fault("abort_after", path), fail_after = Fault("fail_after", path),
       hang_after = Fault("hang_after", path), garbage_after = Fault("garbage_after", path),
       delegate_fails_after = Fault("delegate_fails_after", path);
  if (abort_after >= 0 && n >= abort_after) std::abort();  // as libedgetpu does on USB errors
  if (garbage_after >= 0 && n >= garbage_after) SendGarbageToTheParent();
  if ((hang_after >= 0 && n >= hang_after) || (garbage_after >= 0 && n >= garbage_after)) {
    std::this_thread::sleep_for(std::chrono::hours(1));
  }
  if ((fail_after >= 0 && n >= fail_after) ||
      (delegate_fails_after >= 0 && on_delegate >= delegate_fails_after)) {
    context->ReportError(context, "stand-in libedgetpu: transfer failed (injected fault)");
    return kTfLiteError;
  }
  std::vector<tpufleet::backends::TensorBytes> inputs;
  for (int i = 0; i < node->inputs->size; ++i) {
    const TfLiteTensor& t = context->tensors[node->inputs->data[i]];
    const auto* data = reinterpret_cast<const uint8_t*>(t.data.raw);
    inputs.emplace_back(data, data + t.bytes);
  }
  tpufleet::Result<tpufleet::backends::RunResult> run = [&] {
    std::lock_guard<std::mutex> lock(kernel->delegate->mutex);
    return kernel->delegate->device->Run(*kernel->program, inputs);
  }();
  if (!run.ok() || run->outputs.size() != static_cast<size_t>(node->outputs->size)) {
    context->ReportError(
        context, "stand-in libedgetpu: %s",
        run.ok() ? "the op's outputs are not the model's" : run.status().ToString().c_str());
    return kTfLiteError;
  }
  for (int i = 0; i < node->outputs->size; ++i) {
    TfLiteTensor& t = context->tensors[node->outputs->data[i]];
    if (t.bytes != run->outputs[i].size()) {
      context->ReportError(context, "stand-in libedgetpu: output %d size differs", i);
      return kTfLiteError;
    }
    std::memcpy(t.data.raw, run->outputs[i].data(), t.bytes);
  }
  const char* real_time = std::getenv("TPUFLEET_FAKE_EDGETPU_REAL_TIME");
  if (real_time != nullptr && std::strcmp(real_time, "1") == 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(run->device_seconds));
  }
  return kTfLiteOk;
}

TfLiteRegistration KernelRegistration() {
  TfLiteRegistration r{};
  r.init = KernelInit;
  r.free = KernelFree;
  r.prepare = KernelPrepare;
  r.invoke = KernelInvoke;
  r.custom_name = "edgetpu stand-in";
  r.version = 1;
  return r;
}

// Claims every edgetpu-custom-op node, one delegate kernel each.
TfLiteStatus DelegatePrepare(TfLiteContext* context, TfLiteDelegate* delegate) {
  TfLiteIntArray* plan = nullptr;
  if (context->GetExecutionPlan(context, &plan) != kTfLiteOk) return kTfLiteError;
  std::vector<int> claimed;
  for (int i = 0; i < plan->size; ++i) {
    TfLiteNode* node = nullptr;
    TfLiteRegistration* registration = nullptr;
    context->GetNodeAndRegistration(context, plan->data[i], &node, &registration);
    if (registration->custom_name != nullptr &&
        std::strcmp(registration->custom_name, "edgetpu-custom-op") == 0) {
      claimed.push_back(plan->data[i]);
    }
  }
  TfLiteRegistration kernel = KernelRegistration();
  for (int index : claimed) {
    // A TfLiteIntArray of one: {size, data[1]}.
    struct {
      int size;
      int data[1];
    } one = {1, {index}};
    TfLiteStatus status = context->ReplaceNodeSubsetsWithDelegateKernels(
        context, kernel, reinterpret_cast<TfLiteIntArray*>(&one), delegate);
    if (status != kTfLiteOk) return status;
  }
  return kTfLiteOk;
}

}  // namespace

extern "C" {

struct edgetpu_device* edgetpu_list_devices(size_t* num_devices) {
  std::vector<ListedDevice> devices = Listed();
  *num_devices = devices.size();
  // Null-terminated, so edgetpu_free_devices knows how many paths to free.
  auto* out = static_cast<edgetpu_device*>(std::calloc(devices.size() + 1, sizeof(edgetpu_device)));
  for (size_t i = 0; i < devices.size(); ++i) {
    out[i].type = static_cast<edgetpu_device_type>(devices[i].type);
    out[i].path = strdup(devices[i].path.c_str());
  }
  return out;
}

void edgetpu_free_devices(struct edgetpu_device* devices) {
  for (edgetpu_device* d = devices; d != nullptr && d->path != nullptr; ++d) {
    std::free(const_cast<char*>(d->path));
  }
  std::free(devices);
}

TfLiteDelegate* edgetpu_create_delegate(enum edgetpu_device_type type, const char* name,
                                        const struct edgetpu_option* options, size_t num_options) {
  if (const char* log = std::getenv("TPUFLEET_FAKE_EDGETPU_LOG")) {
    std::ofstream out(log, std::ios::app);
    out << "create " << (type == EDGETPU_APEX_PCI ? "pci" : "usb") << " " << (name ? name : "-");
    for (size_t i = 0; i < num_options; ++i)
      out << " " << options[i].name << "=" << options[i].value;
    out << "\n";
  }
  if (Fault("fail_create", name ? name : "") >= 0) return nullptr;
  int index = -1;
  std::vector<ListedDevice> devices = Listed();
  for (size_t i = 0; i < devices.size(); ++i) {
    if (devices[i].type == type && (name == nullptr || devices[i].path == name)) {
      index = static_cast<int>(i);
      break;
    }
  }
  if (index < 0) return nullptr;
  auto* delegate = new FakeDelegate;
  delegate->path = devices[index].path;
  delegate->base = TfLiteDelegate{};
  delegate->base.Prepare = DelegatePrepare;
  // Without this flag TFLite 2.9 prepares every node before delegating, and the unresolved
  // edgetpu-custom-op fails that.
  delegate->base.flags = kTfLiteDelegateFlagsAllowDynamicTensors;
  delegate->device = std::make_unique<tpufleet::sim::SimDevice>(
      index, tpufleet::sim::SimDeviceConfig{}, tpufleet::sim::MakeVirtualClock(), nullptr);
  return &delegate->base;
}

void edgetpu_free_delegate(TfLiteDelegate* delegate) {
  delete reinterpret_cast<FakeDelegate*>(delegate);
}

void edgetpu_verbosity(int) {}

const char* edgetpu_version() {
  static std::string version;
  long runtime = Fault("runtime_version");
  version = "BuildLabel(tpufleet stand-in), RuntimeVersion(" +
            std::to_string(runtime >= 0 ? runtime : 14) + ")";
  return version.c_str();
}

}  // extern "C"
