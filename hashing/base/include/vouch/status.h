// Status and Result<T>: how vouch reports errors (I/O, parse, connection, bad
// usage) across module borders. Errors are distinct from findings: a finding is
// what verification discovers about the data (engine/), an error means vouch
// could not do what was asked.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace vouch {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // usage or configuration error (exit 2)
  kIoError,          // cannot open/read/write a file (exit 3)
  kTruncated,        // input ends before it should (exit 3)
  kUnsupported,      // a format or feature vouch cannot read yet (exit 3)
  kConnection,       // database connection failed or was lost (exit 3)
  kCorrupt,          // the content itself is damaged: bad CRC, malformed row (exit 1)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message"; for adding the file or
  // table name as an error travels up.
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Truncated(std::string m) { return {StatusCode::kTruncated, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status ConnectionError(std::string m) { return {StatusCode::kConnection, std::move(m)}; }
inline Status Corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }

// The input itself is damaged (corrupt, or ends early): a finding about the
// file read, not a failure to read it.
inline bool IsDamage(const Status& s) { return s.code() == StatusCode::kCorrupt || s.code() == StatusCode::kTruncated; }

// Result<T> holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                                              // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vouch

#define VOUCH_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::vouch::Status vouch_st_ = (expr);    \
    if (!vouch_st_.ok()) return vouch_st_; \
  } while (0)
