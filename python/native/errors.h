// How a failed tpufleet call reaches Python: as tpufleet.Error (a RuntimeError subclass) whose
// str() is the C++ message and whose `code` is the status code's name ("NOT_FOUND", ...).
#pragma once

#include <stdexcept>
#include <utility>

#include "tpufleet/status.h"

namespace tpufleet::python {

// Thrown by the bindings for a non-OK Status; translated to tpufleet.Error with the GIL held.
class StatusError : public std::runtime_error {
 public:
  explicit StatusError(Status status)
      : std::runtime_error(status.message()), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

// Throws StatusError unless `status` is OK.
inline void ThrowIfError(const Status& status) {
  if (!status.ok()) throw StatusError(status);
}

// The value of `result`, or throws StatusError with its error.
template <typename T>
T Unwrap(Result<T> result) {
  if (!result.ok()) throw StatusError(result.status());
  return std::move(result).value();
}

}  // namespace tpufleet::python
