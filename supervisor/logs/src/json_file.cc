#include "berth/logs/json_file.h"

#include <poll.h>
#include <sys/inotify.h>

#include <optional>

#include "berth/base/sys/event.h"
#include "berth/base/sys/files.h"
#include "berth/base/sys/io.h"
#include "berth/logs/writer.h"

namespace berth::logs {

namespace {

// The highest index of the set. A rotation leaves one index missing for
// the time of one rename, so the scan stops at two missing in a row.
int highest_index(const std::string& path) {
  int last = 0;
  for (int i = 1, misses = 0; misses < 2; ++i) {
    if (sys::exists(rotated_name(path, i))) {
      last = i;
      misses = 0;
    } else {
      ++misses;
    }
  }
  return last;
}

using LineFn = std::function<bool(std::string_view)>;

// A position in the rotated set: the open file, how far it was read, and
// the start of a line not yet complete.
class Cursor {
 public:
  explicit Cursor(const std::string& path) : path_(path) {}
  bool is_open() const { return fd_.valid(); }

  // The oldest file that exists; false when there is none.
  Result<bool> open_oldest() {
    for (int i = highest_index(path_); i >= 0; --i) {
      auto fd = sys::open(rotated_name(path_, i), O_RDONLY);
      if (fd) {
        BERTH_TRY(take(std::move(*fd), rotated_name(path_, i)));
        return true;
      }
      if (fd.error().code() != ENOENT) return std::move(fd).error();
    }
    fd_.reset();
    return false;
  }

  // Reads to the current end of the file, handing on each complete line.
  // false: on_line asked to stop.
  Result<bool> drain(const LineFn& on_line) {
    auto st = BERTH_VALUE(sys::fstat(fd_, name_));
    if (st.st_size < offset_) {  // truncated in place (max-file 1)
      if (sys::lseek(fd_.get(), 0, SEEK_SET) < 0) return sys_error("seek", name_);
      offset_ = 0;
      pending_.clear();
    }
    for (;;) {
      size_t have = pending_.size();
      pending_.resize(have + kChunk);
      auto r = sys::read_some(fd_, pending_.data() + have, kChunk);
      if (r.n < 0) {
        pending_.resize(have);
        return sys_error(r.err, "read", name_);
      }
      pending_.resize(have + static_cast<size_t>(r.n));
      offset_ += r.n;
      std::string_view rest = pending_;
      size_t scanned = have;  // no \n before this
      bool go_on = true;
      for (;;) {
        size_t nl = rest.find('\n', scanned);
        if (nl == std::string_view::npos) break;
        if (!on_line(rest.substr(0, nl))) {
          go_on = false;
          rest.remove_prefix(nl + 1);
          break;
        }
        rest.remove_prefix(nl + 1);
        scanned = 0;
      }
      pending_.erase(0, pending_.size() - rest.size());
      if (!go_on) return false;
      if (r.n == 0) return true;
    }
  }

  // Opens at `offset`, the start of a line.
  Status start_at(UniqueFd fd, const std::string& name, off_t offset) {
    BERTH_TRY(take(std::move(fd), name));
    if (sys::lseek(fd_.get(), offset, SEEK_SET) < 0) return sys_error("seek", name);
    offset_ = offset;
    return ok_status();
  }

  // Whether the open file is still <path> (the one being written).
  bool at_head() const {
    auto st = sys::stat(path_);
    return st && st->st_ino == ino_ && st->st_dev == dev_;
  }

  // Moves to the file written after the open one, which the caller read to
  // its end after it saw it was no longer the head. false: that file does
  // not exist yet (between the writer's rename and its create).
  Result<bool> open_next() {
    for (int attempt = 0; attempt < 10; ++attempt) {
      int top = highest_index(path_);
      for (int k = 1; k <= top; ++k) {
        if (!holds_ours(k)) continue;
        std::string next = rotated_name(path_, k - 1);
        auto fd = sys::open(next, O_RDONLY);
        // Renames go oldest first: while ours is still at k, the file at
        // k - 1 has not moved, so `fd` is the one right after ours.
        if (!holds_ours(k)) break;
        if (!fd) {
          if (fd.error().code() == ENOENT) return false;
          return std::move(fd).error();
        }
        BERTH_TRY(take(std::move(*fd), next));
        return true;
      }
    }
    // Ours was dropped by rotations faster than this reader, or the logs
    // were removed: go on from the oldest that is left.
    auto found = BERTH_VALUE(open_oldest());
    return found;
  }

