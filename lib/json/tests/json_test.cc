#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "berth/json/json.h"

using berth::json::Value;
using berth::json::Writer;

namespace {

Value parse_ok(std::string_view text) {
  auto r = berth::json::parse(text, "t.json");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message()));
  return std::move(r).value();
}

std::string parse_error(std::string_view text, size_t max_depth = 64, size_t max_size = 16 << 20) {
  auto r = berth::json::parse(text, "t.json", max_depth, max_size);
  REQUIRE_FALSE(r.ok());
  return r.error().message();
}

std::string compact(const Value& v) {
  Writer w;
  w.value(v);
  REQUIRE(w.ok());
  return w.str();
}

}  // namespace

TEST_CASE("parse builds a DOM of every kind") {
  Value v = parse_ok(R"({"s":"x\u00e9\n","n":12,"t":true,"f":false,"z":null,"a":[1,[2]],"o":{}})");
  REQUIRE(v.is_object());
  CHECK(v.members().size() == 7);
  CHECK(v.get("s")->as_string() == "x\xc3\xa9\n");
  CHECK(v.get("n")->number_text() == "12");
  CHECK(v.get("t")->as_bool());
  CHECK_FALSE(v.get("f")->as_bool());
  CHECK(v.get("z")->is_null());
  CHECK(v.get("a")->items().size() == 2);
  CHECK(v.get("a")->items()[1].items()[0].as_u64() == 2u);
  CHECK(v.get("o")->is_object());
  CHECK(v.get("missing") == nullptr);
  CHECK(Value::kind_name(Value::Kind::kArray) == "array");
}

TEST_CASE("u64 max survives parse and re-serialization exactly") {
  Value v = parse_ok(R"({"max":18446744073709551615,"big":9223372036854775808})");
  CHECK(v.get("max")->as_u64() == UINT64_MAX);
  CHECK(v.get("max")->number_text() == "18446744073709551615");
  CHECK_FALSE(v.get("max")->as_i64().has_value());
  CHECK(v.get("big")->as_u64() == 9223372036854775808ull);
  CHECK(compact(v) == R"({"max":18446744073709551615,"big":9223372036854775808})");

  Writer w;
  w.begin_array().uinteger(UINT64_MAX).uinteger(0).integer(INT64_MIN).end_array();
  REQUIRE(w.ok());
  CHECK(w.str() == "[18446744073709551615,0,-9223372036854775808]");
}

TEST_CASE("integer conversions are exact and reject what is not an integer in range") {
  Value v = parse_ok(R"([-1, -9223372036854775808, 18446744073709551616, 1.0, 1e3, 0, -0])");
  const auto& n = v.items();
  CHECK_FALSE(n[0].as_u64().has_value());
  CHECK(n[0].as_i64() == -1);
  CHECK(n[1].as_i64() == INT64_MIN);
  CHECK_FALSE(n[2].as_u64().has_value());  // 2^64
  CHECK_FALSE(n[2].as_i64().has_value());
  CHECK_FALSE(n[3].as_u64().has_value());  // fraction
  CHECK_FALSE(n[3].as_i64().has_value());
  CHECK_FALSE(n[4].as_u64().has_value());  // exponent
  CHECK(n[5].as_u64() == 0u);
  CHECK(n[6].as_i64() == 0);
  CHECK_FALSE(Value::string("5").as_u64().has_value());  // not a number
}

TEST_CASE("nesting deeper than the limit is refused before yajl runs") {
  SUBCASE("100000 open brackets fail fast, without recursion") {
    std::string deep(100000, '[');
    auto start = std::chrono::steady_clock::now();
    std::string msg = parse_error(deep);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    CHECK(msg == "t.json: nesting deeper than 64 levels");
  }
  SUBCASE("exactly the limit parses, one more does not") {
    std::string ok = std::string(64, '[') + std::string(64, ']');
    CHECK(berth::json::parse(ok, "t.json").ok());
    std::string over = std::string(65, '[') + std::string(65, ']');
    CHECK(parse_error(over) == "t.json: nesting deeper than 64 levels");
    std::string objects;
    for (int i = 0; i < 65; ++i) objects += "{\"a\":";
    objects += "1" + std::string(65, '}');
    CHECK(parse_error(objects).find("nesting deeper") != std::string::npos);
  }
  SUBCASE("brackets inside strings, escaped quotes included, do not count") {
    std::string s = "[\"" + std::string(200, '[') + "\\\"" + std::string(200, '{') + "\"]";
    Value v = parse_ok(s);
    CHECK(v.items()[0].as_string().size() == 401);
  }
  SUBCASE("closing brackets first cannot hide depth") {
    std::string s = std::string(100, ']') + std::string(100, '[');
    CHECK(parse_error(s).find("nesting deeper") != std::string::npos);
  }
}

TEST_CASE("documents over the size limit are refused") {
  CHECK(parse_error("[1, 2, 3]", 64, 5) == "t.json: larger than 5 bytes");
  CHECK(berth::json::parse("[1]", "t.json", 64, 3).ok());
}

