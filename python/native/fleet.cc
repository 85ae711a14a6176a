// tpufleet._native.Fleet: many models on many devices; submissions answered through
// PendingInference objects whose wait() releases the GIL.
#include "tpufleet/fleet.h"

#include <fmt/format.h>
#include <pybind11/stl.h>

#include <future>

#include "arrays.h"
#include "bindings.h"
#include "errors.h"
#include "options.h"

namespace py = pybind11;

namespace tpufleet::python {

namespace {

// One submitted inference: wait() blocks (without the GIL) until its answer.
struct PendingInference {
  std::shared_future<Result<InferenceResult>> answer;
  ModelPtr model;  // for the outputs' shapes and types
};

py::dict ResultDict(const InferenceResult& result, const Model& model) {
  py::list outputs;
  for (size_t i = 0; i < result.outputs.size(); ++i)
    outputs.append(TensorCopy(model, model.output(i), result.outputs[i]));
  py::dict d;
  d["outputs"] = outputs;
  d["device"] = result.device;
  d["device_seconds"] = result.device_seconds;
  d["timing_only"] = result.timing_only;
  d["attempts"] = result.attempts;
  return d;
}

// "uint8 (1, 224, 224, 3)" for an array, the type's name for anything else.
std::string Describe(py::handle value) {
  if (!py::isinstance<py::array>(value)) return py::str(value.get_type().attr("__name__"));
  auto array = py::reinterpret_borrow<py::array>(value);
  return fmt::format("{} {}", std::string(py::str(array.dtype())),
                     std::string(py::str(array.attr("shape"))));
}

// Raw bytes of each input array, checked against the model's inputs.
TensorList InputBytes(const Model& model, const py::list& inputs) {
  if (inputs.size() != model.input_indices().size()) {
    throw StatusError(InvalidArgumentError(fmt::format(
        "{} has {} inputs; got {}", model.name(), model.input_indices().size(), inputs.size())));
  }
  TensorList out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorInfo& info = model.input(i);
    py::array array = py::array::ensure(inputs[i], py::array::c_style);
    if (!array || !array.dtype().is(NumpyDtype(info.type)) ||
        static_cast<uint64_t>(array.nbytes()) != info.byte_size) {
      throw StatusError(InvalidArgumentError(
          fmt::format("input {} ('{}') of {} takes {} elements of {} ({} bytes); got {}", i,
                      info.name, model.name(), info.element_count, DataTypeName(info.type),
                      info.byte_size, Describe(inputs[i]))));
    }
    const auto* data = static_cast<const uint8_t*>(array.data());
    out.emplace_back(data, data + array.nbytes());
  }
  return out;
}

// The fleet (null once closed) and the models added to it (for their shapes).
struct PyFleet {
  std::unique_ptr<Fleet> fleet;
  std::vector<ModelPtr> models;

  Fleet& open() const {
    if (!fleet) throw StatusError(FailedPreconditionError("the fleet is closed"));
    return *fleet;
  }

