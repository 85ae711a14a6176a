// `tpufleet run MODEL --input IMAGE [--labels FILE] [--top K] [--threads N] [--count N] [--json]`:
// one model on one image on the CPU, printed as Coral's examples print it.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "cli/commands.h"
#include "cli/labels.h"
#include "common/image.h"
#include "cpu/interpreter.h"
#include "cpu/quantization.h"

namespace tpufleet::cli {
namespace {

using nlohmann::json;

struct RunArgs {
  std::string model;
  std::string input;
  std::string labels;
  int top = 5;
  int threads = 1;
  int count = 1;
  float threshold = 0.4f;
  bool json = false;
  bool profile = false;
};

// Time per operator type over the last invocation, largest first.
void PrintProfile(const cpu::Profile& profile) {
  std::map<std::string, std::pair<double, int>> by_op;
  for (const cpu::Profile::Node& n : profile.nodes) {
    auto& [seconds, count] = by_op[n.op + (n.in_xnnpack ? " (XNNPACK)" : "")];
    seconds += n.seconds;
    ++count;
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> rows(by_op.begin(), by_op.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  std::cout << "-------PROFILE--------\n";
  for (const auto& [op, entry] : rows) {
    std::cout << fmt::format("{:<36} x{:<4} {:8.3f} ms {:5.1f}%\n", op, entry.second,
                             entry.first * 1e3, 100 * entry.first / profile.total_seconds);
  }
  std::cout << fmt::format("{:<42} {:8.3f} ms, {:.1f}% outside XNNPACK\n", "total",
                           profile.total_seconds * 1e3,
                           100 * (1 - profile.xnnpack_seconds() / profile.total_seconds));
}

// Pixels into the input tensor: uint8 as they are, int8 shifted by 128, float32 scaled to [-1, 1].
Status FillInput(const Image& image, cpu::Tensor& input) {
  if (input.rank() != 4)
    return InvalidArgumentError("the model's input is " + cpu::Describe(input) +
                                ", not an NHWC image");
  Image resized = ResizeBilinear(image, input.dim(2), input.dim(1));
  for (size_t i = 0; i < resized.pixels.size(); ++i) {
    uint8_t p = resized.pixels[i];
    switch (input.type) {
      case DataType::kUInt8: input.data[i] = p; break;
      case DataType::kInt8: input.data[i] = p ^ 0x80; break;
      case DataType::kFloat32: input.as<float>()[i] = (p - 127.5f) / 127.5f; break;
      default:
        return UnimplementedError("images cannot feed a " + DataTypeName(input.type) + " input");
    }
  }
  return OkStatus();
}

std::vector<float> RealValues(const cpu::Tensor& t) {
  std::vector<float> values(t.element_count());
  for (size_t i = 0; i < values.size(); ++i) values[i] = cpu::RealValueAt(t, i);
  return values;
}

json RawValues(const cpu::Tensor& t) {
  json raw = json::array();
  for (size_t i = 0; i < t.element_count(); ++i) {
    switch (t.type) {
      case DataType::kUInt8: raw.push_back(t.as<uint8_t>()[i]); break;
      case DataType::kInt8: raw.push_back(t.as<int8_t>()[i]); break;
      case DataType::kInt32: raw.push_back(t.as<int32_t>()[i]); break;
      case DataType::kInt64: raw.push_back(t.as<int64_t>()[i]); break;
      default: raw.push_back(t.as<float>()[i]); break;
    }
  }
  return raw;
}

// SSD-style models end in TFLite_Detection_PostProcess: four outputs, boxes first.
bool IsDetector(const cpu::Interpreter& interpreter) {
  return interpreter.output_count() == 4 && interpreter.output(0).rank() == 3 &&
         interpreter.output(0).dim(2) == 4;
}

int Run(const RunArgs& args) {
  auto fail = [&](const Status& status) {
    std::cerr << "error: " << status.message() << "\n";
    return status.code() == StatusCode::kInvalidArgument ? 2 : 1;
  };
  Result<ModelPtr> model = Model::FromFile(args.model);
  if (!model.ok()) return fail(model.status());
  Result<std::unique_ptr<cpu::Interpreter>> created =
      cpu::Interpreter::Create(model.value(), {args.threads});
  if (!created.ok()) return fail(created.status());
  cpu::Interpreter& interpreter = *created.value();
  if (interpreter.input_count() != 1) {
    return fail(UnimplementedError(
        fmt::format("the model has {} inputs; run feeds one image", interpreter.input_count())));
  }
  Labels labels;
  if (!args.labels.empty()) {
    Result<Labels> loaded = Labels::Load(args.labels);
    if (!loaded.ok()) return fail(loaded.status());
    labels = std::move(loaded).value();
  }
  cpu::Tensor& input = interpreter.input(0);
  Result<Image> image = LoadImage(args.input, input.rank() == 4 && input.dim(3) == 1 ? 1 : 3);
  if (!image.ok()) return fail(image.status());
  if (Status filled = FillInput(image.value(), input); !filled.ok()) return fail(filled);

  std::vector<double> times_ms;
  cpu::Profile profile;
  for (int i = 0; i < args.count; ++i) {
    auto start = std::chrono::steady_clock::now();
    Status status = args.profile ? interpreter.Invoke(profile) : interpreter.Invoke();
    if (!status.ok()) return fail(status);
    times_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }

  json report = {{"model", args.model},
                 {"input", args.input},
                 {"threads", args.threads},
                 {"arena_bytes", interpreter.arena_bytes()},
                 {"times_ms", times_ms}};
  if (!args.json) {
    std::cout << "----INFERENCE TIME----\n";
    for (double t : times_ms) std::cout << fmt::format("{:.2f} ms\n", t);
    std::cout << fmt::format("(CPU, {} thread{}, arena {} KiB)\n", args.threads,
                             args.threads == 1 ? "" : "s", interpreter.arena_bytes() / 1024);
    if (args.profile) PrintProfile(profile);
  }
  if (IsDetector(interpreter)) {
    std::vector<float> boxes = RealValues(interpreter.output(0)),
                       classes = RealValues(interpreter.output(1));
    std::vector<float> scores = RealValues(interpreter.output(2));
    int count = static_cast<int>(RealValues(interpreter.output(3))[0]);
    json detections = json::array();
    if (!args.json) std::cout << "-------RESULTS--------\n";
    for (int i = 0; i < count && i < args.top; ++i) {
      if (scores[i] < args.threshold) break;
      int id = static_cast<int>(classes[i]);
      detections.push_back(
          {{"class", id},
           {"label", labels.Name(id)},
           {"score", scores[i]},
           {"box", {boxes[i * 4], boxes[i * 4 + 1], boxes[i * 4 + 2], boxes[i * 4 + 3]}}});
      if (!args.json) {
        std::cout << fmt::format(
            "{}\n  id:    {}\n  score: {:.5f}\n  box (ymin, xmin, ymax, xmax): ({:.3f}, {:.3f}, "
            "{:.3f}, {:.3f})\n",
            labels.Name(id), id, scores[i], boxes[i * 4], boxes[i * 4 + 1], boxes[i * 4 + 2],
            boxes[i * 4 + 3]);
      }
    }
    if (!args.json && detections.empty())
      std::cout << fmt::format("No objects detected with score >= {}\n", args.threshold);
    report["detections"] = detections;
  } else {
    std::vector<float> scores = RealValues(interpreter.output(0));
    std::vector<int> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    int k = std::min<int>(args.top, static_cast<int>(order.size()));
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int a, int b) { return scores[a] > scores[b]; });
    json top = json::array();
    if (!args.json) std::cout << "-------RESULTS--------\n";
    for (int i = 0; i < k; ++i) {
      top.push_back(
          {{"class", order[i]}, {"label", labels.Name(order[i])}, {"score", scores[order[i]]}});
      if (!args.json)
        std::cout << fmt::format("{}: {:.5f}  (class {})\n", labels.Name(order[i]),
                                 scores[order[i]], order[i]);
    }
    report["top"] = top;
  }
  if (args.json) {
    json outputs = json::array();
    for (size_t i = 0; i < interpreter.output_count(); ++i) {
      const cpu::Tensor& t = interpreter.output(i);
      json q = t.quantization.empty() ? json(nullptr)
                                      : json{{"scales", t.quantization.scales},
                                             {"zero_points", t.quantization.zero_points}};
      outputs.push_back({{"name", t.name},
                         {"type", DataTypeName(t.type)},
                         {"shape", t.shape},
                         {"quantization", q},
                         {"raw", RawValues(t)}});
    }
    report["outputs"] = outputs;
    std::cout << report.dump(2) << "\n";
  }
  return 0;
}

}  // namespace

void AddRunCommand(CLI::App& root, int& exit_code) {
  CLI::App* cmd = root.add_subcommand(
      "run", "Run a model on an image on the CPU and print its top classes or boxes");
  cmd->footer(
      "Decodes the image (BMP, JPEG, PNG), resizes it (bilinear) to the model's input, runs the\n"
      "model on the CPU backend and prints the top classes of a classifier, or the boxes, classes\n"
      "and scores of an SSD-style detector (one ending in TFLite_Detection_PostProcess). uint8\n"
      "inputs take pixels as they are, int8 inputs pixels - 128, float32 inputs (p - 127.5) / "
      "127.5.\n"
      "--json adds every output tensor's raw values and quantization.\n\n"
      "Examples:\n"
      "  tpufleet run mobilenet_v2_1.0_224_quant.tflite --input cat.bmp --labels "
      "imagenet_labels.txt\n"
      "  tpufleet run ssd_mobilenet_v1_coco_quant_postprocess.tflite --input cat.bmp --labels "
      "coco_labels.txt\n"
      "  tpufleet run model.tflite --input cat.bmp --threads 2 --count 10 --json");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("model", args->model,
                  "TFLite model (uncompiled; compiled models need an Edge TPU or sim)")
      ->required();
  cmd->add_option("-i,--input", args->input, "Image file (BMP, JPEG or PNG)")->required();
  cmd->add_option("-l,--labels", args->labels,
                  "Labels file: one per line, or '<id> <label>' lines");
  cmd->add_option("-k,--top", args->top, "How many classes or detections to print")
      ->default_val(5)
      ->check(CLI::Range(1, 100000));
  cmd->add_option("-t,--threads", args->threads, "CPU threads")
      ->default_val(1)
      ->check(CLI::Range(1, 256));
  cmd->add_option("-c,--count", args->count, "How many times to run (timing)")
      ->default_val(1)
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--threshold", args->threshold, "Minimum score of a detection")
      ->default_val(0.4f);
  cmd->add_flag("--json", args->json, "Print JSON with the raw output tensors");
  cmd->add_flag("--profile", args->profile, "Print the time per operator type of the last run");
  cmd->callback([args, &exit_code] { exit_code = Run(*args); });
}

}  // namespace tpufleet::cli
