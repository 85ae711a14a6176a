#include "model/edgetpu_package.h"

#include <flatbuffers/flexbuffers.h>
#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "model/schema.h"

namespace tpufleet {
namespace {

// Custom-option keys of the Edge TPU operator.
constexpr char kKeyPackage[] = "4";
constexpr char kKeyExtraPackages[] = "7";
constexpr char kPackageIdentifier[] = "DWN1";

// A nested flatbuffer, copied when its bytes are not aligned for 8-byte scalars
// so that reading them is well-defined. Holds a view of the original bytes
// otherwise.
class AlignedBytes {
 public:
  explicit AlignedBytes(std::span<const uint8_t> bytes) {
    if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) == 0) {
      view_ = bytes;
    } else {
      copy_.resize((bytes.size() + 7) / 8);
      if (!bytes.empty()) std::memcpy(copy_.data(), bytes.data(), bytes.size());
      view_ = {reinterpret_cast<const uint8_t*>(copy_.data()), bytes.size()};
    }
  }
  std::span<const uint8_t> view() const { return view_; }

 private:
  std::vector<uint64_t> copy_;
  std::span<const uint8_t> view_;
};

template <typename Table>
Result<const Table*> VerifyNested(std::span<const uint8_t> bytes, const char* identifier,
                                  const char* what) {
  if (bytes.size() < 8 || bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return DataLossError(fmt::format("{} is {} bytes, too small or too large", what, bytes.size()));
  }
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (!verifier.VerifyBuffer<Table>(identifier)) {
    return DataLossError(
        fmt::format("{} ({} bytes) fails flatbuffer verification", what, bytes.size()));
  }
  return flatbuffers::GetRoot<Table>(bytes.data());
}

Result<EdgeTpuExecutable> ParseExecutable(std::span<const uint8_t> serialized, size_t index) {
  std::string what = fmt::format("executable {}", index);
  AlignedBytes aligned(serialized);
  TPUFLEET_ASSIGN_OR_RETURN(const etpu::Executable* executable,
                            VerifyNested<etpu::Executable>(aligned.view(), nullptr, what.c_str()));
  EdgeTpuExecutable out;
  int16_t type = static_cast<int16_t>(executable->type());
  if (type < 0 || type > static_cast<int16_t>(etpu::ExecutableType::MAX)) {
    return DataLossError(fmt::format("{} has unknown type {}", what, type));
  }
  out.type = static_cast<EdgeTpuExecutableType>(type);
  if (executable->name()) out.name = executable->name()->str();
  if (executable->chip()) out.chip = executable->chip()->str();
  out.parameter_bytes = executable->parameters() ? executable->parameters()->size() : 0;
  out.caching_token = executable->parameter_caching_token();
  out.estimated_cycles = executable->estimated_cycles_64bit() != 0
                             ? executable->estimated_cycles_64bit()
                             : executable->estimated_cycles();
  out.batch_size = executable->batch_size();
  return out;
}

}  // namespace

