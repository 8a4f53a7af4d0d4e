#include "log.h"

#include <fcntl.h>
#include <unistd.h>

#include <time.h>

#include <cstdio>

#include "berth/base/clock.h"
#include "berth/base/sys.h"
#include "berth/base/unique_fd.h"
#include "berth/json/json.h"

namespace berth::cli {

namespace {

struct Logger {
  UniqueFd fd;
  LogFormat format = LogFormat::kText;
  bool debug = false;
};

Logger& logger() {
  static Logger instance;
  return instance;
}

void write_line(std::string_view level, std::string_view message) {
  auto& l = logger();
  std::string line;
  if (l.format == LogFormat::kJson) {
    json::Writer w;
    w.begin_object()
        .key("level")
        .string(level)
        .key("msg")
        .string(message)
        .key("time")
        .string(rfc3339_utc_now())
        .end_object();
    line = w.str() + "\n";
  } else {
    line = "time=\"" + rfc3339_utc_now() + "\" level=" + std::string(level) + " msg=\"" +
           std::string(message) + "\"\n";
  }
  if (l.fd.valid()) { (void)!sys::write(l.fd.get(), line.data(), line.size()); }
}

}  // namespace

void log_setup(const std::string& path, LogFormat format, bool debug) {
  auto& l = logger();
  l.format = format;
  l.debug = debug;
  if (!path.empty()) {
    int fd =
        sys::openat(sys::kAtFdcwd, path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) l.fd.reset(fd);
  }
}

void log_error(std::string_view message) {
  std::fprintf(stderr, "berth: %.*s\n", static_cast<int>(message.size()), message.data());
  write_line("error", message);
}

void log_warning(std::string_view message) {
  std::fprintf(stderr, "berth: warning: %.*s\n", static_cast<int>(message.size()), message.data());
  write_line("warning", message);
}

void log_debug(std::string_view message) {
  if (!logger().debug) return;
  if (!logger().fd.valid())
    std::fprintf(stderr, "berth: debug: %.*s\n", static_cast<int>(message.size()), message.data());
  write_line("debug", message);
}

}  // namespace berth::cli
