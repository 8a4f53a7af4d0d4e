#pragma once
// docker's json-file log format, byte for byte (moby's
// daemon/logger/jsonfilelog/jsonlog/jsonlogbytes.go, Docker 20.10-27):
//
//   {"log":"<bytes>","stream":"stdout"|"stderr","time":"<RFC 3339 nano, UTC>"}\n
//
// | part   | how docker writes it                                              |
// |--------|-------------------------------------------------------------------|
// | log    | the line up to and including its \n; pieces of a line longer than |
// |        | 16 KiB (kMaxPiece) and a partial line at EOF carry no \n          |
// | escape | \" \\ \n \r; < > & and every other byte < 0x20 as \u00XX (so a   |
// |        | tab is \u0009, not \t: docker's writer is not encoding/json's);  |
// |        | U+2028/U+2029 as \u2028/\u2029; each byte of invalid UTF-8 as     |
// |        | \ufffd (Go's utf8.DecodeRune: one replacement per bad byte)       |
// | time   | Go's time.RFC3339Nano: trailing zeros of the fraction dropped,    |
// |        | no fraction at all on a whole second                              |
//
// The writer side (berth-logger) and the reader side (json_file.h) share
// this file so that what one writes the other parses.

#include <cstdint>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::logs {

enum class Stream : uint8_t { kStdout, kStderr };
std::string_view stream_name(Stream s);

// docker's copier buffer: a line longer than this is logged in pieces.
constexpr size_t kMaxPiece = 16 * 1024;

// Appends one record (with its trailing \n) to out.
void append_record(std::string& out, Stream stream, std::string_view bytes, int64_t time_ns);
// Go's JSON string of docker's writer, quotes included.
void append_json_string(std::string& out, std::string_view bytes);
// RFC 3339 nano in UTC as Go formats it (see the table above).
void append_time(std::string& out, int64_t time_ns);

// A parsed record; `bytes` points into the caller's scratch string.
struct ParsedRecord {
  Stream stream = Stream::kStdout;
  int64_t time_ns = 0;
  std::string_view bytes;
};
// Parses one line (without its \n). Keys other than log, stream and time
// (docker's "attrs") are skipped. `scratch` holds the decoded bytes.
Result<ParsedRecord> parse_record(std::string_view line, std::string& scratch);
// RFC 3339 with an optional fraction of 1-9 digits and Z or ±hh:mm.
Result<int64_t> parse_time(std::string_view text);

// docker's max-size (go-units FromHumanSize: decimal, 10k = 10000, an
// optional b/ib suffix; -1 = unlimited).
Result<int64_t> parse_max_size(std::string_view text);

}  // namespace berth::logs
