// tpufleet._native.PipelineRunner: tpufleet/pipeline.h's runner over interpreters Python made,
// tensors as numpy arrays, every wait with the GIL released.
#include "tpufleet/pipeline.h"

#include <pybind11/stl.h>

#include "arrays.h"
#include "bindings.h"
#include "errors.h"

namespace py = pybind11;

namespace tpufleet::python {

namespace {

// The runner, until close() lets it go (Python may keep the object alive longer). Each call holds
// the runner while it waits, so a close() from another thread meanwhile destroys it only once
// that call has returned.
class PipelineHandle {
 public:
  PipelineHandle(std::vector<std::shared_ptr<Interpreter>> segments, size_t input_queue_size,
                 size_t output_queue_size) {
    PipelineOptions options;
    options.input_queue_size = input_queue_size;
    options.output_queue_size = output_queue_size;
    runner_ = Unwrap(PipelineRunner::Create(std::move(segments), options));
  }

  // Copies `inputs` (segment 0's, in its input order) and queues them.
  void Push(const std::vector<py::array>& inputs) {
    TensorList tensors;
    for (const py::array& given : inputs) {
      py::array packed = py::array::ensure(given, py::array::c_style);
      if (!packed) throw py::error_already_set();
      const auto* data = static_cast<const uint8_t*>(packed.data());
      tensors.emplace_back(data, data + packed.nbytes());
    }
    std::shared_ptr<PipelineRunner> runner = Runner();
    Status pushed;
    {
      py::gil_scoped_release unlocked;
      pushed = runner->Push(std::move(tensors));
    }
    ThrowIfError(pushed);
  }

  // The next result as {output name: array}, or None once shut down and drained.
  py::object Pop() {
    std::shared_ptr<PipelineRunner> runner = Runner();
    Result<std::optional<TensorList>> popped = [&runner] {
      py::gil_scoped_release unlocked;
      return runner->Pop();
    }();
    std::optional<TensorList> outputs = Unwrap(std::move(popped));
    if (!outputs) return py::none();
    const Interpreter& last = runner->segment(runner->segment_count() - 1);
    py::dict result;
    for (size_t j = 0; j < outputs->size(); ++j) {
      const TensorInfo& info = last.model().tensors()[last.output(j).index()];
      result[py::str(info.name)] = TensorCopy(last.model(), info, (*outputs)[j]);
    }
    return result;
  }

  void Shutdown() {
    std::shared_ptr<PipelineRunner> runner = Runner();
    Status stopped;
    {
      py::gil_scoped_release unlocked;
      stopped = runner->Shutdown();
    }
    ThrowIfError(stopped);
  }

  void SetInputQueueSize(size_t size) { Runner()->SetInputQueueSize(size); }
  void SetOutputQueueSize(size_t size) { Runner()->SetOutputQueueSize(size); }

  // Each segment's invocations whose outputs are zeros (a simulated device could only time it).
  std::vector<uint64_t> TimingOnly() {
    std::vector<uint64_t> counts;
    for (const SegmentStats& s : Runner()->stats().segments) counts.push_back(s.timing_only);
    return counts;
  }

  // Stops the segments without draining, releases calls blocked in other threads (pushes fail,
  // pops give None), and lets the interpreters go once no call holds the runner.
  void Close() {
    std::shared_ptr<PipelineRunner> closing = std::move(runner_);
    if (!closing) return;
    py::gil_scoped_release unlocked;
    closing->Stop();
    closing.reset();
  }

 private:
  std::shared_ptr<PipelineRunner> Runner() const {
    if (!runner_) throw StatusError(FailedPreconditionError("the pipeline was closed"));
    return runner_;
  }

  std::shared_ptr<PipelineRunner> runner_;
};

}  // namespace

void BindPipeline(py::module_& m) {
  py::class_<PipelineHandle>(
      m, "PipelineRunner",
      "Interpreters (allocated, in pipeline order, each on its own device) run as a pipeline, "
      "one C++ thread per segment; the interpreters must not be used meanwhile.")
      .def(py::init<std::vector<std::shared_ptr<Interpreter>>, size_t, size_t>(),
           py::arg("segments"), py::arg("input_queue_size") = 0, py::arg("output_queue_size") = 0,
           "Queue sizes of 0 are unbounded.")
      .def("push", &PipelineHandle::Push, py::arg("inputs"),
           "Queues segment 0's inputs (arrays in its input order, copied); blocks while the "
           "input queue is full.")
      .def("pop", &PipelineHandle::Pop,
           "The next result, {output name: array}; None once shut down and drained.")
      .def("shutdown", &PipelineHandle::Shutdown,
           "Stops taking requests and returns once every queued one came through.")
      .def("set_input_queue_size", &PipelineHandle::SetInputQueueSize)
      .def("set_output_queue_size", &PipelineHandle::SetOutputQueueSize)
      .def("timing_only", &PipelineHandle::TimingOnly,
           "Per segment, the invocations whose outputs are zeros (timed, not computed).")
      .def("close", &PipelineHandle::Close,
           "Stops the segments now, dropping what is queued; calls waiting in other threads "
           "return (pushes fail, pops give None).");
}

}  // namespace tpufleet::python
