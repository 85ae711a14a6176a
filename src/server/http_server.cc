#include "server/http_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

#include "server/access.h"
#include "server/deepstack.h"

namespace tpufleet::server {
namespace {

void Send(const Reply& reply, httplib::Response& res) {
  res.status = reply.status;
  res.set_content(reply.body, reply.content_type.c_str());
  if (reply.header_length) {
    res.set_header("Inference-Header-Content-Length", std::to_string(*reply.header_length));
  }
  if (reply.retry_after_seconds > 0) {
    res.set_header("Retry-After", std::to_string(reply.retry_after_seconds));
  }
}

std::string Path(const httplib::Request& req, int group) { return req.matches[group].str(); }

}  // namespace

struct HttpServer::Impl {
  HttpOptions options;
  Service& service;
  RequestMetrics& metrics;
  httplib::Server http;
  int port = 0;

  Impl(const HttpOptions& o, Service& s, RequestMetrics& m) : options(o), service(s), metrics(m) {}

  // Registers `handler` for `method` and `pattern`, timing and counting each answer.
  template <typename Handler>
  void Route(const char* method, const std::string& pattern, const char* protocol,
             Handler handler) {
    auto timed = [this, protocol, handler](const httplib::Request& req, httplib::Response& res) {
      Clock::time_point arrival = Clock::now();
      Reply reply = handler(req, arrival);
      Send(reply, res);
      metrics.Record(protocol, reply.model, reply.status,
                     std::chrono::duration<double>(Clock::now() - arrival).count());
    };
    if (std::string(method) == "GET") {
      http.Get(pattern, timed);
    } else {
      http.Post(pattern, timed);
    }
  }

  bool Authorized(const httplib::Request& req, const std::string& form_key = "") const {
    return BearerAuthorized(req.get_header_value("Authorization"), options.access) ||
           (!form_key.empty() && SameKey(form_key, options.access.api_key));
  }

  static Reply Unauthorized() {
    return JsonReply({{"error", UnauthorizedMessage("\"Authorization: Bearer KEY\"",
                                                    "for DeepStack requests, the form field "
                                                    "api_key")}},
                     401);
  }

  Reply ModelControl(const std::function<Reply()>& act) const {
    if (std::optional<std::string> refusal = ModelControlRefusal(options.access)) {
      return JsonReply({{"error", *refusal}}, 403);
    }
    return act();
  }

  Reply Detection(const httplib::Request& req, const std::string& model,
                  Clock::time_point arrival) {
    std::map<std::string, std::string> fields;
    for (const auto& [name, part] : req.files) fields.emplace(name, part.content);
    Result<DetectionForm> form = ParseDetectionForm(fields);
    if (!Authorized(req, form.ok() ? form->api_key : "")) return Unauthorized();
    if (!form.ok()) return DeepStackError(form.status());
    std::shared_ptr<const ServedModel> served =
        DetectionModel(service.models(), model.empty() ? options.detection_model : model);
    if (!served) {
      return DeepStackError(NotFoundError(
          model.empty() && options.detection_model.empty()
              ? std::string("no detection model is loaded (a model ending in "
                            "TFLite_Detection_PostProcess, or a YOLO export)")
              : fmt::format("no model '{}' is loaded",
                            (model.empty() ? options.detection_model : model).substr(0, 256))));
    }
    return Detect(service, *served, form.value(), arrival);
  }

