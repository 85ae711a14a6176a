// Status and Result<T>: how every tpufleet call reports failure.
//
// No exception crosses the public API. A failed call returns a Status whose
// message says what failed, on which file or device, and what would have been
// right, so a user can act on it. Each public function's comment says which
// codes it returns for which cause; the codes below say what each means in
// general.
//
// Thread-safety: Status and Result are values. Distinct objects may be used
// from different threads; one object may be read from several threads at once
// but not read while another thread writes it, as with any standard type.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tpufleet {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller passed something malformed (a selector, an
                        // option, a shape)
  kNotFound,            // a file, device or model that does not exist
  kDataLoss,            // bytes that fail verification: a corrupt or truncated model
  kUnimplemented,       // valid input the project does not support (an op, a tensor
                        // type)
  kFailedPrecondition,  // the system is not in a state to do this (device owned
                        // elsewhere)
  kResourceExhausted,   // a queue or memory budget is full
  kUnavailable,         // a device is down or disconnected
  kDeadlineExceeded,
  kInternal,
  kAborted,  // an operation failed part way on a device that may still be fine; retry elsewhere
};

// Returns the code's name, e.g. "INVALID_ARGUMENT".
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "OK" or "<CODE_NAME>: <message>".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>", same code.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status DataLossError(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status UnimplementedError(std::string m) {
  return {StatusCode::kUnimplemented, std::move(m)};
}
inline Status FailedPreconditionError(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhaustedError(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status AbortedError(std::string m) { return {StatusCode::kAborted, std::move(m)}; }

namespace internal {
// Prints `status` and that value() was called on a failed Result to stderr, then aborts.
[[noreturn]] void DieOnValueOfFailedResult(const Status& status);
// The error a Result built from an OK status (and no value) holds instead.
Status OkStatusWithoutValue();
}  // namespace internal

// Either a value or a non-OK Status.
//
// A Result built from an OK Status has no value to give: in every build type it
// holds an INTERNAL error saying so, never an OK status without a value.
// Calling value() (or * or ->) on a failed Result is a programming error: it
// prints the status and aborts the process (it never throws). Check ok() first.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status)                          // NOLINT: implicit by design
      : state_(status.ok() ? internal::OkStatusWithoutValue() : std::move(status)) {}

  bool ok() const { return std::holds_alternative<T>(state_); }
  // OK when a value is held, else the error.
  Status status() const { return ok() ? Status() : std::get<Status>(state_); }

  T& value() & { return *Checked(); }
  const T& value() const& { return *Checked(); }
  T&& value() && { return std::move(*Checked()); }
  T* operator->() { return Checked(); }
  const T* operator->() const { return Checked(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  T* Checked() {
    if (T* held = std::get_if<T>(&state_)) return held;
    internal::DieOnValueOfFailedResult(std::get<Status>(state_));
  }
  const T* Checked() const { return const_cast<Result*>(this)->Checked(); }

  std::variant<T, Status> state_;
};

}  // namespace tpufleet

// Propagates a non-OK Status out of the enclosing function.
#define TPUFLEET_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::tpufleet::Status tpufleet_status_ = (expr);        \
    if (!tpufleet_status_.ok()) return tpufleet_status_; \
  } while (0)

#define TPUFLEET_CONCAT_INNER_(a, b) a##b
#define TPUFLEET_CONCAT_(a, b) TPUFLEET_CONCAT_INNER_(a, b)
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` is a declaration ("auto x"), `result` a name
#define TPUFLEET_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                    \
  if (!result.ok()) return result.status();                \
  lhs = std::move(result).value()
// NOLINTEND(bugprone-macro-parentheses)

// `TPUFLEET_ASSIGN_OR_RETURN(auto x, MakeX());` assigns the value or returns
// the error.
#define TPUFLEET_ASSIGN_OR_RETURN(lhs, expr) \
  TPUFLEET_ASSIGN_OR_RETURN_IMPL_(TPUFLEET_CONCAT_(tpufleet_result_, __LINE__), lhs, expr)
