#include "common/shared_library.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>

namespace tpufleet {

Result<SharedLibrary> SharedLibrary::Open(const std::vector<std::string>& candidates,
                                          const std::string& what) {
  std::vector<std::string> tried;
  for (const std::string& candidate : candidates) {
    void* handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) return SharedLibrary(handle, candidate);
    const char* error = dlerror();
    tried.push_back(error ? error : candidate + ": not found");
  }
  return NotFoundError(fmt::format("{} not found; tried: {}", what, fmt::join(tried, "; ")));
}

std::vector<std::string> LibraryCandidates(const char* env_var, const char* name) {
  std::vector<std::string> candidates;
  if (const char* path = std::getenv(env_var); path != nullptr && *path != '\0') {
    candidates.push_back(path);
  }
  candidates.push_back(name);
  return candidates;
}

void* SharedLibrary::Find(const char* name) const { return dlsym(handle_, name); }

Status ResolveSymbols(const SharedLibrary& library, const std::vector<SymbolSlot>& slots,
                      const std::string& hint) {
  std::vector<std::string> missing;
  for (const SymbolSlot& slot : slots) {
    *slot.address = library.Find(slot.name);
    if (*slot.address == nullptr) missing.push_back(slot.name);
  }
  if (missing.empty()) return OkStatus();
  return FailedPreconditionError(
      fmt::format("{} lacks {}: {}", library.path(), fmt::join(missing, ", "), hint));
}

}  // namespace tpufleet
