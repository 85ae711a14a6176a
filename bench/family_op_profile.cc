// The per-operator profile of whole model families beside TensorFlow Lite 2.9's: every operator
// of each model is cut out as a one-operator model (ExtractSubmodel), fed the values it sees in
// the full model, and timed on the CPU backend and on TFLite's built-in kernels, one thread
// each, in the same run. Prints, per operator and input type, the count and the summed medians
// of both and their ratio (below 1 is faster), then each whole model's time on both.
//
// Operators TFLite does not have (PosenetDecoderOp) are timed on the CPU backend only and left
// out of the ratios. A one-operator model pays an invocation's fixed cost (about a microsecond
// on both) that the operator does not pay inside its model.
//
//   build/bench/family_op_profile [--seconds S] [--models zoo:NAME|FILE ...] [--filter OP]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <map>
#include <random>

#include "cpu/interpreter.h"
#include "median_time.h"
#include "model/submodel.h"
#include "model/zoo/zoo.h"
#include "oracle/tflite_reference.h"

namespace tpufleet {
namespace {

struct Totals {
  int count = 0;
  double ours_ms = 0, theirs_ms = 0;  // theirs: only over operators TFLite runs
  double ours_compared_ms = 0;        // ours over the same operators
  int uncompared = 0;                 // operators TFLite does not run
};

// "zoo:NAME[@RESOLUTION][:DTYPE]" or a file.
Result<ModelPtr> LoadModel(const std::string& spec) {
  if (spec.rfind("zoo:", 0) != 0) return Model::FromFile(spec);
  std::string name = spec.substr(4);
  zoo::ZooOptions options;
  if (size_t colon = name.find(':'); colon != std::string::npos) {
    std::string dtype = name.substr(colon + 1);
    options.precision = dtype == "int8"      ? zoo::Precision::kInt8
                        : dtype == "float32" ? zoo::Precision::kFloat32
                                             : zoo::Precision::kUInt8;
    name = name.substr(0, colon);
  }
  if (size_t at = name.find('@'); at != std::string::npos) {
    options.resolution = std::stoi(name.substr(at + 1));
    name = name.substr(0, at);
  }
  Result<std::vector<uint8_t>> bytes = zoo::BuildZooModel(name, options);
  if (!bytes.ok()) return bytes.status();
  return Model::FromBuffer(std::move(bytes).value(), spec);
}

std::vector<uint8_t> Bytes(const Model& model) {
  return {model.bytes().begin(), model.bytes().end()};
}

// Deterministic pseudo-random input bytes: images for integer inputs, [-1, 1] for float ones.
std::vector<uint8_t> RandomInput(const TensorInfo& t, uint32_t seed) {
  size_t n = 1;
  for (int32_t d : t.shape) n *= static_cast<size_t>(d);
  std::mt19937 random(seed);
  std::vector<uint8_t> bytes(n * DataTypeSize(t.type));
  if (t.type == DataType::kFloat32) {
    for (size_t i = 0; i < n; ++i) {
      float v = std::uniform_real_distribution<float>(-1, 1)(random);
      std::memcpy(&bytes[i * 4], &v, 4);
    }
  } else {
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(random());
  }
  return bytes;
}

// The value of every tensor an operator reads or writes, from one run of the full model whose
// outputs are all of them.
Result<std::map<int, std::vector<uint8_t>>> TensorValues(const Model& model) {
  std::vector<int> all;
  for (const OperatorInfo& op : model.operators()) {
    for (int t : op.outputs) all.push_back(t);
  }
  Result<ModelPtr> everything =
      ExtractSubmodel(model, model.input_indices(), all, model.name() + " (every tensor)");
  if (!everything.ok()) return everything.status();
  Result<std::unique_ptr<cpu::Interpreter>> run = cpu::Interpreter::Create(everything.value());
  if (!run.ok()) return run.status();
  std::map<int, std::vector<uint8_t>> values;
  for (size_t i = 0; i < model.input_indices().size(); ++i) {
    std::vector<uint8_t> input = RandomInput(model.input(i), 7 + static_cast<uint32_t>(i));
    std::memcpy((*run)->input(i).data, input.data(), input.size());
    values[model.input_indices()[i]] = std::move(input);
  }
  TPUFLEET_RETURN_IF_ERROR((*run)->Invoke());
  for (size_t i = 0; i < all.size(); ++i) {
    const cpu::Tensor& out = (*run)->output(i);
    values[all[i]].assign(out.data, out.data + out.byte_size());
  }
  return values;
}

// Times `model` (inputs `inputs`) on both; -1 for one that cannot run it.
std::pair<double, double> TimeBoth(const ModelPtr& model,
                                   const std::vector<std::vector<uint8_t>>& inputs,
                                   double seconds) {
  double ours_ms = -1, theirs_ms = -1;
  if (auto ours = cpu::Interpreter::Create(model); ours.ok()) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::memcpy((*ours)->input(i).data, inputs[i].data(), inputs[i].size());
    }
    ours_ms = bench::MedianMs([&] { return (*ours)->Invoke().ok(); }, seconds, 100);
  }
  if (auto theirs = testing::TfLiteReference::FromBuffer(Bytes(*model)); theirs.ok()) {
    bool set = true;
    for (size_t i = 0; i < inputs.size(); ++i) set &= (*theirs)->SetInput(i, inputs[i]).ok();
    if (set) theirs_ms = bench::MedianMs([&] { return (*theirs)->Invoke().ok(); }, seconds, 100);
  }
  return {ours_ms, theirs_ms};
}

