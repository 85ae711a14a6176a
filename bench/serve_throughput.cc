// tpufleet serve's own cost per request, against nginx on the same machine in the same run:
// binary-tensor REST inference and gRPC ModelInfer of a model on a zero-time simulated device
// (time_scale 0, timing only: the device neither waits nor computes), served by the daemon's
// own fronts (server/http_server.h, grpc_server.h, in this process), over many keep-alive
// connections; the anchor is Debian's nginx serving a static file as large as the inference
// request body, on loopback, with as many connections. Prints requests per second of each, the
// ratios, and the median latency at low load (one connection, one request at a time) with what
// the daemon adds over nginx's.
//
//   build/bench/serve_throughput [--connections 16] [--seconds 3] [--nginx /usr/sbin/nginx]
//                                [--devices 4]
//
// Then the daemon's scaling: REST requests per second through N real-time simulated devices
// against one (the same model replicated on each), which should be N times one's.
//
// Client and servers share the machine's cores, for the daemon and for nginx alike, so each
// protocol gets its lightest client: HTTP sends prepared bytes on a socket per connection;
// gRPC sends one serialized request through the asynchronous API, every channel's call driven
// by a completion queue per core. gRPC is also measured from the generated blocking stub (a
// thread per channel), the client most programs use, which costs more than the server does.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "kserve/grpc_service.grpc.pb.h"
#include "model/zoo/zoo.h"
#include "rig.h"
#include "server/grpc_server.h"
#include "server/http_server.h"

namespace tpufleet::bench {
namespace {

namespace fs = std::filesystem;
using BenchClock = std::chrono::steady_clock;

// One keep-alive HTTP/1.1 connection to 127.0.0.1:port; every call sends `request` and reads
// one whole response. Reads time out after 10 s (a broken server ends the bench, never hangs it).
class HttpConnection {
 public:
  explicit HttpConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    timeval timeout{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~HttpConnection() { close(fd_); }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // True for a 200 answer read whole.
  bool Exchange(const std::string& request) {
    if (!connected_) return false;
    for (size_t sent = 0; sent < request.size();) {
      ssize_t n = send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    size_t end = 0;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Receive()) return false;
    }
    std::string head = buffer_.substr(0, end);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    size_t field = lower.find("content-length:");
    size_t length = field == std::string::npos ? 0 : std::stoul(head.substr(field + 15));
    while (buffer_.size() < end + 4 + length) {
      if (!Receive()) return false;
    }
    buffer_.erase(0, end + 4 + length);
    return head.starts_with("HTTP/1.1 200");
  }

 private:
  bool Receive() {
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

struct Figures {
  double per_second = 0;
  uint64_t failed = 0;
};

// Closed loop: `connections` threads, each with its own connection made by `open` and its
// `call` repeated for `seconds`. Requests per second answered 200.
template <typename Open>
Figures Throughput(int connections, double seconds, Open open) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0}, failed{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      auto call = open();
      while (!stop.load(std::memory_order_relaxed)) {
        (call() ? done : failed).fetch_add(1, std::memory_order_relaxed);
        if (failed.load(std::memory_order_relaxed) > 100) return;
      }
    });
  }
  BenchClock::time_point start = BenchClock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(BenchClock::now() - start).count();
  return {static_cast<double>(done.load()) / elapsed, failed.load()};
}

