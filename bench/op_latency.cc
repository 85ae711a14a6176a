// Per-operator latency of the CPU backend's element-wise, comparison, selection, reduction,
// normalization and cast kernels beside TensorFlow Lite 2.9's built-in kernels, one thread each,
// in the same run: one-operator models on a [1, 56, 56, 64] activation (the size of an early
// MobileNet feature map). Prints medians and the ratio tpufleet / TFLite (below 1 is faster).
//
//   build/bench/op_latency [--seconds S] [--filter NAME]
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "cpu/interpreter.h"
#include "median_time.h"
#include "model/builder.h"
#include "oracle/tflite_reference.h"

namespace tpufleet {
namespace {

using Op = tfl::BuiltinOperator;
using DT = DataType;

double MedianMs(const std::function<bool()>& run, double budget) {
  return bench::MedianMs(run, budget, 500);
}

const std::vector<int32_t> kShape = {1, 56, 56, 64};

struct Input {
  DT type;
  std::vector<int32_t> shape;
  Quantization q;
  bool positive = false;          // no zero or negative values (divisors, square roots)
  std::vector<uint8_t> constant;  // empty: a graph input
};

struct Case {
  std::string name;
  Op op;
  std::vector<Input> inputs;
  DT out_type;
  std::vector<int32_t> out_shape;
  Quantization out_q;
  tfl::BuiltinOptionsUnion options;
};

Quantization Q(float scale, int zero) { return {{scale}, {zero}, 0}; }

// Random stored values of `in`'s type; positive ones stay above the zero point.
std::vector<uint8_t> RandomBytes(const Input& in, uint32_t seed) {
  size_t n = 1;
  for (int32_t d : in.shape) n *= d;
  std::mt19937 random(seed);
  std::vector<uint8_t> bytes(n * DataTypeSize(in.type));
  int zero = in.q.empty() ? 0 : static_cast<int>(in.q.zero_points[0]);
  for (size_t i = 0; i < n; ++i) {
    switch (in.type) {
      case DT::kFloat32: {
        float v = std::uniform_real_distribution<float>(in.positive ? 0.1f : -4, 4)(random);
        std::memcpy(&bytes[i * 4], &v, 4);
        break;
      }
      case DT::kInt32: {
        int32_t v = std::uniform_int_distribution<int32_t>(in.positive ? 1 : -1000, 1000)(random);
        std::memcpy(&bytes[i * 4], &v, 4);
        break;
      }
      case DT::kInt64: {
        int64_t v = std::uniform_int_distribution<int64_t>(in.positive ? 1 : -1000, 1000)(random);
        std::memcpy(&bytes[i * 8], &v, 8);
        break;
      }
      case DT::kInt16: {
        auto v = static_cast<int16_t>(std::uniform_int_distribution<int>(-30000, 30000)(random));
        std::memcpy(&bytes[i * 2], &v, 2);
        break;
      }
      case DT::kBool: bytes[i] = random() & 1; break;
      case DT::kInt8: {
        int lo = in.positive ? zero + 1 : -128;
        bytes[i] = static_cast<uint8_t>(std::uniform_int_distribution<int>(lo, 127)(random));
        break;
      }
      default: {
        int lo = in.positive ? zero + 1 : 0;
        bytes[i] = static_cast<uint8_t>(std::uniform_int_distribution<int>(lo, 255)(random));
      }
    }
  }
  return bytes;
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  std::vector<int32_t> channel = {64};
  auto binary = [&](const std::string& name, Op op, DT type, Quantization qa, Quantization qb,
                    Quantization qo, bool positive_b) {
    cases.push_back(
        {name, op, {{type, kShape, qa}, {type, channel, qb, positive_b}}, type, kShape, qo, {}});
  };
  binary("DIV float32", Op::DIV, DT::kFloat32, {}, {}, {}, true);
  binary("DIV uint8", Op::DIV, DT::kUInt8, Q(0.1f, 128), Q(0.01f, 0), Q(0.125f, 128), true);
  binary("FLOOR_DIV int32", Op::FLOOR_DIV, DT::kInt32, {}, {}, {}, true);
  binary("FLOOR_MOD int32", Op::FLOOR_MOD, DT::kInt32, {}, {}, {}, true);
  binary("MAXIMUM float32", Op::MAXIMUM, DT::kFloat32, {}, {}, {}, false);
  binary("MAXIMUM int8", Op::MAXIMUM, DT::kInt8, Q(0.05f, 0), Q(0.05f, 0), Q(0.05f, 0), false);
  binary("MINIMUM uint8", Op::MINIMUM, DT::kUInt8, Q(0.05f, 9), Q(0.05f, 9), Q(0.05f, 9), false);
  binary("SQUARED_DIFFERENCE float32", Op::SQUARED_DIFFERENCE, DT::kFloat32, {}, {}, {}, false);
  binary("SQUARED_DIFFERENCE int8", Op::SQUARED_DIFFERENCE, DT::kInt8, Q(0.1f, 3), Q(0.05f, -2),
         Q(0.2f, -128), false);
  binary("PRELU int8", Op::PRELU, DT::kInt8, Q(0.03f, 2), Q(0.01f, -20), Q(0.025f, -3), false);
  binary("PRELU float32", Op::PRELU, DT::kFloat32, {}, {}, {}, false);
  auto unary = [&](const std::string& name, Op op, DT type, Quantization qi, Quantization qo,
                   bool positive) {
    cases.push_back({name, op, {{type, kShape, qi, positive}}, type, kShape, qo, {}});
  };
  unary("SQRT float32", Op::SQRT, DT::kFloat32, {}, {}, true);
  unary("RSQRT float32", Op::RSQRT, DT::kFloat32, {}, {}, true);
  unary("RSQRT int8", Op::RSQRT, DT::kInt8, Q(0.02f, -128), Q(0.1f, -128), true);
  unary("EXP float32", Op::EXP, DT::kFloat32, {}, {}, false);
  unary("LEAKY_RELU float32", Op::LEAKY_RELU, DT::kFloat32, {}, {}, false);
  unary("LEAKY_RELU uint8", Op::LEAKY_RELU, DT::kUInt8, Q(0.03f, 100), Q(0.04f, 110), false);
  unary("LOG_SOFTMAX float32", Op::LOG_SOFTMAX, DT::kFloat32, {}, {}, false);
  unary("LOG_SOFTMAX uint8", Op::LOG_SOFTMAX, DT::kUInt8, Q(0.05f, 120), Q(16.0f / 256, 255),
        false);
  unary("L2_NORMALIZATION float32", Op::L2_NORMALIZATION, DT::kFloat32, {}, {}, false);
  unary("L2_NORMALIZATION int8", Op::L2_NORMALIZATION, DT::kInt8, Q(0.05f, -5), Q(1.0f / 128, 0),
        false);
  for (auto [name, type, q] : {std::tuple{"float32", DT::kFloat32, Quantization{}},
                               std::tuple{"int8", DT::kInt8, Q(0.5f, -1)}}) {
    cases.push_back({fmt::format("LESS {}", name),
                     Op::LESS,
                     {{type, kShape, q}, {type, channel, q}},
                     DT::kBool,
                     kShape,
                     {},
                     {}});
  }
  cases.push_back(
      {"SELECT_V2 float32",
       Op::SELECT_V2,
       {{DT::kBool, kShape, {}}, {DT::kFloat32, kShape, {}}, {DT::kFloat32, channel, {}}},
       DT::kFloat32,
       kShape,
       {},
       {}});
  cases.push_back({"CAST float32 to int32",
                   Op::CAST,
                   {{DT::kFloat32, kShape, {}}},
                   DT::kInt32,
                   kShape,
                   {},
                   {}});
  cases.push_back({"CAST uint8 to float32",
                   Op::CAST,
                   {{DT::kUInt8, kShape, {}}},
                   DT::kFloat32,
                   kShape,
                   {},
                   {}});
  std::vector<int32_t> axes = {1, 2};
  std::vector<uint8_t> axes_bytes(8);
  std::memcpy(axes_bytes.data(), axes.data(), 8);
  for (auto [name, op, type, q] :
       {std::tuple{"SUM float32", Op::SUM, DT::kFloat32, Quantization{}},
        std::tuple{"SUM int8 (requantized)", Op::SUM, DT::kInt8, Q(0.1f, -3)},
        std::tuple{"REDUCE_MAX float32", Op::REDUCE_MAX, DT::kFloat32, Quantization{}},
        std::tuple{"REDUCE_MAX uint8", Op::REDUCE_MAX, DT::kUInt8, Q(0.1f, 3)}}) {
    Quantization out_q = q;
    if (op == Op::SUM && !q.empty()) out_q = Q(4.0f, 0);
    tfl::ReducerOptionsT o;
    o.keep_dims = false;
    tfl::BuiltinOptionsUnion options;
    options.Set(std::move(o));
    cases.push_back({name,
                     op,
                     {{type, kShape, q}, {DT::kInt32, {2}, {}, false, axes_bytes}},
                     type,
                     {1, 64},
                     out_q,
                     std::move(options)});
  }
  return cases;
}

std::vector<uint8_t> Build(const Case& c) {
  ModelBuilder b;
  std::vector<int> inputs, graph_inputs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Input& in = c.inputs[i];
    std::string name = "in" + std::to_string(i);
    int index = in.constant.empty() ? b.AddTensor(name, in.type, in.shape, in.q)
                                    : b.AddConstant(name, in.type, in.shape, in.constant, in.q);
    inputs.push_back(index);
    if (in.constant.empty()) graph_inputs.push_back(index);
  }
  int out = b.AddTensor("out", c.out_type, c.out_shape, c.out_q);
  tfl::BuiltinOptionsUnion options = c.options;
  b.AddOperator(c.op, inputs, {out}, std::move(options));
  b.SetInputs(graph_inputs);
  b.SetOutputs({out});
  return b.Finish();
}

int Main(int argc, char** argv) {
  CLI::App app{"Per-operator latency beside TensorFlow Lite 2.9's built-in kernels"};
  double seconds = 1.0;
  std::string filter;
  app.add_option("--seconds", seconds, "Time budget per measurement");
  app.add_option("--filter", filter, "Only cases whose name contains this");
  CLI11_PARSE(app, argc, argv);
  fmt::print("| operator | tpufleet 1T ms | TFLite 1T ms | ratio |\n|---|---|---|---|\n");
  for (const Case& c : Cases()) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    std::vector<uint8_t> bytes = Build(c);
    std::vector<std::vector<uint8_t>> data;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      if (c.inputs[i].constant.empty()) data.push_back(RandomBytes(c.inputs[i], 7 + i));
    }
    auto model = Model::FromBuffer(bytes, c.name);
    if (!model.ok()) {
      fmt::print("| {} | {} | | |\n", c.name, model.status().ToString());
      continue;
    }
    auto ours = cpu::Interpreter::Create(model.value());
    if (!ours.ok()) {
      fmt::print("| {} | {} | | |\n", c.name, ours.status().ToString());
      continue;
    }
    for (size_t i = 0; i < data.size(); ++i)
      std::memcpy(ours.value()->input(i).data, data[i].data(), data[i].size());
    double ours_ms = MedianMs([&] { return ours.value()->Invoke().ok(); }, seconds);

    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 fmt::format("tpufleet-op-latency-{}.tflite", getpid());
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    auto theirs = testing::TfLiteReference::Create(path.string(), 1);
    std::filesystem::remove(path);
    std::string theirs_cell = "fails", ratio = "-";
    if (theirs.ok()) {
      for (size_t i = 0; i < data.size(); ++i) (void)theirs.value()->SetInput(i, data[i]);
      double theirs_ms = MedianMs([&] { return theirs.value()->Invoke().ok(); }, seconds);
      theirs_cell = fmt::format("{:.3f}", theirs_ms);
      ratio = fmt::format("{:.2f}", ours_ms / theirs_ms);
    }
    fmt::print("| {} | {:.3f} | {} | {} |\n", c.name, ours_ms, theirs_cell, ratio);
  }
  return 0;
}

}  // namespace
}  // namespace tpufleet

int main(int argc, char** argv) { return tpufleet::Main(argc, argv); }
