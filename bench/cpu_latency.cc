// CPU backend latency on every real model, beside anchors measured in the same run: TensorFlow
// Lite 2.9's built-in kernels, TFLite 2.9 with its XNNPACK delegate (where it accepts the
// model), and ArmNN 20.08's CpuRef backend. Prints medians and ratios (tpufleet / anchor; below
// 1 is faster), the share of tpufleet's time spent outside XNNPACK, and memory.
//
//   build/bench/cpu_latency [--models DIR] [--image FILE] [--seconds S] [--no-armnn]
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>

#include "common/image.h"
#include "cpu/interpreter.h"
#include "median_time.h"
#include "oracle/armnn_reference.h"
#include "oracle/tflite_reference.h"

namespace tpufleet {
namespace {

using Clock = std::chrono::steady_clock;

using bench::MedianMs;

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

struct Timing {
  std::optional<double> ms;  // absent: the engine does not run this model
  std::string note;
};

std::string Cell(const Timing& t) {
  return t.ms ? fmt::format("{:8.2f}", *t.ms) : fmt::format("{:>8}", t.note);
}
std::string Ratio(const Timing& ours, const Timing& anchor) {
  return ours.ms && anchor.ms ? fmt::format("{:6.3f}x", *ours.ms / *anchor.ms)
                              : fmt::format("{:>7}", "-");
}

std::vector<uint8_t> ImageBytes(const std::string& image, const cpu::Tensor& input) {
  Image resized =
      ResizeBilinear(LoadImage(image, input.dim(3)).value(), input.dim(2), input.dim(1));
  if (input.type == DataType::kInt8) {
    for (uint8_t& b : resized.pixels) b ^= 0x80;
  }
  return resized.pixels;
}

Timing TimeTfLite(const std::string& path, const std::vector<uint8_t>& input, int threads,
                  bool xnnpack, double budget, size_t* resident_growth = nullptr) {
  size_t before = ResidentBytes();
  Result<std::unique_ptr<testing::TfLiteReference>> tflite =
      testing::TfLiteReference::Create(path, threads, xnnpack);
  if (!tflite.ok()) return {std::nullopt, "fails"};
  if (!tflite.value()->SetInput(0, input).ok() || !tflite.value()->Invoke().ok())
    return {std::nullopt, "fails"};
  if (resident_growth) *resident_growth = ResidentBytes() - before;
  return {MedianMs([&] { return tflite.value()->Invoke().ok(); }, budget), ""};
}

struct Row {
  std::string model;
  Timing ours[2], tflite[2], tflite_xnnpack[2], armnn;
  double outside_xnnpack = 0;
  size_t arena = 0, weights = 0, our_rss = 0, tflite_rss = 0;
};

Row Measure(const std::string& path, const std::string& image, double budget, bool armnn) {
  Row row;
  row.model = std::filesystem::path(path).filename().string();
  ModelPtr model = Model::FromFile(path).value();
  row.weights = model->parameter_bytes();
  std::vector<uint8_t> input;
  for (int t = 0; t < 2; ++t) {
    size_t before = ResidentBytes();
    Result<std::unique_ptr<cpu::Interpreter>> created = cpu::Interpreter::Create(model, {t + 1});
    if (!created.ok()) {
      row.ours[t] = {std::nullopt, "fails"};
      continue;
    }
    cpu::Interpreter& interpreter = *created.value();
    input = ImageBytes(image, interpreter.input(0));
    std::memcpy(interpreter.input(0).data, input.data(), input.size());
    (void)interpreter.Invoke();
    if (t == 0) {
      row.our_rss = ResidentBytes() - before;
      row.arena = interpreter.arena_bytes();
      std::vector<double> shares;
      cpu::Profile profile;
      for (int i = 0; i < 20 && interpreter.Invoke(profile).ok(); ++i) {
        shares.push_back(1.0 - profile.xnnpack_seconds() / profile.total_seconds);
      }
      std::nth_element(shares.begin(), shares.begin() + shares.size() / 2, shares.end());
      row.outside_xnnpack = shares.empty() ? 0 : shares[shares.size() / 2];
    }
    row.ours[t] = {MedianMs([&] { return interpreter.Invoke().ok(); }, budget), ""};
  }
  if (input.empty()) return row;
  for (int t = 0; t < 2; ++t) {
    row.tflite[t] =
        TimeTfLite(path, input, t + 1, false, budget, t == 0 ? &row.tflite_rss : nullptr);
    row.tflite_xnnpack[t] = TimeTfLite(path, input, t + 1, true, budget);
  }
  row.armnn = {std::nullopt, "skipped"};
  if (armnn) {
    Result<std::unique_ptr<testing::ArmNNReference>> reference =
        testing::ArmNNReference::Create(path);
    if (!reference.ok()) {
      row.armnn = {std::nullopt, "fails"};
    } else {  // one timed run after a warm-up: ArmNN's reference kernels take seconds
      (void)reference.value()->Run({input});
      Clock::time_point start = Clock::now();
      bool ok = reference.value()->Run({input}).ok();
      row.armnn =
          ok ? Timing{std::chrono::duration<double, std::milli>(Clock::now() - start).count(), ""}
             : Timing{std::nullopt, "fails"};
    }
  }
  return row;
}

}  // namespace
}  // namespace tpufleet