// Closed loop over gRPC's asynchronous API: `connections` channels to 127.0.0.1:port, each with
// one call of `method` in flight, driven by a completion-queue thread per core; every call sends
// `request` (serialized once) and its answer must parse as `Reply` and pass `check`. Calls per
// second answered OK.
template <typename Reply, typename Check>
Figures AsyncGrpcThroughput(int port, const std::string& method, const std::string& request,
                            int connections, double seconds, Check check) {
  struct Call {
    grpc::GenericStub* stub = nullptr;
    grpc::ClientContext context;
    grpc::ByteBuffer reply;
    grpc::Status status;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
  };
  grpc::Slice slice(request);
  const grpc::ByteBuffer message(&slice, 1);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0}, failed{0};
  int threads =
      std::clamp<int>(static_cast<int>(std::thread::hardware_concurrency()), 1, connections);
  std::vector<std::thread> drivers;
  for (int t = 0; t < threads; ++t) {
    drivers.emplace_back([&, t] {
      grpc::CompletionQueue queue;
      std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
      auto start = [&](grpc::GenericStub* stub) {
        auto* call = new Call;
        call->stub = stub;
        call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        call->reader = stub->PrepareUnaryCall(&call->context, method, message, &queue);
        call->reader->StartCall();
        call->reader->Finish(&call->reply, &call->status, call);
      };
      for (int c = t; c < connections; c += threads) {
        grpc::ChannelArguments arguments;
        arguments.SetInt("tpufleet.bench.channel", c);  // a connection of its own
        stubs.push_back(std::make_unique<grpc::GenericStub>(grpc::CreateCustomChannel(
            fmt::format("127.0.0.1:{}", port), grpc::InsecureChannelCredentials(), arguments)));
        start(stubs.back().get());
      }
      for (size_t in_flight = stubs.size(); in_flight > 0;) {
        void* tag = nullptr;
        bool ok = false;
        if (!queue.Next(&tag, &ok)) break;
        std::unique_ptr<Call> call(static_cast<Call*>(tag));
        Reply reply;
        bool answered = ok && call->status.ok() &&
                        grpc::SerializationTraits<Reply>::Deserialize(&call->reply, &reply).ok() &&
                        check(reply);
        (answered ? done : failed).fetch_add(1, std::memory_order_relaxed);
        if (stop.load(std::memory_order_relaxed) || failed.load() > 100) {
          --in_flight;
        } else {
          start(call->stub);
        }
      }
      queue.Shutdown();
      void* tag = nullptr;
      bool ok = false;
      while (queue.Next(&tag, &ok)) {
      }
    });
  }
  BenchClock::time_point begin = BenchClock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  uint64_t answered = done.load();
  double elapsed = std::chrono::duration<double>(BenchClock::now() - begin).count();
  stop = true;
  for (std::thread& t : drivers) t.join();
  return {static_cast<double>(answered) / elapsed, failed.load()};
}

