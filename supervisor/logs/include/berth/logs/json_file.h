#pragma once
// Reading json-file logs (format.h) as berthd's `logs` and attach need
// them: the rotated set <path>.N ... <path>.1, <path> in order, and, with
// follow(), what the writer (berth-logger, writer.h) adds after that,
// across rotations, until the writer is done.
//
// Following keeps the current file open and moves on by inode: once
// <path> names another file, the old one gets no more writes (the writer
// renames only between records), so it is read to its end and the next
// newer file is found one index below wherever the old inode is now. A
// reader slower than max-file rotations loses what was dropped, as with
// docker. A truncated file (max-file 1) is read again from its start.
//
// Follow watches <path>'s directory (inotify): give each container a
// directory of its own, or every container's writes wake every follower.
//
// Every call is self-contained (no shared state): berthd may run many from
// any threads. A follow ends when
//  * the callback returns false, or a record is later than until_ns,
//  * options.stop() says so or options.cancel is cancelled (from any thread),
//  * the writer is done (its lock released) and everything it wrote was
//    delivered, unless until_writer_done is false.
// Lines that do not parse (a crash mid-write) are skipped.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/logs/format.h"

namespace berth::logs {

struct Record {
  Stream stream;
  int64_t time_ns;
  std::string_view bytes;  // valid during the callback only
};
// Returns false to stop.
using RecordFn = std::function<bool(const Record&)>;

struct ReadOptions {
  // The last N records of the existing logs (found reading the files
  // backwards from the newest, so a short tail of a large log is cheap);
  // -1 all.
  int64_t tail = -1;
  int64_t since_ns = 0;  // skip records before this time (0: no bound)
  int64_t until_ns = 0;  // end at the first record after this time (0: none)
  bool want_stdout = true;
  bool want_stderr = true;
};

// Cancels a follow from another thread: cancel() wakes the follower's
// poll through an eventfd.
class CancelToken {
 public:
  static Result<CancelToken> create();
  void cancel() const;
  bool cancelled() const;
  BorrowedFd fd() const { return BorrowedFd(fd_); }

 private:
  explicit CancelToken(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

struct FollowOptions {
  bool until_writer_done = true;
  std::function<bool()> stop = {};      // polled at least every poll_interval
  const CancelToken* cancel = nullptr;  // must outlive the follow
  std::chrono::milliseconds poll_interval{250};
};

// The existing records. A log that does not exist reads as empty.
Status read(const std::string& path, const ReadOptions& options, const RecordFn& fn);
// The existing records, then new ones as they are written (see the top).
// A log that does not exist yet is waited for.
Status follow(const std::string& path, const ReadOptions& options, const FollowOptions& follow,
              const RecordFn& fn);

// Whether a writer holds <path>.lock now.
bool writer_active(const std::string& path);
// Waits until no writer holds it; false when `timeout` passed first.
Result<bool> wait_writer_done(const std::string& path, std::chrono::milliseconds timeout);

// The files of the set that exist, oldest first (<path>.N ... <path>).
std::vector<std::string> log_files(const std::string& path);
// Removes the set and its lock (`rm`, `--rm`); fine when nothing exists.
Status remove_logs(const std::string& path);

}  // namespace berth::logs
