// The runtime driver's reading of `--log-format json` logs: the message of
// the last error entry, whatever else the runtime (or a crash) wrote there.
#include <doctest/doctest.h>

#include "runtime.h"

using namespace berth::shim;

TEST_CASE("runtime log: the msg of the last error line wins") {
  std::string log =
      "{\"level\":\"error\",\"msg\":\"first\",\"time\":\"2026-01-01T00:00:00Z\"}\n"
      "{\"level\":\"warning\",\"msg\":\"not an error\"}\n"
      "{\"level\":\"error\",\"msg\":\"second\"}\n"
      "{\"level\":\"info\",\"msg\":\"after the error\"}\n";
  CHECK(last_error_in_json_log(log) == "second");
  CHECK(last_error_in_json_log("") == "");
  CHECK(last_error_in_json_log("{\"level\":\"info\",\"msg\":\"fine\"}\n") == "");
}

TEST_CASE("runtime log: escapes are decoded, surrogate pairs included") {
  CHECK(last_error_in_json_log(R"({"level":"error","msg":"open \"/x\\y\": no\tsuch\nfile"})") ==
        "open \"/x\\y\": no\tsuch\nfile");
  CHECK(last_error_in_json_log(R"({"msg":"caf\u00e9 \u2192 \ud83d\ude00 \/","level":"error"})") ==
        "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80 /");
  // A key that only looks like "level" inside a string is not the field.
  CHECK(last_error_in_json_log(R"({"msg":"x \"level\":\"error\"","level":"info"})") == "");
}

TEST_CASE("runtime log: lines that are not JSON objects are skipped") {
  std::string log =
      "{\"level\":\"error\",\"msg\":\"the real error\"}\n"
      "panic: runtime error: invalid memory address\n"
      "goroutine 1 [running]:\n"
      "[\"level\",\"error\"]\n"
      "{\"level\":\"error\",\"msg\":\"cut off\n"
      "\n"
      "{\"level\":\"error\"}\n"
      "{\"level\":\"error\",\"msg\":42}\n"
      "{\"level\":[\"error\"],\"msg\":\"array level\"}\n";
  CHECK(last_error_in_json_log(log) == "the real error");
}

TEST_CASE("runtime log: CRLF and a last line without a newline") {
  CHECK(last_error_in_json_log(
            "{\"level\":\"error\",\"msg\":\"a\"}\r\n{\"level\":\"error\",\"msg\":\"b\"}") == "b");
}