std::string Ratio(double ours, double theirs) {
  return theirs > 0 ? fmt::format("{:.2f}", ours / theirs) : "-";
}

int Main(int argc, char** argv) {
  CLI::App app{"Per-operator profile of model families beside TensorFlow Lite 2.9's"};
  double seconds = 0.05;
  std::string filter;
  std::vector<std::string> models = {"zoo:mobilenet_v3_large:int8",
                                     "zoo:yolov8n@320:int8",
                                     "zoo:ssdlite_mobiledet",
                                     "zoo:unet_mobilenet_v2",
                                     "zoo:mobilenet_v1_embedding",
                                     "zoo:efficientdet_lite0",
                                     "zoo:yolov5n@320:int8",
                                     "zoo:movenet_lightning",
                                     "../shared/models/deeplabv3_mnv2_dm05_pascal_quant.tflite",
                                     "../shared/models/keras_lstm_mnist_ptq.tflite"};
  app.add_option("--seconds", seconds, "Time budget of each measurement");
  app.add_option("--models", models, "Models: files, or zoo:NAME[@RESOLUTION][:DTYPE]");
  app.add_option("--filter", filter, "Only operators whose name contains this");
  CLI11_PARSE(app, argc, argv);

  std::map<std::string, Totals> by_operator;
  std::vector<std::string> whole;
  for (const std::string& spec : models) {
    Result<ModelPtr> model = LoadModel(spec);
    Result<std::map<int, std::vector<uint8_t>>> values =
        model.ok() ? TensorValues(*model.value()) : model.status();
    if (!values.ok()) {
      fmt::print(stderr, "{}: {}\n", spec, values.status().ToString());
      return 1;
    }
    const Model& m = *model.value();
    for (const OperatorInfo& op : m.operators()) {
      if (!filter.empty() && op.name.find(filter) == std::string::npos) continue;
      std::vector<int> inputs;
      std::vector<std::vector<uint8_t>> data;
      for (int t : op.inputs) {
        if (t < 0 || m.tensors()[t].is_constant || m.tensors()[t].is_variable) continue;
        if (std::find(inputs.begin(), inputs.end(), t) != inputs.end()) continue;
        inputs.push_back(t);
        data.push_back(values->at(t));
      }
      Result<ModelPtr> alone = ExtractSubmodel(m, inputs, op.outputs, op.name);
      if (!alone.ok()) {
        fmt::print(stderr, "{} operator {}: {}\n", spec, op.index, alone.status().ToString());
        return 1;
      }
      auto [ours, theirs] = TimeBoth(alone.value(), data, seconds);
      if (ours < 0) {
        fmt::print(stderr, "{} operator {} ({}) does not run on the CPU backend\n", spec, op.index,
                   op.name);
        return 1;
      }
      std::string type = inputs.empty() ? "" : " " + DataTypeName(m.tensors()[inputs[0]].type);
      Totals& totals = by_operator[op.name + type];
      ++totals.count;
      totals.ours_ms += ours;
      if (theirs > 0) {
        totals.theirs_ms += theirs;
        totals.ours_compared_ms += ours;
      } else {
        ++totals.uncompared;
      }
    }
    std::vector<std::vector<uint8_t>> inputs;
    for (int t : m.input_indices()) inputs.push_back(values->at(t));
    auto [ours, theirs] = TimeBoth(model.value(), inputs, 10 * seconds);
    if (ours < 0) {
      fmt::print(stderr, "{} does not run on the CPU backend\n", spec);
      return 1;
    }
    whole.push_back(fmt::format("| {} | {} | {:.3f} | {} | {} |", spec, m.operators().size(), ours,
                                theirs > 0 ? fmt::format("{:.3f}", theirs) : "fails",
                                Ratio(ours, theirs)));
  }

  fmt::print("| operator | count | tpufleet 1T ms | TFLite 1T ms | ratio |\n");
  fmt::print("|---|---|---|---|---|\n");
  for (const auto& [name, t] : by_operator) {
    std::string theirs = t.uncompared == t.count ? "not in TFLite"
                         : t.uncompared > 0
                             ? fmt::format("{:.3f} ({} not in TFLite)", t.theirs_ms, t.uncompared)
                             : fmt::format("{:.3f}", t.theirs_ms);
    fmt::print("| {} | {} | {:.3f} | {} | {} |\n", name, t.count, t.ours_ms, theirs,
               Ratio(t.ours_compared_ms, t.theirs_ms));
  }
  fmt::print("\n| whole model | operators | tpufleet 1T ms | TFLite 1T ms | ratio |\n");
  fmt::print("|---|---|---|---|---|\n");
  for (const std::string& row : whole) fmt::print("{}\n", row);
  return 0;
}

}  // namespace
}  // namespace tpufleet

int main(int argc, char** argv) { return tpufleet::Main(argc, argv); }
