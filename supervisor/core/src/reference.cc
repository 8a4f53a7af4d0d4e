#include "berth/core/reference.h"

#include <cctype>

namespace berth::core {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return !s.empty();
}

Error invalid(std::string_view text, std::string_view why = {}) {
  std::string msg = "invalid reference format";
  if (!why.empty()) msg += ": " + std::string(why);
  return make_error(msg + " (`" + std::string(text) + "`)");
}

// path := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
bool valid_path_component(std::string_view c) {
  if (c.empty() || !lower_alnum(c.front()) || !lower_alnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !lower_alnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    i = j;
  }
  return true;
}

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  for (char c : p)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// host [":" port]: labels of [A-Za-z0-9-], or an [IPv6] literal.
bool valid_domain(std::string_view d) {
  if (d.empty()) return false;
  std::string_view host = d;
  if (d.front() == '[') {
    size_t close = d.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view v6 = d.substr(1, close - 1);
    if (v6.empty() || v6.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
      return false;
    std::string_view rest = d.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && valid_port(rest.substr(1)));
  }
  size_t colon = d.rfind(':');
  if (colon != std::string_view::npos) {
    if (!valid_port(d.substr(colon + 1))) return false;
    host = d.substr(0, colon);
  }
  if (host.empty()) return false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    std::string_view label =
        host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > kMaxTagLength) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(t.front())) return false;
  for (char c : t)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

}  // namespace

bool is_digest(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view algo = text.substr(0, colon), hex = text.substr(colon + 1);
  if (algo == "sha256") return hex.size() == 64 && is_hex(hex);
  if (algo == "sha512") return hex.size() == 128 && is_hex(hex);
  for (char c : algo)
    if (!lower_alnum(c) && c != '+' && c != '.' && c != '_' && c != '-') return false;
  return hex.size() >= 32 && is_hex(hex);
}

bool is_full_image_id(std::string_view text) {
  if (text.starts_with("sha256:")) text.remove_prefix(7);
  return text.size() == 64 && is_hex(text);
}

Result<Reference> parse_reference(std::string_view text, bool default_tag) {
  if (text.empty()) return invalid(text);
  Reference ref;
  std::string_view rest = text;
  size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    std::string_view digest = rest.substr(at + 1);
    if (!is_digest(digest)) return invalid(text, "bad digest");
    ref.digest = std::string(digest);
    rest = rest.substr(0, at);
  }
  // The tag is after the last ':' that follows the last '/' (a ':' before
  // it belongs to the registry's port).
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = rest.substr(colon + 1);
    if (!valid_tag(tag)) return invalid(text, "bad tag");
    ref.tag = std::string(tag);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return invalid(text);
  if (is_full_image_id(rest))
    return make_error("invalid repository name (`" + std::string(rest) +
                      "`), cannot specify 64-byte hexadecimal strings");

  // Domain: the first component when it looks like a host — it has a '.'
  // or ':', is "localhost", or has upper case (which no path may have), as
  // in docker's splitDockerDomain. Otherwise the name is on Docker Hub.
  size_t first = rest.find('/');
  std::string_view path = rest;
  if (first != std::string_view::npos) {
    std::string_view head = rest.substr(0, first);
    bool upper = false;
    for (char c : head) upper |= std::isupper(static_cast<unsigned char>(c)) != 0;
    if (head.find_first_of(".:[") != std::string_view::npos || head == "localhost" || upper) {
      if (!valid_domain(head)) return invalid(text, "bad registry host");
      ref.domain = std::string(head);
      path = rest.substr(first + 1);
    }
  }
  if (ref.domain.empty()) ref.domain = std::string(kDockerHub);
  if (ref.domain == "index.docker.io") ref.domain = std::string(kDockerHub);

  for (char c : path)
    if (std::isupper(static_cast<unsigned char>(c)))
      return invalid(text, "repository name must be lowercase");
  size_t start = 0;
  for (;;) {
    size_t next = path.find('/', start);
    std::string_view component =
        path.substr(start, next == std::string_view::npos ? path.npos : next - start);
    if (!valid_path_component(component)) return invalid(text);
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  ref.path = std::string(path);
  if (ref.domain == kDockerHub && ref.path.find('/') == std::string::npos)
    ref.path = "library/" + ref.path;
  if (ref.name().size() > kMaxNameLength)
    return invalid(text, "repository name must not be more than 255 characters");
  if (default_tag && ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

std::string Reference::str() const {
  std::string out = name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string Reference::familiar_name() const {
  if (domain != kDockerHub) return name();
  if (path.starts_with("library/") && path.find('/', 8) == std::string::npos) return path.substr(8);
  return path;
}

std::string Reference::familiar() const {
  std::string out = familiar_name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

}  // namespace berth::core
