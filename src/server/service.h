// KServe v2 (the Open Inference Protocol) over the fleet, independent of the transport: health,
// server and model metadata, inference, the statistics and model repository extensions, and
// the Prometheus text. Each call answers a Reply with reply.h's status mapping.
//
// Inference runs through Run: admission (a bounded number in flight, 429 beyond it, 503 while
// draining), the request's deadline (`timeout`) to the fleet, and its statistics.
//
// Thread-safety: every method may be called from any thread; the references given to the
// constructor must outlive the Service.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <string_view>

#include "server/admission.h"
#include "server/infer_codec.h"
#include "server/model_set.h"
#include "server/reply.h"
#include "server/request_metrics.h"
#include "tpufleet/fleet.h"

namespace tpufleet::server {

using Clock = std::chrono::steady_clock;
using Submission = std::function<std::future<Result<InferenceResult>>(
    Fleet& fleet, int model, std::optional<Clock::time_point> deadline)>;

// NOT_FOUND, saying how to list the models.
Status UnknownModel(const std::string& name);

class Service {
 public:
  Service(Fleet& fleet, ModelSet& models, Admission& admission, RequestMetrics& metrics);

  Reply Live() const;
  Reply Ready() const;  // 200 while not draining and a device is healthy, else 400
  Reply ModelReady(const std::string& name) const;  // 404 unknown, 400 not ready
  Reply ServerMetadata() const;
  Reply ModelMetadata(const std::string& name) const;
  // `header_length`: the Inference-Header-Content-Length header's value, when given.
  Reply Infer(const std::string& name, std::string_view body,
              std::optional<std::string_view> header_length, Clock::time_point arrival);
  // Every model's statistics when `name` is empty.
  Reply Statistics(const std::string& name) const;
  Reply RepositoryIndex(std::string_view body) const;
  Reply Load(const std::string& name, std::string_view body);
  Reply Unload(const std::string& name);
  // The fleet's metrics and the requests', in Prometheus' text format.
  std::string Metrics() const;

  // Runs a decoded `request` on `served`: its inputs checked against the model's (else
  // INVALID_ARGUMENT) and their bytes moved into the fleet, admitted, submitted with its
  // deadline (`timeout`), and its statistics recorded. Answers every output of the model, in the
  // model's order.
  Result<TensorList> RunRequest(const ServedModel& served, InferRequest& request,
                                Clock::time_point arrival);
  // RunRequest without waiting: `done` gets the answer, once, on the thread that has it (a fleet
  // thread, or this one when the request is refused before it reaches the fleet; in virtual time
  // always this one, before StartRequest returns). `served` must stay alive until then.
  void StartRequest(const ServedModel& served, InferRequest& request, Clock::time_point arrival,
                    std::function<void(Result<TensorList>)> done);

  // Admits, submits and waits for one inference of `served`, recording its statistics.
  Result<InferenceResult> Run(const ServedModel& served, const Submission& submit,
                              std::optional<int64_t> timeout_us, int64_t priority,
                              Clock::time_point arrival);

  ModelSet& models() { return models_; }

 private:
  bool AnyDeviceHealthy(const std::vector<std::string>& among) const;
  // `arrival` plus `timeout_us`, if any.
  static std::optional<Clock::time_point> Deadline(std::optional<int64_t> timeout_us,
                                                   Clock::time_point arrival);
  // Records the statistics of `result`, an answer for `served`; a NOT_FOUND of a model unloaded
  // meanwhile becomes the unknown-model error.
  void Conclude(const ServedModel& served, Clock::time_point arrival,
                Result<InferenceResult>& result) const;

  Fleet& fleet_;
  ModelSet& models_;
  Admission& admission_;
  RequestMetrics& metrics_;
};

}  // namespace tpufleet::server
