#include "sim/sim_device.h"

#include <fmt/format.h>

#include <algorithm>

#include "cpu/interpreter.h"
#include "model/source_model.h"

namespace tpufleet::sim {
namespace {

class SimProgram : public backends::Program {
 public:
  SimProgram(ModelPtr model, EdgeTpuProgram edgetpu, std::unique_ptr<cpu::Interpreter> interpreter)
      : Program(std::move(model), edgetpu.caching_token),
        edgetpu(std::move(edgetpu)),
        interpreter(std::move(interpreter)) {}
  // The CPU interpreter's tensors when it computes the outputs; else the program's own buffers.
  std::span<uint8_t> input_buffer(size_t i) override {
    if (!interpreter) return Program::input_buffer(i);
    cpu::Tensor& t = interpreter->input(i);
    return {t.data, t.byte_size()};
  }
  std::span<uint8_t> output_buffer(size_t i) override {
    if (!interpreter) return Program::output_buffer(i);
    const cpu::Tensor& t = interpreter->output(i);
    return {t.data, t.byte_size()};
  }
  EdgeTpuProgram edgetpu;
  std::unique_ptr<cpu::Interpreter> interpreter;  // null: outputs are timing-only
};

// The CPU computes `model`'s tensors in its own: each must hold what the model's does (the size
// of an output the model gives no shape is the CPU's to decide).
Status SameTensorSizes(const Model& model, cpu::Interpreter& interpreter) {
  for (size_t i = 0; i < model.output_indices().size(); ++i) {
    uint64_t want = model.output(i).byte_size, have = interpreter.output(i).byte_size();
    if (!model.output(i).shape.empty() && want != have) {
      return FailedPreconditionError(
          fmt::format("output {} '{}' holds {} bytes, but the uncompiled model computes {}", i,
                      model.output(i).name, want, have));
    }
  }
  for (size_t i = 0; i < model.input_indices().size(); ++i) {
    uint64_t want = model.input(i).byte_size, have = interpreter.input(i).byte_size();
    if (want != have) {
      return FailedPreconditionError(
          fmt::format("input {} '{}' holds {} bytes, but the uncompiled model reads {}", i,
                      model.input(i).name, want, have));
    }
  }
  return OkStatus();
}

int LinkSpeedMbps(Link link) {
  switch (link) {
    case Link::kUsb3: return 5000;
    case Link::kUsb2: return 480;
    case Link::kPcie: return 5000;
  }
  return 0;
}

}  // namespace

SimDevice::SimDevice(int index, SimDeviceConfig config, std::shared_ptr<SimClock> clock,
                     std::shared_ptr<SimBus> bus)
    : config_(std::move(config)), clock_(std::move(clock)), bus_(std::move(bus)) {
  info_.type = DeviceType::kSim;
  info_.name = fmt::format("sim:{}", index);
  info_.path = info_.name;
  info_.link_speed_mbps = LinkSpeedMbps(config_.hardware.link);
  info_.bus = config_.hardware.bus;
}

Result<std::unique_ptr<backends::Program>> SimDevice::MakeProgram(ModelPtr model,
                                                                  EdgeTpuProgram edgetpu) {
  std::unique_ptr<cpu::Interpreter> interpreter;
  if (config_.compute_outputs) {
    Result<ModelPtr> source = UncompiledSource(model, config_.full_models);
    Status why = source.status();
    if (source.ok()) {
      // A model the CPU cannot run still has a timing; its outputs are then timing-only.
      Result<std::unique_ptr<cpu::Interpreter>> created = cpu::Interpreter::Create(*source);
      why = created.ok() ? SameTensorSizes(*model, **created) : created.status();
      if (why.ok()) interpreter = std::move(created).value();
    }
    if (!interpreter && !config_.allow_timing_only) {
      return FailedPreconditionError(fmt::format(
          "{}: {}: a simulated Edge TPU can time this model but not compute its outputs ({}); "
          "allow timing-only answers (allow_timing_only) to get zero-filled outputs marked "
          "timing_only",
          info_.name, model->name(), why.message()));
    }
  }
  return std::unique_ptr<backends::Program>(
      new SimProgram(std::move(model), std::move(edgetpu), std::move(interpreter)));
}

Status SimDevice::WaitFault(double seconds, const char* during) {
  if (seconds <= 0 || clock_->Wait(seconds, interrupt_flag())) return OkStatus();
  return DeadlineExceededError(fmt::format("{}: {} was interrupted", info_.name, during));
}

Result<std::unique_ptr<backends::Program>> SimDevice::Prepare(ModelPtr model) {
  TPUFLEET_RETURN_IF_ERROR(WaitFault(config_.faults.prepare_seconds, "preparing"));
  TPUFLEET_ASSIGN_OR_RETURN(EdgeTpuProgram edgetpu, Compile(*model, config_.hardware.sram_bytes));
  return MakeProgram(std::move(model), std::move(edgetpu));
}

Result<std::vector<std::unique_ptr<backends::Program>>> SimDevice::PrepareGroup(
    const std::vector<ModelPtr>& models) {
  TPUFLEET_RETURN_IF_ERROR(WaitFault(config_.faults.prepare_seconds, "preparing"));
  std::vector<EdgeTpuProgram> compiled;
  for (const ModelPtr& m : models) {
    TPUFLEET_ASSIGN_OR_RETURN(EdgeTpuProgram p, Compile(*m, config_.hardware.sram_bytes));
    compiled.push_back(std::move(p));
  }
  compiled = CoCompile(std::move(compiled), config_.hardware.sram_bytes);
  std::vector<std::unique_ptr<backends::Program>> programs;
  for (size_t i = 0; i < models.size(); ++i) {
    TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<backends::Program> p,
                              MakeProgram(models[i], std::move(compiled[i])));
    programs.push_back(std::move(p));
  }
  return programs;
}

