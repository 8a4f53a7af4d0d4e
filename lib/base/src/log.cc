#include "berth/base/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "berth/base/clock.h"
#include "berth/base/sys.h"

namespace berth::shim_log {

namespace {
int g_fd = -1;
bool g_debug = false;
std::string g_fields;

const char* level_name(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warning";
    case Level::kError: return "error";
  }
  return "info";
}

void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out.append(buf);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}
}  // namespace

void init(int fd, bool debug, std::string fields) {
  if (g_fd >= 0 && g_fd != STDERR_FILENO) sys::close_fd(g_fd);
  g_fd = fd;
  g_debug = debug;
  g_fields = std::move(fields);
  if (g_fd >= 0) sys::fcntl(g_fd, F_SETFL, sys::fcntl(g_fd, F_GETFL) | O_NONBLOCK);
}

void write(Level level, std::string_view message) {
  if (level == Level::kDebug && !g_debug) return;
  std::string line;
  line.reserve(96 + message.size() + g_fields.size());
  line.append("time=\"").append(rfc3339_utc_now()).append("\" level=").append(level_name(level));
  line.append(" msg=");
  append_quoted(line, message);
  if (!g_fields.empty()) line.append(" ").append(g_fields);
  line.push_back('\n');
  // One write per line keeps lines whole in the FIFO (<= PIPE_BUF is atomic).
  (void)!sys::write(g_fd >= 0 ? g_fd : STDERR_FILENO, line.data(), line.size());
}

}  // namespace berth::shim_log
