// The daemon's HTTP/1.1 front (keep-alive): KServe v2 REST under /v2, the DeepStack detection
// API under /v1/vision, Prometheus text at /metrics. Requests are answered by the Service;
// this layer adds what only HTTP has: routes, bodies, headers, authentication, limits.
//
// Security (access.h): a bind address other than loopback needs an API key; with a key, every
// request must carry "Authorization: Bearer KEY" (DeepStack requests may give it as the form
// field api_key instead), else 401. Repository load and unload are refused (403) on
// non-loopback binds unless model control is allowed.
//
// Limits: bodies above max_body_bytes get 413; a client silent for read_timeout_seconds is
// dropped; an idle keep-alive connection is closed after idle_seconds.
//
// Thread-safety: Serve blocks one thread; Stop may be called from any other.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "server/access.h"
#include "server/request_metrics.h"
#include "server/service.h"

namespace tpufleet::server {

struct HttpOptions {
  AccessOptions access;         // the host bound, the API key, model control
  int port = 8000;              // 0: any free port (port() says which)
  std::string detection_model;  // /v1/vision/detection's; empty: the first loaded detector
  size_t max_body_bytes = 64 << 20;
  int threads = 16;  // connections served at once
  int read_timeout_seconds = 10;
  int idle_seconds = 5;
};

class HttpServer {
 public:
  // Binds the address. Errors: INVALID_ARGUMENT for a non-loopback host without an API key;
  // UNAVAILABLE when the address cannot be bound (in use, not local).
  static Result<std::unique_ptr<HttpServer>> Bind(const HttpOptions& options, Service& service,
                                                  RequestMetrics& metrics);
  ~HttpServer();
  int port() const;
  // Serves until Stop; returns once the requests in progress are answered.
  void Serve();
  // Stops accepting connections; Serve returns when the requests in progress are answered.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tpufleet::server
