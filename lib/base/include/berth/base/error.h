#pragma once
// Error and Result<T>: the error contract of every berth component below the
// supervisor (no exceptions between clone and exec).
//
// An Error carries the errno that caused it (0 when none) and a message of the
// form "op `path`: context". Messages are lower-case, have no trailing period
// and always name the file, field or object concerned. Lower layers create an
// error once; callers add context with wrap() as it travels up; the edge (a
// CLI main, a ttrpc reply) prints it once.

#include <cerrno>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace berth {

class Error {
 public:
  // `from_syscall`: the message gets strerror(code) appended when printed.
  Error(int code, std::string message, bool from_syscall = false)
      : code_(code), message_(std::move(message)), from_syscall_(from_syscall) {}

  int code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes context: Error(EACCES, "open `x`").wrap("mount /proc") reads
  // "mount /proc: open `x`: permission denied".
  Error wrap(std::string_view context) const&;
  Error wrap(std::string_view context) &&;

  // The message, with strerror(code) appended for syscall errors.
  std::string to_string() const;

 private:
  int code_;
  std::string message_;
  bool from_syscall_ = false;
};

// An error for a failed syscall: reads errno now, so call it right after the
// failing call. Message: "op `path`" (or just "op" when path is empty).
Error sys_error(std::string_view op, std::string_view path = {});
Error sys_error(int code, std::string_view op, std::string_view path = {});
// An error that is not from a syscall (bad input, protocol violation).
Error make_error(std::string message, int code = EINVAL);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    check_ok();
    return std::get<0>(v_);
  }
  const T& value() const& {
    check_ok();
    return std::get<0>(v_);
  }
  T&& value() && {
    check_ok();
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  void check_ok() const {
    if (!ok()) std::abort();  // reading the value of a failed Result is a bug
  }
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return error_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return std::get<1>(error_); }
  Error&& error() && { return std::get<1>(std::move(error_)); }

 private:
  std::variant<std::monostate, Error> error_;
};

using Status = Result<void>;
inline Status ok_status() { return {}; }

}  // namespace berth

// Propagation helpers (GCC/Clang statement expressions).
// BERTH_TRY(expr): return the error of a failed Result, else discard the value.
#define BERTH_TRY(expr)                                             \
  do {                                                              \
    auto&& berth_try_r_ = (expr);                                   \
    if (!berth_try_r_.ok()) return std::move(berth_try_r_).error(); \
  } while (0)

// BERTH_TRY_CTX(expr, ctx): same, wrapping the error with context.
#define BERTH_TRY_CTX(expr, ctx)                                              \
  do {                                                                        \
    auto&& berth_try_r_ = (expr);                                             \
    if (!berth_try_r_.ok()) return std::move(berth_try_r_).error().wrap(ctx); \
  } while (0)

// BERTH_VALUE(expr): the value of a Result, or return its error.
#define BERTH_VALUE(expr)                                               \
  ({                                                                    \
    auto berth_value_r_ = (expr);                                       \
    if (!berth_value_r_.ok()) return std::move(berth_value_r_).error(); \
    std::move(berth_value_r_).value();                                  \
  })
