#include "berth/base/error.h"

#include <cstring>

namespace berth {

Error Error::wrap(std::string_view context) const& {
  Error copy = *this;
  return std::move(copy).wrap(context);
}

Error Error::wrap(std::string_view context) && {
  std::string message;
  message.reserve(context.size() + 2 + message_.size());
  message.append(context);
  message.append(": ");
  message.append(message_);
  return Error(code_, std::move(message), from_syscall_);
}

std::string Error::to_string() const {
  if (code_ == 0 || !from_syscall_) return message_;
  return message_ + ": " + std::strerror(code_);
}

Error sys_error(int code, std::string_view op, std::string_view path) {
  std::string message(op);
  if (!path.empty()) {
    message.append(" `");
    message.append(path);
    message.append("`");
  }
  return Error(code, std::move(message), true);
}

Error sys_error(std::string_view op, std::string_view path) { return sys_error(errno, op, path); }

Error make_error(std::string message, int code) { return Error(code, std::move(message)); }

}  // namespace berth
