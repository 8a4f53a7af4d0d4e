#include "berth/remotes/http_headers.h"

#include <cctype>

namespace berth::remotes {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void skip_space(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A quoted-string starting at s[i] == '"'; backslash escapes one character.
std::string quoted(std::string_view s, size_t& i) {
  std::string out;
  ++i;
  while (i < s.size() && s[i] != '"') {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i++];
  }
  if (i < s.size()) ++i;
  return out;
}

std::string origin_of(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  size_t path = url.find('/', scheme_end + 3);
  return std::string(url.substr(0, path));
}

}  // namespace

std::optional<Challenge> parse_www_authenticate(std::string_view h) {
  size_t i = 0;
  while (i < h.size()) {
    skip_space(h, i);
    size_t start = i;
    while (i < h.size() && is_token_char(h[i])) ++i;
    if (i == start) {
      ++i;
      continue;
    }
    Challenge c;
    c.scheme = lower(h.substr(start, i - start));
    // auth-params: key=value or key="quoted, with commas", separated by commas,
    // until the next scheme token (a token not followed by '=').
    for (;;) {
      skip_space(h, i);
      size_t key_start = i;
      while (i < h.size() && is_token_char(h[i])) ++i;
      std::string key = lower(h.substr(key_start, i - key_start));
      skip_space(h, i);
      if (key.empty() || i >= h.size() || h[i] != '=') {
        i = key.empty() ? i : key_start;  // another challenge starts here
        break;
      }
      ++i;
      skip_space(h, i);
      std::string value;
      if (i < h.size() && h[i] == '"') {
        value = quoted(h, i);
      } else {
        size_t v = i;
        while (i < h.size() && h[i] != ',' && h[i] != ' ') ++i;
        value = std::string(h.substr(v, i - v));
      }
      c.params[key] = value;
      skip_space(h, i);
      if (i < h.size() && h[i] == ',') ++i;
    }
    if (c.scheme == "basic" || c.scheme == "bearer") return c;
    if (i < h.size() && h[i] == ',') ++i;
  }
  return std::nullopt;
}

std::optional<std::string> parse_link_next(std::string_view h, std::string_view request_url) {
  size_t i = 0;
  while (i < h.size()) {
    size_t open = h.find('<', i);
    if (open == std::string_view::npos) return std::nullopt;
    size_t close = h.find('>', open);
    if (close == std::string_view::npos) return std::nullopt;
    std::string url(h.substr(open + 1, close - open - 1));
    // Parameters up to the next link (a ',' outside quotes).
    size_t j = close + 1;
    bool next = false;
    while (j < h.size() && h[j] != ',') {
      skip_space(h, j);
      if (j < h.size() && h[j] == ';') {
        ++j;
        skip_space(h, j);
        size_t k = j;
        while (j < h.size() && is_token_char(h[j])) ++j;
        std::string key = lower(h.substr(k, j - k));
        skip_space(h, j);
        std::string value;
        if (j < h.size() && h[j] == '=') {
          ++j;
          skip_space(h, j);
          if (j < h.size() && h[j] == '"') {
            value = quoted(h, j);
          } else {
            size_t v = j;
            while (j < h.size() && h[j] != ';' && h[j] != ',' && h[j] != ' ') ++j;
            value = std::string(h.substr(v, j - v));
          }
        }
        if (key == "rel") {
          // rel may list several space-separated relation types.
          std::string rels = " " + lower(value) + " ";
          if (rels.find(" next ") != std::string::npos) next = true;
        }
      } else if (j < h.size() && h[j] != ',') {
        ++j;
      }
    }
    if (next) return resolve_location(url, request_url);
    i = j + 1;
  }
  return std::nullopt;
}

std::string resolve_location(std::string_view location, std::string_view request_url) {
  if (location.find("://") != std::string_view::npos) return std::string(location);
  if (!location.empty() && location[0] == '/')
    return origin_of(request_url) + std::string(location);
  // Relative to the request's directory (never seen from registries, but legal).
  std::string base(request_url.substr(0, request_url.find('?')));
  return base.substr(0, base.rfind('/') + 1) + std::string(location);
}

std::string percent_encode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string add_query(std::string_view url, std::string_view key, std::string_view value) {
  std::string out(url);
  out += out.find('?') == std::string::npos ? '?' : '&';
  return out + std::string(key) + "=" + percent_encode(value);
}

}  // namespace berth::remotes
