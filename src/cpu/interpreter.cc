#include "cpu/interpreter.h"

#include <fmt/format.h>
#include <xnnpack.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cpu/arena.h"
#include "cpu/quantization.h"
#include "cpu/registry.h"
#include "cpu/shape_math.h"
#include "model/edgetpu_package.h"
#include "model/model_internal.h"

namespace tpufleet::cpu {
namespace {

Status EdgeTpuOnly(const Model& model, const OperatorInfo& op) {
  std::string twin = UncompiledTwinPath(model.name());
  std::string hint = twin.empty()
                         ? "give the CPU the uncompiled model it was compiled from"
                         : fmt::format("give the CPU its uncompiled twin {}{}", twin,
                                       std::filesystem::exists(twin) ? " (it exists)" : "");
  return FailedPreconditionError(
      fmt::format("{}: operator #{} is edgetpu-custom-op: this model was compiled for the Edge TPU "
                  "and needs an Edge TPU "
                  "(usb:N, pci:N) or a simulated one (sim:N); to run on the CPU, {}",
                  model.name(), op.index, hint));
}

}  // namespace

Result<std::unique_ptr<Interpreter>> Interpreter::Create(ModelPtr model,
                                                         const InterpreterOptions& options) {
  if (!model) return InvalidArgumentError("no model given");
  if (options.threads < 1 || options.threads > 256) {
    return InvalidArgumentError(fmt::format("threads must be 1 to 256, not {}", options.threads));
  }
  for (const OperatorInfo& op : model->operators()) {
    if (op.is_custom && op.name == kEdgeTpuCustomCode) return EdgeTpuOnly(*model, op);
  }
  std::unique_ptr<Interpreter> interpreter(new Interpreter());
  interpreter->model_ = std::move(model);
  TPUFLEET_RETURN_IF_ERROR(interpreter->Prepare(options).WithContext(interpreter->model_->name()));
  TPUFLEET_RETURN_IF_ERROR(
      interpreter->AllocateArena(options.max_arena_bytes).WithContext(interpreter->model_->name()));
  return interpreter;
}

Interpreter::~Interpreter() {
  nodes_.clear();  // kernels may hold XNNPACK operators that use the threadpool
  if (threadpool_ != nullptr) pthreadpool_destroy(threadpool_);
}

Status Interpreter::Prepare(const InterpreterOptions& options) {
  if (options.threads > 1) threadpool_ = pthreadpool_create(options.threads);
  const Model& model = *model_;
  for (const TensorInfo& info : model.tensors()) {
    Tensor t;
    t.index = info.index;
    t.name = info.name;
    t.type = info.type;
    t.shape = info.shape;
    t.quantization = info.quantization;
    t.is_constant = info.is_constant;
    if (info.is_sparse)
      return UnimplementedError(fmt::format("tensor #{} '{}' is sparse", info.index, info.name));
    if (IsQuantized8(info.type)) {  // the kernels' integer arithmetic relies on it
      for (int64_t zp : info.quantization.zero_points) {
        if (zp < QMin(info.type) || zp > QMax(info.type)) {
          return InvalidArgumentError(fmt::format(
              "tensor #{} '{}': zero point {} is outside the range of {} ({} to {})", info.index,
              info.name, zp, DataTypeName(info.type), QMin(info.type), QMax(info.type)));
        }
      }
    }
    if (info.is_constant) {
      t.data = ConstantData(model, info);
      if (t.data == nullptr)
        return ResourceExhaustedError(fmt::format("cannot copy constant tensor #{}", info.index));
    }
    tensors_.push_back(std::move(t));
  }
  inputs_ = model.input_indices();
  outputs_ = model.output_indices();
  for (int i : inputs_) {
    if (tensors_[i].is_constant) {
      return InvalidArgumentError(fmt::format(
          "graph input tensor #{} '{}' is a constant; inputs are written, so they cannot be", i,
          tensors_[i].name));
    }
  }
  const tfl::SubGraph& graph = *FlatbufferOf(model).subgraphs()->Get(0);
  for (const OperatorInfo& op : model.operators()) {
    KernelFactory factory = FindKernel(op.builtin_code, op.name);
    if (factory == nullptr) {
      return UnimplementedError(
          fmt::format("operator #{} ({}) is not supported by the CPU backend; it runs: {}",
                      op.index, op.name, fmt::join(SupportedOperators(), ", ")));
    }
    Node node;
    node.kernel = factory();
    OpContext& c = node.context;
    c.index = op.index;
    c.name = op.name;
    c.op = graph.operators()->Get(op.index);
    c.threadpool = threadpool_;
    for (int i : op.inputs) c.inputs.push_back(i < 0 ? nullptr : &tensors_[i]);
    for (int i : op.outputs) c.outputs.push_back(&tensors_[i]);
    if (c.op->intermediates() != nullptr) {  // indices checked by the verifier
      for (int i : *c.op->intermediates())
        c.intermediates.push_back(i < 0 ? nullptr : &tensors_[i]);
    }
    for (Tensor* out : c.outputs) {
      if (out->is_constant) return c.Invalid(fmt::format("writes constant tensor #{}", out->index));
    }
    TPUFLEET_RETURN_IF_ERROR(node.kernel->Prepare(c));
    for (Tensor* out : c.outputs) {  // kernels may set output shapes
      Result<int64_t> elements = ShapeElements(out->shape);
      if (!elements.ok())
        return c.Invalid(fmt::format("output tensor #{} has shape [{}]: {}", out->index,
                                     fmt::join(out->shape, ", "), elements.status().message()));
    }
    nodes_.push_back(std::move(node));
  }
  return OkStatus();
}

uint8_t* Interpreter::ConstantData(const Model& model, const TensorInfo& info) {
  std::span<const uint8_t> bytes = model.constant_data(info.index);
  size_t alignment = std::clamp<size_t>(DataTypeSize(info.type), 1, kArenaAlignment);
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignment == 0)
    return const_cast<uint8_t*>(bytes.data());  // never written through: see Tensor::data
  size_t size = (bytes.size() + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  AlignedBytes copy(static_cast<uint8_t*>(std::aligned_alloc(kArenaAlignment, size)), std::free);
  if (!copy) return nullptr;
  std::memcpy(copy.get(), bytes.data(), bytes.size());
  aligned_constants_.push_back(std::move(copy));
  return aligned_constants_.back().get();
}

Status Interpreter::AllocateArena(uint64_t max_bytes) {
  const int end = static_cast<int>(nodes_.size());
  std::vector<int> first(tensors_.size(), -1), last(tensors_.size(), -1);
  for (int i : inputs_) first[i] = 0;
  for (int n = 0; n < end; ++n) {
    for (const Tensor* t : nodes_[n].context.outputs) {
      if (first[t->index] < 0) first[t->index] = n;
      last[t->index] = std::max(last[t->index], n);
    }
    for (const Tensor* t : nodes_[n].context.inputs) {
      if (t == nullptr) continue;
      if (first[t->index] < 0)
        first[t->index] = 0;  // read before written: treat as live from the start
      last[t->index] = n;
    }
  }
  // Inputs keep their values across invocations; outputs stay readable after Invoke, even those
  // no operator writes (they read as zeros).
  for (int i : inputs_) last[i] = end;
  for (int i : outputs_) {
    if (first[i] < 0) first[i] = 0;
    last[i] = end;
  }
  std::vector<Allocation> allocations;
  std::vector<int> owners;
  for (size_t t = 0; t < tensors_.size(); ++t) {
    if (tensors_[t].is_constant || first[t] < 0) continue;
    // Shapes are checked (at most 2^40 elements of at most 16 bytes): this cannot overflow.
    size_t bytes = tensors_[t].byte_size();
    if (bytes > max_bytes) {
      return ResourceExhaustedError(
          fmt::format("tensor #{} '{}' ({}) needs {} bytes, more than the {}-byte arena limit", t,
                      tensors_[t].name, Describe(tensors_[t]), bytes, max_bytes));
    }
    allocations.push_back({bytes, first[t], last[t]});
    owners.push_back(static_cast<int>(t));
  }
  ArenaPlan plan = PlanArena(allocations);
  if (plan.size > max_bytes) {
    return ResourceExhaustedError(fmt::format(
        "the tensors need a {}-byte arena, more than the {}-byte limit", plan.size, max_bytes));
  }
  arena_size_ = plan.size;
  // XNNPACK's kernels may read up to XNN_EXTRA_BYTES past the end of a tensor (and never use
  // what they read there): the arena ends with that much slack, in whole alignment units.
  size_t arena_bytes =
      (plan.size + XNN_EXTRA_BYTES + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  arena_.reset(static_cast<uint8_t*>(std::aligned_alloc(kArenaAlignment, arena_bytes)));
  if (!arena_)
    return ResourceExhaustedError(fmt::format("cannot allocate a {}-byte arena", plan.size));
  std::memset(arena_.get(), 0, arena_bytes);  // tensors read before written hold zeros
  for (size_t a = 0; a < owners.size(); ++a)
    tensors_[owners[a]].data = arena_.get() + plan.offsets[a];
  return OkStatus();
}

double Profile::xnnpack_seconds() const {
  double total = 0;
  for (const Node& n : nodes) total += n.in_xnnpack ? n.seconds : 0;
  return total;
}

Status Interpreter::Invoke(Profile& profile) {
  using Clock = std::chrono::steady_clock;
  profile.nodes.clear();
  Clock::time_point start = Clock::now();
  for (Node& node : nodes_) {
    Clock::time_point before = Clock::now();
    Status status = node.kernel->Eval(node.context);
    double seconds = std::chrono::duration<double>(Clock::now() - before).count();
    if (!status.ok()) {
      return status.WithContext(fmt::format("{}: operator #{} ({})", model_->name(),
                                            node.context.index, node.context.name));
    }
    profile.nodes.push_back(
        {node.context.index, node.context.name, node.kernel->RunsInXnnpack(), seconds});
  }
  profile.total_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return OkStatus();
}

Status Interpreter::Invoke() {
  for (Node& node : nodes_) {
    Status status = node.kernel->Eval(node.context);
    if (!status.ok())
      return status.WithContext(fmt::format("{}: operator #{} ({})", model_->name(),
                                            node.context.index, node.context.name));
  }
  return OkStatus();
}

}  // namespace tpufleet::cpu
