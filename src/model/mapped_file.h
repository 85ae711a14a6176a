// Read-only bytes of a file: memory-mapped when possible.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "tpufleet/status.h"

namespace tpufleet {

// Owns a read-only, private mapping of a whole file. Movable, not copyable.
class MappedFile {
 public:
  // Maps `path`. Errors name the file and the reason (missing, a directory,
  // unreadable, empty).
  static Result<MappedFile> Open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  MappedFile(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tpufleet
