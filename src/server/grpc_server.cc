#include "server/grpc_server.h"

#include <absl/synchronization/mutex.h>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "kserve/grpc_service.grpc.pb.h"
#include "server/access.h"
#include "server/grpc_codec.h"

namespace tpufleet::server {
// Named rather than anonymous: GrpcServer::Impl holds these types.
namespace grpc_front {

// The daemon's Service; inside the generated services' subclasses `Service` names their base.
using DaemonService = tpufleet::server::Service;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

grpc::StatusCode GrpcCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return grpc::StatusCode::OK;
    case StatusCode::kInvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kNotFound: return grpc::StatusCode::NOT_FOUND;
    case StatusCode::kDataLoss: return grpc::StatusCode::DATA_LOSS;
    case StatusCode::kUnimplemented: return grpc::StatusCode::UNIMPLEMENTED;
    case StatusCode::kFailedPrecondition: return grpc::StatusCode::FAILED_PRECONDITION;
    case StatusCode::kResourceExhausted: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::kUnavailable: return grpc::StatusCode::UNAVAILABLE;
    case StatusCode::kDeadlineExceeded: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case StatusCode::kAborted: return grpc::StatusCode::ABORTED;
    default: return grpc::StatusCode::INTERNAL;
  }
}

grpc::Status ToGrpc(const Status& status) {
  return grpc::Status(GrpcCode(status.code()), status.message());
}

// What both services need: the key check and the metrics of each call.
class CallGuard {
 public:
  CallGuard(const GrpcOptions& options, RequestMetrics& metrics)
      : options_(options), metrics_(metrics) {}

  // OK, or UNAUTHENTICATED when the call lacks the API key.
  grpc::Status Authorize(const grpc::ServerContextBase& context) const {
    NoteActivity();
    if (options_.access.api_key.empty()) return grpc::Status::OK;
    auto [begin, end] = context.client_metadata().equal_range("authorization");
    for (auto it = begin; it != end; ++it) {
      if (BearerAuthorized(std::string_view(it->second.data(), it->second.size()),
                           options_.access)) {
        return grpc::Status::OK;
      }
    }
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        UnauthorizedMessage("the metadata \"authorization: Bearer KEY\""));
  }

  void Record(const std::string& model, const grpc::Status& status,
              Clock::time_point arrival) const {
    NoteActivity();
    metrics_.Record("grpc", model, static_cast<int>(status.error_code()),
                    std::chrono::duration<double>(Clock::now() - arrival).count());
  }

  const GrpcOptions& options() const { return options_; }

  // Returns once no call has arrived or been answered for `quiet`, or at `limit`. (A caller
  // answered sends its next call at once.)
  void WaitForQuiet(Clock::duration quiet, Clock::time_point limit) const {
    for (;;) {
      Clock::time_point last{Clock::duration(last_activity_.load(std::memory_order_relaxed))};
      Clock::time_point until = std::min(last + quiet, limit);
      if (Clock::now() >= until) return;
      std::this_thread::sleep_until(until);
    }
  }

 private:
  void NoteActivity() const {
    last_activity_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  }

  const GrpcOptions& options_;
  RequestMetrics& metrics_;
  // When the last call arrived or was answered (Clock ticks): one atomic store per call, no lock.
  mutable std::atomic<Clock::rep> last_activity_{0};
};

