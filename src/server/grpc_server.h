// The daemon's gRPC front (HTTP/2): KServe v2's inference.GRPCInferenceService (live, ready,
// model ready, metadata, ModelInfer, the repository and statistics extensions) and the standard
// grpc.health.v1.Health. Calls are answered by the Service, with its status mapped to gRPC's
// codes (the project's codes are gRPC's names): INVALID_ARGUMENT bad tensor, NOT_FOUND unknown
// model, RESOURCE_EXHAUSTED queue full, UNAVAILABLE no device or draining, DEADLINE_EXCEEDED,
// UNIMPLEMENTED; the same messages as REST. A call's gRPC deadline bounds its inference like the
// `timeout` parameter (the earlier of the two counts).
//
// Health: Check answers SERVING for "" and "inference.GRPCInferenceService" while the daemon is
// ready (not draining, a device healthy), NOT_SERVING otherwise, NOT_FOUND for other services.
// Watch sends the current status once and ends the call with OK.
//
// Security (access.h): a non-loopback bind needs an API key; with a key every call must carry
// the metadata "authorization: Bearer KEY", else UNAUTHENTICATED. Repository load and unload
// are refused (PERMISSION_DENIED) on non-loopback binds unless model control is allowed.
//
// Thread-safety: Serve blocks one thread; Stop may be called from any other.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "server/access.h"
#include "server/request_metrics.h"
#include "server/service.h"

namespace tpufleet::server {

struct GrpcOptions {
  AccessOptions access;  // the host bound, the API key, model control
  int port = 8001;       // 0: any free port (port() says which)
  size_t max_message_bytes = 64 << 20;
  // Threads serving the quick calls (health, metadata, repository, statistics). ModelInfer is
  // answered from the fleet's threads and bounded by admission (--max-in-flight), not by these.
  int threads = 16;
  // After Stop, calls are answered until no inference is in progress and none has arrived or
  // been answered for 100 ms, but for no longer than this; then the port closes.
  std::chrono::milliseconds pause_limit{2000};
};

class GrpcServer {
 public:
  // Binds the address. Errors: INVALID_ARGUMENT for a non-loopback host without an API key;
  // UNAVAILABLE when the address cannot be bound (in use, not local).
  static Result<std::unique_ptr<GrpcServer>> Bind(const GrpcOptions& options, Service& service,
                                                  RequestMetrics& metrics);
  ~GrpcServer();
  int port() const;
  // Serves until Stop; returns once the calls in progress are answered.
  void Serve();
  // Returns at once. Serve goes on answering until calls pause (GrpcOptions::pause_limit: with
  // the Service draining, callers are told UNAVAILABLE and go elsewhere), then stops accepting
  // calls and returns when those in progress are answered.
  void Stop();

 private:
  struct Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tpufleet::server
