#include "cgroupfs.h"

#include <fcntl.h>
#include <sys/statfs.h>
#include <time.h>

#include <charconv>
#include <cstdint>
#include <string>

#include "berth/base/sys.h"

namespace berth::cgroups::fs {

namespace {

// linux/magic.h values, spelled out so this file needs no kernel headers.
constexpr long kCgroupSuperMagic = 0x27e0eb;
constexpr long kCgroup2SuperMagic = 0x63677270;

bool on_cgroupfs(std::string_view dir) {
  struct statfs st {};
  if (sys::statfs(std::string(dir).c_str(), &st) != 0) return true;  // be strict when unsure
  return st.f_type == kCgroupSuperMagic || st.f_type == kCgroup2SuperMagic;
}

// Values go into error messages: keep them on one line.
std::string quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace

std::string path_of(std::string_view dir, std::string_view file) {
  std::string path(dir);
  if (path.empty() || path.back() != '/') path += '/';
  path += file;
  return path;
}

Status write(std::string_view dir, std::string_view file, std::string_view value) {
  std::string path = path_of(dir, file);
  auto fail = [&](int code) {
    return Error(code, "cgroup `" + path + "`: write " + quoted(value), true);
  };
  int fd = sys::openat(sys::kAtFdcwd, path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err != ENOENT || on_cgroupfs(dir)) return fail(err);
    fd = sys::openat(sys::kAtFdcwd, path.c_str(), O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return fail(errno);
  }
  UniqueFd owned(fd);
  ssize_t n;
  do { n = sys::write(fd, value.data(), value.size()); } while (n < 0 && errno == EINTR);
  if (n < 0) return fail(errno);
  // cgroupfs takes a write whole or fails it; a short count means the kernel
  // ignored part of the value, which must not pass unnoticed.
  if (static_cast<size_t>(n) != value.size()) return fail(EIO);
  return {};
}

bool exists(std::string_view dir, std::string_view file) { return sys::exists(path_of(dir, file)); }

Result<std::string> read(std::string_view dir, std::string_view file) {
  std::string path = path_of(dir, file);
  auto text = sys::read_file(path, 4 << 20);
  if (!text) return Error(text.error().code(), "cgroup `" + path + "`: read", true);
  return text;
}

Result<std::optional<std::string>> read_optional(std::string_view dir, std::string_view file) {
  auto text = read(dir, file);
  if (text) return std::optional<std::string>(std::move(*text));
  if (text.error().code() == ENOENT) return std::optional<std::string>();
  return std::move(text).error();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == '\n' || s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  return s;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!trim(line).empty()) out.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

Result<uint64_t> parse_u64(std::string_view text, std::string_view what) {
  text = trim(text);
  if (text == "max") return UINT64_MAX;
  uint64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty())
    return make_error("cgroup `" + std::string(what) + "`: not a number: \"" + std::string(text) +
                      "\"");
  return value;
}

Result<std::optional<uint64_t>> read_u64_optional(std::string_view dir, std::string_view file) {
  auto text = BERTH_VALUE(read_optional(dir, file));
  if (!text) return std::optional<uint64_t>();
  return std::optional<uint64_t>(BERTH_VALUE(parse_u64(*text, path_of(dir, file))));
}

Result<std::optional<uint64_t>> keyed_value(std::string_view text, std::string_view key,
                                            std::string_view what) {
  for (std::string_view line : split_lines(text)) {
    auto fields = split_fields(line);
    if (fields.size() == 2 && fields[0] == key)
      return std::optional<uint64_t>(BERTH_VALUE(parse_u64(fields[1], what)));
  }
  return std::optional<uint64_t>();
}

std::string parent_dir(std::string_view dir) {
  size_t slash = dir.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return std::string(dir.substr(0, slash));
}

void sleep_ms(long ms) {
  struct timespec ts {};
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (sys::nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

int64_t now_ms() {
  struct timespec ts {};
  sys::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace berth::cgroups::fs
