#include "server/service.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "server/infer_codec.h"

namespace tpufleet::server {

Status UnknownModel(const std::string& name) {
  return NotFoundError(
      fmt::format("no model '{}' is loaded; GET /v2/repository/index (POST) lists the repository",
                  name.substr(0, 256)));
}

namespace {

using nlohmann::json;

json TensorMetadata(const TensorInfo& t) {
  return {{"name", t.name}, {"datatype", V2Datatype(t.type)}, {"shape", t.shape}};
}

// Quantization of each tensor as model properties: "input.NAME.scale" and ".zero_point" (one
// value, or comma-separated per channel with ".axis").
void AddQuantization(const std::string& role, const TensorInfo& t, json& properties) {
  if (t.quantization.empty()) return;
  std::string key = role + "." + t.name;
  properties[key + ".scale"] = fmt::format("{}", fmt::join(t.quantization.scales, ","));
  properties[key + ".zero_point"] = fmt::format("{}", fmt::join(t.quantization.zero_points, ","));
  if (t.quantization.per_channel()) {
    properties[key + ".axis"] = std::to_string(t.quantization.axis);
  }
}

json Duration(uint64_t count, uint64_t ns) { return {{"count", count}, {"ns", ns}}; }

Result<json> OptionalJsonObject(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
  json parsed = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return InvalidArgumentError("the body must be empty or a JSON object");
  }
  return parsed;
}

}  // namespace

int HttpStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kDataLoss:
    case StatusCode::kFailedPrecondition: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kUnimplemented: return 501;
    default: return 500;
  }
}

Service::Service(Fleet& fleet, ModelSet& models, Admission& admission, RequestMetrics& metrics)
    : fleet_(fleet), models_(models), admission_(admission), metrics_(metrics) {}

bool Service::AnyDeviceHealthy(const std::vector<std::string>& among) const {
  FleetMetrics metrics = fleet_.Metrics();
  return std::any_of(metrics.devices.begin(), metrics.devices.end(), [&](const DeviceMetrics& d) {
    return d.healthy &&
           (among.empty() || std::find(among.begin(), among.end(), d.device) != among.end());
  });
}

Reply Service::Live() const { return JsonReply({{"live", true}}); }

Reply Service::Ready() const {
  bool ready = !admission_.draining() && AnyDeviceHealthy({});
  return JsonReply({{"ready", ready}}, ready ? 200 : 400);
}

Reply Service::ModelReady(const std::string& name) const {
  std::shared_ptr<const ServedModel> served = models_.Find(name);
  if (!served) return ErrorReply(UnknownModel(name));
  Result<std::vector<std::string>> placement = fleet_.placement(served->id);
  bool ready = !admission_.draining() && placement.ok() && AnyDeviceHealthy(*placement);
  Reply reply = JsonReply({{"name", name}, {"ready", ready}}, ready ? 200 : 400);
  reply.model = name;
  return reply;
}

Reply Service::ServerMetadata() const {
  return JsonReply({{"name", "tpufleet"},
                    {"version", "0.1.0"},
                    {"extensions",
                     {"binary_tensor_data", "statistics", "model_repository", "schedule_policy",
                      "parameters"}}});
}

Reply Service::ModelMetadata(const std::string& name) const {
  std::shared_ptr<const ServedModel> served = models_.Find(name);
  if (!served) return ErrorReply(UnknownModel(name));
  const Model& model = *served->model;
  json inputs = json::array(), outputs = json::array(), properties = json::object();
  for (size_t i = 0; i < model.input_indices().size(); ++i) {
    inputs.push_back(TensorMetadata(model.input(i)));
    AddQuantization("input", model.input(i), properties);
  }
  for (size_t i = 0; i < model.output_indices().size(); ++i) {
    outputs.push_back(TensorMetadata(model.output(i)));
    AddQuantization("output", model.output(i), properties);
  }
  properties["edgetpu_compiled"] = model.is_edgetpu_compiled() ? "true" : "false";
  Result<std::vector<std::string>> placement = fleet_.placement(served->id);
  if (placement.ok()) properties["devices"] = fmt::format("{}", fmt::join(*placement, ","));
  Reply reply =
      JsonReply({{"name", name},
                 {"platform", model.is_edgetpu_compiled() ? "tflite_edgetpu" : "tensorflow_lite"},
                 {"inputs", inputs},
                 {"outputs", outputs},
                 {"properties", properties}});
  reply.model = name;
  return reply;
}