// Median microseconds of one request at a time on one connection (`count` requests); -1 when
// one failed.
template <typename Open>
double MedianLatencyUs(int count, Open open) {
  auto call = open();
  std::vector<double> us;
  for (int i = 0; i < count; ++i) {
    BenchClock::time_point start = BenchClock::now();
    if (!call()) return -1;
    us.push_back(std::chrono::duration<double, std::micro>(BenchClock::now() - start).count());
  }
  std::nth_element(us.begin(), us.begin() + us.size() / 2, us.end());
  return us[us.size() / 2];
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  bind(fd, reinterpret_cast<sockaddr*>(&address), size);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

// Debian's nginx in `prefix`, serving `prefix`/static.bin on a free loopback port; stopped
// (SIGTERM, then waited for) with the object.
class Nginx {
 public:
  Nginx(const std::string& binary, const fs::path& prefix, size_t file_bytes) : port_(FreePort()) {
    std::ofstream(prefix / "static.bin", std::ios::binary) << std::string(file_bytes, 'x');
    std::ofstream(prefix / "nginx.conf") << fmt::format(
        "worker_processes {};\ndaemon off;\npid {}/nginx.pid;\nerror_log {}/error.log;\n"
        "events {{ worker_connections 1024; }}\n"
        "http {{ access_log off; client_body_temp_path {}/body; proxy_temp_path {}/proxy;\n"
        "  fastcgi_temp_path {}/fastcgi; uwsgi_temp_path {}/uwsgi; scgi_temp_path {}/scgi;\n"
        "  keepalive_requests 10000000; tcp_nodelay on;\n"
        "  server {{ listen 127.0.0.1:{}; root {}; }} }}\n",
        std::max(1u, std::thread::hardware_concurrency()), prefix.string(), prefix.string(),
        prefix.string(), prefix.string(), prefix.string(), prefix.string(), prefix.string(), port_,
        prefix.string());
    pid_ = fork();
    if (pid_ == 0) {
      std::string p = prefix.string(), c = (prefix / "nginx.conf").string();
      execl(binary.c_str(), binary.c_str(), "-p", p.c_str(), "-c", c.c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 100 && !HttpConnection(port_).Exchange(StaticRequest()); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // bounded: 5 s
    }
  }
  ~Nginx() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool running() { return pid_ > 0 && HttpConnection(port_).Exchange(StaticRequest()); }
  int port() const { return port_; }
  static std::string StaticRequest() { return "GET /static.bin HTTP/1.1\r\nHost: b\r\n\r\n"; }

 private:
  int port_;
  pid_t pid_ = -1;
};

// The binary-tensor KServe v2 request for `model`'s one input (all bytes 9), outputs binary.
std::string InferRequest(const Model& model, const std::string& name) {
  const TensorInfo& input = model.input(0);
  nlohmann::json header = {{"inputs",
                            {{{"name", input.name},
                              {"shape", input.shape},
                              {"datatype", "UINT8"},
                              {"parameters", {{"binary_data_size", input.byte_size}}}}}},
                           {"parameters", {{"binary_data_output", true}}}};
  std::string json = header.dump();
  std::string body = json + std::string(input.byte_size, '\x09');
  return fmt::format(
      "POST /v2/models/{}/infer HTTP/1.1\r\nHost: b\r\nContent-Type: application/octet-stream\r\n"
      "Inference-Header-Content-Length: {}\r\nContent-Length: {}\r\n\r\n{}",
      name, json.size(), body.size(), body);
}

inference::ModelInferRequest GrpcRequest(const Model& model, const std::string& name) {
  const TensorInfo& input = model.input(0);
  inference::ModelInferRequest request;
  request.set_model_name(name);
  auto* tensor = request.add_inputs();
  tensor->set_name(input.name);
  tensor->set_datatype("UINT8");
  for (int64_t d : input.shape) tensor->add_shape(d);
  request.add_raw_input_contents(std::string(input.byte_size, '\x09'));
  return request;
}

// A zoo mobilenet_v1 at `width` and `resolution`, written to `path`.
Status WriteZooModel(const fs::path& path, float width, int resolution) {
  zoo::ZooOptions zoo_options;
  zoo_options.width = width;
  zoo_options.resolution = resolution;
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                            zoo::BuildZooModel("mobilenet_v1", zoo_options));
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  return OkStatus();
}

// The daemon's parts as `tpufleet serve` assembles them, in this process: a fleet of `devices`
// timing-only simulated devices on the wall clock (`time_scale` 1: as long as a USB 3 stick
// takes; 0: no time at all), each on a USB bus of its own, the model
// repository at `repository` loaded whole, and the REST and gRPC fronts on free loopback ports,
// serving until destroyed.
class BenchDaemon {
 public:
  static Result<std::unique_ptr<BenchDaemon>> Start(const fs::path& repository, int devices,
                                                    double time_scale, int connections) {
    FleetOptions options;
    options.devices = SimDevices(devices);
    options.sim_topology_json =
        OwnBusRig(devices, fmt::format(R"(, "time_scale": {})", time_scale));
    options.real_time = true;
    options.sim_outputs = false;  // timing only: no outputs computed
    options.allow_timing_only = true;
    TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<Fleet> fleet, Fleet::Create(options));
    TPUFLEET_ASSIGN_OR_RETURN(server::ModelRepository models,
                              server::ModelRepository::Open(repository.string()));
    std::unique_ptr<BenchDaemon> daemon(
        new BenchDaemon(std::move(fleet), std::move(models), connections));
    TPUFLEET_RETURN_IF_ERROR(daemon->Serve(connections));
    return daemon;
  }
  ~BenchDaemon() {
    if (http_) http_->Stop();
    if (grpc_) grpc_->Stop();
    for (std::thread& t : serving_) t.join();
  }
  BenchDaemon(const BenchDaemon&) = delete;
  BenchDaemon& operator=(const BenchDaemon&) = delete;

  std::shared_ptr<const server::ServedModel> model(const std::string& name) const {
    return models_.Find(name);
  }
  int http_port() const { return http_->port(); }
  int grpc_port() const { return grpc_->port(); }

 private:
  BenchDaemon(std::unique_ptr<Fleet> fleet, server::ModelRepository repository, int connections)
      : fleet_(std::move(fleet)),
        log_(server::LogFormat::kText, log_text_),
        models_(std::move(repository), *fleet_, log_),
        admission_(static_cast<size_t>(connections) * 4 + 64),
        service_(*fleet_, models_, admission_, metrics_) {}

  Status Serve(int connections) {
    models_.LoadAll();
    if (models_.Loaded().empty()) return UnavailableError("no model loaded: " + log_text_.str());
    server::HttpOptions http;
    http.port = 0;
    http.threads = connections + 8;  // the HTTP library serves one connection per thread
    server::GrpcOptions grpc;
    grpc.port = 0;
    grpc.threads = connections + 8;
    TPUFLEET_ASSIGN_OR_RETURN(http_, server::HttpServer::Bind(http, service_, metrics_));
    TPUFLEET_ASSIGN_OR_RETURN(grpc_, server::GrpcServer::Bind(grpc, service_, metrics_));
    serving_.emplace_back([this] { http_->Serve(); });
    serving_.emplace_back([this] { grpc_->Serve(); });
    return OkStatus();
  }

  std::unique_ptr<Fleet> fleet_;
  std::ostringstream log_text_;
  server::EventLog log_;
  server::ModelSet models_;
  server::Admission admission_;
  server::RequestMetrics metrics_;
  server::Service service_;
  std::unique_ptr<server::HttpServer> http_;
  std::unique_ptr<server::GrpcServer> grpc_;
  std::vector<std::thread> serving_;
};

