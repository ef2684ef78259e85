// Status and StatusOr<T>: the error vocabulary of Souk (Abseil-style codes,
// LevelDB-style no-exception API). Expected failures (bad input, unknown id,
// missing file, full disk) travel as a Status; exceptions of third-party
// libraries are converted at the one adapter that wraps each library.
//
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace souk {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the caller's input is malformed (maps to HTTP 400)
  kNotFound,          // an id, file or model does not exist (404)
  kAlreadyExists,     // (409)
  kFailedPrecondition,// the system is not in a state to do this (409/412)
  kOutOfRange,        // a value lies outside its allowed range (400)
  kResourceExhausted, // disk full, limits exceeded (429/507)
  kDataLoss,          // corrupted or truncated stored data (500 for server-side data)
  kUnavailable,       // a transient failure; retry may succeed (503)
  kUnimplemented,     // (501)
  kInternal,          // a bug (500)
  kCancelled,         // the caller gave up
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: message" or "OK".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

  // Explicitly ignores a status (for best-effort cleanup paths).
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status OutOfRangeError(std::string message);
Status ResourceExhaustedError(std::string message);
Status DataLossError(std::string message);
Status UnavailableError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);
Status CancelledError(std::string message);

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const T& value) : v_(value) {}              // NOLINT(google-explicit-constructor)
  StatusOr(T&& value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  StatusOr(const Status& status) : v_(status) {         // NOLINT(google-explicit-constructor)
    assert(!status.ok() && "StatusOr constructed from an OK Status");
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "StatusOr from OK status");
  }
  StatusOr(Status&& status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "StatusOr from OK status");
  }
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, T> &&
                                                    !std::is_same_v<std::decay_t<U>, StatusOr>>>
  StatusOr(U&& value) : v_(T(std::forward<U>(value))) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const& {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  Status status() && { return ok() ? Status() : std::move(std::get<Status>(v_)); }

  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T& value() & { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::move(std::get<T>(v_)); }
  T value_or(T fallback) const& { return ok() ? std::get<T>(v_) : std::move(fallback); }

  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<Status, T> v_;
};

namespace internal {
inline Status AsStatus(const Status& s) { return s; }
inline Status AsStatus(Status&& s) { return std::move(s); }
template <typename T>
Status AsStatus(const StatusOr<T>& s) { return s.status(); }
}  // namespace internal

}  // namespace souk

#define SOUK_CONCAT_INNER(a, b) a##b
#define SOUK_CONCAT(a, b) SOUK_CONCAT_INNER(a, b)

// Returns from the current function when `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)                                   \
  do {                                                          \
    ::souk::Status souk_status_ = ::souk::internal::AsStatus(expr); \
    if (!souk_status_.ok()) return souk_status_;                \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a StatusOr or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  SOUK_ASSIGN_OR_RETURN_IMPL(SOUK_CONCAT(souk_statusor_, __LINE__), lhs, expr)
#define SOUK_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()
