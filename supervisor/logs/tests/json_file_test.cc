#include "berth/logs/json_file.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "berth/base/sys/files.h"
#include "berth/base/sys/io.h"
#include "berth/logs/writer.h"
#include "temp_dir.h"

using namespace berth;
using namespace berth::logs;
using namespace std::chrono_literals;
using berth::logs::testing::TempDir;

namespace {

struct Got {
  Stream stream;
  int64_t time_ns;
  std::string bytes;
  bool operator==(const Got&) const = default;
};

struct Collector {
  std::vector<Got> got;
  size_t stop_after = SIZE_MAX;
  RecordFn fn = [this](const Record& r) {
    got.push_back({r.stream, r.time_ns, std::string(r.bytes)});
    return got.size() < stop_after;
  };
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& g : got) out.push_back(g.bytes);
    return out;
  }
};

// Writes records through the writer's own rotation.
struct Writer {
  RotatingFile file;
  UniqueFd lock;
  static Writer open(const std::string& path, int64_t max_size = -1, int max_file = 1) {
    auto lock = sys::open(lock_name(path), O_RDWR | O_CREAT, 0600).value();
    REQUIRE(sys::flock(lock.get(), LOCK_EX) == 0);
    return Writer{RotatingFile::open({path, max_size, max_file}).value(), std::move(lock)};
  }
  void put(Stream s, std::string_view bytes, int64_t t) {
    std::string rec;
    append_record(rec, s, bytes, t);
    REQUIRE(file.add(rec).ok());
    REQUIRE(file.flush().ok());
  }
  void done() { lock.reset(); }
};

// Six records at t = 1..6 s: out1 err2 out3 err4 out5 err6.
void write_six(Writer& w) {
  for (int i = 1; i <= 6; ++i) {
    Stream s = i % 2 ? Stream::kStdout : Stream::kStderr;
    w.put(s, (i % 2 ? "out" : "err") + std::to_string(i) + "\n", i * 1000000000LL);
  }
}

using Texts = std::vector<std::string>;

}  // namespace

TEST_CASE("read: every record in order, with tail, since, until and stream selection") {
  TempDir dir;
  std::string path = dir / "log";
  auto w = Writer::open(path);
  write_six(w);
  auto run = [&](ReadOptions o) {
    Collector c;
    REQUIRE(read(path, o, c.fn).ok());
    return c.texts();
  };
  CHECK(run({}) == Texts{"out1\n", "err2\n", "out3\n", "err4\n", "out5\n", "err6\n"});
  CHECK(run({.tail = 2}) == Texts{"out5\n", "err6\n"});
  CHECK(run({.tail = 0}).empty());
  CHECK(run({.tail = 100}).size() == 6);
  CHECK(run({.since_ns = 3000000000}) == Texts{"out3\n", "err4\n", "out5\n", "err6\n"});
  CHECK(run({.until_ns = 2000000000}) == Texts{"out1\n", "err2\n"});
  CHECK(run({.want_stderr = false}) == Texts{"out1\n", "out3\n", "out5\n"});
  CHECK(run({.tail = 1, .want_stdout = false}) == Texts{"err6\n"});
  // tail counts what the other filters let through
  CHECK(run({.tail = 2, .until_ns = 4000000000}) == Texts{"out3\n", "err4\n"});
  Collector c;
  c.stop_after = 2;
  REQUIRE(read(path, {}, c.fn).ok());
  CHECK(c.got.size() == 2);
  CHECK(c.got[1] == Got{Stream::kStderr, 2000000000, "err2\n"});
}

TEST_CASE("read: the rotated set oldest first; a missing log is empty") {
  TempDir dir;
  std::string path = dir / "log";
  Collector none;
  REQUIRE(read(path, {}, none.fn).ok());
  CHECK(none.got.empty());
  auto w = Writer::open(path, 1, 4);  // one record a file
  write_six(w);
  CHECK(log_files(path) == Texts{path + ".3", path + ".2", path + ".1", path});
  Collector c;
  REQUIRE(read(path, {}, c.fn).ok());
  CHECK(c.texts() == Texts{"out3\n", "err4\n", "out5\n", "err6\n"});
  Collector t;
  REQUIRE(read(path, {.tail = 3}, t.fn).ok());
  CHECK(t.texts() == Texts{"err4\n", "out5\n", "err6\n"});
  w.done();
  REQUIRE(remove_logs(path).ok());
  CHECK(sys::list_dir(dir.path).value().empty());
}

TEST_CASE("read: tail is read backwards, across blocks and files, and agrees with a full read") {
  TempDir dir;
  std::string path = dir / "log";
  auto w = Writer::open(path, 100000, 5);
  for (int i = 0; i < 3000; ++i) {
    // lengths vary, some lines escape to several times their size
    std::string bytes = std::to_string(i) + std::string(i % 97, i % 5 ? 'a' : '<') + "\n";
    w.put(i % 4 ? Stream::kStdout : Stream::kStderr, bytes, 1000000000LL + i);
  }
  // a line the writer is still writing is not a record yet
  {
    auto fd = sys::open(path, O_WRONLY | O_APPEND).value();
    REQUIRE(sys::write_all(fd, "{\"log\":\"half", path).ok());
  }
  REQUIRE(log_files(path).size() == 5);
  auto texts = [&](const ReadOptions& o) {
    Collector c;
    REQUIRE(read(path, o, c.fn).ok());
    return c.texts();
  };
  auto last = [](Texts all, size_t n) {
    return Texts(all.end() - static_cast<long>(std::min(n, all.size())), all.end());
  };
  const Texts all = texts({});
  CHECK(all.back().starts_with("2999"));
  for (int64_t n : {0, 1, 2, 7, 500, 1500, 2500, 100000}) {
    CAPTURE(n);
    CHECK(texts({.tail = n}) == last(all, static_cast<size_t>(n)));
  }
  const Texts err = texts({.want_stdout = false});
  CHECK(texts({.tail = 300, .want_stdout = false}) == last(err, 300));
  const Texts window = texts({.since_ns = 1000000000LL + 2000, .until_ns = 1000000000LL + 2600});
  CHECK(window.size() == 601);
  CHECK(texts({.tail = 50, .since_ns = 1000000000LL + 2000, .until_ns = 1000000000LL + 2600}) ==
        last(window, 50));
  CHECK(texts({.tail = 5000, .since_ns = 1000000000LL + 2000, .until_ns = 1000000000LL + 2600}) ==
        window);
}

