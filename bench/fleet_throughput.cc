// Fleet figures beside anchors measured in the same run:
//  1. scaling: throughput with N simulated devices (real-time clock, one model per device, each
//     on its own bus) against N x the throughput of one device;
//  2. dispatch overhead: median Run() round trip through the fleet on a device that takes no
//     time, against a bare promise/future round trip through a thread;
//  3. cache-aware dispatch: two separately compiled MobileNet v2-sized models interleaved on one
//     USB 3 device (virtual time), batched (max_batch 10) against strict alternation;
//  4. requests/s with 1, 2, 4, 8 zero-time devices (time_scale 0, timing only, on the wall
//     clock) and as many threads each running requests back to back, against a bare mutex +
//     condition variable hand-off between two threads; beside it, the same on a virtual-time rig,
//     whose one discrete-event clock steps every device's requests in order (its rate is how
//     fast the rig simulates, not what the fleet sustains);
//  5. failover cost: the median extra latency of a request whose device hangs mid-invocation
//     (real time, the device reports the hang after 2 ms) and is served by another, against the
//     requests before it that were not moved.
//
//   build/bench/fleet_throughput [--seconds S] [--only SECTION...]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include "model/zoo/zoo.h"
#include "rig.h"
#include "tpufleet/fleet.h"

namespace tpufleet {
namespace {

using Clock = std::chrono::steady_clock;

ModelPtr Zoo(const std::string& name, double width, int resolution) {
  zoo::ZooOptions options;
  options.width = width;
  options.resolution = resolution;
  return Model::FromBuffer(zoo::BuildZooModel(name, options).value(),
                           fmt::format("{}_{}", name, width))
      .value();
}

TensorList Inputs(const Model& model) {
  return {std::vector<uint8_t>(model.input(0).byte_size, 1)};
}

// Every request in a benchmark must succeed; a failure would make its figure meaningless.
void Expect(const Result<InferenceResult>& result) {
  if (!result.ok()) {
    std::cerr << "benchmark request failed: " << result.status().ToString() << "\n";
    std::exit(1);
  }
}

std::string Rig(int devices) { return bench::OwnBusRig(devices, R"(, "compute_outputs": false)"); }

// Requests per second over `seconds` of wall time with `devices` devices, one model each.
double Throughput(int devices, const ModelPtr& model, double seconds) {
  FleetOptions options;
  options.sim_topology_json = Rig(devices);
  options.devices = bench::SimDevices(devices);
  options.real_time = true;
  options.queue_capacity = 64;
  auto fleet = Fleet::Create(options).value();
  std::vector<int> ids;
  for (int i = 0; i < devices; ++i)
    ids.push_back(fleet->AddModel(model, {fmt::format("sim:{}", i)}).value());
  // Keep every queue non-empty: a window of outstanding requests per device.
  std::vector<std::future<Result<InferenceResult>>> window;
  size_t done = 0;
  Clock::time_point start = Clock::now(), end = start + std::chrono::duration_cast<Clock::duration>(
                                                            std::chrono::duration<double>(seconds));
  for (int i = 0; i < devices * 8; ++i)
    window.push_back(fleet->Submit(ids[i % devices], Inputs(*model)));
  size_t next = 0;
  while (Clock::now() < end) {
    Expect(window[next].get());
    ++done;
    window[next] = fleet->Submit(ids[next % devices], Inputs(*model));
    next = (next + 1) % window.size();
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& f : window) Expect(f.get());
  return done / elapsed;
}

// Round trips per second of a value handed to another thread and back under one mutex and
// condition variable, for `seconds`.
double HandOffsPerSecond(double seconds) {
  std::mutex mutex;
  std::condition_variable changed;
  int turn = 0;  // 0: the main thread's, 1: the other's, -1: stop
  std::thread other([&] {
    std::unique_lock<std::mutex> lock(mutex);
    while (true) {
      changed.wait(lock, [&] { return turn != 0; });
      if (turn < 0) return;
      turn = 0;
      changed.notify_all();
    }
  });
  size_t trips = 0;
  Clock::time_point start = Clock::now(), end = start + std::chrono::duration_cast<Clock::duration>(
                                                            std::chrono::duration<double>(seconds));
  while (Clock::now() < end) {
    std::unique_lock<std::mutex> lock(mutex);
    turn = 1;
    changed.notify_all();
    changed.wait(lock, [&] { return turn == 0; });
    ++trips;
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  {
    std::lock_guard<std::mutex> lock(mutex);
    turn = -1;
  }
  changed.notify_all();
  other.join();
  return trips / elapsed;
}

// Requests per second with `devices` zero-time devices (timing only), one model on each, and as
// many threads each running requests back to back for `seconds`: on the wall clock, or on a
// virtual-time rig.
double ZeroTimeThroughput(int devices, bool real_time, const ModelPtr& model, double seconds) {
  FleetOptions options;
  options.sim_topology_json =
      bench::OwnBusRig(devices, R"(, "compute_outputs": false, "time_scale": 0)");
  options.devices = bench::SimDevices(devices);
  options.sim_outputs = false;
  options.real_time = real_time;
  auto fleet = Fleet::Create(options).value();
  std::vector<int> ids;
  for (int i = 0; i < devices; ++i)
    ids.push_back(fleet->AddModel(model, {fmt::format("sim:{}", i)}).value());
  std::atomic<size_t> done{0};
  Clock::time_point start = Clock::now(), end = start + std::chrono::duration_cast<Clock::duration>(
                                                            std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int t = 0; t < devices; ++t) {
    threads.emplace_back([&, t] {
      while (Clock::now() < end) {
        Expect(fleet->Run(ids[t], Inputs(*model)));
        ++done;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return done / std::chrono::duration<double>(Clock::now() - start).count();
}

// Median extra latency of a request whose device hangs (and is failed over), against the median
// of the requests before it on the same device, over `trials` fleets. Seconds.
std::pair<double, double> FailoverCost(const ModelPtr& model, int trials) {
  std::vector<double> extra, plain;
  for (int trial = 0; trial < trials; ++trial) {
    FleetOptions options;
    options.devices = {"sim:0", "sim:1"};
    options.sim_topology_json =
        R"({"devices": [{"compute_outputs": false, "faults": {"hang_after": 5, "hang_seconds": 0.002}},
                        {"compute_outputs": false, "bus": 2}]})";
    options.real_time = true;
    options.probe_interval = std::chrono::hours(1);
    auto fleet = Fleet::Create(options).value();
    int id = fleet->AddModel(model, {"sim:0"}).value();
    std::vector<double> before;
    for (int i = 0; i < 6; ++i) {
      Clock::time_point t0 = Clock::now();
      Result<InferenceResult> r = fleet->Run(id, Inputs(*model));
      Expect(r);
      double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      if (i < 5) before.push_back(seconds);
      if (i == 5 && r->attempts != 2) {
        std::cerr << "benchmark: the hung request was not moved\n";
        std::exit(1);
      }
      if (i == 5) {
        std::sort(before.begin(), before.end());
        extra.push_back(seconds - before[before.size() / 2]);
        plain.push_back(before[before.size() / 2]);
      }
    }
  }
  std::sort(extra.begin(), extra.end());
  std::sort(plain.begin(), plain.end());
  return {extra[extra.size() / 2], plain[plain.size() / 2]};
}

double MedianMicros(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2] * 1e6;
}

}  // namespace
}  // namespace tpufleet

int main(int argc, char** argv) {
  using namespace tpufleet;
  CLI::App app{"Fleet scaling, dispatch overhead and cache-aware dispatch, beside anchors"};
  double seconds = 2.0;
  app.add_option("--seconds", seconds, "Wall time per scaling measurement");
  const std::vector<std::string> sections = {"scaling", "dispatch", "interleaved", "zero-time",
                                             "failover"};
  std::vector<std::string> only;
  app.add_option("--only", only, "Run only these sections (default: all)")
      ->check(CLI::IsMember(sections));
  CLI11_PARSE(app, argc, argv);
  auto wanted = [&](const std::string& section) {
    return only.empty() || std::find(only.begin(), only.end(), section) != only.end();
  };

  // 1. Scaling: a small model (about 1 ms modeled per inference) keeps the host side busy.
  if (wanted("scaling")) {
    ModelPtr small = Zoo("mobilenet_v1", 0.25, 96);
    double one = Throughput(1, small, seconds);
    std::cout << "Scaling (real-time simulated devices, one model per device)\n";
    std::cout << fmt::format("{:>8} {:>14} {:>16} {:>8}\n", "devices", "requests/s",
                             "N x one device", "ratio");
    for (int n : {1, 2, 4, 8}) {
      double t = n == 1 ? one : Throughput(n, small, seconds);
      std::cout << fmt::format("{:>8} {:>14.1f} {:>16.1f} {:>7.3f}\n", n, t, n * one,
                               t / (n * one));
    }
  }

  // 2. Dispatch overhead: Run() through the fleet on a device with (almost) no modeled time,
  //    against a promise handed to another thread and back.
  if (wanted("dispatch")) {
    FleetOptions options;
    options.devices = {"sim:0"};
    options.sim_topology_json = R"({"devices": [{"compute_outputs": false}]})";
    options.spin_wait = true;  // the latency-first setting; off by default
    auto fleet = Fleet::Create(options).value();
    ModelPtr tiny = Zoo("mobilenet_v1", 0.25, 32);
    int id = fleet->AddModel(tiny).value();
    std::vector<double> fleet_times, anchor_times;
    for (int i = 0; i < 2000; ++i) {
      TensorList inputs = Inputs(*tiny);
      Clock::time_point t0 = Clock::now();
      Expect(fleet->Run(id, std::move(inputs)));
      fleet_times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    for (int i = 0; i < 2000; ++i) {
      Clock::time_point t0 = Clock::now();
      std::promise<int> p;
      std::future<int> f = p.get_future();
      std::thread t([&] { p.set_value(1); });
      f.get();
      t.join();
      anchor_times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    double ours = MedianMicros(fleet_times), anchor = MedianMicros(anchor_times);
    std::cout << fmt::format(
        "\nDispatch round trip (submit, queue, worker, answer; virtual-time device): median {:.1f} "
        "us\n"
        "  anchor, a promise answered by a new thread: median {:.1f} us (ratio {:.2f})\n",
        ours, anchor, ours / anchor);
  }

  // 3. Two separately compiled MobileNet v2-sized models interleaved on one USB 3 device.
  if (wanted("interleaved")) {
    ModelPtr a = Zoo("mobilenet_v2", 1.0, 224), b = Zoo("mobilenet_v2", 1.0, 192);
    double makespan[2];
    for (int batched = 0; batched < 2; ++batched) {
      FleetOptions options;
      options.devices = {"sim:0"};
      options.sim_topology_json = R"({"devices": [{"compute_outputs": false}]})";
      options.max_batch = batched ? 10 : 1;
      options.queue_capacity = 1000;
      options.real_time = true;  // requests queue behind the busy device
      auto fleet = Fleet::Create(options).value();
      int ia = fleet->AddModel(a).value(), ib = fleet->AddModel(b).value();
      std::vector<std::future<Result<InferenceResult>>> futures;
      for (int i = 0; i < 200; ++i)
        futures.push_back(fleet->Submit(i % 2 ? ib : ia, Inputs(i % 2 ? *b : *a)));
      for (auto& f : futures) Expect(f.get());
      makespan[batched] = fleet->Metrics().devices[0].busy_seconds;
    }
    std::cout << fmt::format(
        "\nInterleaved two MobileNet v2-sized models on one USB 3 device, 200 requests (modeled "
        "time)\n"
        "  strict alternation: {:.3f} s; cache-aware batches of 10: {:.3f} s; throughput ratio "
        "{:.2f}x\n",
        makespan[0], makespan[1], makespan[0] / makespan[1]);
  }

  // 4. Zero-time devices: the fleet's own cost per request, against a bare hand-off.
  if (wanted("zero-time")) {
    ModelPtr tiny = Zoo("mobilenet_v1", 0.25, 32);
    double anchor = HandOffsPerSecond(seconds);
    std::cout << fmt::format(
        "\nZero-time devices (time_scale 0), as many threads running requests back to back\n"
        "  anchor, a mutex + condition variable hand-off between two threads: {:.0f} round "
        "trips/s\n{:>8} {:>14} {:>8}   {:>24} {:>8}\n",
        anchor, "devices", "requests/s", "ratio", "virtual-time rig, req/s", "ratio");
    for (int n : {1, 2, 4, 8}) {
      double wall = ZeroTimeThroughput(n, true, tiny, seconds);
      double rig = ZeroTimeThroughput(n, false, tiny, seconds);
      std::cout << fmt::format("{:>8} {:>14.0f} {:>8.3f}   {:>24.0f} {:>8.3f}\n", n, wall,
                               wall / anchor, rig, rig / anchor);
    }
  }

  // 5. Failover cost.
  if (wanted("failover")) {
    ModelPtr small = Zoo("mobilenet_v1", 0.25, 96);
    auto [extra, plain] = FailoverCost(small, 30);
    std::cout << fmt::format(
        "\nFailover (real time): a request whose device hangs for 2 ms mid-invocation and is "
        "served by another\n  median extra latency {:.2f} ms over a request not moved ({:.2f} ms); "
        "beyond the 2 ms hang: {:.2f} ms\n",
        extra * 1e3, plain * 1e3, (extra - 0.002) * 1e3);
  }
  return 0;
}