  const ModelPtr& model(int id) const {
    if (id < 0 || static_cast<size_t>(id) >= models.size()) {
      throw StatusError(InvalidArgumentError(
          fmt::format("model {} was never added; the fleet's models are 0 to {}", id,
                      static_cast<int>(models.size()) - 1)));
    }
    return models[id];
  }
};

FleetOptions FleetOptionsFrom(py::dict options) {
  FleetOptions out;
  py::dict device_options;
  for (auto [key, value] : options) {
    std::string name = py::str(key);
    if (name == "devices") {
      out.devices = value.cast<std::vector<std::string>>();
    } else if (name == "queue_capacity") {
      out.queue_capacity = value.cast<size_t>();
    } else if (name == "strict") {
      out.strict = value.cast<bool>();
    } else if (name == "max_batch") {
      out.max_batch = value.cast<int>();
    } else if (name == "preparation_threads") {
      out.preparation_threads = value.cast<int>();
    } else if (name == "invocation_timeout_seconds") {
      out.invocation_timeout_seconds = value.cast<double>();
    } else if (name == "max_deadline_misses") {
      out.max_deadline_misses = value.cast<int>();
    } else if (name == "max_retries") {
      out.max_retries = value.cast<int>();
    } else if (name == "max_failures_served_elsewhere") {
      out.max_failures_served_elsewhere = value.cast<int>();
    } else {
      device_options[key] = value;
    }
  }
  static_cast<DeviceOptions&>(out) = DeviceOptionsFrom(device_options);
  return out;
}

// The counters DeviceMetrics and ModelMetrics both have.
template <typename Metrics>
py::dict CommonMetrics(const Metrics& m) {
  py::dict x;
  x["requests"] = m.requests;
  x["errors"] = m.errors;
  x["reloads"] = m.reloads;
  x["reloaded_bytes"] = m.reloaded_bytes;
  x["queue_depth"] = m.queue_depth;
  x["p50_ms"] = m.p50_ms;
  x["p95_ms"] = m.p95_ms;
  x["p99_ms"] = m.p99_ms;
  x["latency_sum_seconds"] = m.latency_sum_seconds;
  return x;
}

py::dict MetricsDict(const FleetMetrics& metrics) {
  py::list devices, models;
  for (const DeviceMetrics& d : metrics.devices) {
    py::dict x = CommonMetrics(d);
    x["device"] = d.device;
    x["healthy"] = d.healthy;
    x["down_reason"] = d.down_reason;
    x["failures"] = d.failures;
    x["rejoins"] = d.rejoins;
    x["flaps"] = d.flaps;
    x["busy_seconds"] = d.busy_seconds;
    x["busy_fraction"] = d.busy_fraction;
    devices.append(x);
  }
  for (const ModelMetrics& m : metrics.models) {
    py::dict x = CommonMetrics(m);
    x["model"] = m.model;
    x["devices"] = m.devices;
    models.append(x);
  }
  py::dict d;
  d["clock"] = metrics.clock;
  d["elapsed_seconds"] = metrics.elapsed_seconds;
  d["devices"] = devices;
  d["models"] = models;
  return d;
}

}  // namespace

void BindFleet(py::module_& m) {
  py::class_<PendingInference>(m, "PendingInference", "One submitted inference.")
      .def(
          "wait",
          [](const PendingInference& self) {
            {
              py::gil_scoped_release unlocked;
              self.answer.wait();
            }
            const Result<InferenceResult>& answer = self.answer.get();
            if (!answer.ok()) throw StatusError(answer.status());
            return ResultDict(*answer, *self.model);
          },
          "Blocks (the GIL released) until the answer: a dict with outputs (arrays), device, "
          "device_seconds, timing_only, attempts; raises tpufleet.Error when it failed.");

  py::class_<PyFleet>(m, "Fleet", "Many models on many devices.")
      .def(py::init([](py::dict options) {
             FleetOptions parsed = FleetOptionsFrom(options);
             py::gil_scoped_release unlocked;
             return PyFleet{Unwrap(Fleet::Create(parsed)), {}};
           }),
           py::arg("options") = py::dict())
      .def(
          "add_model",
          [](PyFleet& self, std::shared_ptr<Model> model, std::vector<std::string> selectors) {
            int id;
            {
              py::gil_scoped_release unlocked;
              id = Unwrap(self.open().AddModel(model, selectors));
            }
            if (static_cast<size_t>(id) >= self.models.size()) self.models.resize(id + 1);
            self.models[id] = model;
            return id;
          },
          py::arg("model"), py::arg("devices") = std::vector<std::string>{})
      .def(
          "submit",
          [](PyFleet& self, int model, const py::list& inputs) {
            const ModelPtr& m = self.model(model);
            TensorList bytes = InputBytes(*m, inputs);
            py::gil_scoped_release unlocked;
            return PendingInference{self.open().Submit(model, std::move(bytes)).share(), m};
          },
          py::arg("model"), py::arg("inputs"))
      .def(
          "submit_image",
          [](PyFleet& self, int model, std::string path) {
            const ModelPtr& m = self.model(model);
            py::gil_scoped_release unlocked;
            return PendingInference{self.open().SubmitImage(model, std::move(path)).share(), m};
          },
          py::arg("model"), py::arg("image_path"))
      .def_property_readonly("device_names",
                             [](const PyFleet& self) { return self.open().device_names(); })
      .def("placement",
           [](const PyFleet& self, int model) {
             self.model(model);  // checks the id
             return Unwrap(self.open().placement(model));
           })
      .def("metrics", [](const PyFleet& self) { return MetricsDict(self.open().Metrics()); })
      .def("metrics_json", [](const PyFleet& self) { return MetricsJson(self.open().Metrics()); })
      .def("metrics_prometheus",
           [](const PyFleet& self) { return MetricsPrometheus(self.open().Metrics()); })
      .def("close", [](PyFleet& self) {
        py::gil_scoped_release unlocked;
        self.fleet.reset();
      });
}

}  // namespace tpufleet::python
