// Go's template builtins and docker's template functions, over Val.

#include "functions.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace berth::tmpl {
namespace {

const json::Value& null_value() {
  static const json::Value v = json::Value::null();
  return v;
}

std::optional<double> as_double(const json::Value& v) {
  if (!v.is_number()) return std::nullopt;
  return std::strtod(v.number_text().c_str(), nullptr);
}

bool is_integer(const json::Value& v) { return v.is_number() && (v.as_i64() || v.as_u64()); }

size_t rune_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// The first n runes of s.
std::string rune_prefix(std::string_view s, size_t n) {
  size_t runes = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (runes == n) break;
      ++runes;
    }
  }
  return std::string(s.substr(0, i));
}

Error arg_error(std::string_view fn, std::string_view what) {
  return make_error(std::string(fn) + ": " + std::string(what));
}

Status want_args(std::string_view fn, const std::vector<Val>& args, size_t n) {
  if (args.size() != n)
    return make_error("wrong number of args for " + std::string(fn) + ": want " +
                      std::to_string(n) + " got " + std::to_string(args.size()));
  return {};
}

Result<std::string> string_arg(std::string_view fn, const Val& v) {
  if (v.missing() || !v.get().is_string())
    return arg_error(fn, "expected a string, got " + std::string(v.type_name()));
  return v.get().as_string();
}

Result<int64_t> int_arg(std::string_view fn, const Val& v) {
  if (v.missing() || !v.get().as_i64())
    return arg_error(fn, "expected an integer, got " + std::string(v.type_name()));
  return *v.get().as_i64();
}

// Go's comparison of basic values: numbers by value, strings, bools; nil
// equals only nil. Returns <0, 0, >0, or an error for incompatible kinds.
Result<int> compare(const Val& a, const Val& b, bool ordering) {
  const json::Value& x = a.get();
  const json::Value& y = b.get();
  if (x.is_number() && y.is_number()) {
    if (is_integer(x) && is_integer(y) && x.as_i64() && y.as_i64()) {
      int64_t l = *x.as_i64(), r = *y.as_i64();
      return l < r ? -1 : l > r ? 1 : 0;
    }
    double l = *as_double(x), r = *as_double(y);
    return l < r ? -1 : l > r ? 1 : 0;
  }
  if (x.is_string() && y.is_string())
    return x.as_string().compare(y.as_string()) < 0 ? -1 : x.as_string() == y.as_string() ? 0 : 1;
  if (ordering) return make_error("invalid type for comparison");
  if (x.is_bool() && y.is_bool()) return x.as_bool() == y.as_bool() ? 0 : 1;
  if (x.is_null() && y.is_null()) return 0;
  if (x.is_null() || y.is_null()) return 1;
  return make_error("incompatible types for comparison");
}

void quote_into(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// encoding/json's Marshal: compact, with <, > and & escaped as Go does.
std::string marshal(const Val& v) {
  if (v.missing()) return "null";
  json::Writer w;
  w.value(v.get());
  std::string text = w.str(), out;
  for (char c : text) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out += c;
  }
  return out;
}

std::string title(std::string_view s) {
  std::string out(s);
  bool start = true;
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (start && std::islower(u)) c = static_cast<char>(std::toupper(u));
    start = !(std::isalnum(u) || u == '_' || u == '\'' || u >= 0x80);
  }
  return out;
}

// fmt.Sprint: spaces between operands when neither side is a string.
std::string sprint(const std::vector<Val>& args, bool always_space) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    bool is_str = !args[i].missing() && args[i].get().is_string();
    bool prev_str = i > 0 && !args[i - 1].missing() && args[i - 1].get().is_string();
    if (i > 0 && (always_space || (!is_str && !prev_str))) out += ' ';
    out += format_val(args[i]);
  }
  return out;
}

const std::vector<std::string_view>& docker_functions() {
  static const std::vector<std::string_view> names = {"json",  "split", "join", "title",
                                                      "lower", "upper", "pad",  "truncate"};
  return names;
}

}  // namespace

const json::Value& Val::get() const { return v_ ? *v_ : null_value(); }

std::string_view Val::type_name() const {
  if (missing()) return "<no value>";
  return json::Value::kind_name(v_->kind());
}

bool is_function(std::string_view name) {
  static const std::vector<std::string_view> go = {"and",   "or",    "not",    "len",     "index",
                                                   "slice", "print", "printf", "println", "eq",
                                                   "ne",    "lt",    "le",     "gt",      "ge"};
  return std::find(go.begin(), go.end(), name) != go.end() ||
         std::find(docker_functions().begin(), docker_functions().end(), name) !=
             docker_functions().end();
}

