#pragma once
// Typed reading of a json::Value with the JSON path of every field, shared by
// the parse_*.cc files. Every error reads "<source>: <path>: <what>", e.g.
// "config.json: process.user.uid: expected an unsigned 32-bit integer, got -1".

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/json/json.h"
#include "berth/spec/spec.h"

namespace berth::spec::internal {

using json::Value;

// "a.b" (or "b" at the top of a document) and "a[3]".
std::string child(std::string_view path, std::string_view key);
std::string index(std::string_view path, size_t i);
// `s` in double quotes, escaped and shortened so a message stays one line.
std::string quote(std::string_view s);

// A member of an object, or null when absent. JSON null counts as absent,
// as it does for runc (Go's encoding/json leaves the field at its zero value).
const Value* member(const Value& object, std::string_view key);

// An object found at `path`.
struct Obj {
  const Value* value;
  std::string path;
  const Value* get(std::string_view key) const { return member(*value, key); }
  std::string at(std::string_view key) const { return child(path, key); }
};

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  Error error(std::string_view path, std::string_view what) const;
  // "expected <expected>, got <kind or number text>"
  Error type_error(std::string_view path, const Value& v, std::string_view expected) const;

  Result<Obj> object(const Value& v, std::string path) const;
  Status array(const Value& v, std::string_view path) const;

  // One value converted to the type of `out`. Strings must not contain NUL:
  // they end up as C strings (paths, argv), where a NUL would silently cut
  // them short.
  Status read(const Value& v, const std::string& path, std::string& out) const;
  Status read(const Value& v, const std::string& path, bool& out) const;
  Status read(const Value& v, const std::string& path, uint32_t& out) const;
  Status read(const Value& v, const std::string& path, uint64_t& out) const;
  Status read(const Value& v, const std::string& path, int32_t& out) const;
  Status read(const Value& v, const std::string& path, int64_t& out) const;
  Status read(const Value& v, const std::string& path, std::vector<std::string>& out) const;
  Status read(const Value& v, const std::string& path, std::vector<uint32_t>& out) const;
  // Object of strings; keys must be non-empty.
  Status read(const Value& v, const std::string& path,
              std::map<std::string, std::string>& out) const;
  template <class T>
  Status read(const Value& v, const std::string& path, std::optional<T>& out) const {
    T value{};
    BERTH_TRY(read(v, path, value));
    out = std::move(value);
    return {};
  }

  // A member of `o` into `out`; an absent member leaves `out` unchanged.
  template <class T>
  Status optional(const Obj& o, std::string_view key, T& out) const {
    const Value* v = o.get(key);
    if (!v) return {};
    return read(*v, o.at(key), out);
  }
  template <class T>
  Status required(const Obj& o, std::string_view key, T& out) const {
    const Value* v = o.get(key);
    if (!v) return error(o.at(key), "required");
    return read(*v, o.at(key), out);
  }

 private:
  std::string source_;
};

// Lexically cleans an absolute path ("/a/./b//c/" -> "/a/b/c"); nullopt when
// a ".." would climb above "/". Unlike Go's filepath.Clean, which maps
// "/../x" to "/x", the climb is an error: a config that says it is either
// confused or probing for an escape from the rootfs.
std::optional<std::string> clean_absolute(std::string_view path);
// Reads a path inside the container: absolute, no escape, returned cleaned.
Status read_container_path(const Reader& r, const Value& v, const std::string& path,
                           std::string& out);

Result<IdMapping> parse_id_mapping(const Reader& r, const Value& v, const std::string& path);
Status parse_id_mappings(const Reader& r, const Obj& o, std::string_view key,
                         std::vector<IdMapping>& out);

// parse_process.cc
Result<Process> parse_process_object(const Reader& r, const Value& v, const std::string& path);
// parse_linux.cc
Result<Linux> parse_linux_object(const Reader& r, const Value& v, const std::string& path);

}  // namespace berth::spec::internal
