#include "tpufleet/pipeline.h"

#include <fmt/format.h>

#include <chrono>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/bounded_queue.h"

namespace tpufleet {
namespace {

// One request on its way: the tensors later segments still need, by name.
using NamedTensors = std::map<std::string, std::vector<uint8_t>>;

std::string DescribeTensor(const Tensor& t) {
  return fmt::format("{} [{}] ({} bytes)", DataTypeName(t.type()), fmt::join(t.shape(), ","),
                     t.byte_size());
}

std::string SegmentName(size_t i, const Interpreter& segment) {
  return fmt::format("segment {} ({} on {})", i, segment.model().name(), segment.device().name);
}

// Where each tensor a segment reads comes from; the error says which does not connect.
Status CheckConnections(const std::vector<std::shared_ptr<Interpreter>>& segments) {
  // name -> (who gives it, the tensor)
  std::map<std::string, std::pair<std::string, const Tensor*>> available;
  for (size_t j = 0; j < segments[0]->input_count(); ++j) {
    const Tensor& t = segments[0]->input(j);
    available.emplace(t.name(), std::make_pair(std::string("the pipeline input"), &t));
  }
  std::set<std::string> consumed;
  for (size_t i = 0; i < segments.size(); ++i) {
    Interpreter& segment = *segments[i];
    for (size_t j = 0; i > 0 && j < segment.input_count(); ++j) {
      const Tensor& in = segment.input(j);
      auto found = available.find(in.name());
      if (found == available.end()) {
        std::vector<std::string> names;
        for (const auto& [name, producer] : available) names.push_back("'" + name + "'");
        return InvalidArgumentError(fmt::format(
            "{} cannot get its input {} '{}': it is neither an input of segment 0 nor an output "
            "of an earlier segment, which are {}; give the segments in pipeline order, from one "
            "segment set",
            SegmentName(i, segment), j, in.name(), fmt::join(names, ", ")));
      }
      const Tensor& given = *found->second.second;
      if (given.type() != in.type() || given.byte_size() != in.byte_size()) {
        return InvalidArgumentError(fmt::format(
            "{} input '{}' is {}, but {} gives it as {}: the segments are not from one segment "
            "set",
            SegmentName(i, segment), in.name(), DescribeTensor(in), found->second.first,
            DescribeTensor(given)));
      }
      consumed.insert(in.name());
    }
    for (size_t j = 0; j < segment.output_count(); ++j) {
      const Tensor& t = segment.output(j);
      available.insert_or_assign(t.name(), std::make_pair(fmt::format("segment {}", i), &t));
    }
  }
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    for (size_t j = 0; j < segments[i]->output_count(); ++j) {
      const std::string& name = segments[i]->output(j).name();
      bool later = false;
      for (size_t k = i + 1; k < segments.size() && !later; ++k) {
        later = segments[k]->FindInput(name).ok();
      }
      if (!later) {
        return InvalidArgumentError(fmt::format(
            "{} output '{}' is an input of no later segment: every output of a segment but the "
            "last must feed a later one",
            SegmentName(i, *segments[i]), name));
      }
    }
  }
  return OkStatus();
}

}  // namespace

struct PipelineRunner::State {
  std::vector<std::shared_ptr<Interpreter>> segments;
  // queues[0] is the input queue, queues[i] feeds segment i, queues[n] is the output queue.
  std::vector<std::unique_ptr<BoundedQueue<NamedTensors>>> queues;
  // After segment i, the names segments after it still read.
  std::vector<std::set<std::string>> needed_after;
  std::vector<std::thread> threads;

  mutable std::mutex mutex;  // guards what follows
  Status failure;            // the first segment error
  bool shut_down = false;
  std::vector<SegmentStats> stats;

  Status Failure() const {
    std::lock_guard lock(mutex);
    return failure;
  }

  void Fail(size_t i, const Status& status) {
    {
      std::lock_guard lock(mutex);
      if (!failure.ok()) return;
      failure =
          Status(status.code(), fmt::format("Segment {} runner error: {}", i, status.message()));
    }
    for (auto& q : queues) q->Abort();
  }