bool truthy(const Val& v) {
  if (v.missing()) return false;
  const json::Value& x = v.get();
  switch (x.kind()) {
    case json::Value::Kind::kNull: return false;
    case json::Value::Kind::kBool: return x.as_bool();
    case json::Value::Kind::kNumber: return *as_double(x) != 0;
    case json::Value::Kind::kString: return !x.as_string().empty();
    case json::Value::Kind::kArray: return !x.items().empty();
    case json::Value::Kind::kObject: return !x.members().empty();
  }
  return false;
}

std::string format_val(const Val& v) {
  if (v.missing()) return "<no value>";
  const json::Value& x = v.get();
  switch (x.kind()) {
    case json::Value::Kind::kNull: return "<nil>";
    case json::Value::Kind::kBool: return x.as_bool() ? "true" : "false";
    case json::Value::Kind::kNumber: return x.number_text();
    case json::Value::Kind::kString: return x.as_string();
    case json::Value::Kind::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < x.items().size(); ++i) {
        if (i) out += ' ';
        out += format_val(v.child(x.items()[i]));
      }
      return out + "]";
    }
    case json::Value::Kind::kObject: {
      std::vector<const std::pair<std::string, json::Value>*> members;
      for (const auto& m : x.members()) members.push_back(&m);
      std::sort(members.begin(), members.end(),
                [](auto* a, auto* b) { return a->first < b->first; });
      std::string out = "map[";
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out += ' ';
        out += members[i]->first + ":" + format_val(v.child(members[i]->second));
      }
      return out + "]";
    }
  }
  return "";
}