TEST_CASE("read: a damaged line (a crash mid-write) is skipped, a cut last line not read") {
  TempDir dir;
  std::string path = dir / "log";
  std::string good, last;
  append_record(good, Stream::kStdout, "good\n", 1);
  append_record(last, Stream::kStdout, "last\n", 2);
  REQUIRE(sys::write_file_atomic(path, good + "{\"log\":\"cut\n" + good + last.substr(0, 10)).ok());
  Collector c;
  REQUIRE(read(path, {}, c.fn).ok());
  CHECK(c.texts() == Texts{"good\n", "good\n"});
}

TEST_CASE("writer_active and wait_writer_done follow the writer's lock") {
  TempDir dir;
  std::string path = dir / "log";
  CHECK_FALSE(writer_active(path));
  CHECK(wait_writer_done(path, 10ms).value());
  auto w = Writer::open(path);
  CHECK(writer_active(path));
  CHECK_FALSE(wait_writer_done(path, 50ms).value());
  std::thread t([&] {
    std::this_thread::sleep_for(100ms);
    w.done();
  });
  auto start = std::chrono::steady_clock::now();
  CHECK(wait_writer_done(path, 5s).value());
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  t.join();
  CHECK_FALSE(writer_active(path));
}

TEST_CASE("follow: existing tail, then new records across rotations, none lost or repeated") {
  TempDir dir;
  std::string path = dir / "log";
  auto w = Writer::open(path, 300, 50);  // a rotation every 4 records
  write_six(w);
  constexpr int kNew = 2000;
  // The writer starts once the tail is out (what it wrote before would be
  // part of the existing logs) and stays at most 40 records (10 files)
  // ahead: this checks that no record is lost, not a race with rotations
  // that drop files the reader has not reached.
  std::atomic<int> delivered{0};
  std::thread writer([&] {
    while (delivered < 2) std::this_thread::sleep_for(1ms);
    for (int i = 0; i < kNew; ++i) {
      while (i - (delivered - 2) > 40) std::this_thread::sleep_for(100us);
      w.put(i % 3 ? Stream::kStdout : Stream::kStderr, "n" + std::to_string(i) + "\n",
            10000000000LL + i);
    }
    w.done();
  });
  Collector c;
  RecordFn fn = [&](const Record& r) {
    c.fn(r);
    ++delivered;
    return true;
  };
  REQUIRE(follow(path, {.tail = 2}, {.poll_interval = 20ms}, fn).ok());
  writer.join();
  REQUIRE(c.got.size() == 2 + kNew);
  CHECK(c.got[0].bytes == "out5\n");
  CHECK(c.got[1].bytes == "err6\n");
  for (int i = 0; i < kNew; ++i) { REQUIRE(c.got[2 + i].bytes == "n" + std::to_string(i) + "\n"); }
  CHECK(log_files(path).size() == 50);
}

TEST_CASE("follow: waits for a log not created yet when the writer is not done") {
  TempDir dir;
  std::string path = dir / "log";
  Collector c;
  std::thread writer([&] {
    std::this_thread::sleep_for(50ms);
    auto w = Writer::open(path);
    w.put(Stream::kStdout, "late\n", 1);
    std::this_thread::sleep_for(50ms);
    w.done();
  });
  std::atomic<bool> seen{false};
  FollowOptions f{.until_writer_done = false, .stop = [&] { return seen.load(); }};
  RecordFn fn = [&](const Record& r) {
    c.fn(r);
    seen = true;
    return true;
  };
  REQUIRE(follow(path, {}, f, fn).ok());
  writer.join();
  CHECK(c.texts() == Texts{"late\n"});
}

TEST_CASE("follow: another thread cancels it; until ends it at a later record") {
  TempDir dir;
  std::string path = dir / "log";
  auto w = Writer::open(path);
  write_six(w);
  auto token = CancelToken::create();
  REQUIRE(token.ok());
  Collector c;
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    token->cancel();
  });
  auto start = std::chrono::steady_clock::now();
  // A long poll interval: the cancel must wake the poll, not wait it out.
  REQUIRE(follow(path, {}, {.cancel = &*token, .poll_interval = 10s}, c.fn).ok());
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  canceller.join();
  CHECK(c.got.size() == 6);
  CHECK(token->cancelled());

  Collector u;
  std::thread writer([&] {
    std::this_thread::sleep_for(50ms);
    w.put(Stream::kStdout, "in time\n", 7000000000LL);
    w.put(Stream::kStdout, "too late\n", 9000000000LL);
  });
  REQUIRE(follow(path, {.since_ns = 6000000000LL, .until_ns = 8000000000LL}, {}, u.fn).ok());
  writer.join();
  CHECK(u.texts() == Texts{"err6\n", "in time\n"});
}
