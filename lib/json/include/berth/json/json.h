#pragma once
// A small JSON facade over yajl, so that yajl stays inside this library:
// a read-only DOM (Value) with exact number text, and a streaming Writer.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/base/error.h"

namespace berth::json {

class Value {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  static std::string_view kind_name(Kind kind);  // "object", "string", ...

  bool as_bool() const { return bool_; }
  const std::string& as_string() const { return text_; }    // strings
  const std::string& number_text() const { return text_; }  // numbers, verbatim
  // Exact conversions of number_text(); nullopt when not an integer in range.
  std::optional<uint64_t> as_u64() const;
  std::optional<int64_t> as_i64() const;
  const std::vector<Value>& items() const { return items_; }
  const std::vector<std::pair<std::string, Value>>& members() const { return members_; }
  const Value* get(std::string_view key) const;  // null when absent

  // Builders, used by the parser and by tests.
  static Value null() { return Value(Kind::kNull); }
  static Value boolean(bool b);
  static Value number(std::string text);
  static Value string(std::string text);
  static Value array(std::vector<Value> items);
  static Value object(std::vector<std::pair<std::string, Value>> members);

 private:
  explicit Value(Kind kind) : kind_(kind) {}
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> members_;
};

// Parses text into a DOM. Nesting deeper than max_depth and documents larger
// than max_size are rejected before yajl builds anything (a 50 MB or deeply
// nested file must not exhaust memory or the stack). `source` names the file.
// A document of more than max_size / 16 + 4096 values is refused too: each
// value costs ~90 bytes of DOM, so 16 MiB of "0," would otherwise take a GiB.
// Strict RFC 8259: no comments, no trailing garbage, strings valid UTF-8.
// When an object repeats a key the last value wins (as in Go's encoding/json,
// which runc uses), and members() holds each key once.
Result<Value> parse(std::string_view text, std::string_view source, size_t max_depth = 64,
                    size_t max_size = 16 << 20);

// Streams JSON text through yajl_gen. Strings that are not valid UTF-8 are
// written with U+FFFD in place of each bad sequence, so the output always
// parses back. Misuse (a value where a key is due, a close without an open)
// cannot throw: it makes ok() false, and callers building from data they do
// not control check it before using str().
class Writer {
 public:
  explicit Writer(bool pretty = false);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& string(std::string_view s);
  Writer& integer(int64_t v);
  Writer& uinteger(uint64_t v);
  Writer& boolean(bool b);
  Writer& null();
  // A Value back to text (for passing raw sub-objects through).
  Writer& value(const Value& v);
  std::string str() const;
  bool ok() const { return ok_; }

 private:
  Writer& check(int status);
  void* gen_;
  bool ok_ = true;
};

}  // namespace berth::json