  void AddRoutes() {
    const std::string model = "/v2/models/([^/]+)(?:/versions/[^/]+)?";
    Route("GET", "/v2/health/live", "kserve", [this](auto&, auto) { return service.Live(); });
    Route("GET", "/v2/health/ready", "kserve", [this](auto&, auto) { return service.Ready(); });
    Route("GET", "/v2", "kserve", [this](auto&, auto) { return service.ServerMetadata(); });
    Route("GET", "/v2/models/stats", "kserve",
          [this](auto&, auto) { return service.Statistics(""); });
    Route("GET", model + "/ready", "kserve",
          [this](auto& req, auto) { return service.ModelReady(Path(req, 1)); });
    Route("GET", model + "/stats", "kserve",
          [this](auto& req, auto) { return service.Statistics(Path(req, 1)); });
    Route("GET", model, "kserve",
          [this](auto& req, auto) { return service.ModelMetadata(Path(req, 1)); });
    Route("POST", model + "/infer", "kserve", [this](const httplib::Request& req, auto arrival) {
      const char* header = "Inference-Header-Content-Length";
      std::string length = req.get_header_value(header);
      return service.Infer(
          Path(req, 1), req.body,
          req.has_header(header) ? std::optional<std::string_view>(length) : std::nullopt, arrival);
    });
    Route("POST", "/v2/repository/index", "kserve",
          [this](auto& req, auto) { return service.RepositoryIndex(req.body); });
    Route("POST", "/v2/repository/models/([^/]+)/load", "kserve", [this](auto& req, auto) {
      return ModelControl([&] { return service.Load(Path(req, 1), req.body); });
    });
    Route("POST", "/v2/repository/models/([^/]+)/unload", "kserve", [this](auto& req, auto) {
      return ModelControl([&] { return service.Unload(Path(req, 1)); });
    });
    Route("POST", "/v1/vision/detection", "deepstack",
          [this](auto& req, auto arrival) { return Detection(req, "", arrival); });
    Route("POST", "/v1/vision/custom/([^/]+)", "deepstack",
          [this](auto& req, auto arrival) { return Detection(req, Path(req, 1), arrival); });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(service.Metrics(), "text/plain; version=0.0.4");
    });
  }

  void AddGuards() {
    // Every request but DeepStack's (whose key may be a form field) and the health probes needs
    // the key, if any.
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.path.starts_with("/v1/vision/") || IsHealthProbe(req.path) || Authorized(req)) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      Send(Unauthorized(), res);
      res.set_header("WWW-Authenticate", "Bearer");
      return httplib::Server::HandlerResponse::Handled;
    });
    // Errors httplib answers itself (no route, too large, malformed) get a message too.
    http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      std::string message;
      switch (res.status) {
        case 404:
          message = fmt::format("no endpoint {} {}; see docs/serving.md", req.method,
                                req.path.substr(0, 256));
          break;
        case 413:
          // The HTTP library parses form-urlencoded bodies (curl --data-binary's default type)
          // and takes at most 8 KiB of them.
          message =
              req.get_header_value("Content-Type").starts_with("application/x-www-form-urlencoded")
                  ? "a form-urlencoded body is limited to 8 KiB; send tensors as JSON "
                    "(application/json) or binary (application/octet-stream)"
                  : fmt::format("the body is larger than {} bytes (--max-body-bytes)",
                                options.max_body_bytes);
          break;
        default:
          message = fmt::format("HTTP {}: the request could not be served as sent", res.status);
      }
      res.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
    });
    http.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
          res.status = 500;
          res.set_content(R"({"error": "internal error while answering the request"})",
                          "application/json");
        });
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::Bind(const HttpOptions& options, Service& service,
                                                     RequestMetrics& metrics) {
  TPUFLEET_RETURN_IF_ERROR(CheckBindNeedsKey(options.access));
  auto impl = std::make_unique<Impl>(options, service, metrics);
  httplib::Server& http = impl->http;
  int threads = std::max(1, options.threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http.set_payload_max_length(options.max_body_bytes);
  http.set_read_timeout(options.read_timeout_seconds, 0);
  http.set_write_timeout(options.read_timeout_seconds, 0);
  http.set_keep_alive_timeout(options.idle_seconds);
  http.set_keep_alive_max_count(100000);  // requests per connection: keep-alive clients stay
  http.set_tcp_nodelay(true);
  // The library's default socket options set SO_REUSEPORT, which lets a second daemon bind the
  // same port and take half its connections; and it listens with a backlog of 5, so a burst of
  // clients connecting at once overflows the accept queue and some are reset. Here: SO_REUSEADDR
  // only (a restarted daemon binds while its old connections linger), and once bound, a backlog
  // as deep as the system allows.
  auto listening = std::make_shared<int>(-1);
  http.set_socket_options([listening](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *listening = sock;
  });
  impl->AddGuards();
  impl->AddRoutes();
  const std::string& host = options.access.host;
  if (options.port == 0) {
    impl->port = http.bind_to_any_port(host);
  } else if (http.bind_to_port(host, options.port)) {
    impl->port = options.port;
  }
  if (impl->port <= 0) {
    return UnavailableError(
        fmt::format("cannot listen on {}:{} (in use, or not an address of "
                    "this machine)",
                    host, options.port));
  }
  ::listen(*listening, SOMAXCONN);  // a listening socket takes the new backlog (or keeps 5)
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port; }
void HttpServer::Serve() { impl_->http.listen_after_bind(); }
void HttpServer::Stop() { impl_->http.stop(); }

}  // namespace tpufleet::server
