// `tpufleet serve --models DIR [--plan plan.json] [--http HOST:PORT] [--grpc HOST:PORT]
// [--simulate [TOPOLOGY]] [options]`: a daemon that owns the host's Edge TPUs (or a simulated rig)
// and serves the models of a repository directory over KServe v2 REST and gRPC, the DeepStack
// detection API and Prometheus /metrics.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include "cli/commands.h"
#include "cli/files.h"
#include "server/access.h"
#include "server/admission.h"
#include "server/device_monitor.h"
#include "server/event_log.h"
#include "server/grpc_server.h"
#include "server/http_server.h"
#include "server/model_set.h"
#include "server/plan_placement.h"
#include "server/request_metrics.h"
#include "server/service.h"

namespace tpufleet::cli {
namespace {

struct ServeArgs {
  std::string models;
  std::string plan;  // a plan file from `tpufleet plan -o`; empty: none
  std::string http = "127.0.0.1:8000";
  std::string grpc;                     // empty: no gRPC
  std::optional<std::string> simulate;  // "" for the default rig, else a topology file
  std::string devices;                  // comma-separated; overrides --simulate's
  std::string api_key_file;
  bool allow_model_control = false;
  std::string detection_model;
  std::string log_format = "text";
  size_t max_in_flight = 64;
  size_t max_body_bytes = 64 << 20;
  int threads = 16;
  int read_timeout = 10;
  int idle_timeout = 5;
  int drain_seconds = 30;
  bool virtual_time = false;
  bool no_isolate = false;
};

// "HOST:PORT" or "[IPv6]:PORT", given as `flag`.
Result<std::pair<std::string, int>> ParseAddress(const std::string& flag, const std::string& text) {
  size_t colon = text.rfind(':');
  std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
  std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  bool digits = !port.empty() && port.size() <= 5 &&
                port.find_first_not_of("0123456789") == std::string::npos;
  if (host.empty() || !digits || std::stoi(port) > 65535) {
    return InvalidArgumentError(
        fmt::format("{} '{}' is not HOST:PORT (127.0.0.1:{}; port 0 picks a free one)", flag, text,
                    flag == "--grpc" ? 8001 : 8000));
  }
  return std::pair<std::string, int>(host, std::stoi(port));
}

Result<std::string> ReadApiKey(const std::string& path) {
  TPUFLEET_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, "the API key file"));
  size_t end = text.find_last_not_of(" \t\r\n");
  text = end == std::string::npos ? "" : text.substr(0, end + 1);
  if (text.empty() || text.find_first_of(" \t\r\n") != std::string::npos) {
    return InvalidArgumentError(path + ": the API key file must hold one key (no spaces)");
  }
  return text;
}

// The plan --plan names, checked against the other arguments; none without --plan.
Result<std::optional<planner::PlanFile>> ReadServePlan(const ServeArgs& args) {
  if (args.plan.empty()) return std::optional<planner::PlanFile>();
  if (!args.devices.empty() || (args.simulate && !args.simulate->empty())) {
    return InvalidArgumentError(
        "--plan gives the devices and the simulated topology; leave out --devices and the "
        "topology file of --simulate");
  }
  TPUFLEET_ASSIGN_OR_RETURN(std::string text, ReadTextFile(args.plan, "the plan"));
  Result<planner::PlanFile> parsed = planner::ParsePlanFile(text);
  if (!parsed.ok()) return parsed.status().WithContext(args.plan);
  return std::optional<planner::PlanFile>(std::move(parsed).value());
}

Result<FleetOptions> MakeFleetOptions(const ServeArgs& args,
                                      const std::optional<planner::PlanFile>& plan) {
  FleetOptions options;
  TPUFLEET_ASSIGN_OR_RETURN(options.sim_topology_json,
                            ReadTopologyFile(args.simulate.value_or("")));
  options.devices = SplitCommas(args.devices);
  if (plan) {
    options.devices = plan->devices;
    if (!plan->topology_json.empty()) options.sim_topology_json = plan->topology_json;
  }
  if (options.devices.empty() && args.simulate) {
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<sim::SimDeviceConfig> rig,
                              LoadRig(options.sim_topology_json));
    for (size_t i = 0; i < rig.size(); ++i) options.devices.push_back(fmt::format("sim:{}", i));
  }
  options.real_time = !args.virtual_time;
  options.isolate = !args.no_isolate;
  options.allow_timing_only = false;  // a client never gets zero-filled outputs as answers
  return options;
}

