#include "render/human.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace berth::ctl {

std::string human_size(double bytes, int precision) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  size_t unit = 0;
  while (bytes >= 1000.0 && unit < std::size(kUnits) - 1) {
    bytes /= 1000.0;
    ++unit;
  }
  // C's %g and Go's %g agree on these values: same rounding, trailing zeros
  // dropped, exponent form "1e+03" once the exponent reaches the precision.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g%s", precision, bytes, kUnits[unit]);
  return buf;
}

std::string human_duration(int64_t ns) {
  const int64_t seconds = ns / 1'000'000'000;
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  const int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  // go-units rounds hours (math.Round) but truncates everything derived
  // from them, and years from the unrounded hours.
  const double exact_hours = static_cast<double>(ns) / 3.6e12;
  const int64_t hours = static_cast<int64_t>(std::round(exact_hours));
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
  if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
  return std::to_string(static_cast<int64_t>(exact_hours) / 24 / 365) + " years";
}

std::string created_since(int64_t unix_seconds, int64_t now) {
  if (unix_seconds <= 0) return "N/A";
  return human_duration((now - unix_seconds) * 1'000'000'000) + " ago";
}

namespace {

std::string local_time(int64_t unix_seconds, const char* format) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[96];
  size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

}  // namespace

std::string created_at(int64_t unix_seconds) {
  return local_time(unix_seconds, "%Y-%m-%d %H:%M:%S %z %Z");
}

std::string rfc3339(int64_t unix_seconds) {
  std::string s = local_time(unix_seconds, "%Y-%m-%dT%H:%M:%S%z");
  // Go writes "Z" for UTC and "+hh:mm" otherwise; strftime gives "+hhmm".
  if (s.size() >= 5) {
    std::string zone = s.substr(s.size() - 5);
    s.resize(s.size() - 5);
    if (zone == "+0000" || zone == "-0000") return s + "Z";
    return s + zone.substr(0, 3) + ":" + zone.substr(3);
  }
  return s;
}

std::string truncate_id(std::string_view id) {
  if (auto colon = id.find(':'); colon != std::string_view::npos) id.remove_prefix(colon + 1);
  return std::string(id.substr(0, 12));
}

std::string ellipsis(std::string_view text, size_t max) {
  // Count runes: a byte that is not a UTF-8 continuation byte starts one.
  size_t runes = 0;
  for (unsigned char c : text) runes += (c & 0xC0) != 0x80;
  if (runes <= max) return std::string(text);
  if (max == 0) return {};
  std::string out;
  size_t kept = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80 && kept++ == max - 1) break;
    out += text[i];
  }
  return out + "…";
}

}  // namespace berth::ctl
