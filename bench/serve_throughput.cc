// tpufleet serve's own cost per request, against nginx on the same machine in the same run:
// binary-tensor REST inference and gRPC ModelInfer of a model on a zero-time simulated device
// (virtual time, timing only: the device neither waits nor computes), served by the daemon's
// own fronts (server/http_server.h, grpc_server.h, in this process), over many keep-alive
// connections; the anchor is Debian's nginx serving a static file as large as the inference
// request body, on loopback, with as many connections. Prints requests per second of each, the
// ratios, and the median latency at low load (one connection, one request at a time) with what
// the daemon adds over nginx's.
//
//   build/bench/serve_throughput [--connections 16] [--seconds 3] [--nginx /usr/sbin/nginx]
//
// Client and servers share the machine's cores, for the daemon and for nginx alike.
#include <arpa/inet.h>
#include <fmt/format.h>
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

int Run(int connections, double seconds, const std::string& nginx_binary) {
  fs::path tmp = fs::temp_directory_path() / fmt::format("serve_throughput_{}", getpid());
  fs::create_directories(tmp / "models");
  zoo::ZooOptions zoo_options;
  zoo_options.width = 0.25;
  zoo_options.resolution = 128;
  Result<std::vector<uint8_t>> bytes = zoo::BuildZooModel("mobilenet_v1", zoo_options);
  if (!bytes.ok()) return fmt::print(stderr, "{}\n", bytes.status().ToString()), EXIT_FAILURE;
  std::ofstream(tmp / "models" / "m.tflite", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes->data()),
             static_cast<std::streamsize>(bytes->size()));

  FleetOptions options;
  options.devices = {"sim:0"};
  options.real_time = false;  // zero-time: virtual time, and no outputs computed
  options.sim_outputs = false;
  options.allow_timing_only = true;
  Result<std::unique_ptr<Fleet>> fleet = Fleet::Create(options);
  if (!fleet.ok()) return fmt::print(stderr, "{}\n", fleet.status().ToString()), EXIT_FAILURE;
  std::ostringstream log_text;
  server::EventLog log(server::LogFormat::kText, log_text);
  server::ModelSet models(server::ModelRepository::Open((tmp / "models").string()).value(), **fleet,
                          log);
  models.LoadAll();
  std::shared_ptr<const server::ServedModel> served = models.Find("m");
  if (!served) return fmt::print(stderr, "the model did not load: {}\n", log_text.str()), 1;
  server::Admission admission(4096);
  server::RequestMetrics metrics;
  server::Service service(**fleet, models, admission, metrics);
  server::HttpOptions http;
  http.port = 0;
  http.threads = connections + 8;  // the HTTP library serves one connection per thread
  server::GrpcOptions grpc;
  grpc.port = 0;
  grpc.threads = connections + 8;
  auto http_front = server::HttpServer::Bind(http, service, metrics);
  auto grpc_front = server::GrpcServer::Bind(grpc, service, metrics);
  if (!http_front.ok() || !grpc_front.ok()) {
    fmt::print(stderr, "cannot bind: {} {}\n", http_front.status().ToString(),
               grpc_front.status().ToString());
    return EXIT_FAILURE;
  }
  std::thread http_serving([&] { (*http_front)->Serve(); });
  std::thread grpc_serving([&] { (*grpc_front)->Serve(); });

  const std::string infer = InferRequest(*served->model, "m");
  const size_t body_bytes = infer.size() - infer.find("\r\n\r\n") - 4;
  const inference::ModelInferRequest grpc_request = GrpcRequest(*served->model, "m");
  const int http_port = (*http_front)->port(), grpc_port = (*grpc_front)->port();
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
      Throughput(connections, 0.3, open_static);
      Figures anchor = Throughput(connections, seconds, open_static);
      Figures rest = Throughput(connections, seconds, open_rest);
      Figures rpc = Throughput(connections, seconds, open_grpc);
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
      if (anchor.failed + rest.failed + rpc.failed > 0 || anchor_us < 0 || rest_us < 0 ||
          grpc_us < 0) {
        fmt::print(stderr, "failed requests: nginx {}, REST {}, gRPC {}\n", anchor.failed,
                   rest.failed, rpc.failed);
        status = EXIT_FAILURE;
      }
    }
  }
  (*http_front)->Stop();
  (*grpc_front)->Stop();
  http_serving.join();
  grpc_serving.join();
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
  app.add_option("--connections", connections, "Keep-alive connections at once")
      ->check(CLI::Range(1, 512));
  app.add_option("--seconds", seconds, "Seconds per throughput figure")
      ->check(CLI::Range(0.1, 600.0));
  app.add_option("--nginx", nginx, "The nginx executable (Debian's)");
  CLI11_PARSE(app, argc, argv);
  return tpufleet::bench::Run(connections, seconds, nginx);
}