  // Copies the named tensors segment i reads into it, invokes it, and adds its outputs.
  Status RunSegment(size_t i, NamedTensors& tensors) {
    Interpreter& segment = *segments[i];
    for (size_t j = 0; j < segment.input_count(); ++j) {
      Tensor& in = segment.input(j);
      const std::vector<uint8_t>& bytes = tensors.at(in.name());
      std::copy(bytes.begin(), bytes.end(), in.bytes().begin());
    }
    auto start = std::chrono::steady_clock::now();
    Status invoked = segment.Invoke();
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (!invoked.ok()) return invoked;
    {
      std::lock_guard lock(mutex);
      SegmentStats& s = stats[i];
      ++s.invocations;
      s.busy_seconds += took.count();
      s.device_seconds += segment.last_invocation().device_seconds;
      s.timing_only += segment.last_invocation().timing_only ? 1 : 0;
    }
    for (auto it = tensors.begin(); it != tensors.end();) {
      it = needed_after[i].count(it->first) ? std::next(it) : tensors.erase(it);
    }
    for (size_t j = 0; j < segment.output_count(); ++j) {
      const Tensor& out = segment.output(j);
      tensors.insert_or_assign(out.name(),
                               std::vector<uint8_t>(out.bytes().begin(), out.bytes().end()));
    }
    return OkStatus();
  }

  void Loop(size_t i) {
    while (std::optional<NamedTensors> request = queues[i]->Pop()) {
      if (Status run = RunSegment(i, *request); !run.ok()) {
        Fail(i, run);
        return;
      }
      if (!queues[i + 1]->Push(std::move(*request))) return;  // aborted
    }
    queues[i + 1]->Close();  // drained: the next segment drains after it
  }

  void Join() {
    for (std::thread& t : threads) {
      if (t.joinable()) t.join();
    }
  }
};

PipelineRunner::PipelineRunner(std::unique_ptr<State> state) : state_(std::move(state)) {}

PipelineRunner::~PipelineRunner() {
  Stop();
  state_->Join();
}

void PipelineRunner::Stop() {
  {
    std::lock_guard lock(state_->mutex);
    state_->shut_down = true;
  }
  for (auto& q : state_->queues) q->Abort();
}

Result<std::unique_ptr<PipelineRunner>> PipelineRunner::Create(
    std::vector<std::unique_ptr<Interpreter>> segments, const PipelineOptions& options) {
  return Create(std::vector<std::shared_ptr<Interpreter>>(std::make_move_iterator(segments.begin()),
                                                          std::make_move_iterator(segments.end())),
                options);
}

Result<std::unique_ptr<PipelineRunner>> PipelineRunner::Create(
    std::vector<std::shared_ptr<Interpreter>> segments, const PipelineOptions& options) {
  if (segments.empty()) {
    return InvalidArgumentError("a pipeline needs at least one segment; none was given");
  }
  for (size_t i = 0; i < segments.size(); ++i) {
    if (!segments[i]) {
      return InvalidArgumentError(fmt::format("pipeline segment {} is null", i));
    }
    for (size_t k = 0; k < i; ++k) {
      if (segments[k] == segments[i]) {
        return InvalidArgumentError(fmt::format(
            "pipeline segments {} and {} are one interpreter; each segment needs its own", k, i));
      }
    }
  }
  TPUFLEET_RETURN_IF_ERROR(CheckConnections(segments));
  auto state = std::make_unique<State>();
  size_t n = segments.size();
  state->segments = std::move(segments);
  state->needed_after.resize(n);
  for (size_t i = n - 1; i-- > 0;) {
    state->needed_after[i] = state->needed_after[i + 1];
    Interpreter& next = *state->segments[i + 1];
    for (size_t j = 0; j < next.input_count(); ++j)
      state->needed_after[i].insert(next.input(j).name());
  }
  state->queues.push_back(std::make_unique<BoundedQueue<NamedTensors>>(options.input_queue_size));
  for (size_t i = 1; i < n; ++i)
    state->queues.push_back(std::make_unique<BoundedQueue<NamedTensors>>(1));
  state->queues.push_back(std::make_unique<BoundedQueue<NamedTensors>>(options.output_queue_size));
  for (const auto& s : state->segments) {
    SegmentStats stats;
    stats.model = s->model().name();
    stats.device = s->device_handle()->name();
    state->stats.push_back(stats);
  }
  State* raw = state.get();
  for (size_t i = 0; i < n; ++i) raw->threads.emplace_back([raw, i] { raw->Loop(i); });
  return std::unique_ptr<PipelineRunner>(new PipelineRunner(std::move(state)));
}