// Requests per second of REST inference through a daemon of `devices` real-time simulated
// devices, the model (a larger mobilenet, so the devices are the bottleneck) on every one of
// them; `connections` per device.
Result<double> RealTimeThroughput(const fs::path& tmp, int devices, int connections,
                                  double seconds) {
  fs::path repository = tmp / fmt::format("real_time_{}", devices);
  fs::create_directories(repository / "m");
  TPUFLEET_RETURN_IF_ERROR(WriteZooModel(repository / "m" / "m.tflite", 1.0f, 224));
  std::ofstream(repository / "m" / "config.json") << fmt::format(R"({{"replicas": {}}})", devices);
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<BenchDaemon> daemon,
                            BenchDaemon::Start(repository, devices, 1, connections * devices));
  const std::string infer = InferRequest(*daemon->model("m")->model, "m");
  auto open_rest = [&] {
    return [connection = std::make_shared<HttpConnection>(daemon->http_port()), &infer] {
      return connection->Exchange(infer);
    };
  };
  Throughput(connections * devices, 0.3, open_rest);
  Figures figures = Throughput(connections * devices, seconds, open_rest);
  if (figures.failed > 0) {
    return UnavailableError(
        fmt::format("{} requests failed with {} devices", figures.failed, devices));
  }
  return figures.per_second;
}

