#include <fmt/format.h>

#include <cstring>
#include <set>
#include <span>
#include <variant>

#include "model/edgetpu_package.h"
#include "model/mapped_file.h"
#include "model/model_internal.h"
#include "model/op_cost.h"
#include "model/verifier.h"

namespace tpufleet {

struct Model::State {
  std::string name;
  std::string description;
  std::variant<std::vector<uint8_t>, MappedFile> storage;
  std::span<const uint8_t> bytes;
  const tfl::Model* root = nullptr;
  // Data of every buffer, inline or at an offset in the file; verified in range.
  std::vector<std::span<const uint8_t>> buffer_data;

  std::vector<TensorInfo> tensors;
  std::vector<OperatorInfo> operators;
  std::vector<int> inputs;
  std::vector<int> outputs;
  std::vector<EdgeTpuPackage> packages;
  uint64_t parameter_count = 0;
  uint64_t parameter_bytes = 0;
  uint64_t total_macs = 0;

  // Fills the description from the verified flatbuffer.
  Status Describe();
};

namespace {

std::vector<int> IndicesOf(const flatbuffers::Vector<int32_t>* v) {
  if (v == nullptr) return {};
  return {v->begin(), v->end()};
}

Quantization QuantizationOf(const tfl::QuantizationParameters* q, std::span<const int32_t> shape) {
  Quantization out;
  if (q == nullptr || q->scale() == nullptr) return out;
  out.scales.assign(q->scale()->begin(), q->scale()->end());
  const flatbuffers::Vector<int64_t>* zero_points = q->zero_point();
  if (zero_points != nullptr && zero_points->size() != 0) {
    // The verifier checks a vector's length field for alignment, not its elements: a hostile
    // file can put these 8-byte values 4 bytes off, so they are copied as bytes.
    out.zero_points.resize(zero_points->size());
    std::memcpy(out.zero_points.data(), zero_points->Data(), zero_points->size() * sizeof(int64_t));
  }
  out.zero_points.resize(out.scales.size(), 0);
  out.axis = QuantizedAxis(*q, shape);
  return out;
}

TensorInfo DescribeTensor(const tfl::Tensor& tensor, int index,
                          const std::vector<std::span<const uint8_t>>& buffers) {
  TensorInfo info;
  info.index = index;
  if (tensor.name()) info.name = tensor.name()->str();
  info.type = static_cast<DataType>(tensor.type());
  if (tensor.shape()) info.shape.assign(tensor.shape()->begin(), tensor.shape()->end());
  info.quantization = QuantizationOf(tensor.quantization(), info.shape);
  info.is_constant = !buffers[tensor.buffer()].empty();
  info.is_sparse = tensor.sparsity() != nullptr;
  info.is_variable = tensor.is_variable();
  info.element_count = 1;
  for (int32_t d : info.shape) info.element_count *= static_cast<uint64_t>(d);
  info.byte_size = info.element_count * DataTypeSize(info.type);
  return info;
}

}  // namespace

// Fills the description of the main subgraph. The graph has been verified.
Status Model::State::Describe() {
  State& s = *this;
  const tfl::SubGraph& main = *s.root->subgraphs()->Get(0);
  size_t tensor_count = main.tensors() ? main.tensors()->size() : 0;
  for (size_t t = 0; t < tensor_count; ++t) {
    s.tensors.push_back(
        DescribeTensor(*main.tensors()->Get(t), static_cast<int>(t), s.buffer_data));
  }
  if (s.root->description()) s.description = s.root->description()->str();
  s.inputs = IndicesOf(main.inputs());
  s.outputs = IndicesOf(main.outputs());

  std::set<uint32_t> counted_buffers;
  for (size_t t = 0; t < tensor_count; ++t) {
    uint32_t buffer = main.tensors()->Get(t)->buffer();
    if (s.tensors[t].is_constant && counted_buffers.insert(buffer).second) {
      s.parameter_count = SaturatingAdd(s.parameter_count, s.tensors[t].element_count);
      s.parameter_bytes += s.buffer_data[buffer].size();
    }
  }

  size_t op_count = main.operators() ? main.operators()->size() : 0;
  for (size_t o = 0; o < op_count; ++o) {
    const tfl::Operator& op = *main.operators()->Get(o);
    const tfl::OperatorCode& code = *s.root->operator_codes()->Get(op.opcode_index());
    OperatorInfo info;
    info.index = static_cast<int>(o);
    info.builtin_code = BuiltinCodeOf(code);
    info.is_custom = info.builtin_code == static_cast<int32_t>(tfl::BuiltinOperator::CUSTOM);
    info.name = OperatorNameOf(code);
    info.inputs = IndicesOf(op.inputs());
    info.outputs = IndicesOf(op.outputs());
    info.macs = EstimateMacs(info, s.tensors);
    s.total_macs = SaturatingAdd(s.total_macs, info.macs);

    if (info.is_custom && info.name == kEdgeTpuCustomCode) {
      std::span<const uint8_t> options;
      if (op.large_custom_options_size() != 0) {
        options = s.bytes.subspan(op.large_custom_options_offset(), op.large_custom_options_size());
      } else if (op.custom_options() != nullptr) {
        options = {op.custom_options()->data(), op.custom_options()->size()};
      }
      Result<EdgeTpuPackage> package = ParseEdgeTpuPackage(options);
      if (!package.ok()) {
        return package.status().WithContext(fmt::format("operator #{} ({})", o, info.name));
      }
      package->operator_index = static_cast<int>(o);
      s.packages.push_back(std::move(package).value());
    }
    s.operators.push_back(std::move(info));
  }
  return OkStatus();
}

std::string DataTypeName(DataType type) {
  switch (type) {
    case DataType::kFloat32: return "float32";
    case DataType::kFloat16: return "float16";
    case DataType::kInt32: return "int32";
    case DataType::kUInt8: return "uint8";
    case DataType::kInt64: return "int64";
    case DataType::kString: return "string";
    case DataType::kBool: return "bool";
    case DataType::kInt16: return "int16";
    case DataType::kComplex64: return "complex64";
    case DataType::kInt8: return "int8";
    case DataType::kFloat64: return "float64";
    case DataType::kComplex128: return "complex128";
    case DataType::kUInt64: return "uint64";
    case DataType::kResource: return "resource";
    case DataType::kVariant: return "variant";
    case DataType::kUInt32: return "uint32";
    case DataType::kUInt16: return "uint16";
    case DataType::kInt4: return "int4";
    case DataType::kBFloat16: return "bfloat16";
  }
  return fmt::format("type({})", static_cast<int>(type));
}

size_t DataTypeSize(DataType type) {
  switch (type) {
    case DataType::kBool:
    case DataType::kUInt8:
    case DataType::kInt8: return 1;
    case DataType::kFloat16:
    case DataType::kBFloat16:
    case DataType::kInt16:
    case DataType::kUInt16: return 2;
    case DataType::kFloat32:
    case DataType::kInt32:
    case DataType::kUInt32: return 4;
    case DataType::kInt64:
    case DataType::kUInt64:
    case DataType::kFloat64:
    case DataType::kComplex64: return 8;
    case DataType::kComplex128: return 16;
    default: return 0;
  }
}

std::string EdgeTpuExecutableTypeName(EdgeTpuExecutableType type) {
  switch (type) {
    case EdgeTpuExecutableType::kStandAlone: return "STAND_ALONE";
    case EdgeTpuExecutableType::kParameterCaching: return "PARAMETER_CACHING";
    case EdgeTpuExecutableType::kExecutionOnly: return "EXECUTION_ONLY";
  }
  return fmt::format("TYPE({})", static_cast<int>(type));
}

uint64_t EdgeTpuPackage::cached_bytes() const {
  uint64_t total = 0;
  for (const EdgeTpuExecutable& e : executables) {
    if (e.type == EdgeTpuExecutableType::kParameterCaching) total += e.parameter_bytes;
  }
  return total;
}

uint64_t EdgeTpuPackage::streamed_bytes() const {
  uint64_t total = 0;
  for (const EdgeTpuExecutable& e : executables) {
    if (e.type != EdgeTpuExecutableType::kParameterCaching) total += e.parameter_bytes;
  }
  return total;
}

uint64_t EdgeTpuPackage::caching_token() const {
  for (const EdgeTpuExecutable& e : executables) {
    if (e.type == EdgeTpuExecutableType::kParameterCaching) return e.caching_token;
  }
  return 0;
}

Model::Model(std::unique_ptr<State> state) : state_(std::move(state)) {}
Model::~Model() = default;

Result<std::shared_ptr<const Model>> Model::Create(std::unique_ptr<State> state) {
  auto fail = [&](const Status& status) { return status.WithContext(state->name); };
  Result<const tfl::Model*> root = VerifyFlatbuffer(state->bytes);
  if (!root.ok()) return fail(root.status());
  state->root = root.value();
  Result<std::vector<std::span<const uint8_t>>> buffers =
      ResolveBuffers(*state->root, state->bytes);
  if (!buffers.ok()) return fail(buffers.status());
  state->buffer_data = std::move(buffers).value();
  Status graph = VerifyGraph(*state->root, state->buffer_data, state->bytes);
  if (!graph.ok()) return fail(graph);
  Status described = state->Describe();
  if (!described.ok()) return fail(described);
  return std::shared_ptr<const Model>(new Model(std::move(state)));
}

Result<std::shared_ptr<const Model>> Model::FromFile(const std::string& path) {
  TPUFLEET_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  auto state = std::make_unique<State>();
  state->name = path;
  state->bytes = file.bytes();
  state->storage = std::move(file);
  return Create(std::move(state));
}

Result<std::shared_ptr<const Model>> Model::FromBuffer(std::vector<uint8_t> bytes,
                                                       const std::string& name) {
  auto state = std::make_unique<State>();
  state->name = name;
  state->storage = std::move(bytes);
  const auto& owned = std::get<std::vector<uint8_t>>(state->storage);
  state->bytes = {owned.data(), owned.size()};
  return Create(std::move(state));
}

const std::string& Model::name() const { return state_->name; }
std::span<const uint8_t> Model::bytes() const { return state_->bytes; }
uint32_t Model::schema_version() const { return state_->root->version(); }
const std::string& Model::description() const { return state_->description; }
int Model::subgraph_count() const { return static_cast<int>(state_->root->subgraphs()->size()); }
const std::vector<TensorInfo>& Model::tensors() const { return state_->tensors; }
const std::vector<OperatorInfo>& Model::operators() const { return state_->operators; }
const std::vector<int>& Model::input_indices() const { return state_->inputs; }
const std::vector<int>& Model::output_indices() const { return state_->outputs; }

std::span<const uint8_t> Model::constant_data(int tensor_index) const {
  const tfl::Tensor& tensor = *state_->root->subgraphs()->Get(0)->tensors()->Get(tensor_index);
  return state_->buffer_data[tensor.buffer()];
}

std::map<std::string, int> Model::op_histogram() const {
  std::map<std::string, int> histogram;
  for (const OperatorInfo& op : state_->operators) ++histogram[op.name];
  return histogram;
}

uint64_t Model::parameter_count() const { return state_->parameter_count; }
uint64_t Model::parameter_bytes() const { return state_->parameter_bytes; }
uint64_t Model::total_macs() const { return state_->total_macs; }
const std::vector<EdgeTpuPackage>& Model::edgetpu_packages() const { return state_->packages; }

// Verification found the root table at the start of these bytes; finding it again is a cast.
const tfl::Model& FlatbufferOf(const Model& model) { return *tfl::GetModel(model.bytes().data()); }

}  // namespace tpufleet
