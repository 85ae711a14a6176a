// Libraries loaded at run time (dlopen), found by trying candidates in order. A loaded library
// stays loaded for the life of the process: the objects it hands out may outlive any owner here.
#pragma once

#include <string>
#include <vector>

#include "tpufleet/status.h"

namespace tpufleet {

class SharedLibrary {
 public:
  // The first candidate (a path, or a name for the dynamic loader's search path) that loads.
  // `what` names the library in the error, which lists every candidate with why it failed.
  static Result<SharedLibrary> Open(const std::vector<std::string>& candidates,
                                    const std::string& what);

  // The address of `name`, or null when the library does not have it.
  void* Find(const char* name) const;
  const std::string& path() const { return path_; }

 private:
  SharedLibrary(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
  void* handle_;
  std::string path_;
};

// Candidates for a library: the path in environment variable `env_var` when set, then `name`
// through the dynamic loader's search path (LD_LIBRARY_PATH, ld.so.cache).
std::vector<std::string> LibraryCandidates(const char* env_var, const char* name);

// Resolves every (name, &pointer) pair; the error names each missing symbol and the library.
struct SymbolSlot {
  const char* name;
  void** address;
};
template <typename Function>
SymbolSlot Slot(const char* name, Function*& function) {
  return {name, reinterpret_cast<void**>(&function)};
}
Status ResolveSymbols(const SharedLibrary& library, const std::vector<SymbolSlot>& slots,
                      const std::string& hint);

}  // namespace tpufleet
