#pragma once
// The writing half of json-file logs (berth-logger's library): a stream's
// bytes cut into docker's messages, and the rotated file set they go to.
//
// Files: <path> is written; with max-file N > 1 a full <path> becomes
// <path>.1, <path>.1 becomes <path>.2 ... up to <path>.(N-1), the oldest
// dropped (docker's rotate(): renames oldest first, so a reader that lost
// its place finds every file one index up). With max-file 1 a full file is
// truncated in place, as docker does. <path>.lock is flock'ed by the writer
// for its whole life: readers tell from it whether more may come.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/logs/format.h"

namespace berth::logs {

struct RotateOptions {
  std::string path;
  int64_t max_size = -1;  // bytes; -1 unlimited
  int max_file = 1;
};

// <path>.N for N > 0, <path> for 0.
std::string rotated_name(const std::string& path, int index);
std::string lock_name(const std::string& path);

class RotatingFile {
 public:
  // Opens (appends to) <path>, mode 0640.
  static Result<RotatingFile> open(const RotateOptions& options);

  // Buffers one complete record. docker's rule: the size check comes before
  // a write, so a record is never split and a file may end up to one record
  // over max-size.
  Status add(std::string_view record);
  // Writes what add() buffered (once per read batch, never fsync'ed: docker
  // does not either). A failed write drops the batch (the container must
  // not block on a full disk) and reports it.
  Status flush();
  int64_t size() const { return size_ + static_cast<int64_t>(batch_.size()); }

 private:
  RotatingFile(RotateOptions options, UniqueFd fd, int64_t size)
      : options_(std::move(options)), fd_(std::move(fd)), size_(size) {}
  Status rotate();

  RotateOptions options_;
  UniqueFd fd_;
  int64_t size_ = 0;  // bytes in the file
  std::string batch_;
};

// One stream's bytes into docker's messages: each line with its \n, a line
// longer than kMaxPiece in pieces of kMaxPiece without \n (all pieces of a
// line carry the time of its first, as docker's copier stamps them), and
// what is left at the end as a partial line.
class LineAssembler {
 public:
  using Sink = std::function<void(std::string_view bytes, int64_t time_ns)>;
  void feed(std::string_view data, int64_t now_ns, const Sink& sink);
  void finish(int64_t now_ns, const Sink& sink);
  bool has_partial() const { return !pending_.empty(); }

 private:
  std::string pending_;
  int64_t first_piece_ns_ = -1;  // time of the first piece of a long line
};

}  // namespace berth::logs
