#include "berth/json/json.h"

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <numeric>

namespace berth::json {

// --- Value -------------------------------------------------------------------

std::string_view Value::kind_name(Kind kind) {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "boolean";
    case Kind::kNumber: return "number";
    case Kind::kString: return "string";
    case Kind::kArray: return "array";
    case Kind::kObject: return "object";
  }
  return "?";
}

std::optional<uint64_t> Value::as_u64() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  // from_chars accepts exactly [0-9]+ for unsigned types: a sign, fraction or
  // exponent stops it before the end, and too many digits is out_of_range.
  uint64_t out = 0;
  const char* end = text_.data() + text_.size();
  auto [ptr, ec] = std::from_chars(text_.data(), end, out);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return out;
}

std::optional<int64_t> Value::as_i64() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  int64_t out = 0;
  const char* end = text_.data() + text_.size();
  auto [ptr, ec] = std::from_chars(text_.data(), end, out);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return out;
}

const Value* Value::get(std::string_view key) const {
  for (const auto& [k, v] : members_)
    if (k == key) return &v;
  return nullptr;
}

Value Value::boolean(bool b) {
  Value v(Kind::kBool);
  v.bool_ = b;
  return v;
}

Value Value::number(std::string text) {
  Value v(Kind::kNumber);
  v.text_ = std::move(text);
  return v;
}

Value Value::string(std::string text) {
  Value v(Kind::kString);
  v.text_ = std::move(text);
  return v;
}

Value Value::array(std::vector<Value> items) {
  Value v(Kind::kArray);
  v.items_ = std::move(items);
  return v;
}

Value Value::object(std::vector<std::pair<std::string, Value>> members) {
  Value v(Kind::kObject);
  v.members_ = std::move(members);
  return v;
}

// --- parse -------------------------------------------------------------------

namespace {

// Finds nesting deeper than max_depth without building anything. Value's
// destructor recurses once per level, so a document of 100000 '[' must be
// refused here, before any Value exists. Brackets inside strings do not
// count. Invalid text may be miscounted, but only after the point where yajl
// itself stops, so every prefix yajl accepts is counted exactly.
bool too_deep(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) return true;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return false;
}

// Builds a Value from yajl's events. Open containers wait on a stack of
// frames and become Values when they close, so nothing is nested until it is
// complete and an error midway frees flat vectors only.
class Builder {
 public:
  explicit Builder(size_t max_values) : budget_(max_values) {}

  std::optional<Value> root;
  bool over_budget() const { return over_budget_; }

  // Each returns false to make yajl stop (only when over budget).
  bool add(Value v) { return spend() && attach(std::move(v)); }
  bool open(bool is_object) {
    if (!spend()) return false;
    stack_.emplace_back();
    stack_.back().is_object = is_object;
    return true;
  }
  bool key(std::string k) {
    stack_.back().key = std::move(k);
    return true;
  }
  // A container was counted when it opened; closing it spends nothing.
  bool close_array() {
    Value v = Value::array(std::move(stack_.back().items));
    stack_.pop_back();
    return attach(std::move(v));
  }
  bool close_object() {
    auto members = std::move(stack_.back().members);
    stack_.pop_back();
    drop_duplicate_keys(members);
    return attach(Value::object(std::move(members)));
  }

 private:
  struct Frame {
    bool is_object = false;
    std::string key;
    std::vector<Value> items;
    std::vector<std::pair<std::string, Value>> members;
  };

  bool spend() {
    if (budget_ == 0) {
      over_budget_ = true;
      return false;
    }
    --budget_;
    return true;
  }

  bool attach(Value v) {
    if (stack_.empty()) {
      root = std::move(v);
    } else if (stack_.back().is_object) {
      stack_.back().members.emplace_back(std::move(stack_.back().key), std::move(v));
    } else {
      stack_.back().items.push_back(std::move(v));
    }
    return true;
  }

  // The last occurrence of a key wins. Sorting indices keeps this
  // O(n log n): a 16 MiB object of distinct keys must not take n^2 steps.
  static void drop_duplicate_keys(std::vector<std::pair<std::string, Value>>& members) {
    if (members.size() < 2) return;
    std::vector<size_t> order(members.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return members[a].first < members[b].first; });
    std::vector<bool> drop(members.size(), false);
    bool any = false;
    for (size_t i = 0; i + 1 < order.size(); ++i) {
      if (members[order[i]].first == members[order[i + 1]].first) {
        drop[order[i]] = true;  // stable sort: a later index follows it
        any = true;
      }
    }
    if (!any) return;
    size_t out = 0;
    for (size_t i = 0; i < members.size(); ++i)
      if (!drop[i]) members[out++] = std::move(members[i]);
    members.erase(members.begin() + static_cast<std::ptrdiff_t>(out), members.end());
  }

  std::vector<Frame> stack_;
  size_t budget_;
  bool over_budget_ = false;
};

