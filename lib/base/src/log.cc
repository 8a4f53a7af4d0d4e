#include "berth/base/log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

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
  if (g_fd >= 0 && g_fd != STDERR_FILENO) ::close(g_fd);
  g_fd = fd;
  g_debug = debug;
  g_fields = std::move(fields);
  if (g_fd >= 0) ::fcntl(g_fd, F_SETFL, ::fcntl(g_fd, F_GETFL) | O_NONBLOCK);
}

void write(Level level, std::string_view message) {
  if (level == Level::kDebug && !g_debug) return;
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm {};
  ::gmtime_r(&ts.tv_sec, &tm);
  char when[64];
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
  std::string line;
  line.reserve(96 + message.size() + g_fields.size());
  line.append("time=\"").append(when).append("\" level=").append(level_name(level)).append(" msg=");
  append_quoted(line, message);
  if (!g_fields.empty()) line.append(" ").append(g_fields);
  line.push_back('\n');
  // One write per line keeps lines whole in the FIFO (<= PIPE_BUF is atomic).
  (void)!::write(g_fd >= 0 ? g_fd : STDERR_FILENO, line.data(), line.size());
}

}  // namespace berth::shim_log