int Run(int connections, double seconds, const std::string& nginx_binary, int devices) {
  fs::path tmp = fs::temp_directory_path() / fmt::format("serve_throughput_{}", getpid());
  fs::create_directories(tmp / "models");
  Status written = WriteZooModel(tmp / "models" / "m.tflite", 0.25f, 128);
  if (!written.ok()) return fmt::print(stderr, "{}\n", written.ToString()), EXIT_FAILURE;
  Result<std::unique_ptr<BenchDaemon>> daemon =
      BenchDaemon::Start(tmp / "models", 1, 0, connections);
  if (!daemon.ok()) return fmt::print(stderr, "{}\n", daemon.status().ToString()), EXIT_FAILURE;
  std::shared_ptr<const server::ServedModel> served = (*daemon)->model("m");

  const std::string infer = InferRequest(*served->model, "m");
  const size_t body_bytes = infer.size() - infer.find("\r\n\r\n") - 4;
  const inference::ModelInferRequest grpc_request = GrpcRequest(*served->model, "m");
  const int http_port = (*daemon)->http_port(), grpc_port = (*daemon)->grpc_port();
  int channels = 0;
  auto open_rest = [&] {
    return [connection = std::make_shared<HttpConnection>(http_port), &infer] {
      return connection->Exchange(infer);
    };
  };
  auto open_grpc = [&] {
    grpc::ChannelArguments arguments;
    arguments.SetInt("tpufleet.bench.channel", ++channels);  // a connection of its own
    auto stub = inference::GRPCInferenceService::NewStub(grpc::CreateCustomChannel(
        fmt::format("127.0.0.1:{}", grpc_port), grpc::InsecureChannelCredentials(), arguments));
    return [stub = std::shared_ptr<inference::GRPCInferenceService::Stub>(std::move(stub)),
            &grpc_request] {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      inference::ModelInferResponse reply;
      return stub->ModelInfer(&context, grpc_request, &reply).ok() &&
             reply.raw_output_contents_size() == 1;
    };
  };
  const std::string grpc_serialized = grpc_request.SerializeAsString();
  auto async_grpc = [&](double seconds_each) {
    return AsyncGrpcThroughput<inference::ModelInferResponse>(
        grpc_port, "/inference.GRPCInferenceService/ModelInfer", grpc_serialized, connections,
        seconds_each, [](const inference::ModelInferResponse& reply) {
          return reply.raw_output_contents_size() == 1;
        });
  };
  int status = EXIT_SUCCESS;
  {
    fs::create_directories(tmp / "nginx");
    Nginx nginx(nginx_binary, tmp / "nginx", body_bytes);
    if (!nginx.running()) {
      fmt::print(stderr, "nginx ({}) did not start; see {}/nginx/error.log\n", nginx_binary,
                 tmp.string());
      status = EXIT_FAILURE;
    } else {
      const std::string fetch = Nginx::StaticRequest();
      auto open_static = [&] {
        return [connection = std::make_shared<HttpConnection>(nginx.port()), &fetch] {
          return connection->Exchange(fetch);
        };
      };
      // Warm-up (connections, the model's first invocation), then the figures.
      Throughput(connections, 0.3, open_rest);
      Throughput(connections, 0.3, open_grpc);
      async_grpc(0.3);
      Throughput(connections, 0.3, open_static);
      Figures anchor = Throughput(connections, seconds, open_static);
      Figures rest = Throughput(connections, seconds, open_rest);
      Figures rpc = async_grpc(seconds);
      Figures rpc_blocking = Throughput(connections, seconds, open_grpc);
      double anchor_us = MedianLatencyUs(2000, open_static);
      double rest_us = MedianLatencyUs(2000, open_rest);
      double grpc_us = MedianLatencyUs(2000, open_grpc);
      fmt::print(
          "model mobilenet_v1 0.25 128 (zoo) on a zero-time simulated device; request "
          "body {} bytes; {} keep-alive connections, {} s each\n",
          body_bytes, connections, seconds);
      fmt::print("nginx static file of {} bytes   {:9.0f} requests/s   median {:7.1f} us\n",
                 body_bytes, anchor.per_second, anchor_us);
      fmt::print(
          "REST binary-tensor inference    {:9.0f} requests/s   median {:7.1f} us   "
          "ratio {:.2f} x nginx   added {:+.1f} us\n",
          rest.per_second, rest_us, rest.per_second / anchor.per_second, rest_us - anchor_us);
      fmt::print(
          "gRPC ModelInfer (raw contents)  {:9.0f} requests/s   median {:7.1f} us   "
          "ratio {:.2f} x nginx   added {:+.1f} us\n",
          rpc.per_second, grpc_us, rpc.per_second / anchor.per_second, grpc_us - anchor_us);
      fmt::print("  from blocking stubs            {:9.0f} requests/s   ratio {:.2f} x nginx\n",
                 rpc_blocking.per_second, rpc_blocking.per_second / anchor.per_second);
      uint64_t failed = anchor.failed + rest.failed + rpc.failed + rpc_blocking.failed;
      if (failed > 0 || anchor_us < 0 || rest_us < 0 || grpc_us < 0) {
        fmt::print(stderr, "failed requests: nginx {}, REST {}, gRPC {} and {}\n", anchor.failed,
                   rest.failed, rpc.failed, rpc_blocking.failed);
        status = EXIT_FAILURE;
      }
    }
  }
  daemon->reset();
  if (status == EXIT_SUCCESS && devices > 1) {
    // Real-time devices: the daemon's own costs must leave N devices N times one's throughput.
    Result<double> one = RealTimeThroughput(tmp, 1, 4, seconds);
    Result<double> many = one.ok() ? RealTimeThroughput(tmp, devices, 4, seconds) : one;
    if (!many.ok()) {
      fmt::print(stderr, "{}\n", many.status().ToString());
      status = EXIT_FAILURE;
    } else {
      fmt::print(
          "mobilenet_v1 1.0 224 on real-time simulated devices, REST, 4 connections per device:\n"
          "  1 device  {:7.0f} requests/s\n  {} devices {:7.0f} requests/s   {:.2f} x one "
          "device's   ({:.2f} x N)\n",
          *one, devices, *many, *many / *one, *many / *one / devices);
    }
  }
  fs::remove_all(tmp);
  return status;
}

}  // namespace
}  // namespace tpufleet::bench

int main(int argc, char** argv) {
  CLI::App app{"tpufleet serve's requests per second and latency against nginx's, on loopback"};
  int connections = 16;
  double seconds = 3;
  std::string nginx = "/usr/sbin/nginx";
  int devices = 4;
  app.add_option("--connections", connections, "Keep-alive connections at once")
      ->check(CLI::Range(1, 512));
  app.add_option("--seconds", seconds, "Seconds per throughput figure")
      ->check(CLI::Range(0.1, 600.0));
  app.add_option("--nginx", nginx, "The nginx executable (Debian's)");
  app.add_option("--devices", devices,
                 "Real-time simulated devices to compare with one (1: skip that part)")
      ->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  return tpufleet::bench::Run(connections, seconds, nginx, devices);
}
