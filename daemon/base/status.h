// Status and Result<T>: the one error vocabulary of rc-watchdog.
//
// A Status is cheap on success (no allocation). Its codes map to metric labels
// and exit codes; the message says where and what, and never holds a secret.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace rcw {

enum class StatusCode {
  kOk,
  kInvalidConfig,     // the configuration is wrong (exit 78)
  kInvalidArgument,   // a bad command line or caller input (exit 2)
  kUnavailable,       // transport failure, timeout, 5xx: try again later
  kBadResponse,       // the peer answered something we cannot decode
  kNotFound,          // 404, a missing file
  kPermissionDenied,  // 401/403 after renewal, an unreadable file
  kRateLimited,       // 429, or our own ceiling
  kInternal,          // a bug or an invariant broken
};

// Short lower-case name of a code, used in logs and metric labels.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "code: message", for logs.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or an error E. REQUIRES: value() only when ok(), error()
// only when !ok(). Result<T> (below) and api/'s ApiResult<T> are its uses.
template <class T, class E>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Expected(E error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const E& error() const { return error_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 protected:
  std::optional<T> value_;
  E error_;
};

// Either a value or a non-OK Status.
template <class T>
class [[nodiscard]] Result : public Expected<T, Status> {
 public:
  Result(T value) : Expected<T, Status>(std::move(value)) {}  // NOLINT
  Result(Status status) : Expected<T, Status>(std::move(status)) {  // NOLINT
    if (this->error_.ok()) this->error_ = Status(StatusCode::kInternal, "Result from OK status");
  }
  const Status& status() const { return this->error_; }
};

}  // namespace rcw