TEST_CASE("documents of very many small values are refused before they cost a GiB") {
  auto array_of = [](size_t n) {
    std::string t = "[";
    for (size_t i = 0; i < n; ++i) t += i ? ",0" : "0";
    return t + "]";
  };
  // Budget for 16 KiB: 16384 / 16 + 4096 = 5120 values, the array included.
  CHECK(berth::json::parse(array_of(5119), "t.json", 64, 16 << 10).ok());
  CHECK(parse_error(array_of(5120), 64, 16 << 10) == "t.json: more than 5120 values");
  CHECK(parse_error("{\"a\":" + array_of(6000) + "}", 64, 16 << 10).find("more than") !=
        std::string::npos);
}

TEST_CASE("invalid JSON is reported on one line with the source name") {
  std::string msg = parse_error("{\"a\":1,}");
  CHECK(msg.rfind("t.json: invalid JSON: ", 0) == 0);
  CHECK(msg.find("invalid object key") != std::string::npos);
  CHECK(msg.find("line 1") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);

  CHECK(parse_error("{\n\"a\": [1,\n 2 x]}").find("line 3") != std::string::npos);
  CHECK(parse_error("{\"a\": [1, 2").find("premature EOF") != std::string::npos);
  CHECK(parse_error("").find("invalid JSON") != std::string::npos);
  CHECK(parse_error("   ").find("invalid JSON") != std::string::npos);
}

TEST_CASE("yajl's lenient modes are off") {
  CHECK(parse_error(R"({"a": /* comment */ 1})").find("invalid JSON") != std::string::npos);
  CHECK(parse_error("{} {}").find("invalid JSON") != std::string::npos);
  CHECK(parse_error("[1] x").find("invalid JSON") != std::string::npos);
  CHECK(parse_error("[\"\xff\"]").find("invalid JSON") != std::string::npos);  // bad UTF-8
  // A NUL byte must not end the document early (yajl_tree_parse would).
  std::string with_nul("{\"a\":1}\0{", 9);
  CHECK(parse_error(with_nul).find("invalid JSON") != std::string::npos);
}

TEST_CASE("a repeated key keeps the last value, once") {
  Value v = parse_ok(R"({"a":1,"b":2,"a":3,"c":{"x":1,"x":2},"a":4})");
  CHECK(v.members().size() == 3);
  CHECK(v.get("a")->number_text() == "4");
  CHECK(v.get("c")->members().size() == 1);
  CHECK(v.get("c")->get("x")->number_text() == "2");
  CHECK(compact(v) == R"({"b":2,"c":{"x":2},"a":4})");
}

TEST_CASE("strings with NUL escapes and control characters round-trip") {
  Value v = parse_ok(R"(["a\u0000b", "tab\there", "q\"\\/"])");
  CHECK(v.items()[0].as_string() == std::string("a\0b", 3));
  std::string text = compact(v);
  Value again = parse_ok(text);
  CHECK(again.items()[0].as_string() == std::string("a\0b", 3));
  CHECK(again.items()[1].as_string() == "tab\there");
  CHECK(again.items()[2].as_string() == "q\"\\/");
}

TEST_CASE("writer replaces invalid UTF-8 so its output always parses") {
  Writer w;
  w.begin_array().string("ok\xc3\xa9").string("bad\xff").string("\xed\xa0\x80").end_array();
  REQUIRE(w.ok());
  Value v = parse_ok(w.str());
  CHECK(v.items()[0].as_string() == "ok\xc3\xa9");
  CHECK(v.items()[1].as_string() == "bad\xef\xbf\xbd");
  CHECK(v.items()[2].as_string() == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
}

TEST_CASE("writer misuse is reported through ok(), not by crashing") {
  SUBCASE("value where a key is due") {
    Writer w;
    w.begin_object().integer(1);
    CHECK_FALSE(w.ok());
  }
  SUBCASE("close without open") {
    Writer w;
    w.end_array();
    CHECK_FALSE(w.ok());
  }
  SUBCASE("a built number that is not JSON") {
    Writer w;
    w.value(Value::number("1e"));
    CHECK_FALSE(w.ok());
  }
  SUBCASE("second document") {
    Writer w;
    w.null().null();
    CHECK_FALSE(w.ok());
  }
}

TEST_CASE("pretty writer output parses back to the same DOM") {
  Value v = Value::object({
      {"name", Value::string("x")},
      {"list", Value::array({Value::number("1"), Value::boolean(true), Value::null()})},
      {"empty", Value::object({})},
  });
  Writer w(true);
  w.value(v);
  REQUIRE(w.ok());
  std::string text = w.str();
  CHECK(text.find('\n') != std::string::npos);
  CHECK(text.find('\t') != std::string::npos);
  CHECK(compact(parse_ok(text)) == compact(v));
}

TEST_CASE("numbers keep their verbatim text through a round trip") {
  Value v = parse_ok("[1.50, -0, 1E+2, 123456789012345678901234567890]");
  CHECK(compact(v) == "[1.50,-0,1E+2,123456789012345678901234567890]");
}