std::optional<Clock::time_point> Service::Deadline(std::optional<int64_t> timeout_us,
                                                   Clock::time_point arrival) {
  if (!timeout_us) return std::nullopt;
  // Saturating: a timeout beyond a century is none.
  int64_t us = std::min<int64_t>(*timeout_us, int64_t{100} * 365 * 24 * 3600 * 1000000);
  return arrival + std::chrono::microseconds(us);
}

void Service::Conclude(const ServedModel& served, Clock::time_point arrival,
                       Result<InferenceResult>& result) const {
  if (!result.ok() && result.status().code() == StatusCode::kNotFound &&
      models_.Find(served.entry.name).get() != &served) {
    result = UnknownModel(served.entry.name);  // unloaded between its lookup and its submission
  }
  double seconds = std::chrono::duration<double>(Clock::now() - arrival).count();
  metrics_.RecordInference(served.entry.name, result.ok(), seconds,
                           result.ok() ? result->device_seconds : 0);
}

Result<InferenceResult> Service::Run(const ServedModel& served, const Submission& submit,
                                     std::optional<int64_t> timeout_us, int64_t priority,
                                     Clock::time_point arrival) {
  TPUFLEET_ASSIGN_OR_RETURN(Admission::Ticket ticket, admission_.Enter(priority));
  Result<InferenceResult> result = submit(fleet_, served.id, Deadline(timeout_us, arrival)).get();
  Conclude(served, arrival, result);
  return result;
}

Result<TensorList> Service::RunRequest(const ServedModel& served, InferRequest& request,
                                       Clock::time_point arrival) {
  // On the heap, held by the completion: the answering thread may still be inside set_value
  // when this one wakes and returns.
  auto answer = std::make_shared<std::promise<Result<TensorList>>>();
  std::future<Result<TensorList>> outputs = answer->get_future();
  StartRequest(served, request, arrival,
               [answer](Result<TensorList> result) { answer->set_value(std::move(result)); });
  return outputs.get();
}

void Service::StartRequest(const ServedModel& served, InferRequest& request,
                           Clock::time_point arrival,
                           std::function<void(Result<TensorList>)> done) {
  Result<TensorList> inputs = TakeInputTensors(request, *served.model);
  if (!inputs.ok()) return done(inputs.status());
  Result<Admission::Ticket> ticket = admission_.Enter(request.priority);
  if (!ticket.ok()) return done(ticket.status());
  // The completion is a std::function, so what it holds must be copyable.
  auto held = std::make_shared<Admission::Ticket>(std::move(ticket).value());
  fleet_.Submit(served.id, std::move(inputs).value(), Deadline(request.timeout_us, arrival),
                [this, &served, arrival, held = std::move(held),
                 done = std::move(done)](Result<InferenceResult> result) mutable {
                  Conclude(served, arrival, result);
                  held.reset();  // the slot is free before the client hears the answer
                  if (!result.ok()) return done(result.status());
                  done(std::move(result->outputs));
                });
}

Reply Service::Infer(const std::string& name, std::string_view body,
                     std::optional<std::string_view> header_length, Clock::time_point arrival) {
  std::shared_ptr<const ServedModel> served = models_.Find(name);
  if (!served) return ErrorReply(UnknownModel(name));
  auto answer = [&]() -> Result<EncodedResponse> {
    std::optional<uint64_t> length;
    if (header_length) {
      TPUFLEET_ASSIGN_OR_RETURN(length, ParseHeaderLength(*header_length));
    }
    TPUFLEET_ASSIGN_OR_RETURN(InferRequest request, ParseInferRequest(body, length));
    TPUFLEET_ASSIGN_OR_RETURN(TensorList outputs, RunRequest(*served, request, arrival));
    return EncodeInferResponse(*served->model, name, request, outputs);
  }();
  Reply reply;
  if (answer.ok()) {
    reply.body = std::move(answer->body);
    reply.header_length = answer->header_length;
    if (reply.header_length) reply.content_type = "application/octet-stream";
  } else {
    reply = ErrorReply(answer.status());
  }
  reply.model = name;
  return reply;
}