// ModelInfer is served through gRPC's callback API: the call is answered from the fleet's thread
// that has the result, and no thread waits for it. The other methods are quick and synchronous.
class InferenceService final
    : public inference::GRPCInferenceService::WithCallbackMethod_ModelInfer<
          inference::GRPCInferenceService::Service> {
 public:
  InferenceService(DaemonService& service, const CallGuard& guard)
      : service_(service), guard_(guard) {}

  grpc::Status ServerLive(grpc::ServerContext* context, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse* response) override {
    return Answer(*context, response, [&] { return service_.Live(); });
  }

  grpc::Status ServerReady(grpc::ServerContext* context, const inference::ServerReadyRequest*,
                           inference::ServerReadyResponse* response) override {
    return Answer(*context, response, [&] { return service_.Ready(); });
  }

  grpc::Status ModelReady(grpc::ServerContext* context, const inference::ModelReadyRequest* request,
                          inference::ModelReadyResponse* response) override {
    return Answer(*context, response, [&] { return service_.ModelReady(request->name()); });
  }

  grpc::Status ServerMetadata(grpc::ServerContext* context, const inference::ServerMetadataRequest*,
                              inference::ServerMetadataResponse* response) override {
    return Answer(*context, response, [&] { return service_.ServerMetadata(); });
  }

  grpc::Status ModelMetadata(grpc::ServerContext* context,
                             const inference::ModelMetadataRequest* request,
                             inference::ModelMetadataResponse* response) override {
    return Answer(*context, response, [&] { return service_.ModelMetadata(request->name()); });
  }

  grpc::Status ModelStatistics(grpc::ServerContext* context,
                               const inference::ModelStatisticsRequest* request,
                               inference::ModelStatisticsResponse* response) override {
    return Answer(*context, response, [&] { return service_.Statistics(request->name()); });
  }

  grpc::Status RepositoryIndex(grpc::ServerContext* context,
                               const inference::RepositoryIndexRequest* request,
                               inference::RepositoryIndexResponse* response) override {
    return Answer(*context, response, [&] {
      Reply reply = service_.RepositoryIndex(request->ready() ? R"({"ready": true})" : "");
      if (reply.error.ok()) reply.body = R"({"models": )" + reply.body + "}";
      return reply;
    });
  }

  grpc::Status RepositoryModelLoad(grpc::ServerContext* context,
                                   const inference::RepositoryModelLoadRequest* request,
                                   inference::RepositoryModelLoadResponse* response) override {
    return ModelControl(*context, response, [&] {
      // A "config" parameter gets the same refusal as over REST.
      bool config = request->parameters().contains("config");
      return service_.Load(request->model_name(),
                           config ? R"({"parameters": {"config": ""}})" : "");
    });
  }

  grpc::Status RepositoryModelUnload(grpc::ServerContext* context,
                                     const inference::RepositoryModelUnloadRequest* request,
                                     inference::RepositoryModelUnloadResponse* response) override {
    return ModelControl(*context, response, [&] { return service_.Unload(request->model_name()); });
  }

  // Returns once every ModelInfer call has been finished, to the last touch of this service
  // (gRPC's shutdown waits for them too, but inside libgrpc, where ThreadSanitizer cannot see),
  // or at `limit`.
  void WaitForCalls() {
    std::unique_lock<std::mutex> lock(calls_mutex_);
    calls_done_.wait(lock, [&] { return calls_in_flight_ == 0; });
  }
  void WaitForCalls(Clock::time_point limit) {
    std::unique_lock<std::mutex> lock(calls_mutex_);
    calls_done_.wait_until(lock, limit, [&] { return calls_in_flight_ == 0; });
  }

  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override {
    Clock::time_point arrival = Clock::now();
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    {
      std::lock_guard<std::mutex> lock(calls_mutex_);
      ++calls_in_flight_;
    }
    auto finish = [this, reactor, arrival](const std::string& model, const grpc::Status& status) {
      guard_.Record(model, status, arrival);
      reactor->Finish(status);
      std::lock_guard<std::mutex> lock(calls_mutex_);  // the last touch of this service
      if (--calls_in_flight_ == 0) calls_done_.notify_all();
    };
    grpc::Status status = guard_.Authorize(*context);
    if (!status.ok()) {
      finish("", status);
      return reactor;
    }
    std::shared_ptr<const ServedModel> served = service_.models().Find(request->model_name());
    if (!served) {
      finish("", ToGrpc(UnknownModel(request->model_name())));
      return reactor;
    }
    Result<InferRequest> decoded = DecodeInferRequest(*request);
    if (!decoded.ok()) {
      finish(served->entry.name, ToGrpc(decoded.status()));
      return reactor;
    }
    BoundByDeadline(*context, *decoded);
    // The decoded request's names and output choices outlive this call, for the answer.
    auto held = std::make_shared<InferRequest>(std::move(decoded).value());
    // The answer is filled and sent on the device's worker thread: a copy of the outputs into
    // the response, which is less than a hand-off to another thread would cost.
    service_.StartRequest(
        *served, *held, arrival, [served, held, response, finish](Result<TensorList> outputs) {
          Status answered;
          try {
            answered = outputs.ok() ? FillInferResponse(*served->model, served->entry.name, *held,
                                                        *outputs, *response)
                                    : outputs.status();
          } catch (const std::exception& e) {  // bad_alloc: the call fails, the worker goes on
            answered = InternalError(std::string("the response could not be made: ") + e.what());
          }
          finish(served->entry.name, ToGrpc(answered));
        });
    return reactor;
  }

 private:
  // The call's deadline, when it has one, bounds the inference as `timeout` does.
  static void BoundByDeadline(const grpc::ServerContextBase& context, InferRequest& request) {
    auto now = std::chrono::system_clock::now();
    if (context.deadline() >= now + std::chrono::hours(24 * 365 * 100)) return;
    int64_t left = std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::microseconds>(context.deadline() - now).count());
    request.timeout_us = std::min(request.timeout_us.value_or(left), left);
  }

  // Answers `act`'s Reply as `response` (its JSON read into the message) or as its error.
  template <typename Message, typename Act>
  grpc::Status Answer(const grpc::ServerContext& context, Message* response, Act act) {
    Clock::time_point arrival = Clock::now();
    std::string model;
    grpc::Status status = guard_.Authorize(context);
    if (status.ok()) {
      Reply reply = act();
      model = reply.model;
      status = reply.error.ok() ? FromJson(reply.body, response) : ToGrpc(reply.error);
    }
    guard_.Record(model, status, arrival);
    return status;
  }

  template <typename Message, typename Act>
  grpc::Status ModelControl(const grpc::ServerContext& context, Message* response, Act act) {
    if (std::optional<std::string> refusal = ModelControlRefusal(guard_.options().access)) {
      grpc::Status status = guard_.Authorize(context);
      if (status.ok()) status = grpc::Status(grpc::StatusCode::PERMISSION_DENIED, *refusal);
      guard_.Record("", status, Clock::now());
      return status;
    }
    return Answer(context, response, act);
  }

  static grpc::Status FromJson(const std::string& json, google::protobuf::Message* message) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    if (!google::protobuf::util::JsonStringToMessage(json, message, options).ok()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "internal error while encoding the answer");
    }
    return grpc::Status::OK;
  }

  DaemonService& service_;
  const CallGuard& guard_;
  std::mutex calls_mutex_;  // guards calls_in_flight_
  std::condition_variable calls_done_;
  int calls_in_flight_ = 0;  // ModelInfer calls started and not yet finished
};