Result<Val> call_function(std::string_view name, std::vector<Val>& args, bool header_mode) {
  auto str = [](std::string s) { return Val::own(json::Value::string(std::move(s))); };
  auto boolean = [](bool b) { return Val::own(json::Value::boolean(b)); };

  bool docker = std::find(docker_functions().begin(), docker_functions().end(), name) !=
                docker_functions().end();
  if (docker && header_mode) {
    if (args.empty()) return make_error("wrong number of args for " + std::string(name));
    return args[0];
  }

  if (name == "and" || name == "or") {
    if (args.empty())
      return make_error("wrong number of args for " + std::string(name) +
                        ": want at least 1 got 0");
    for (const auto& a : args)
      if (truthy(a) != (name == "and")) return a;
    return args.back();
  }
  if (name == "not") {
    BERTH_TRY(want_args(name, args, 1));
    return boolean(!truthy(args[0]));
  }
  if (name == "len") {
    BERTH_TRY(want_args(name, args, 1));
    const json::Value& x = args[0].get();
    size_t n;
    if (x.is_string())
      n = x.as_string().size();
    else if (x.is_array())
      n = x.items().size();
    else if (x.is_object())
      n = x.members().size();
    else
      return make_error("len of type " + std::string(args[0].type_name()));
    return Val::own(json::Value::number(std::to_string(n)));
  }
  if (name == "index") {
    if (args.empty()) return make_error("wrong number of args for index: want at least 1 got 0");
    Val cur = args[0];
    for (size_t i = 1; i < args.size(); ++i) {
      const json::Value& x = cur.get();
      const json::Value& k = args[i].get();
      if (x.is_array()) {
        if (!k.as_i64())
          return make_error("cannot index slice/array with type " +
                            std::string(args[i].type_name()));
        int64_t at = *k.as_i64();
        if (at < 0 || static_cast<size_t>(at) >= x.items().size())
          return make_error("index out of range: " + std::to_string(at));
        cur = cur.child(x.items()[at]);
      } else if (x.is_object()) {
        if (!k.is_string())
          return make_error("value has type " + std::string(args[i].type_name()) +
                            "; should be string");
        const json::Value* m = x.get(k.as_string());
        cur = m ? cur.child(*m) : Val();
      } else if (cur.missing() || x.is_null()) {
        return make_error("index of untyped nil");
      } else {
        return make_error("can't index item of type " + std::string(cur.type_name()));
      }
    }
    return cur;
  }
  if (name == "slice") {
    if (args.empty() || args.size() > 3) return make_error("wrong number of args for slice");
    const json::Value& x = args[0].get();
    size_t size = x.is_string() ? x.as_string().size() : x.is_array() ? x.items().size() : 0;
    if (!x.is_string() && !x.is_array())
      return make_error("can't slice item of type " + std::string(args[0].type_name()));
    std::vector<size_t> idx;
    for (size_t i = 1; i < args.size(); ++i) {
      auto n = int_arg(name, args[i]);
      if (!n) return std::move(n).error();
      if (*n < 0 || static_cast<size_t>(*n) > size)
        return make_error("index out of range: " + std::to_string(*n));
      idx.push_back(static_cast<size_t>(*n));
    }
    size_t lo = idx.size() > 0 ? idx[0] : 0, hi = idx.size() > 1 ? idx[1] : size;
    if (lo > hi)
      return make_error("invalid slice index: " + std::to_string(lo) + " > " + std::to_string(hi));
    if (x.is_string()) return str(x.as_string().substr(lo, hi - lo));
    std::vector<json::Value> items(x.items().begin() + lo, x.items().begin() + hi);
    return Val::own(json::Value::array(std::move(items)));
  }
  if (name == "print") return str(sprint(args, false));
  if (name == "println") return str(sprint(args, true) + "\n");
  if (name == "printf") {
    if (args.empty()) return make_error("wrong number of args for printf: want at least 1 got 0");
    auto fmt = string_arg(name, args[0]);
    if (!fmt) return std::move(fmt).error();
    std::vector<Val> rest(args.begin() + 1, args.end());
    return str(go_sprintf(*fmt, rest));
  }
  if (name == "eq") {
    if (args.size() < 2) return make_error("missing argument for comparison");
    for (size_t i = 1; i < args.size(); ++i) {
      auto c = compare(args[0], args[i], false);
      if (!c) return std::move(c).error();
      if (*c == 0) return boolean(true);
    }
    return boolean(false);
  }
  if (name == "ne" || name == "lt" || name == "le" || name == "gt" || name == "ge") {
    BERTH_TRY(want_args(name, args, 2));
    auto c = compare(args[0], args[1], name != "ne");
    if (!c) return std::move(c).error();
    if (name == "ne") return boolean(*c != 0);
    if (name == "lt") return boolean(*c < 0);
    if (name == "le") return boolean(*c <= 0);
    if (name == "gt") return boolean(*c > 0);
    return boolean(*c >= 0);
  }
  // docker's functions (cli/templates/templates.go)
  if (name == "json") {
    BERTH_TRY(want_args(name, args, 1));
    return str(marshal(args[0]));
  }
  if (name == "split") {
    BERTH_TRY(want_args(name, args, 2));
    auto s = string_arg(name, args[0]);
    if (!s) return std::move(s).error();
    auto sep = string_arg(name, args[1]);
    if (!sep) return std::move(sep).error();
    std::vector<json::Value> parts;
    if (sep->empty()) {
      for (size_t i = 0; i < s->size();) {
        size_t len = 1;
        while (i + len < s->size() && (static_cast<unsigned char>((*s)[i + len]) & 0xC0) == 0x80)
          ++len;
        parts.push_back(json::Value::string(s->substr(i, len)));
        i += len;
      }
    } else {
      size_t start = 0;
      for (;;) {
        size_t at = s->find(*sep, start);
        parts.push_back(json::Value::string(
            s->substr(start, at == std::string::npos ? std::string::npos : at - start)));
        if (at == std::string::npos) break;
        start = at + sep->size();
      }
    }
    return Val::own(json::Value::array(std::move(parts)));
  }
  if (name == "join") {
    BERTH_TRY(want_args(name, args, 2));
    auto sep = string_arg(name, args[1]);
    if (!sep) return std::move(sep).error();
    const json::Value& list = args[0].get();
    if (!list.is_array())
      return arg_error(name, "expected a list of strings, got " + std::string(args[0].type_name()));
    std::string out;
    for (size_t i = 0; i < list.items().size(); ++i) {
      if (i) out += *sep;
      out += format_val(args[0].child(list.items()[i]));
    }
    return str(std::move(out));
  }
  if (name == "title" || name == "lower" || name == "upper") {
    BERTH_TRY(want_args(name, args, 1));
    auto s = string_arg(name, args[0]);
    if (!s) return std::move(s).error();
    std::string out = *s;
    if (name == "title") return str(title(out));
    for (char& c : out)
      c = static_cast<char>(name == "lower" ? std::tolower(static_cast<unsigned char>(c))
                                            : std::toupper(static_cast<unsigned char>(c)));
    return str(std::move(out));
  }
  if (name == "pad") {
    BERTH_TRY(want_args(name, args, 3));
    auto s = string_arg(name, args[0]);
    if (!s) return std::move(s).error();
    auto before = int_arg(name, args[1]);
    if (!before) return std::move(before).error();
    auto after = int_arg(name, args[2]);
    if (!after) return std::move(after).error();
    return str(std::string(std::max<int64_t>(*before, 0), ' ') + *s +
               std::string(std::max<int64_t>(*after, 0), ' '));
  }
  if (name == "truncate") {
    BERTH_TRY(want_args(name, args, 2));
    auto s = string_arg(name, args[0]);
    if (!s) return std::move(s).error();
    auto n = int_arg(name, args[1]);
    if (!n) return std::move(n).error();
    if (*n < 0 || rune_count(*s) <= static_cast<size_t>(*n)) return str(*s);
    return str(rune_prefix(*s, static_cast<size_t>(*n)));
  }
  return make_error("function \"" + std::string(name) + "\" not defined");
}

