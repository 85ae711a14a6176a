// `tpufleet inspect MODEL... [--json]`: what a model holds, in the words of the
// Edge TPU compiler.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/text.h"
#include "model/caching_groups.h"
#include "model/op_cost.h"
#include "tpufleet/model.h"

namespace tpufleet::cli {
namespace {

using nlohmann::json;

std::map<std::string, uint64_t> MacsByOperatorName(const Model& model) {
  std::map<std::string, uint64_t> macs;
  for (const OperatorInfo& op : model.operators()) {
    macs[op.name] = SaturatingAdd(macs[op.name], op.macs);
  }
  return macs;
}

json QuantizationJson(const Quantization& q) {
  if (q.empty()) return nullptr;
  return {{"scales", q.scales}, {"zero_points", q.zero_points}, {"axis", q.axis}};
}

json TensorJson(const TensorInfo& t) {
  return {{"index", t.index},
          {"name", t.name},
          {"type", DataTypeName(t.type)},
          {"shape", t.shape},
          {"quantization", QuantizationJson(t.quantization)}};
}

json PackageJson(const EdgeTpuPackage& p) {
  json executables = json::array();
  for (const EdgeTpuExecutable& e : p.executables) {
    executables.push_back({{"type", EdgeTpuExecutableTypeName(e.type)},
                           {"name", e.name},
                           {"chip", e.chip},
                           {"parameter_bytes", e.parameter_bytes},
                           {"caching_token", FormatToken(e.caching_token)},
                           {"estimated_cycles", e.estimated_cycles}});
  }
  return {{"operator_index", p.operator_index},
          {"min_runtime_version", p.min_runtime_version},
          {"compiler_version", p.compiler_version},
          {"model_identifier", p.model_identifier},
          {"cached_bytes", p.cached_bytes()},
          {"streamed_bytes", p.streamed_bytes()},
          {"caching_token", FormatToken(p.caching_token())},
          {"executables", executables}};
}

json ModelJson(const Model& model) {
  json inputs = json::array(), outputs = json::array(), packages = json::array();
  for (int i : model.input_indices()) inputs.push_back(TensorJson(model.tensors()[i]));
  for (int i : model.output_indices()) outputs.push_back(TensorJson(model.tensors()[i]));
  for (const EdgeTpuPackage& p : model.edgetpu_packages()) packages.push_back(PackageJson(p));
  std::map<std::string, uint64_t> macs_by_op = MacsByOperatorName(model);
  json ops = json::object();
  for (const auto& [name, count] : model.op_histogram()) {
    ops[name] = {{"count", count}, {"macs", macs_by_op[name]}};
  }
  return {{"path", model.name()},
          {"size_bytes", model.bytes().size()},
          {"schema_version", model.schema_version()},
          {"description", model.description()},
          {"subgraphs", model.subgraph_count()},
          {"inputs", inputs},
          {"outputs", outputs},
          {"operator_count", model.operators().size()},
          {"operators", ops},
          {"parameter_count", model.parameter_count()},
          {"parameter_bytes", model.parameter_bytes()},
          {"macs", model.total_macs()},
          {"edgetpu_packages", packages}};
}

std::string TensorLine(const TensorInfo& t) {
  std::string line = fmt::format("    #{:<4} {:<8} [{}]  {}", t.index, DataTypeName(t.type),
                                 fmt::join(t.shape, ", "), t.name);
  const Quantization& q = t.quantization;
  if (q.per_channel()) {
    line +=
        fmt::format("  (per-channel quantization, {} scales on axis {})", q.scales.size(), q.axis);
  } else if (!q.empty()) {
    line += fmt::format("  (scale {:g}, zero point {})", q.scales[0], q.zero_points[0]);
  }
  return line;
}

void PrintPackage(std::ostream& out, const EdgeTpuPackage& p) {
  out << fmt::format(
      "  Edge TPU subgraph (operator #{}), compiler {}, needs "
      "runtime version >= {}\n",
      p.operator_index, p.compiler_version.empty() ? "unknown" : p.compiler_version,
      p.min_runtime_version);
  out << fmt::format("    On-chip memory used for caching model parameters: {}\n",
                     FormatBytes(p.cached_bytes()));
  out << fmt::format("    Off-chip memory used for streaming uncached model parameters: {}\n",
                     FormatBytes(p.streamed_bytes()));
  out << fmt::format("    Parameter caching token: {}\n", FormatToken(p.caching_token()));
  for (const EdgeTpuExecutable& e : p.executables) {
    out << fmt::format("    Executable {:<17} parameters {:>11} bytes  token {}\n",
                       EdgeTpuExecutableTypeName(e.type), WithThousands(e.parameter_bytes),
                       FormatToken(e.caching_token));
  }
}

std::string ShapesOf(const Model& model, const std::vector<int>& indices) {
  std::vector<std::string> shapes;
  for (int i : indices) {
    shapes.push_back(i < 0 ? "-" : fmt::format("[{}]", fmt::join(model.tensors()[i].shape, ",")));
  }
  return fmt::format("{}", fmt::join(shapes, " "));
}

void PrintOperators(std::ostream& out, const Model& model) {
  out << "  Operator list:\n";
  for (const OperatorInfo& op : model.operators()) {
    out << fmt::format("    #{:<4} {:<28} {} -> {}{}\n", op.index, op.name,
                       ShapesOf(model, op.inputs), ShapesOf(model, op.outputs),
                       op.macs ? "  " + FormatCount(op.macs) + " MACs" : "");
  }
}

void PrintModel(std::ostream& out, const Model& model, bool list_operators) {
  out << fmt::format("{}\n", model.name());
  out << fmt::format("  {} bytes, schema version {}, {} subgraph(s){}\n",
                     WithThousands(model.bytes().size()), model.schema_version(),
                     model.subgraph_count(),
                     model.description().empty() ? "" : ", \"" + model.description() + "\"");
  out << "  Inputs:\n";
  for (int i : model.input_indices()) out << TensorLine(model.tensors()[i]) << "\n";
  out << "  Outputs:\n";
  for (int i : model.output_indices()) out << TensorLine(model.tensors()[i]) << "\n";

  std::map<std::string, uint64_t> macs_by_op = MacsByOperatorName(model);
  out << fmt::format("  Operators: {}\n", model.operators().size());
  for (const auto& [name, count] : model.op_histogram()) {
    std::string count_column = fmt::format("x{}", count);
    uint64_t macs = macs_by_op[name];
    if (macs == 0) {
      out << fmt::format("    {:<32} {}\n", name, count_column);
    } else {
      out << fmt::format("    {:<32} {:<5} {:>9} MACs\n", name, count_column, FormatCount(macs));
    }
  }
  std::string where = model.is_edgetpu_compiled() ? " (CPU operators only)" : "";
  out << fmt::format("  Parameters{}: {} ({})\n", where, WithThousands(model.parameter_count()),
                     FormatBytes(model.parameter_bytes()));
  out << fmt::format("  Multiply-accumulates{}: {}{}\n", where, WithThousands(model.total_macs()),
                     model.total_macs() ? " (" + FormatCount(model.total_macs()) + ")" : "");
  if (list_operators) PrintOperators(out, model);
  out << fmt::format("  Number of Edge TPU subgraphs: {}\n", model.edgetpu_packages().size());
  for (const EdgeTpuPackage& p : model.edgetpu_packages()) PrintPackage(out, p);
}

void PrintGroups(std::ostream& out, std::span<const ModelPtr> models,
                 const std::vector<CachingGroup>& groups) {
  out << "Parameter caching:\n";
  for (const CachingGroup& g : groups) {
    if (g.members.size() > 1) {
      out << fmt::format(
          "  token {}: co-compiled group of {} models; they "
          "share one Edge TPU without reloading:\n",
          FormatToken(g.token), g.members.size());
    } else {
      out << fmt::format(
          "  token {}: compiled alone; sharing a device with "
          "another model reloads its parameters:\n",
          FormatToken(g.token));
    }
    for (size_t m : g.members) out << "    " << models[m]->name() << "\n";
  }
}

int RunInspect(const std::vector<std::string>& paths, bool as_json, bool list_operators) {
  std::vector<ModelPtr> models;
  json errors = json::array();
  for (const std::string& path : paths) {
    Result<ModelPtr> model = Model::FromFile(path);
    if (model.ok()) {
      models.push_back(model.value());
    } else {
      errors.push_back({{"path", path}, {"error", model.status().message()}});
      if (!as_json) std::cerr << "error: " << model.status().message() << "\n";
    }
  }
  std::vector<CachingGroup> groups = GroupByCachingToken(models);
  if (as_json) {
    json report = {
        {"models", json::array()}, {"errors", errors}, {"caching_groups", json::array()}};
    for (const ModelPtr& m : models) report["models"].push_back(ModelJson(*m));
    for (const CachingGroup& g : groups) {
      json members = json::array();
      for (size_t m : g.members) members.push_back(models[m]->name());
      report["caching_groups"].push_back({{"caching_token", FormatToken(g.token)},
                                          {"cocompiled", g.members.size() > 1},
                                          {"models", members}});
    }
    std::cout << report.dump(2) << "\n";
  } else {
    for (size_t i = 0; i < models.size(); ++i) {
      if (i) std::cout << "\n";
      PrintModel(std::cout, *models[i], list_operators);
    }
    if (models.size() > 1 && !groups.empty()) {
      std::cout << "\n";
      PrintGroups(std::cout, models, groups);
    }
  }
  return errors.empty() ? 0 : 1;
}

}  // namespace

void AddInspectCommand(CLI::App& root, int& exit_code) {
  CLI::App* cmd = root.add_subcommand(
      "inspect", "Describe models: tensors, operators, MACs, Edge TPU parameter caching");
  cmd->footer(
      "For Edge TPU models, prints the compiler's view: on-chip memory used for caching\n"
      "parameters, off-chip memory streamed on every inference, and the caching token. Given\n"
      "several models, tells which were co-compiled together (they share a token and take turns\n"
      "on one Edge TPU without reloading parameters). Exits 1 if any model fails to load.\n\n"
      "Examples:\n"
      "  tpufleet inspect mobilenet_v2_1.0_224_quant_edgetpu.tflite\n"
      "  tpufleet inspect --ops model.tflite\n"
      "  tpufleet inspect --json a_edgetpu.tflite b_edgetpu.tflite");
  auto paths = std::make_shared<std::vector<std::string>>();
  auto as_json = std::make_shared<bool>(false);
  auto list_operators = std::make_shared<bool>(false);
  cmd->add_option("models", *paths, "TFLite model files (.tflite)")->required();
  cmd->add_flag("--json", *as_json, "Print a JSON report (format in docs/cli.md)");
  cmd->add_flag("--ops", *list_operators,
                "Also list every operator with its tensor shapes and MACs");
  cmd->callback([paths, as_json, list_operators, &exit_code] {
    exit_code = RunInspect(*paths, *as_json, *list_operators);
  });
}

}  // namespace tpufleet::cli