Reply Service::Statistics(const std::string& name) const {
  std::vector<std::shared_ptr<const ServedModel>> models;
  if (name.empty()) {
    models = models_.Loaded();
  } else if (std::shared_ptr<const ServedModel> served = models_.Find(name)) {
    models.push_back(served);
  } else {
    return ErrorReply(UnknownModel(name));
  }
  json stats = json::array();
  for (const auto& served : models) {
    InferenceStatistics s = metrics_.Statistics(served->entry.name);
    stats.push_back({{"name", served->entry.name},
                     {"last_inference", s.last_inference_ms},
                     {"inference_count", s.success_count},
                     {"execution_count", s.success_count},
                     {"inference_stats",
                      {{"success", Duration(s.success_count, s.success_ns)},
                       {"fail", Duration(s.fail_count, s.fail_ns)},
                       {"queue", Duration(s.success_count, s.queue_ns)},
                       {"compute_input", Duration(0, 0)},
                       {"compute_infer", Duration(s.success_count, s.infer_ns)},
                       {"compute_output", Duration(0, 0)}}},
                     {"batch_stats", json::array()}});
  }
  Reply reply = JsonReply({{"model_stats", stats}});
  reply.model = name.empty() ? "" : name;
  return reply;
}

Reply Service::RepositoryIndex(std::string_view body) const {
  Result<json> request = OptionalJsonObject(body);
  if (!request.ok()) return ErrorReply(request.status());
  std::optional<bool> ready;
  if (auto it = request->find("ready"); it != request->end()) {
    if (!it->is_boolean())
      return ErrorReply(InvalidArgumentError("\"ready\" must be true or false"));
    ready = it->get<bool>();
  }
  json index = json::array();
  for (const ModelState& m : models_.Index()) {
    if (ready && *ready != (m.state == "READY")) continue;
    index.push_back({{"name", m.name}, {"state", m.state}, {"reason", m.reason}});
  }
  return JsonReply(index);
}

Reply Service::Load(const std::string& name, std::string_view body) {
  Result<json> request = OptionalJsonObject(body);
  if (!request.ok()) return ErrorReply(request.status());
  if (request->contains("parameters") && (*request)["parameters"].is_object() &&
      (*request)["parameters"].contains("config")) {
    return ErrorReply(UnimplementedError(
        "a \"config\" parameter is not taken; put config.json in the model's folder"));
  }
  Status loaded = models_.Load(name);
  if (!loaded.ok()) {
    // The repository extension answers a load that fails with 400, an absent model 404.
    Reply reply = ErrorReply(loaded);
    if (reply.status != 404 && reply.status != 503) reply.status = 400;
    return reply;
  }
  Reply reply = JsonReply({{"name", name}, {"load", true}});
  reply.model = name;
  return reply;
}

Reply Service::Unload(const std::string& name) {
  Status unloaded = models_.Unload(name);
  if (!unloaded.ok()) return ErrorReply(unloaded);
  return JsonReply({{"name", name}, {"unload", true}});
}

std::string Service::Metrics() const {
  FleetMetrics fleet = fleet_.Metrics();
  return MetricsPrometheus(fleet) + metrics_.Prometheus() +
         fmt::format(
             "# HELP tpufleet_server_in_flight Inference requests admitted and not yet answered.\n"
             "# TYPE tpufleet_server_in_flight gauge\ntpufleet_server_in_flight {}\n"
             "# HELP tpufleet_server_draining 1 while the daemon drains before it stops.\n"
             "# TYPE tpufleet_server_draining gauge\ntpufleet_server_draining {}\n",
             admission_.in_flight(), admission_.draining() ? 1 : 0);
}

}  // namespace tpufleet::server