std::string go_float(double d) {
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view s(buf, sci.ptr - buf);
  size_t e = s.find('e');
  int exp = e == std::string_view::npos ? 0 : std::atoi(std::string(s.substr(e + 1)).c_str());
  if (exp < -4 || exp >= 6) return std::string(s);
  auto fixed = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
  return std::string(buf, fixed.ptr - buf);
}

std::string go_sprintf(std::string_view f, const std::vector<Val>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out += f[i];
      continue;
    }
    if (++i >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    // flags, width, precision
    std::string spec = "%";
    bool minus = false, zero = false;
    while (i < f.size() && std::string_view("-+# 0").find(f[i]) != std::string_view::npos) {
      minus |= f[i] == '-';
      zero |= f[i] == '0';
      spec += f[i++];
    }
    std::string width, precision;
    bool has_precision = false;
    while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) width += f[i++];
    if (i < f.size() && f[i] == '.') {
      has_precision = true;
      ++i;
      while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) precision += f[i++];
    }
    if (i >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = f[i];
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (next >= args.size()) {
      out += std::string("%!") + verb + "(MISSING)";
      continue;
    }
    const Val& a = args[next++];
    const json::Value& x = a.get();
    auto pad = [&](std::string s) {
      size_t w = width.empty() ? 0 : std::stoul(width);
      size_t n = rune_count(s);
      if (n >= w) return s;
      if (minus) return s + std::string(w - n, ' ');
      return std::string(w - n, zero && verb != 's' && verb != 'v' && verb != 'q' ? '0' : ' ') + s;
    };
    char buf[512];
    switch (verb) {
      case 'v':
      case 's': {
        std::string s = format_val(a);
        if (has_precision) s = rune_prefix(s, precision.empty() ? 0 : std::stoul(precision));
        out += pad(s);
        break;
      }
      case 'q': {
        std::string q;
        quote_into(q, x.is_string() ? x.as_string() : format_val(a));
        out += pad(q);
        break;
      }
      case 't':
        out += x.is_bool() ? pad(x.as_bool() ? "true" : "false")
                           : "%!t(" + std::string(a.type_name()) + "=" + format_val(a) + ")";
        break;
      case 'd':
      case 'x':
      case 'X':
      case 'o':
      case 'b':
      case 'c':
        if (x.as_i64() || x.as_u64()) {
          if (verb == 'c') {
            out += pad(std::string(1, static_cast<char>(*x.as_i64())));
            break;
          }
          spec += width;
          if (verb == 'b') {
            uint64_t u = x.as_u64() ? *x.as_u64() : static_cast<uint64_t>(*x.as_i64());
            std::string bits;
            do {
              bits.insert(bits.begin(), static_cast<char>('0' + (u & 1)));
              u >>= 1;
            } while (u);
            out += pad(bits);
            break;
          }
          spec += std::string("ll") + verb;
          if (x.as_i64())
            std::snprintf(buf, sizeof buf, spec.c_str(), static_cast<long long>(*x.as_i64()));
          else
            std::snprintf(buf, sizeof buf, spec.c_str(),
                          static_cast<unsigned long long>(*x.as_u64()));
          out += buf;
        } else if ((verb == 'x' || verb == 'X') && x.is_string()) {
          static const char* lower = "0123456789abcdef";
          static const char* upper = "0123456789ABCDEF";
          std::string h;
          for (unsigned char c : x.as_string()) {
            h += (verb == 'x' ? lower : upper)[c >> 4];
            h += (verb == 'x' ? lower : upper)[c & 15];
          }
          out += pad(h);
        } else {
          out += std::string("%!") + verb + "(" + std::string(a.type_name()) + "=" + format_val(a) +
                 ")";
        }
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
        if (x.is_number()) {
          spec += width;
          if (has_precision) spec += "." + (precision.empty() ? std::string("0") : precision);
          spec += verb == 'F' ? 'f' : verb;
          std::snprintf(buf, sizeof buf, spec.c_str(), *as_double(x));
          out += buf;
        } else {
          out += std::string("%!") + verb + "(" + std::string(a.type_name()) + "=" + format_val(a) +
                 ")";
        }
        break;
      default:
        out +=
            std::string("%!") + verb + "(" + std::string(a.type_name()) + "=" + format_val(a) + ")";
    }
  }
  if (next < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = next; k < args.size(); ++k) {
      if (k > next) out += ", ";
      out += std::string(args[k].type_name()) + "=" + format_val(args[k]);
    }
    out += ")";
  }
  return out;
}

}  // namespace berth::tmpl