class HealthService final : public grpc::health::v1::Health::Service {
 public:
  HealthService(DaemonService& service, const CallGuard& guard)
      : service_(service), guard_(guard) {}

  grpc::Status Check(grpc::ServerContext* /*context*/, const HealthCheckRequest* request,
                     HealthCheckResponse* response) override {
    Clock::time_point arrival = Clock::now();
    grpc::Status status = Current(request->service(), *response);
    guard_.Record("", status, arrival);
    return status;
  }

  // The current status once; the call then ends with OK (clients watch again after a while).
  grpc::Status Watch(grpc::ServerContext* /*context*/, const HealthCheckRequest* request,
                     grpc::ServerWriter<HealthCheckResponse>* writer) override {
    Clock::time_point arrival = Clock::now();
    HealthCheckResponse response;
    if (!Current(request->service(), response).ok()) {
      response.set_status(HealthCheckResponse::SERVICE_UNKNOWN);
    }
    writer->Write(response);
    guard_.Record("", grpc::Status::OK, arrival);
    return grpc::Status::OK;
  }

 private:
  grpc::Status Current(const std::string& name, HealthCheckResponse& response) const {
    if (!name.empty() && name != inference::GRPCInferenceService::service_full_name()) {
      return grpc::Status(
          grpc::StatusCode::NOT_FOUND,
          fmt::format("no service '{}' here; ask for \"\" (the daemon) or \"{}\"",
                      name.substr(0, 256), inference::GRPCInferenceService::service_full_name()));
    }
    response.set_status(service_.Ready().status == 200 ? HealthCheckResponse::SERVING
                                                       : HealthCheckResponse::NOT_SERVING);
    return grpc::Status::OK;
  }

