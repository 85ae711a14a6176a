#include "sim/sim_device.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "backends/cpu_device.h"
#include "cpu/interpreter.h"
#include "model/edgetpu_package.h"

namespace tpufleet::sim {
namespace {

class SimProgram : public backends::Program {
 public:
  SimProgram(ModelPtr model, EdgeTpuProgram edgetpu, std::unique_ptr<cpu::Interpreter> interpreter)
      : Program(std::move(model)),
        edgetpu(std::move(edgetpu)),
        interpreter(std::move(interpreter)) {}
  EdgeTpuProgram edgetpu;
  std::unique_ptr<cpu::Interpreter> interpreter;  // null: outputs are timing-only
};

// The model whose outputs the CPU computes for `model`: itself when uncompiled, else its
// uncompiled twin when that file exists and loads. Null when neither is at hand.
ModelPtr OutputModel(const ModelPtr& model) {
  if (!model->is_edgetpu_compiled()) return model;
  std::string twin = UncompiledTwinPath(model->name());
  if (twin.empty() || !std::filesystem::exists(twin)) return nullptr;
  Result<ModelPtr> loaded = Model::FromFile(twin);
  return loaded.ok() && !loaded.value()->is_edgetpu_compiled() ? loaded.value() : nullptr;
}

// Why OutputModel found nothing for the compiled `model`.
Status NoOutputModelError(const Model& model) {
  std::string twin = UncompiledTwinPath(model.name());
  return NotFoundError(twin.empty() ? "it is compiled and not named x_edgetpu.tflite, so it has "
                                      "no uncompiled twin"
                                    : fmt::format("its uncompiled twin {} is missing or does not "
                                                  "load",
                                                  twin));
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
    ModelPtr outputs = OutputModel(model);
    Status why = outputs ? OkStatus() : NoOutputModelError(*model);
    if (outputs) {
      // A model the CPU cannot run still has a timing; its outputs are then timing-only.
      Result<std::unique_ptr<cpu::Interpreter>> created = cpu::Interpreter::Create(outputs);
      if (created.ok()) interpreter = std::move(created).value();
      why = created.status();
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

Result<std::unique_ptr<backends::Program>> SimDevice::Prepare(ModelPtr model) {
  TPUFLEET_ASSIGN_OR_RETURN(EdgeTpuProgram edgetpu, Compile(*model, config_.hardware.sram_bytes));
  return MakeProgram(std::move(model), std::move(edgetpu));
}

Result<std::vector<std::unique_ptr<backends::Program>>> SimDevice::PrepareGroup(
    const std::vector<ModelPtr>& models) {
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
  failed_probes_ = 0;
  resident_token_ = 0;
  config_.faults.disconnect_after.reset();
  config_.faults.disconnect_at.reset();
  config_.faults.hang_after.reset();
}

Status SimDevice::Probe() {
  if (!disconnected_ && !hung_) return OkStatus();
  const std::optional<int>& recover = config_.faults.recover_after_probes;
  if (recover && failed_probes_ >= *recover) {
    Reconnect();
    return OkStatus();
  }
  ++failed_probes_;
  return UnavailableError(fmt::format("{}: device {} (simulated fault)", info_.name,
                                      disconnected_ ? "disconnected" : "hung"));
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
    interrupt_ = false;
    clock_->Wait(f.hang_seconds, interrupt_);
    hung_ = true;
    resident_token_ = 0;
    return DeadlineExceededError(fmt::format("{}: device hung (simulated fault)", info_.name));
  }
  if (f.transient_error_every > 0 && (stats_.invocations + 1) % f.transient_error_every == 0) {
    ++stats_.invocations;  // the attempt counts; the next one succeeds
    return UnavailableError(
        fmt::format("{}: transient transfer error (simulated fault)", info_.name));
  }
  return OkStatus();
}

Result<backends::RunResult> SimDevice::Run(backends::Program& program,
                                           const std::vector<backends::TensorBytes>& inputs) {
  TPUFLEET_RETURN_IF_ERROR(backends::CheckInputs(program.model(), inputs));
  TPUFLEET_RETURN_IF_ERROR(CheckFaults());
  SimProgram& sim_program = static_cast<SimProgram&>(program);
  const EdgeTpuProgram& edgetpu = sim_program.edgetpu;
  bool reload = edgetpu.cached_bytes > 0 &&
                (resident_token_ == 0 || resident_token_ != edgetpu.caching_token);

  backends::RunResult result;
  {
    double share = bus_ ? bus_->ShareForNewTransfer() : 1.0;
    std::optional<SimBus::Transfer> transfer;
    if (bus_) transfer.emplace(*bus_);
    InvocationTime time = EstimateInvocation(edgetpu, config_.hardware, reload, share);
    result.device_seconds = time.total() * std::max(1.0, config_.faults.slowdown);
    interrupt_ = false;
    if (!clock_->Wait(result.device_seconds, interrupt_)) {
      return DeadlineExceededError(fmt::format("{}: invocation interrupted", info_.name));
    }
  }
  // Token 0 (old stand-alone packages) is never kept: every run reloads.
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
    TPUFLEET_ASSIGN_OR_RETURN(result.outputs,
                              backends::RunInterpreter(*sim_program.interpreter, inputs));
  } else {
    result.timing_only = true;
    for (int i : program.model().output_indices())
      result.outputs.emplace_back(program.model().tensors()[i].byte_size, 0);
  }
  return result;
}

Result<std::vector<SimDeviceConfig>> ParseTopology(const std::string& json_text) {
  nlohmann::json root = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object() || !root.contains("devices") ||
      !root["devices"].is_array()) {
    return InvalidArgumentError(
        "a simulated topology is a JSON object {\"devices\": [{\"link\": \"usb3\", ...}, ...]}");
  }
  std::vector<SimDeviceConfig> devices;
  for (size_t i = 0; i < root["devices"].size(); ++i) {
    const nlohmann::json& d = root["devices"][i];
    std::string where = fmt::format("devices[{}]", i);
    if (!d.is_object()) return InvalidArgumentError(where + " is not an object");
    SimDeviceConfig config;
    config.hardware.bus = static_cast<int>(i) + 1;
    try {
      if (d.contains("link")) {
        TPUFLEET_ASSIGN_OR_RETURN(config.hardware.link, ParseLink(d["link"].get<std::string>()));
      }
      if (d.contains("clock")) {
        TPUFLEET_ASSIGN_OR_RETURN(config.hardware.clock, ParseClock(d["clock"].get<std::string>()));
      }
      if (d.contains("sram_bytes")) config.hardware.sram_bytes = d["sram_bytes"].get<uint64_t>();
      if (d.contains("bus")) config.hardware.bus = d["bus"].get<int>();
      if (d.contains("compute_outputs")) config.compute_outputs = d["compute_outputs"].get<bool>();
      if (d.contains("faults")) {
        const nlohmann::json& f = d["faults"];
        FaultPlan& plan = config.faults;
        if (f.contains("disconnect_after"))
          plan.disconnect_after = f["disconnect_after"].get<int>();
        if (f.contains("disconnect_at")) plan.disconnect_at = f["disconnect_at"].get<double>();
        if (f.contains("hang_after")) plan.hang_after = f["hang_after"].get<int>();
        if (f.contains("hang_seconds")) plan.hang_seconds = f["hang_seconds"].get<double>();
        if (f.contains("recover_after_probes"))
          plan.recover_after_probes = f["recover_after_probes"].get<int>();
        if (f.contains("slowdown")) plan.slowdown = f["slowdown"].get<double>();
        if (f.contains("transient_error_every"))
          plan.transient_error_every = f["transient_error_every"].get<int>();
      }
    } catch (const nlohmann::json::exception& e) {
      return InvalidArgumentError(fmt::format("{}: {}", where, e.what()));
    } catch (...) {
      return InvalidArgumentError(where + ": malformed");
    }
    if (config.hardware.sram_bytes < 1024)
      return InvalidArgumentError(where + ": sram_bytes must be at least 1024");
    if (config.faults.slowdown < 1)
      return InvalidArgumentError(where + ": faults.slowdown must be at least 1");
    devices.push_back(config);
  }
  return devices;
}

std::vector<SimDeviceConfig> DefaultTopology() {
  SimDeviceConfig first, second;
  first.hardware.bus = 1;
  second.hardware.bus = 2;
  return {first, second};
}

}  // namespace tpufleet::sim
