#include "berth/logs/format.h"

#include <time.h>

#include <cstdlib>
#include <cstring>

namespace berth::logs {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Go's utf8.DecodeRune: the rune's length, or 0 for a byte that starts no
// valid sequence (overlong forms, surrogates and code points above
// U+10FFFF are invalid, and only their first byte is consumed).
size_t utf8_length(const unsigned char* s, size_t n, uint32_t& rune) {
  unsigned char b = s[0];
  size_t len;
  uint32_t lo = 0x80, hi = 0xBF;
  if (b < 0xC2) return 0;  // continuation bytes and overlong 2-byte leads
  if (b < 0xE0) {
    len = 2;
    rune = b & 0x1F;
  } else if (b < 0xF0) {
    len = 3;
    rune = b & 0x0F;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;  // surrogates
  } else if (b < 0xF5) {
    len = 4;
    rune = b & 0x07;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    unsigned char c = s[i];
    if (i == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return 0;
    rune = (rune << 6) | (c & 0x3F);
  }
  return len;
}

void append_digits(std::string& out, int64_t v, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

}  // namespace

std::string_view stream_name(Stream s) { return s == Stream::kStdout ? "stdout" : "stderr"; }

void append_json_string(std::string& out, std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  out.push_back('"');
  size_t start = 0;
  auto flush = [&](size_t i) { out.append(bytes.data() + start, i - start); };
  for (size_t i = 0; i < n;) {
    unsigned char b = s[i];
    if (b < 0x80) {
      if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') {
        ++i;
        continue;
      }
      flush(i);
      if (b == '\\' || b == '"') {
        out.push_back('\\');
        out.push_back(static_cast<char>(b));
      } else if (b == '\n') {
        out.append("\\n");
      } else if (b == '\r') {
        out.append("\\r");
      } else {
        out.append("\\u00");
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 0xF]);
      }
      start = ++i;
      continue;
    }
    uint32_t rune = 0;
    size_t len = utf8_length(s + i, n - i, rune);
    if (len == 0) {
      flush(i);
      out.append("\\ufffd");
      start = ++i;
      continue;
    }
    // U+2028/U+2029 end lines in JavaScript: Go escapes them.
    if (rune == 0x2028 || rune == 0x2029) {
      flush(i);
      out.append("\\u202");
      out.push_back(kHex[rune & 0xF]);
      i += len;
      start = i;
      continue;
    }
    i += len;
  }
  flush(n);
  out.push_back('"');
}

void append_time(std::string& out, int64_t time_ns) {
  int64_t secs = time_ns / 1000000000;
  int64_t nanos = time_ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --secs;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  append_digits(out, tm.tm_year + 1900, 4);
  out.push_back('-');
  append_digits(out, tm.tm_mon + 1, 2);
  out.push_back('-');
  append_digits(out, tm.tm_mday, 2);
  out.push_back('T');
  append_digits(out, tm.tm_hour, 2);
  out.push_back(':');
  append_digits(out, tm.tm_min, 2);
  out.push_back(':');
  append_digits(out, tm.tm_sec, 2);
  if (nanos != 0) {
    int width = 9;
    while (nanos % 10 == 0) {
      nanos /= 10;
      --width;
    }
    out.push_back('.');
    append_digits(out, nanos, width);
  }
  out.push_back('Z');
}

void append_record(std::string& out, Stream stream, std::string_view bytes, int64_t time_ns) {
  // docker leaves out an empty "log" (omitempty); we never log nothing.
  out.append("{\"log\":");
  append_json_string(out, bytes);
  out.append(stream == Stream::kStdout ? ",\"stream\":\"stdout\",\"time\":\""
                                       : ",\"stream\":\"stderr\",\"time\":\"");
  append_time(out, time_ns);
  out.append("\"}\n");
}

Result<int64_t> parse_max_size(std::string_view text) {
  auto bad = [&] { return make_error("max-size `" + std::string(text) + "`: invalid size"); };
  if (text == "-1") return int64_t{-1};
  // go-units: ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  std::string number(text.substr(0, i));
  if (number.empty() || number[0] == '.' || number.back() == '.' ||
      number.find("..") != std::string::npos) {
    return bad();
  }
  std::string_view unit = text.substr(i);
  if (unit.starts_with(' ')) unit.remove_prefix(1);
  double mult = 1;
  if (!unit.empty()) {
    switch (unit[0] | 0x20) {
      case 'k': mult = 1e3; break;
      case 'm': mult = 1e6; break;
      case 'g': mult = 1e9; break;
      case 't': mult = 1e12; break;
      case 'p': mult = 1e15; break;
      default: mult = 0;
    }
    if (mult != 0)
      unit.remove_prefix(1);
    else
      mult = 1;
  }
  if (!unit.empty() && (unit[0] | 0x20) == 'i') unit.remove_prefix(1);
  if (!unit.empty() && (unit[0] | 0x20) == 'b') unit.remove_prefix(1);
  if (!unit.empty()) return bad();
  char* end = nullptr;
  double v = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return bad();
  double bytes = v * mult;
  if (!(bytes >= 1) || bytes > 9.2e18) {
    return make_error("max-size `" + std::string(text) + "`: must be a positive number");
  }
  return static_cast<int64_t>(bytes);
}

}  // namespace berth::logs