 private:
  static constexpr size_t kChunk = 64 * 1024;

  bool holds_ours(int k) const {
    auto st = sys::stat(rotated_name(path_, k));
    return st && st->st_ino == ino_ && st->st_dev == dev_;
  }

  Status take(UniqueFd fd, const std::string& name) {
    auto st = BERTH_VALUE(sys::fstat(fd, name));
    fd_ = std::move(fd);
    name_ = name;
    ino_ = st.st_ino;
    dev_ = st.st_dev;
    offset_ = 0;
    pending_.clear();  // a line cut by a crash never completes
    return ok_status();
  }

  std::string path_, name_;
  UniqueFd fd_;
  ino_t ino_ = 0;
  dev_t dev_ = 0;
  off_t offset_ = 0;
  std::string pending_;
};

enum class Fit { kTake, kSkip, kBeforeSince, kAfterUntil };

Fit fit(const ParsedRecord& rec, const ReadOptions& options) {
  if (rec.stream == Stream::kStdout ? !options.want_stdout : !options.want_stderr) {
    return Fit::kSkip;
  }
  if (options.since_ns != 0 && rec.time_ns < options.since_ns) return Fit::kBeforeSince;
  if (options.until_ns != 0 && rec.time_ns > options.until_ns) return Fit::kAfterUntil;
  return Fit::kTake;
}

// Hands the records the options select to the callback.
class Emitter {
 public:
  Emitter(const ReadOptions& options, const RecordFn& fn) : options_(options), fn_(fn) {}
  // Nothing more to read: the callback said stop, or until_ns was passed.
  bool done() const { return done_; }

  bool line(std::string_view text) {
    auto rec = parse_record(text, scratch_);
    if (!rec) return true;
    switch (fit(*rec, options_)) {
      case Fit::kSkip:
      case Fit::kBeforeSince: return true;
      case Fit::kAfterUntil: return stop();
      case Fit::kTake: break;
    }
    return fn_(Record{rec->stream, rec->time_ns, rec->bytes}) || stop();
  }