int Serve(const ServeArgs& args) {
  // SIGTERM and SIGINT wait for the main thread's sigwait: blocked before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::EventLog log(
      args.log_format == "json" ? server::LogFormat::kJson : server::LogFormat::kText, std::cerr);
  auto fail = [&](const Status& status) {
    log.Write("not started", {{"reason", status.message()}});
    return status.code() == StatusCode::kInvalidArgument ? 2 : 1;
  };
  server::AccessOptions access;  // the same key and model control for every front
  access.allow_model_control = args.allow_model_control;
  if (!args.api_key_file.empty()) {
    Result<std::string> key = ReadApiKey(args.api_key_file);
    if (!key.ok()) return fail(key.status());
    access.api_key = std::move(key).value();
  }
  Result<std::pair<std::string, int>> address = ParseAddress("--http", args.http);
  if (!address.ok()) return fail(address.status());
  server::HttpOptions http;
  http.access = access;
  std::tie(http.access.host, http.port) = address.value();
  if (Status bind = server::CheckBindNeedsKey(http.access, "--http"); !bind.ok()) {
    return fail(bind);
  }
  std::optional<server::GrpcOptions> grpc;
  if (!args.grpc.empty()) {
    Result<std::pair<std::string, int>> grpc_address = ParseAddress("--grpc", args.grpc);
    if (!grpc_address.ok()) return fail(grpc_address.status());
    grpc.emplace();
    grpc->access = access;
    std::tie(grpc->access.host, grpc->port) = grpc_address.value();
    if (Status bind = server::CheckBindNeedsKey(grpc->access, "--grpc"); !bind.ok()) {
      return fail(bind);
    }
    grpc->max_message_bytes = args.max_body_bytes;
    grpc->threads = args.threads;
    // The pause gRPC waits for after SIGTERM takes at most half the drain's time.
    grpc->pause_limit =
        std::min(grpc->pause_limit, std::chrono::milliseconds(args.drain_seconds * 1000 / 2));
  }
  http.detection_model = args.detection_model;
  http.max_body_bytes = args.max_body_bytes;
  http.threads = args.threads;
  http.read_timeout_seconds = args.read_timeout;
  http.idle_seconds = args.idle_timeout;

  Result<server::ModelRepository> repository = server::ModelRepository::Open(args.models);
  if (!repository.ok()) return fail(repository.status());
  Result<std::optional<planner::PlanFile>> plan = ReadServePlan(args);
  if (!plan.ok()) return fail(plan.status());
  std::map<std::string, server::ModelPlacement> planned;
  if (plan->has_value()) {
    Result<std::map<std::string, server::ModelPlacement>> placements =
        server::PlacementsFromPlan(**plan, *repository);
    if (!placements.ok()) return fail(placements.status().WithContext(args.plan));
    planned = std::move(placements).value();
  }
  Result<FleetOptions> options = MakeFleetOptions(args, *plan);
  if (!options.ok()) return fail(options.status());
  Result<std::unique_ptr<Fleet>> fleet = Fleet::Create(options.value());
  if (!fleet.ok()) return fail(fleet.status());
  std::vector<std::string> devices = (*fleet)->device_names();
  log.Write("fleet started", {{"devices", fmt::format("{}", fmt::join(devices, ","))}});

  server::ModelSet models(std::move(repository).value(), **fleet, log, std::move(planned));
  models.LoadAll();
  server::Admission admission(args.max_in_flight);
  server::RequestMetrics metrics;
  server::Service service(**fleet, models, admission, metrics);
  Result<std::unique_ptr<server::HttpServer>> bound =
      server::HttpServer::Bind(http, service, metrics);
  if (!bound.ok()) return fail(bound.status());
  server::HttpServer& front = *bound.value();
  std::unique_ptr<server::GrpcServer> grpc_front;
  if (grpc) {
    Result<std::unique_ptr<server::GrpcServer>> grpc_bound =
        server::GrpcServer::Bind(*grpc, service, metrics);
    if (!grpc_bound.ok()) return fail(grpc_bound.status());
    grpc_front = std::move(grpc_bound).value();
  }
  server::DeviceMonitor monitor(**fleet, log);

  std::promise<void> served;
  std::future<void> done = served.get_future();
  std::thread serving([&] {
    std::thread grpc_serving;
    if (grpc_front) grpc_serving = std::thread([&] { grpc_front->Serve(); });
    front.Serve();
    if (grpc_serving.joinable()) grpc_serving.join();
    served.set_value();
  });
  server::LogFields listening = {{"address", fmt::format("{}:{}", http.access.host, front.port())},
                                 {"port", std::to_string(front.port())},
                                 {"models", std::to_string(models.Loaded().size())}};
  if (grpc_front) {
    listening.emplace_back("grpc_address",
                           fmt::format("{}:{}", grpc->access.host, grpc_front->port()));
    listening.emplace_back("grpc_port", std::to_string(grpc_front->port()));
  }
  log.Write("listening", listening);
  int signal = 0;
  sigwait(&signals, &signal);
  log.Write("draining", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"},
                         {"in_flight", std::to_string(admission.in_flight())}});
  admission.Drain();
  front.Stop();
  if (grpc_front) grpc_front->Stop();
  if (done.wait_for(std::chrono::seconds(args.drain_seconds)) != std::future_status::ready) {
    log.Write("drain timed out", {{"seconds", std::to_string(args.drain_seconds)},
                                  {"in_flight", std::to_string(admission.in_flight())}});
    _exit(1);
  }
  serving.join();
  log.Write("stopped", {{"in_flight", std::to_string(admission.in_flight())}});
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& root, int& exit_code) {
  CLI::App* cmd = root.add_subcommand(
      "serve",
      "Serve a model repository over KServe v2 REST and gRPC, DeepStack's API and /metrics");
  cmd->footer(
      "Owns every Edge TPU of the host (each in a child process), or with --simulate a\n"
      "simulated rig, and serves each model of the repository directory --models: NAME.tflite,\n"
      "or a folder NAME/ with the model, labels.txt and config.json ({\"devices\": [...],\n"
      "\"replicas\": N, \"group\": \"G\"}; --plan's placement overrides it); a compiled\n"
      "X_edgetpu.tflite beside its twin X.tflite is the one served. Binds loopback by default;\n"
      "any other address needs --api-key-file. SIGTERM stops accepting, answers what was\n"
      "admitted and exits 0. See docs/serving.md for the endpoints.\n\n"
      "Examples:\n"
      "  tpufleet serve --models /srv/models\n"
      "  tpufleet serve --models ./models --simulate --http 127.0.0.1:8000 --log-format json\n"
      "  tpufleet serve --models ./models --grpc 127.0.0.1:8001\n"
      "  tpufleet serve --models ./models --plan plan.json --simulate\n"
      "  tpufleet serve --models ./models --http 0.0.0.0:8000 --api-key-file /etc/tpufleet/key");
  auto args = std::make_shared<ServeArgs>();
  cmd->add_option("--models", args->models, "The model repository directory")->required();
  cmd->add_option("--plan", args->plan,
                  "Place the models as a plan from 'tpufleet plan -o' says (its devices too)");
  cmd->add_option("--http", args->http, "Address to serve HTTP on, HOST:PORT (port 0: any free)")
      ->default_val("127.0.0.1:8000");
  cmd->add_option("--grpc", args->grpc,
                  "Also serve KServe v2 over gRPC on HOST:PORT (port 0: any free; default: off)");
  cmd->add_option("--simulate", args->simulate,
                  "Serve on simulated Edge TPUs: the default rig, or a topology file")
      ->expected(0, 1);
  cmd->add_option("--devices", args->devices,
                  "Devices, comma-separated (sim:N, cpu, usb:N, ...); default: every Edge TPU");
  cmd->add_option("--api-key-file", args->api_key_file,
                  "File holding the API key clients must send (Authorization: Bearer KEY)");
  cmd->add_flag("--allow-model-control", args->allow_model_control,
                "Allow repository load and unload on a non-loopback address");
  cmd->add_option("--detection-model", args->detection_model,
                  "The model /v1/vision/detection uses (default: the first detector loaded)");
  cmd->add_option("--log-format", args->log_format, "Log lines as text or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--max-in-flight", args->max_in_flight,
                  "Inference requests held at once; beyond them 429")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-body-bytes", args->max_body_bytes, "Largest request body (else 413)")
      ->check(CLI::Range(1024, 1 << 30));
  cmd->add_option("--threads", args->threads, "HTTP connections served at once")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--read-timeout", args->read_timeout,
                  "Seconds a client may stay silent mid-request")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--idle-timeout", args->idle_timeout,
                  "Seconds an idle keep-alive connection stays open")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--drain-seconds", args->drain_seconds,
                  "After SIGTERM, how long admitted requests may take before exit 1")
      ->check(CLI::Range(1, 3600));
  cmd->add_flag("--virtual-time", args->virtual_time,
                "Simulated devices answer without waiting their modeled time");
  cmd->add_flag("--no-isolate", args->no_isolate,
                "Run real Edge TPUs in this process instead of one child process each");
  cmd->callback([args, &exit_code] { exit_code = Serve(*args); });
}

}  // namespace tpufleet::cli
