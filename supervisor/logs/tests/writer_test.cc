#include "berth/logs/writer.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "berth/base/sys/files.h"
#include "berth/logs/logger.h"
#include "temp_dir.h"

using namespace berth;
using namespace berth::logs;
using berth::logs::testing::TempDir;

namespace {

struct Piece {
  std::string bytes;
  int64_t time_ns;
};

struct Collect {
  std::vector<Piece> pieces;
  LineAssembler::Sink sink = [this](std::string_view b, int64_t t) {
    pieces.push_back({std::string(b), t});
  };
};

std::string record(std::string_view bytes, int64_t t = 1) {
  std::string out;
  append_record(out, Stream::kStdout, bytes, t);
  return out;
}

}  // namespace

TEST_CASE("lines keep their \\n; a line cut across reads is one message") {
  Collect c;
  LineAssembler a;
  a.feed("one\ntw", 10, c.sink);
  a.feed("o\nthree\n", 20, c.sink);
  REQUIRE(c.pieces.size() == 3);
  CHECK(c.pieces[0].bytes == "one\n");
  CHECK(c.pieces[1].bytes == "two\n");
  CHECK(c.pieces[1].time_ns == 20);
  CHECK(c.pieces[2].bytes == "three\n");
  a.finish(30, c.sink);
  CHECK(c.pieces.size() == 3);
}

TEST_CASE("a line longer than 16 KiB goes in 16 KiB pieces, only the last with \\n") {
  Collect c;
  LineAssembler a;
  std::string line(2 * kMaxPiece + 100, 'x');
  line += "\n";
  // Fed in odd chunks, as a pipe delivers it.
  for (size_t i = 0; i < line.size(); i += 5000) a.feed(line.substr(i, 5000), 100 + i, c.sink);
  REQUIRE(c.pieces.size() == 3);
  CHECK(c.pieces[0].bytes == std::string(kMaxPiece, 'x'));
  CHECK(c.pieces[1].bytes == std::string(kMaxPiece, 'x'));
  CHECK(c.pieces[2].bytes == std::string(100, 'x') + "\n");
  // Every piece carries the time of the first, as docker's copier stamps them.
  CHECK(c.pieces[1].time_ns == c.pieces[0].time_ns);
  CHECK(c.pieces[2].time_ns == c.pieces[0].time_ns);
  // Exactly 16 KiB with its \n is one message; one byte more is two.
  a.feed(std::string(kMaxPiece - 1, 'y') + "\n", 1, c.sink);
  CHECK(c.pieces.back().bytes.size() == kMaxPiece);
  a.feed(std::string(kMaxPiece, 'z') + "\n", 2, c.sink);
  CHECK(c.pieces[c.pieces.size() - 2].bytes == std::string(kMaxPiece, 'z'));
  CHECK(c.pieces.back().bytes == "\n");
}

TEST_CASE("short lines then a long one in a single read: each cut where docker cuts it") {
  Collect c;
  LineAssembler a;
  a.feed("a\nb\n" + std::string(kMaxPiece + 10, 'x') + "\nc", 7, c.sink);
  REQUIRE(c.pieces.size() == 4);
  CHECK(c.pieces[0].bytes == "a\n");
  CHECK(c.pieces[1].bytes == "b\n");
  CHECK(c.pieces[2].bytes == std::string(kMaxPiece, 'x'));
  CHECK(c.pieces[3].bytes == "xxxxxxxxxx\n");
  a.feed("\n", 8, c.sink);
  CHECK(c.pieces.back().bytes == "c\n");
  CHECK(c.pieces.back().time_ns == 8);
}

TEST_CASE("a partial line at EOF is written without \\n") {
  Collect c;
  LineAssembler a;
  a.feed("done\nno newline", 5, c.sink);
  a.finish(6, c.sink);
  REQUIRE(c.pieces.size() == 2);
  CHECK(c.pieces[1].bytes == "no newline");
  CHECK(c.pieces[1].time_ns == 6);
}