  DaemonService& service_;
  const CallGuard& guard_;
};

}  // namespace grpc_front

constexpr std::chrono::milliseconds kQuiet(100);

struct GrpcServer::Impl {
  GrpcOptions options;
  grpc_front::CallGuard guard;
  grpc_front::InferenceService inference;
  grpc_front::HealthService health;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::mutex mutex;
  std::condition_variable stop_requested;
  bool stopping = false;

  Impl(const GrpcOptions& o, Service& service, RequestMetrics& metrics)
      : options(o), guard(options, metrics), inference(service, guard), health(service, guard) {}
};

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrpcServer::~GrpcServer() {
  impl_->server->Shutdown();  // refuses new calls (a second Shutdown does nothing)
  impl_->inference.WaitForCalls();
}

Result<std::unique_ptr<GrpcServer>> GrpcServer::Bind(const GrpcOptions& options, Service& service,
                                                     RequestMetrics& metrics) {
  TPUFLEET_RETURN_IF_ERROR(CheckBindNeedsKey(options.access));
  // Debian builds abseil without NDEBUG, which leaves absl::Mutex's deadlock detection on: every
  // lock gRPC takes then updates a process-wide lock-order graph under a global lock, about a
  // tenth of a small call's CPU time. Nothing of tpufleet's locks through absl.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto impl = std::make_unique<Impl>(options, service, metrics);
  const std::string& host = options.access.host;
  std::string address = host.find(':') == std::string::npos
                            ? fmt::format("{}:{}", host, options.port)
                            : fmt::format("[{}]:{}", host, options.port);
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which lets a second daemon bind the same port and take
  // half its calls: a port in use must be an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &impl->port);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<size_t>(options.max_message_bytes, INT32_MAX)));
  grpc::ResourceQuota quota("tpufleet-grpc");
  quota.SetMaxThreads(std::max(4, options.threads));
  builder.SetResourceQuota(quota);
  builder.RegisterService(&impl->inference);
  builder.RegisterService(&impl->health);
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port <= 0) {
    return UnavailableError(fmt::format(
        "cannot listen for gRPC on {} (in use, or not an address of this machine)", address));
  }
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

int GrpcServer::port() const { return impl_->port; }

void GrpcServer::Serve() {
  {
    std::unique_lock<std::mutex> lock(impl_->mutex);
    impl_->stop_requested.wait(lock, [&] { return impl_->stopping; });
  }
  // libgrpc's shutdown cancels (CANCELLED, which callers do not retry) the calls it has received
  // but not yet handed to a method. So the port closes once callers have moved on, answered
  // UNAVAILABLE by the draining Service: when no inference is in progress (its caller would
  // send the next one at once) and calls have paused, or at the latest pause_limit.
  const Clock::time_point limit = Clock::now() + impl_->options.pause_limit;
  impl_->inference.WaitForCalls(limit);
  impl_->guard.WaitForQuiet(kQuiet, limit);
  impl_->server->Shutdown();  // refuses new calls, waits for those in progress
  impl_->server->Wait();
}

void GrpcServer::Stop() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->stopping = true;
  impl_->stop_requested.notify_all();
}

}  // namespace tpufleet::server