int main(int argc, char** argv) {
  CLI::App app{"CPU backend latency beside TFLite 2.9 (built-in and XNNPACK delegate) and ArmNN"};
  std::string models_dir = "../shared/models", image = "../shared/images/cat.bmp";
  double seconds = 1.0;
  bool no_armnn = false;
  app.add_option("--models", models_dir, "Folder of .tflite models");
  app.add_option("--image", image, "Input image");
  app.add_option("--seconds", seconds, "Time budget per measurement");
  app.add_flag("--no-armnn", no_armnn, "Skip ArmNN (seconds per run)");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(models_dir)) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".tflite" && name.find("_edgetpu") == std::string::npos &&
        name.find("invalid") == std::string::npos && name.find("lstm") == std::string::npos) {
      paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<tpufleet::Row> rows;
  for (const std::string& path : paths) {
    std::cerr << "measuring " << path << "\n";
    rows.push_back(tpufleet::Measure(path, image, seconds, !no_armnn));
  }
  using tpufleet::Cell, tpufleet::Ratio;
  for (int t = 0; t < 2; ++t) {
    std::cout << fmt::format(
        "\nLatency, {} thread{} (median ms; ratio = tpufleet / anchor, below 1 is faster)\n", t + 1,
        t ? "s" : "");
    std::cout << fmt::format("{:<58} {:>8} {:>8} {:>7} {:>8} {:>7}{}\n", "model", "tpufleet",
                             "TFLite", "ratio", "TFL+XNN", "ratio",
                             t == 0 ? fmt::format(" {:>8} {:>7}", "ArmNN", "ratio") : "");
    for (const tpufleet::Row& r : rows) {
      std::cout << fmt::format(
          "{:<58} {} {} {} {} {}{}\n", r.model, Cell(r.ours[t]), Cell(r.tflite[t]),
          Ratio(r.ours[t], r.tflite[t]), Cell(r.tflite_xnnpack[t]),
          Ratio(r.ours[t], r.tflite_xnnpack[t]),
          t == 0 ? fmt::format(" {} {}", Cell(r.armnn), Ratio(r.ours[0], r.armnn)) : "");
    }
  }
  std::cout << "\nOverhead and memory (1 thread): time outside XNNPACK calls; arena + weights; RSS "
               "growth of\n"
               "creating an interpreter and running it once (tpufleet first, then TFLite, in one "
               "process)\n";
  std::cout << fmt::format("{:<58} {:>9} {:>10} {:>10} {:>12} {:>12}\n", "model", "outside",
                           "arena KiB", "weights KiB", "RSS KiB ours", "RSS KiB TFL");
  for (const tpufleet::Row& r : rows) {
    std::cout << fmt::format("{:<58} {:>8.1f}% {:>10} {:>10} {:>12} {:>12}\n", r.model,
                             100 * r.outside_xnnpack, r.arena / 1024, r.weights / 1024,
                             r.our_rss / 1024, r.tflite_rss / 1024);
  }
  return 0;
}