Builder& builder(void* ctx) { return *static_cast<Builder*>(ctx); }

const yajl_callbacks kCallbacks = {
    [](void* ctx) { return int(builder(ctx).add(Value::null())); },
    [](void* ctx, int b) { return int(builder(ctx).add(Value::boolean(b != 0))); },
    nullptr,  // yajl_integer: numbers arrive as text through yajl_number
    nullptr,  // yajl_double
    [](void* ctx, const char* s, size_t n) {
      return int(builder(ctx).add(Value::number(std::string(s, n))));
    },
    [](void* ctx, const unsigned char* s, size_t n) {
      return int(builder(ctx).add(Value::string(std::string(reinterpret_cast<const char*>(s), n))));
    },
    [](void* ctx) { return int(builder(ctx).open(true)); },
    [](void* ctx, const unsigned char* s, size_t n) {
      return int(builder(ctx).key(std::string(reinterpret_cast<const char*>(s), n)));
    },
    [](void* ctx) { return int(builder(ctx).close_object()); },
    [](void* ctx) { return int(builder(ctx).open(false)); },
    [](void* ctx) { return int(builder(ctx).close_array()); },
};

// yajl's message ("parse error: invalid object key (must be a string)\n")
// without its category prefix and trailing newline, plus where it happened.
std::string describe_yajl_error(yajl_handle h, std::string_view text, bool at_end) {
  unsigned char* raw =
      yajl_get_error(h, 0, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  std::string msg = raw ? reinterpret_cast<const char*>(raw) : "unknown error";
  if (raw) yajl_free_error(h, raw);
  if (size_t colon = msg.find(" error: "); colon != std::string::npos && colon < 16)
    msg.erase(0, colon + 8);
  if (size_t nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
  while (!msg.empty() && (msg.back() == ' ' || msg.back() == '.')) msg.pop_back();
  if (at_end) return msg;  // "premature EOF" needs no position
  // Bytes consumed points just past the offending token.
  size_t offset = std::min(yajl_get_bytes_consumed(h), text.size());
  size_t line = 1 + std::count(text.begin(), text.begin() + offset, '\n');
  size_t line_start = offset == 0 ? std::string_view::npos : text.rfind('\n', offset - 1);
  size_t column = line_start == std::string_view::npos ? offset : offset - line_start - 1;
  return msg + " at line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

Result<Value> parse(std::string_view text, std::string_view source, size_t max_depth,
                    size_t max_size) {
  std::string prefix(source);
  if (text.size() > max_size)
    return make_error(prefix + ": larger than " + std::to_string(max_size) + " bytes");
  if (too_deep(text, max_depth))
    return make_error(prefix + ": nesting deeper than " + std::to_string(max_depth) + " levels");

  // Every Value costs ~90 bytes however short its text ("0," is two), so
  // the byte limit alone would let 16 MiB of small numbers take over a GiB.
  // Real documents spend far more than 16 bytes of text per value.
  const size_t max_values = max_size / 16 + 4096;
  Builder b(max_values);
  // The event API, not yajl_tree_parse: that one turns comments on, needs a
  // NUL-terminated copy (an embedded NUL would silently end the document)
  // and builds a second tree whose free recurses.
  std::unique_ptr<yajl_handle_t, decltype(&yajl_free)> handle(yajl_alloc(&kCallbacks, nullptr, &b),
                                                              &yajl_free);
  yajl_handle h = handle.get();
  if (!h) return make_error(prefix + ": invalid JSON: out of memory", ENOMEM);
  yajl_status st = yajl_parse(h, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  bool at_end = false;
  if (st == yajl_status_ok) {
    st = yajl_complete_parse(h);
    at_end = true;
  }
  if (b.over_budget())
    return make_error(prefix + ": more than " + std::to_string(max_values) + " values");
  if (st != yajl_status_ok)
    return make_error(prefix + ": invalid JSON: " + describe_yajl_error(h, text, at_end));
  if (!b.root) return make_error(prefix + ": invalid JSON: empty document");
  return std::move(*b.root);
}

// --- Writer ------------------------------------------------------------------

namespace {

yajl_gen gen_of(void* g) { return static_cast<yajl_gen>(g); }

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 if it is malformed.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  return len;
}

// Go's encoding/json does the same with invalid UTF-8; writing the raw bytes
// would produce a document that our own (validating) parser rejects.
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

bool is_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// The JSON number grammar: Value::number() accepts any text, and
// yajl_gen_number copies it verbatim, so check before writing.
bool is_json_number(std::string_view t) {
  size_t i = 0;
  auto digit = [&](size_t k) { return k < t.size() && t[k] >= '0' && t[k] <= '9'; };
  if (i < t.size() && t[i] == '-') ++i;
  if (!digit(i)) return false;
  if (t[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == t.size();
}

}  // namespace

Writer::Writer(bool pretty) : gen_(yajl_gen_alloc(nullptr)) {
  if (!gen_) {
    ok_ = false;
    return;
  }
  if (pretty) {
    yajl_gen_config(gen_of(gen_), yajl_gen_beautify, 1);
    yajl_gen_config(gen_of(gen_), yajl_gen_indent_string, "\t");  // as `runc spec`
  }
}

Writer::~Writer() {
  if (gen_) yajl_gen_free(gen_of(gen_));
}

Writer& Writer::check(int status) {
  if (status != yajl_gen_status_ok) ok_ = false;
  return *this;
}

Writer& Writer::begin_object() {
  if (!gen_) return *this;
  return check(yajl_gen_map_open(gen_of(gen_)));
}

Writer& Writer::end_object() {
  if (!gen_) return *this;
  return check(yajl_gen_map_close(gen_of(gen_)));
}

Writer& Writer::begin_array() {
  if (!gen_) return *this;
  return check(yajl_gen_array_open(gen_of(gen_)));
}

Writer& Writer::end_array() {
  if (!gen_) return *this;
  return check(yajl_gen_array_close(gen_of(gen_)));
}

Writer& Writer::key(std::string_view k) { return string(k); }

Writer& Writer::string(std::string_view s) {
  if (!gen_) return *this;
  if (is_utf8(s))
    return check(
        yajl_gen_string(gen_of(gen_), reinterpret_cast<const unsigned char*>(s.data()), s.size()));
  std::string fixed = valid_utf8(s);
  return check(yajl_gen_string(gen_of(gen_), reinterpret_cast<const unsigned char*>(fixed.data()),
                               fixed.size()));
}

Writer& Writer::integer(int64_t v) {
  if (!gen_) return *this;
  return check(yajl_gen_integer(gen_of(gen_), static_cast<long long>(v)));
}

Writer& Writer::uinteger(uint64_t v) {
  if (!gen_) return *this;
  // yajl_gen_integer takes a long long; values above INT64_MAX (rlimit
  // "unlimited" is 2^64-1) go through the decimal text instead.
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 24 bytes always hold a uint64_t
  return check(yajl_gen_number(gen_of(gen_), buf, static_cast<size_t>(end - buf)));
}

Writer& Writer::boolean(bool b) {
  if (!gen_) return *this;
  return check(yajl_gen_bool(gen_of(gen_), b ? 1 : 0));
}

Writer& Writer::null() {
  if (!gen_) return *this;
  return check(yajl_gen_null(gen_of(gen_)));
}

Writer& Writer::value(const Value& v) {
  if (!gen_) return *this;
  switch (v.kind()) {
    case Value::Kind::kNull: return null();
    case Value::Kind::kBool: return boolean(v.as_bool());
    case Value::Kind::kString: return string(v.as_string());
    case Value::Kind::kNumber: {
      const std::string& t = v.number_text();
      if (!is_json_number(t)) {
        ok_ = false;
        return *this;
      }
      return check(yajl_gen_number(gen_of(gen_), t.data(), t.size()));
    }
    case Value::Kind::kArray:
      begin_array();
      for (const Value& item : v.items()) value(item);
      return end_array();
    case Value::Kind::kObject:
      begin_object();
      for (const auto& [k, item] : v.members()) {
        key(k);
        value(item);
      }
      return end_object();
  }
  return *this;
}

std::string Writer::str() const {
  if (!gen_) return {};
  const unsigned char* buf = nullptr;
  size_t len = 0;
  if (yajl_gen_get_buf(gen_of(gen_), &buf, &len) != yajl_gen_status_ok) return {};
  return std::string(reinterpret_cast<const char*>(buf), len);
}

}  // namespace berth::json