Result<EdgeTpuPackage> ParseEdgeTpuPackage(std::span<const uint8_t> custom_options) {
  if (custom_options.empty()) return DataLossError("edgetpu-custom-op has no custom options");
  if (custom_options.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return DataLossError("edgetpu-custom-op custom options exceed 2 GiB");
  }
  AlignedBytes options(custom_options);
  if (!flexbuffers::VerifyBuffer(options.view().data(), options.view().size())) {
    return DataLossError("edgetpu-custom-op custom options are not a valid FlexBuffer");
  }
  flexbuffers::Reference root = flexbuffers::GetRoot(options.view().data(), options.view().size());
  if (!root.IsMap())
    return DataLossError("edgetpu-custom-op custom options are not a FlexBuffer map");
  flexbuffers::Map map = root.AsMap();

  flexbuffers::Reference extra = map[kKeyExtraPackages];
  if (!extra.IsNull() && extra.IsVector() && extra.AsVector().size() != 0) {
    return UnimplementedError(
        "edgetpu-custom-op carries extra packages (key "
        "\"7\"), which must be empty");
  }
  flexbuffers::Reference package_ref = map[kKeyPackage];
  if (!package_ref.IsBlob() && !package_ref.IsString()) {
    return DataLossError(
        "edgetpu-custom-op custom options have no package "
        "blob under key \"4\"");
  }
  flexbuffers::Blob blob = package_ref.AsBlob();
  AlignedBytes package_bytes({blob.data(), blob.size()});
  TPUFLEET_ASSIGN_OR_RETURN(const etpu::Package* package,
                            VerifyNested<etpu::Package>(package_bytes.view(), kPackageIdentifier,
                                                        "Edge TPU package (DWN1)"));

  EdgeTpuPackage out;
  out.min_runtime_version = package->min_runtime_version();
  if (package->compiler_version()) out.compiler_version = package->compiler_version()->str();
  if (package->model_identifier()) out.model_identifier = package->model_identifier()->str();

  const flatbuffers::Vector<uint8_t>* multi = package->serialized_multi_executable();
  if (multi == nullptr || multi->size() == 0) {
    return DataLossError(
        "Edge TPU package has no executables "
        "(serialized_multi_executable is empty)");
  }
  AlignedBytes multi_bytes({multi->data(), multi->size()});
  TPUFLEET_ASSIGN_OR_RETURN(
      const etpu::MultiExecutable* executables,
      VerifyNested<etpu::MultiExecutable>(multi_bytes.view(), nullptr, "MultiExecutable"));
  if (executables->serialized_executables() == nullptr ||
      executables->serialized_executables()->size() == 0) {
    return DataLossError("Edge TPU package's MultiExecutable lists no executables");
  }
  for (size_t i = 0; i < executables->serialized_executables()->size(); ++i) {
    const flatbuffers::String* serialized = executables->serialized_executables()->Get(i);
    TPUFLEET_ASSIGN_OR_RETURN(
        EdgeTpuExecutable executable,
        ParseExecutable({reinterpret_cast<const uint8_t*>(serialized->data()), serialized->size()},
                        i));
    out.executables.push_back(std::move(executable));
  }

  uint64_t token = 0;
  for (const EdgeTpuExecutable& e : out.executables) {
    if (e.type == EdgeTpuExecutableType::kStandAlone) continue;
    if (token != 0 && e.caching_token != token) {
      return DataLossError(
          fmt::format("Edge TPU package's executables disagree on the "
                      "parameter caching token (0x{:016x} vs 0x{:016x})",
                      token, e.caching_token));
    }
    token = e.caching_token;
  }
  return out;
}

namespace {

template <typename TableT>
std::vector<uint8_t> Serialize(const TableT& table, const char* identifier) {
  flatbuffers::FlatBufferBuilder builder;
  builder.Finish(TableT::TableType::Pack(builder, &table), identifier);
  return {builder.GetBufferPointer(), builder.GetBufferPointer() + builder.GetSize()};
}

}  // namespace

std::string UncompiledTwinPath(const std::string& compiled_path) {
  std::filesystem::path path(compiled_path);
  std::string stem = path.stem().string();
  constexpr std::string_view kSuffix = "_edgetpu";
  constexpr std::string_view kCoCompiled = "_cocompiled_with_";
  if (!stem.ends_with(kSuffix)) return "";
  stem.resize(stem.size() - kSuffix.size());
  if (size_t at = stem.find(kCoCompiled); at != std::string::npos) stem.resize(at);
  if (stem.empty()) return "";
  return (path.parent_path() / (stem + path.extension().string())).string();
}

std::vector<uint8_t> EncodeEdgeTpuPackage(const EdgeTpuPackage& package) {
  etpu::MultiExecutableT multi;
  for (const EdgeTpuExecutable& e : package.executables) {
    etpu::ExecutableT executable;
    executable.name = e.name;
    executable.chip = e.chip;
    executable.batch_size = e.batch_size;
    executable.parameters.assign(e.parameter_bytes, 0);
    executable.type = static_cast<etpu::ExecutableType>(e.type);
    executable.parameter_caching_token = e.caching_token;
    executable.estimated_cycles_64bit = e.estimated_cycles;
    std::vector<uint8_t> bytes = Serialize(executable, nullptr);
    multi.serialized_executables.emplace_back(bytes.begin(), bytes.end());
  }
  etpu::PackageT root;
  root.min_runtime_version = package.min_runtime_version;
  root.compiler_version = package.compiler_version;
  root.model_identifier = package.model_identifier;
  root.serialized_multi_executable = Serialize(multi, nullptr);
  std::vector<uint8_t> package_bytes = Serialize(root, kPackageIdentifier);

  flexbuffers::Builder options;
  options.Map([&] {
    options.Int("1", 0);
    options.Key(kKeyPackage);
    options.Blob(package_bytes.data(), package_bytes.size());
    options.Int("5", 0);
    options.Vector("7", [] {});
  });
  options.Finish();
  return options.GetBuffer();
}

}  // namespace tpufleet
