#include "planner/plan_file.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "devices/selector.h"

namespace tpufleet::planner {

using nlohmann::json;

std::string PlanJson(const PlanInputs& inputs, const Plan& plan, const std::string& topology_json) {
  json models = json::array(), devices = json::array(), units = json::array();
  for (const PlanModel& m : inputs.models) models.push_back({{"model", m.name}, {"rate", m.rate}});
  for (const PlanDevice& d : inputs.devices) devices.push_back(d.name);
  for (const PlanUnit& u : plan.placement.units) {
    json unit = {{"models", json::array()}, {"devices", json::array()}};
    for (int m : u.models) unit["models"].push_back(inputs.models[m].name);
    for (int d : u.devices) unit["devices"].push_back(inputs.devices[d].name);
    units.push_back(unit);
  }
  const Prediction& p = plan.prediction;
  json predicted_devices = json::array(), predicted_models = json::array();
  for (size_t d = 0; d < inputs.devices.size(); ++d) {
    predicted_devices.push_back(
        {{"device", inputs.devices[d].name}, {"utilization", p.utilization[d]}});
  }
  for (size_t m = 0; m < inputs.models.size(); ++m) {
    json rates = json::object();
    for (size_t d = 0; d < inputs.devices.size(); ++d) {
      if (p.rates[m][d] > 0) rates[inputs.devices[d].name] = p.rates[m][d];
    }
    double latency = p.latency_ms[m];
    predicted_models.push_back({{"model", inputs.models[m].name},
                                {"rate", inputs.models[m].rate},
                                {"rates", rates},
                                {"latency_ms", std::isfinite(latency) ? json(latency) : json()},
                                {"max_rate", inputs.models[m].rate * p.capacity_scale()}});
  }
  json topology = topology_json.empty() ? json() : json::parse(topology_json, nullptr, false);
  return json{{"models", models},
              {"devices", devices},
              {"topology", topology},
              {"units", units},
              {"prediction",
               {{"devices", predicted_devices},
                {"models", predicted_models},
                {"max_utilization", p.max_utilization},
                {"capacity_scale", p.capacity_scale()}}},
              {"edgetpu_compiler", CompilerCommands(inputs, plan.placement)}}
      .dump(2);
}

namespace {

constexpr double kMaxRate = 1e9;  // requests per second

// The plan's fields as they stand, before any check of their values.
Result<PlanFile> ReadPlanFields(const json& root) {
  PlanFile plan;
  try {
    for (const json& m : root.at("models")) {
      plan.models.emplace_back(m.at("model").get<std::string>(), m.at("rate").get<double>());
    }
    for (const json& d : root.at("devices")) plan.devices.push_back(d.get<std::string>());
    if (root.contains("topology") && !root["topology"].is_null()) {
      plan.topology_json = root["topology"].dump();
    }
    for (const json& u : root.at("units")) {
      plan.units.push_back({u.at("models").get<std::vector<std::string>>(),
                            u.at("devices").get<std::vector<std::string>>()});
    }
  } catch (const json::exception& e) {
    return InvalidArgumentError(fmt::format(
        "the plan needs \"models\" [{{\"model\", \"rate\"}}], \"devices\" [names] and \"units\" "
        "[{{\"models\", \"devices\"}}]: {}",
        e.what()));
  }
  return plan;
}

// Each model has a rate in range and names no device.
Status CheckPlanModels(const PlanFile& plan) {
  for (size_t i = 0; i < plan.models.size(); ++i) {
    const auto& [name, rate] = plan.models[i];
    if (!(rate >= 0 && rate <= kMaxRate)) {  // also refuses NaN
      return InvalidArgumentError(fmt::format(
          "models[{}].rate is {}; it must be a number of requests per second from 0 to {}", i, rate,
          kMaxRate));
    }
    TPUFLEET_ASSIGN_OR_RETURN(ModelSpec spec, ParseModelSpec(name));
    if (!spec.device.empty()) {
      return InvalidArgumentError(fmt::format(
          "plan model '{}' names a device ({}); a plan places its models through \"units\": "
          "give the model alone",
          name, spec.device));
    }
  }
  return OkStatus();
}

// Each unit names device strings and models of the plan, at least one of each.
Status CheckPlanUnits(const PlanFile& plan) {
  for (const PlanFile::Unit& u : plan.units) {
    for (const std::string& d : u.devices) TPUFLEET_RETURN_IF_ERROR(ParseSelector(d).status());
    for (const std::string& m : u.models) {
      bool known = std::any_of(plan.models.begin(), plan.models.end(),
                               [&](const auto& entry) { return entry.first == m; });
      if (!known)
        return InvalidArgumentError(fmt::format("unit model '{}' is not in \"models\"", m));
    }
    if (u.models.empty() || u.devices.empty()) {
      return InvalidArgumentError("every unit needs at least one model and one device");
    }
  }
  return OkStatus();
}

// Every model is in a unit: the plan says where each runs.
Status CheckEveryModelPlaced(const PlanFile& plan) {
  for (const auto& model : plan.models) {
    const std::string& name = model.first;  // a plain reference: lambdas take it in clang 14 too
    bool placed = std::any_of(plan.units.begin(), plan.units.end(), [&](const PlanFile::Unit& u) {
      return std::find(u.models.begin(), u.models.end(), name) != u.models.end();
    });
    if (!placed) {
      return InvalidArgumentError(fmt::format(
          "model '{}' is in \"models\" but in no unit, so the plan does not say where it runs; "
          "add it to a unit or leave it out of \"models\"",
          name));
    }
  }
  return OkStatus();
}

}  // namespace

Result<PlanFile> ParsePlanFile(const std::string& json_text) {
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return InvalidArgumentError("a plan is a JSON object as 'tpufleet plan -o FILE' writes it");
  }
  TPUFLEET_ASSIGN_OR_RETURN(PlanFile plan, ReadPlanFields(root));
  TPUFLEET_RETURN_IF_ERROR(CheckPlanModels(plan));
  TPUFLEET_RETURN_IF_ERROR(CheckPlanUnits(plan));
  TPUFLEET_RETURN_IF_ERROR(CheckEveryModelPlaced(plan));
  return plan;
}

}  // namespace tpufleet::planner