 private:
  bool stop() {
    done_ = true;
    return false;
  }
  const ReadOptions& options_;
  const RecordFn& fn_;
  bool done_ = false;
  std::string scratch_;
};

enum class Scan { kContinue, kStartAt, kStartAfter };

// Calls fn with the complete lines of fd's first `size` bytes, last line
// first, until it says where to start: the offset of that line or of the
// one after it. nullopt: fn never said.
Result<std::optional<off_t>> scan_back(BorrowedFd fd, off_t size, const std::string& name,
                                       const std::function<Scan(std::string_view)>& fn) {
  constexpr off_t kBlock = 64 * 1024;
  off_t pos = size;
  std::string data;       // the file's bytes [pos, pos + data.size())
  bool have_end = false;  // the bytes after the last \n (a line being written) dropped
  for (;;) {
    for (;;) {
      if (!have_end) {
        size_t k = data.rfind('\n');
        if (k == std::string::npos) break;
        data.resize(k + 1);
        have_end = true;
      }
      if (data.empty()) break;
      size_t k = data.size() >= 2 ? data.rfind('\n', data.size() - 2) : std::string::npos;
      if (k == std::string::npos && pos > 0) break;  // the line began in an earlier block
      size_t start = k == std::string::npos ? 0 : k + 1;
      std::string_view line(data.data() + start, data.size() - 1 - start);
      off_t at = pos + static_cast<off_t>(start);
      switch (fn(line)) {
        case Scan::kStartAt: return std::optional<off_t>(at);
        case Scan::kStartAfter:
          return std::optional<off_t>(at + static_cast<off_t>(line.size()) + 1);
        case Scan::kContinue: break;
      }
      data.resize(start);
    }
    if (pos == 0) return std::optional<off_t>();
    off_t n = std::min(pos, kBlock);
    std::string block(static_cast<size_t>(n), '\0');
    for (off_t got = 0; got < n;) {
      ssize_t r = sys::retry_eintr([&] {
        return sys::pread(fd.get(), block.data() + got, static_cast<size_t>(n - got),
                          pos - n + got);
      });
      if (r < 0) return sys_error("read", name);
      if (r == 0) return make_error("read `" + name + "`: file shrank while read", EIO);
      got += r;
    }
    data.insert(0, block);
    pos -= n;
  }
}

// Puts the cursor where the last options.tail records the filters let
// through begin, reading the files backwards from the newest (as docker's
// tail does): `logs --tail 10` of a large log reads a block or two, not
// all of it. false: no file exists.
Result<bool> seek_tail(Cursor& cursor, const std::string& path, const ReadOptions& options) {
  int64_t count = 0;
  std::string scratch;
  auto decide = [&](std::string_view line) {
    if (options.tail == 0) return Scan::kStartAfter;
    auto rec = parse_record(line, scratch);
    if (!rec) return Scan::kContinue;
    switch (fit(*rec, options)) {
      case Fit::kSkip:
      case Fit::kAfterUntil: return Scan::kContinue;
      case Fit::kBeforeSince: return Scan::kStartAfter;  // older ones are earlier still
      case Fit::kTake: break;
    }
    return ++count == options.tail ? Scan::kStartAt : Scan::kContinue;
  };
  UniqueFd oldest;
  std::string oldest_name;
  for (int i = 0, top = highest_index(path); i <= top; ++i) {
    std::string name = rotated_name(path, i);
    auto fd = sys::open(name, O_RDONLY);
    if (!fd) {
      if (fd.error().code() == ENOENT) continue;
      return std::move(fd).error();
    }
    auto st = BERTH_VALUE(sys::fstat(*fd, name));
    auto at = BERTH_VALUE(scan_back(*fd, st.st_size, name, decide));
    if (at) {
      BERTH_TRY(cursor.start_at(std::move(*fd), name, *at));
      return true;
    }
    oldest = std::move(*fd);
    oldest_name = std::move(name);
  }
  if (!oldest) return false;
  BERTH_TRY(cursor.start_at(std::move(oldest), oldest_name, 0));
  return true;
}

// Reads up to the end of <path>, moving across rotations.
Status catch_up(Cursor& cursor, Emitter& emitter) {
  LineFn on_line = [&](std::string_view l) { return emitter.line(l); };
  if (!cursor.is_open()) {
    bool found = BERTH_VALUE(cursor.open_oldest());
    if (!found) return ok_status();
  }
  for (;;) {
    if (!BERTH_VALUE(cursor.drain(on_line))) return ok_status();
    if (cursor.at_head()) return ok_status();
    // Not the head any more: the writer has moved on, so what the file
    // holds now is all it will ever hold.
    if (!BERTH_VALUE(cursor.drain(on_line))) return ok_status();
    if (!BERTH_VALUE(cursor.open_next())) return ok_status();
  }
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Result<UniqueFd> watch(const std::string& path, uint32_t mask) {
  UniqueFd fd(sys::inotify_init1(IN_NONBLOCK));
  if (!fd) return sys_error("inotify_init", path);
  if (sys::inotify_add_watch(fd.get(), path.c_str(), mask) < 0) {
    return sys_error("inotify_add_watch", path);
  }
  return fd;
}

void drain_events(BorrowedFd fd) {
  alignas(struct inotify_event) char buf[4096];
  while (sys::read_some(fd, buf, sizeof buf).n > 0) {}
}

}  // namespace

Result<CancelToken> CancelToken::create() {
  UniqueFd fd(sys::eventfd(0, EFD_NONBLOCK));
  if (!fd) return sys_error("eventfd", "log follow cancel");
  return CancelToken(std::move(fd));
}

void CancelToken::cancel() const {
  uint64_t one = 1;
  (void)sys::write_some(fd_, &one, sizeof one);
}

bool CancelToken::cancelled() const {
  // Never read: once cancelled it stays readable for every follower.
  struct pollfd p = {fd_.get(), POLLIN, 0};
  return sys::poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

Status read(const std::string& path, const ReadOptions& options, const RecordFn& fn) {
  Cursor cursor(path);
  Emitter emitter(options, fn);
  if (options.tail >= 0 && !BERTH_VALUE(seek_tail(cursor, path, options))) return ok_status();
  return catch_up(cursor, emitter);
}

Status follow(const std::string& path, const ReadOptions& options, const FollowOptions& follow,
              const RecordFn& fn) {
  // Watching the directory sees writes to every file of the set, its
  // renames and creation, and the writer's exit (the close of its lock).
  auto events =
      BERTH_VALUE(watch(dir_of(path), IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
                                          IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB));
  Cursor cursor(path);
  Emitter emitter(options, fn);
  if (options.tail >= 0) BERTH_TRY(seek_tail(cursor, path, options));
  BERTH_TRY(catch_up(cursor, emitter));
  if (emitter.done()) return ok_status();
  const int timeout = static_cast<int>(follow.poll_interval.count());
  for (;;) {
    if (follow.cancel != nullptr && follow.cancel->cancelled()) return ok_status();
    if (follow.stop && follow.stop()) return ok_status();
    // Checked before the last read: a writer gone now wrote all it will.
    bool writer_done = follow.until_writer_done && !writer_active(path);
    BERTH_TRY(catch_up(cursor, emitter));
    if (emitter.done() || writer_done) return ok_status();
    struct pollfd p[2] = {{events.get(), POLLIN, 0},
                          {follow.cancel != nullptr ? follow.cancel->fd().get() : -1, POLLIN, 0}};
    if (sys::poll(p, 2, timeout) < 0 && errno != EINTR) return sys_error("poll", path);
    drain_events(events);
  }
}

bool writer_active(const std::string& path) {
  auto fd = sys::open(lock_name(path), O_RDONLY);
  if (!fd) return false;
  // A shared lock for an instant: the writer's exclusive one excludes it.
  return sys::flock(fd->get(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

Result<bool> wait_writer_done(const std::string& path, std::chrono::milliseconds timeout) {
  const std::string lock = lock_name(path);
  auto events = watch(lock, IN_CLOSE_WRITE | IN_DELETE_SELF | IN_ATTRIB);
  if (!events) {
    if (events.error().code() == ENOENT) return true;
    return std::move(events).error();
  }
  const uint64_t deadline = sys::monotonic_ns() + static_cast<uint64_t>(timeout.count()) * 1000000;
  for (;;) {
    if (!writer_active(path)) return true;
    uint64_t now = sys::monotonic_ns();
    if (now >= deadline) return false;
    // The close of the lock wakes this; the cap covers a writer killed
    // before its close was seen.
    int wait_ms = static_cast<int>(std::min<uint64_t>((deadline - now) / 1000000 + 1, 100));
    struct pollfd p = {events->get(), POLLIN, 0};
    if (sys::poll(&p, 1, wait_ms) < 0 && errno != EINTR) return sys_error("poll", lock);
    drain_events(*events);
  }
}

std::vector<std::string> log_files(const std::string& path) {
  std::vector<std::string> out;
  for (int i = highest_index(path); i >= 0; --i) {
    std::string name = rotated_name(path, i);
    if (sys::exists(name)) out.push_back(std::move(name));
  }
  return out;
}

Status remove_logs(const std::string& path) {
  for (const auto& f : log_files(path)) {
    auto st = sys::unlink(f);
    if (!st && st.error().code() != ENOENT) return st;
  }
  auto st = sys::unlink(lock_name(path));
  if (!st && st.error().code() != ENOENT) return st;
  return ok_status();
}

}  // namespace berth::logs