Result<std::unique_ptr<PipelineRunner>> PipelineRunner::Open(
    const std::vector<std::string>& segment_paths, const std::vector<std::string>& devices,
    const DeviceOptions& device_options, const PipelineOptions& options) {
  if (segment_paths.size() != devices.size()) {
    return InvalidArgumentError(
        fmt::format("a pipeline of {} segments needs one device for each, but {} were given ({})",
                    segment_paths.size(), devices.size(), fmt::join(devices, ", ")));
  }
  std::vector<std::unique_ptr<Interpreter>> segments;
  for (size_t i = 0; i < segment_paths.size(); ++i) {
    Result<std::unique_ptr<Interpreter>> made =
        MakeInterpreter(segment_paths[i], devices[i], device_options);
    if (!made.ok()) {
      return Status(made.status().code(), fmt::format("pipeline segment {} on {}: {}", i,
                                                      devices[i], made.status().message()));
    }
    segments.push_back(std::move(made).value());
  }
  return Create(std::move(segments), options);
}

Status PipelineRunner::Push(TensorList inputs) {
  if (inputs.empty()) return Shutdown();
  TPUFLEET_RETURN_IF_ERROR(state_->Failure());
  Interpreter& first = *state_->segments[0];
  if (inputs.size() != first.input_count()) {
    return InvalidArgumentError(fmt::format("the pipeline takes {} input(s) (those of {}), not {}",
                                            first.input_count(), first.model().name(),
                                            inputs.size()));
  }
  NamedTensors request;
  for (size_t j = 0; j < inputs.size(); ++j) {
    const Tensor& in = first.input(j);
    if (inputs[j].size() != in.byte_size()) {
      return InvalidArgumentError(
          fmt::format("pipeline input {} '{}' is {}, so it takes {} bytes, not {}", j, in.name(),
                      DescribeTensor(in), in.byte_size(), inputs[j].size()));
    }
    request.emplace(in.name(), std::move(inputs[j]));
  }
  {
    std::lock_guard lock(state_->mutex);
    if (state_->shut_down) {
      return FailedPreconditionError("Pipeline was turned off before.");
    }
  }
  if (state_->queues[0]->Push(std::move(request))) return OkStatus();
  Status failure = state_->Failure();
  return failure.ok() ? FailedPreconditionError("Pipeline was turned off before.") : failure;
}

Result<std::optional<TensorList>> PipelineRunner::Pop() {
  std::optional<NamedTensors> result = state_->queues.back()->Pop();
  TPUFLEET_RETURN_IF_ERROR(state_->Failure());
  if (!result) return std::optional<TensorList>();
  const Interpreter& last = *state_->segments.back();
  TensorList outputs;
  for (size_t j = 0; j < last.output_count(); ++j) {
    outputs.push_back(std::move(result->at(last.output(j).name())));
  }
  return std::optional<TensorList>(std::move(outputs));
}

Status PipelineRunner::Shutdown() {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->shut_down) return FailedPreconditionError("Pipeline was turned off before.");
    state_->shut_down = true;
  }
  state_->queues[0]->Close();
  state_->Join();
  return state_->Failure();
}

void PipelineRunner::SetInputQueueSize(size_t size) { state_->queues.front()->SetCapacity(size); }
void PipelineRunner::SetOutputQueueSize(size_t size) { state_->queues.back()->SetCapacity(size); }

size_t PipelineRunner::segment_count() const { return state_->segments.size(); }
const Interpreter& PipelineRunner::segment(size_t i) const { return *state_->segments.at(i); }

PipelineStats PipelineRunner::stats() const {
  PipelineStats out;
  {
    std::lock_guard lock(state_->mutex);
    out.segments = state_->stats;
  }
  for (const auto& q : state_->queues) out.queue_sizes.push_back(q->size());
  out.blocked_pushes = state_->queues[0]->waiting_pushers();
  return out;
}

}  // namespace tpufleet