TEST_CASE("rotation: path -> path.1 -> path.2, the oldest dropped, no record split") {
  TempDir dir;
  std::string path = dir / "c-json.log";
  std::string r = record("0123456789\n");  // one record's size
  auto file = RotatingFile::open({path, static_cast<int64_t>(r.size() * 2 + 1), 3});
  REQUIRE(file.ok());
  for (int i = 0; i < 10; ++i) {
    REQUIRE(file->add(record(std::to_string(i) + "\n")).ok());
    REQUIRE(file->flush().ok());
  }
  // docker checks the size before a write: 3 records a file (2 fill it to
  // just under the limit, the third goes over), newest in path.
  auto content = [](const std::string& p) { return sys::read_file(p).value(); };
  CHECK(content(path) == record("9\n"));
  CHECK(content(path + ".1") == record("6\n") + record("7\n") + record("8\n"));
  CHECK(content(path + ".2") == record("3\n") + record("4\n") + record("5\n"));
  CHECK_FALSE(sys::exists(path + ".3"));
  CHECK((sys::stat(path)->st_mode & 07777) == 0640);
  CHECK((sys::stat(path + ".2")->st_mode & 07777) == 0640);
}

TEST_CASE("rotation checks each record, also inside one batch") {
  TempDir dir;
  std::string path = dir / "log";
  auto file = RotatingFile::open({path, 1, 2});
  REQUIRE(file.ok());
  REQUIRE(file->add(record("a\n")).ok());
  REQUIRE(file->add(record("b\n")).ok());
  REQUIRE(file->flush().ok());
  CHECK(sys::read_file(path + ".1").value() == record("a\n"));
  CHECK(sys::read_file(path).value() == record("b\n"));
}

TEST_CASE("max-file 1 truncates the full file in place, as docker does") {
  TempDir dir;
  std::string path = dir / "log";
  auto file = RotatingFile::open({path, 10, 1});
  REQUIRE(file.ok());
  for (auto s : {"a\n", "b\n", "c\n"}) {
    REQUIRE(file->add(record(s)).ok());
    REQUIRE(file->flush().ok());
  }
  CHECK(sys::read_file(path).value() == record("c\n"));
  CHECK_FALSE(sys::exists(path + ".1"));
}

TEST_CASE("an existing log is appended to and counts toward max-size") {
  TempDir dir;
  std::string path = dir / "log";
  REQUIRE(sys::write_file_atomic(path, record("old\n")).ok());
  auto file = RotatingFile::open({path, 5, 2});
  REQUIRE(file.ok());
  CHECK(file->size() == static_cast<int64_t>(record("old\n").size()));
  REQUIRE(file->add(record("new\n")).ok());
  REQUIRE(file->flush().ok());
  CHECK(sys::read_file(path + ".1").value() == record("old\n"));
  CHECK(sys::read_file(path).value() == record("new\n"));
}

TEST_CASE("logger arguments: the URI's sorted keys, docker's units and limits") {
  auto o = parse_logger_args({"max-file", "3", "max-size", "10k", "path", "/var/log/c.log"});
  REQUIRE(o.ok());
  CHECK(o->path == "/var/log/c.log");
  CHECK(o->max_size == 10000);
  CHECK(o->max_file == 3);
  o = parse_logger_args({"path", "/x"});
  REQUIRE(o.ok());
  CHECK(o->max_size == -1);
  CHECK(o->max_file == 1);
  CHECK(parse_logger_args({"max-size", "-1", "path", "/x"})->max_size == -1);
  CHECK(parse_logger_args({}).error().message() == "path: missing");
  CHECK(parse_logger_args({"path", "rel/x"}).error().message() == "path `rel/x`: not absolute");
  CHECK(parse_logger_args({"max-file", "0", "path", "/x"}).error().message() ==
        "max-file `0`: must be an integer of at least 1");
  CHECK(parse_logger_args({"max-size", "ten", "path", "/x"}).error().message() ==
        "max-size `ten`: invalid size");
  CHECK(parse_logger_args({"colour", "red", "path", "/x"}).error().message() ==
        "log option `colour`: unknown (path, max-size, max-file)");
  CHECK_FALSE(parse_logger_args({"path"}).ok());
}