void SimDevice::Reconnect() {
  disconnected_ = false;
  hung_ = false;
  failed_reopens_ = 0;
  resident_token_ = 0;
  config_.faults.disconnect_after.reset();
  config_.faults.disconnect_at.reset();
  config_.faults.hang_after.reset();
}

Status SimDevice::Probe() {
  if (!disconnected_ && !hung_) return OkStatus();
  return UnavailableError(fmt::format("{}: device {} (simulated fault)", info_.name,
                                      disconnected_ ? "disconnected" : "hung"));
}

Status SimDevice::Reopen() {
  TPUFLEET_RETURN_IF_ERROR(WaitFault(config_.faults.reopen_seconds, "reopening"));
  if (Probe().ok()) return OkStatus();
  const std::optional<int>& recover = config_.faults.recover_after_probes;
  if (recover && failed_reopens_ >= *recover) {
    Reconnect();
    return OkStatus();
  }
  ++failed_reopens_;
  return Probe();
}

Status SimDevice::CheckFaults() {
  const FaultPlan& f = config_.faults;
  if (f.disconnect_after && stats_.invocations >= *f.disconnect_after) disconnected_ = true;
  if (f.disconnect_at && clock_->Now() >= *f.disconnect_at) disconnected_ = true;
  if (disconnected_) {
    resident_token_ = 0;
    return UnavailableError(fmt::format("{}: device disconnected (simulated fault)", info_.name));
  }
  if (f.hang_after && stats_.invocations >= *f.hang_after) {
    clock_->Wait(f.hang_seconds, interrupt_flag());
    hung_ = true;
    resident_token_ = 0;
    return DeadlineExceededError(fmt::format("{}: device hung (simulated fault)", info_.name));
  }
  if (f.transient_error_every > 0 && (stats_.invocations + 1) % f.transient_error_every == 0) {
    ++stats_.invocations;  // the attempt counts; the next one succeeds
    return AbortedError(fmt::format("{}: transient transfer error (simulated fault)", info_.name));
  }
  return OkStatus();
}

Result<backends::RunResult> SimDevice::Run(backends::Program& program,
                                           const std::vector<backends::TensorBytes>& inputs) {
  return backends::RunThroughBuffers(*this, program, inputs);
}

Result<backends::RunResult> SimDevice::RunInPlace(backends::Program& program,
                                                  cpu::Profile* profile) {
  if (profile != nullptr) return Device::RunInPlace(program, profile);  // says why not
  TPUFLEET_RETURN_IF_ERROR(CheckFaults());
  const std::optional<int>& poison = config_.faults.abort_on_input_byte;
  std::span<const uint8_t> first = program.model().input_indices().empty()
                                       ? std::span<const uint8_t>()
                                       : program.input_buffer(0);
  if (poison && !first.empty() && first[0] == *poison) {
    return AbortedError(fmt::format(
        "{}: invocation failed on an input the device cannot take (simulated fault)", info_.name));
  }
  SimProgram& sim_program = static_cast<SimProgram&>(program);
  const EdgeTpuProgram& edgetpu = sim_program.edgetpu;
  bool reload = NeedsReload(edgetpu, resident_token_);

  backends::RunResult result;
  double share = bus_ ? bus_->ShareForNewTransfer() : 1.0;
  InvocationTime time = EstimateInvocation(edgetpu, config_.hardware, reload, share);
  const FaultPlan& f = config_.faults;
  bool slowed = !f.slow_after || stats_.invocations >= *f.slow_after;
  result.device_seconds = time.total() * (slowed ? std::max(1.0, f.slowdown) : 1.0);
  if (!clock_->Transfer(bus_.get(), result.device_seconds, interrupt_flag())) {
    return DeadlineExceededError(fmt::format("{}: invocation interrupted", info_.name));
  }
  resident_token_ = edgetpu.caching_token;
  result.reloaded = reload;
  result.reloaded_bytes = reload ? edgetpu.cached_bytes : 0;
  ++stats_.invocations;
  stats_.busy_seconds += result.device_seconds;
  if (reload) {
    ++stats_.reloads;
    stats_.reloaded_bytes += edgetpu.cached_bytes;
  }
  if (sim_program.interpreter) {
    TPUFLEET_RETURN_IF_ERROR(sim_program.interpreter->Invoke());
  } else {
    result.timing_only = true;
    for (size_t i = 0; i < program.model().output_indices().size(); ++i) {
      std::span<uint8_t> out = program.output_buffer(i);
      std::fill(out.begin(), out.end(), 0);
    }
  }
  return result;
}

}  // namespace tpufleet::sim
