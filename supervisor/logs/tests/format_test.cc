#include "berth/logs/format.h"

#include <doctest/doctest.h>

#include <string>

using namespace berth::logs;

namespace {

std::string json(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string time_text(int64_t ns) {
  std::string out;
  append_time(out, ns);
  return out;
}

}  // namespace

TEST_CASE("json-file strings escape as docker's writer does, not as encoding/json") {
  CHECK(json("plain text") == "\"plain text\"");
  CHECK(json("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"");
  CHECK(json("<a&b>") == "\"\\u003ca\\u0026b\\u003e\"");
  // docker's writer knows \n and \r only: a tab is \u0009.
  CHECK(json("\t\r\x01\x1f") == "\"\\u0009\\r\\u0001\\u001f\"");
  CHECK(json(std::string_view("\0", 1)) == "\"\\u0000\"");
  CHECK(json("\x7f") == "\"\x7f\"");
  CHECK(json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3") ==
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3\"");
  CHECK(json("\xe2\x80\xa8\xe2\x80\xa9") == "\"\\u2028\\u2029\"");
}

TEST_CASE("invalid UTF-8: one \\ufffd per bad byte, as Go's utf8.DecodeRune reads it") {
  CHECK(json("a\xffz") == "\"a\\ufffdz\"");
  CHECK(json("\xc3") == "\"\\ufffd\"");                                   // cut at the end
  CHECK(json("\xe2\x82") == "\"\\ufffd\\ufffd\"");                        // truncated 3-byte form
  CHECK(json("\xc0\xaf") == "\"\\ufffd\\ufffd\"");                        // overlong
  CHECK(json("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");             // a surrogate
  CHECK(json("\xf4\x90\x80\x80") == "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // > U+10FFFF
  CHECK(json("\xef\xbf\xbd") == "\"\xef\xbf\xbd\"");  // a real U+FFFD stays as it is
}

TEST_CASE("times are Go's RFC3339Nano in UTC: trailing zeros dropped") {
  const int64_t t = 1796310245LL * 1000000000;  // 2026-12-03T15:04:05Z
  CHECK(time_text(t + 123456789) == "2026-12-03T15:04:05.123456789Z");
  CHECK(time_text(t + 120000000) == "2026-12-03T15:04:05.12Z");
  CHECK(time_text(t + 1) == "2026-12-03T15:04:05.000000001Z");
  CHECK(time_text(t) == "2026-12-03T15:04:05Z");
  CHECK(time_text(0) == "1970-01-01T00:00:00Z");
  CHECK(*parse_time("2026-12-03T15:04:05.123456789Z") == t + 123456789);
  CHECK(*parse_time("2026-12-03T15:04:05.12Z") == t + 120000000);
  CHECK(*parse_time("2026-12-03T15:04:05Z") == t);
  CHECK(*parse_time("2026-12-03T16:04:05+01:00") == t);
  CHECK_FALSE(parse_time("2026-12-03 15:04:05Z").ok());
  CHECK_FALSE(parse_time("2026-13-03T15:04:05Z").ok());
  CHECK_FALSE(parse_time("2026-12-03T15:04:05.Z").ok());
}

TEST_CASE("a record: log, stream, time, one line") {
  std::string out;
  append_record(out, Stream::kStderr, "oops\n", 1796310245LL * 1000000000 + 5);
  CHECK(
      out ==
      "{\"log\":\"oops\\n\",\"stream\":\"stderr\",\"time\":\"2026-12-03T15:04:05.000000005Z\"}\n");
  std::string scratch;
  auto rec = parse_record(std::string_view(out).substr(0, out.size() - 1), scratch);
  REQUIRE(rec.ok());
  CHECK(rec->stream == Stream::kStderr);
  CHECK(rec->bytes == "oops\n");
  CHECK(rec->time_ns == 1796310245LL * 1000000000 + 5);
}

TEST_CASE("parse_record decodes every escape and skips docker's attrs") {
  std::string scratch;
  auto rec = parse_record(
      R"({"log":"\u003c\t\u0009\/\ud83d\udc33\ud800x\u00e9","stream":"stdout","attrs":{"a":["b",1,null]},"time":"2026-12-03T15:04:05Z"})",
      scratch);
  REQUIRE(rec.ok());
  CHECK(rec->bytes == "<\t\t/\xf0\x9f\x90\xb3\xef\xbf\xbdx\xc3\xa9");
  CHECK_FALSE(parse_record(R"({"log":"x","stream":"stdout"})", scratch).ok());
  CHECK_FALSE(
      parse_record(R"({"log":"x","stream":"stdin","time":"2026-12-03T15:04:05Z"})", scratch).ok());
  CHECK_FALSE(
      parse_record(R"({"log":"x","stream":"stdout","time":"2026-12-03T15:04:05Z"} x)", scratch)
          .ok());
  CHECK_FALSE(parse_record(R"({"log":"unterminated)", scratch).ok());
  CHECK(parse_record(R"({"log":"x","stream":"stdout","time":"2026-12-03T15:04:05Z"})", scratch)
            ->bytes == "x");
}

TEST_CASE("every byte string survives encode then parse, invalid UTF-8 as U+FFFD") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string line, scratch;
  append_record(line, Stream::kStdout, all, 7);
  line.pop_back();
  auto rec = parse_record(line, scratch);
  REQUIRE(rec.ok());
  std::string want(all.substr(0, 128));
  for (int i = 128; i < 256; ++i) want += "\xef\xbf\xbd";
  CHECK(rec->bytes == want);
}

TEST_CASE("max-size in docker's units (go-units FromHumanSize: decimal)") {
  CHECK(*parse_max_size("10k") == 10000);
  CHECK(*parse_max_size("10m") == 10000000);
  CHECK(*parse_max_size("1g") == 1000000000);
  CHECK(*parse_max_size("1.5KB") == 1500);
  CHECK(*parse_max_size("2 mib") == 2000000);
  CHECK(*parse_max_size("123") == 123);
  CHECK(*parse_max_size("-1") == -1);
  CHECK_FALSE(parse_max_size("0").ok());
  CHECK_FALSE(parse_max_size("10x").ok());
  CHECK_FALSE(parse_max_size("k").ok());
  CHECK_FALSE(parse_max_size("").ok());
  CHECK_FALSE(parse_max_size("-5").ok());
}
