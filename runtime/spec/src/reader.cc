#include "reader.h"

#include <cstdio>

namespace berth::spec::internal {

std::string child(std::string_view path, std::string_view key) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out.append(key);
  return out;
}

std::string index(std::string_view path, size_t i) {
  std::string out(path);
  out += '[';
  out += std::to_string(i);
  out += ']';
  return out;
}

std::string quote(std::string_view s) {
  constexpr size_t kMax = 200;
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMax) out += "...";
  out += '"';
  return out;
}

const Value* member(const Value& object, std::string_view key) {
  const Value* v = object.get(key);
  if (!v || v->is_null()) return nullptr;
  return v;
}

Error Reader::error(std::string_view path, std::string_view what) const {
  std::string msg = source_;
  msg += ": ";
  if (!path.empty()) {
    msg.append(path);
    msg += ": ";
  }
  msg.append(what);
  return make_error(std::move(msg));
}

Error Reader::type_error(std::string_view path, const Value& v, std::string_view expected) const {
  std::string got;
  if (v.is_number()) {
    got = v.number_text().size() <= 40 ? v.number_text() : v.number_text().substr(0, 40) + "...";
  } else {
    got = Value::kind_name(v.kind());
  }
  return error(path, "expected " + std::string(expected) + ", got " + got);
}

Result<Obj> Reader::object(const Value& v, std::string path) const {
  if (!v.is_object()) return type_error(path, v, "an object");
  return Obj{&v, std::move(path)};
}

Status Reader::array(const Value& v, std::string_view path) const {
  if (!v.is_array()) return type_error(path, v, "an array");
  return {};
}

Status Reader::read(const Value& v, const std::string& path, std::string& out) const {
  if (!v.is_string()) return type_error(path, v, "a string");
  if (v.as_string().find('\0') != std::string::npos)
    return error(path, "must not contain a NUL character");
  out = v.as_string();
  return {};
}

Status Reader::read(const Value& v, const std::string& path, bool& out) const {
  if (!v.is_bool()) return type_error(path, v, "a boolean");
  out = v.as_bool();
  return {};
}

Status Reader::read(const Value& v, const std::string& path, uint32_t& out) const {
  std::optional<uint64_t> n = v.as_u64();
  if (!n || *n > UINT32_MAX) return type_error(path, v, "an unsigned 32-bit integer");
  out = static_cast<uint32_t>(*n);
  return {};
}

Status Reader::read(const Value& v, const std::string& path, uint64_t& out) const {
  std::optional<uint64_t> n = v.as_u64();
  if (!n) return type_error(path, v, "an unsigned 64-bit integer");
  out = *n;
  return {};
}

Status Reader::read(const Value& v, const std::string& path, int32_t& out) const {
  std::optional<int64_t> n = v.as_i64();
  if (!n || *n < INT32_MIN || *n > INT32_MAX) return type_error(path, v, "a 32-bit integer");
  out = static_cast<int32_t>(*n);
  return {};
}

Status Reader::read(const Value& v, const std::string& path, int64_t& out) const {
  std::optional<int64_t> n = v.as_i64();
  if (!n) return type_error(path, v, "a 64-bit integer");
  out = *n;
  return {};
}

Status Reader::read(const Value& v, const std::string& path, std::vector<std::string>& out) const {
  BERTH_TRY(array(v, path));
  std::vector<std::string> result;
  result.reserve(v.items().size());
  for (size_t i = 0; i < v.items().size(); ++i) {
    std::string s;
    BERTH_TRY(read(v.items()[i], index(path, i), s));
    result.push_back(std::move(s));
  }
  out = std::move(result);
  return {};
}

Status Reader::read(const Value& v, const std::string& path, std::vector<uint32_t>& out) const {
  BERTH_TRY(array(v, path));
  std::vector<uint32_t> result;
  result.reserve(v.items().size());
  for (size_t i = 0; i < v.items().size(); ++i) {
    uint32_t n = 0;
    BERTH_TRY(read(v.items()[i], index(path, i), n));
    result.push_back(n);
  }
  out = std::move(result);
  return {};
}

Status Reader::read(const Value& v, const std::string& path,
                    std::map<std::string, std::string>& out) const {
  if (!v.is_object()) return type_error(path, v, "an object");
  std::map<std::string, std::string> result;
  for (const auto& [key, item] : v.members()) {
    std::string item_path = path + "[" + quote(key) + "]";
    if (key.empty()) return error(path, "keys must not be empty");
    if (key.find('\0') != std::string::npos)
      return error(item_path, "key must not contain a NUL character");
    std::string s;
    BERTH_TRY(read(item, item_path, s));
    result[key] = std::move(s);
  }
  out = std::move(result);
  return {};
}

std::optional<std::string> clean_absolute(std::string_view path) {
  if (path.empty() || path[0] != '/') return std::nullopt;
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(i, end - i);
    i = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  if (parts.empty()) return std::string("/");
  std::string out;
  for (std::string_view part : parts) {
    out += '/';
    out.append(part);
  }
  return out;
}

Status read_container_path(const Reader& r, const Value& v, const std::string& path,
                           std::string& out) {
  std::string raw;
  BERTH_TRY(r.read(v, path, raw));
  if (raw.empty() || raw[0] != '/')
    return r.error(path, "must be an absolute path, got " + quote(raw));
  std::optional<std::string> clean = clean_absolute(raw);
  if (!clean) return r.error(path, "\"..\" climbs above \"/\" in " + quote(raw));
  out = std::move(*clean);
  return {};
}

Result<IdMapping> parse_id_mapping(const Reader& r, const Value& v, const std::string& path) {
  Obj o = BERTH_VALUE(r.object(v, path));
  IdMapping m;
  BERTH_TRY(r.required(o, "containerID", m.container_id));
  BERTH_TRY(r.required(o, "hostID", m.host_id));
  BERTH_TRY(r.required(o, "size", m.size));
  if (m.size == 0) return r.error(o.at("size"), "must be at least 1");
  // The kernel refuses ranges that wrap around 2^32; say so here, with the
  // field named, rather than as EINVAL from a write to uid_map.
  if (uint64_t(m.container_id) + m.size > (uint64_t(1) << 32) ||
      uint64_t(m.host_id) + m.size > (uint64_t(1) << 32))
    return r.error(o.at("size"), "range extends past 2^32-1");
  return m;
}

Status parse_id_mappings(const Reader& r, const Obj& o, std::string_view key,
                         std::vector<IdMapping>& out) {
  const Value* v = o.get(key);
  if (!v) return {};
  std::string path = o.at(key);
  BERTH_TRY(r.array(*v, path));
  std::vector<IdMapping> result;
  for (size_t i = 0; i < v->items().size(); ++i)
    result.push_back(BERTH_VALUE(parse_id_mapping(r, v->items()[i], index(path, i))));
  out = std::move(result);
  return {};
}

}  // namespace berth::spec::internal
