#include "berth/logs/writer.h"

#include <cstring>

#include "berth/base/sys/files.h"
#include "berth/base/sys/io.h"

namespace berth::logs {

std::string rotated_name(const std::string& path, int index) {
  return index == 0 ? path : path + "." + std::to_string(index);
}

std::string lock_name(const std::string& path) { return path + ".lock"; }

namespace {

Result<UniqueFd> open_log(const std::string& path, int extra) {
  auto fd = BERTH_VALUE(sys::open(path, O_WRONLY | O_APPEND | O_CREAT | extra, 0640));
  // The umask must not widen or narrow what docker's files look like.
  if (sys::fchmod(fd.get(), 0640) != 0) return sys_error("chmod", path);
  return fd;
}

}  // namespace

Result<RotatingFile> RotatingFile::open(const RotateOptions& options) {
  auto fd = BERTH_VALUE(open_log(options.path, 0));
  auto st = BERTH_VALUE(sys::fstat(fd, options.path));
  return RotatingFile(options, std::move(fd), st.st_size);
}

Status RotatingFile::add(std::string_view record) {
  if (options_.max_size > 0 && size() >= options_.max_size) {
    BERTH_TRY(flush());
    BERTH_TRY(rotate());
  }
  batch_.append(record);
  return ok_status();
}

Status RotatingFile::flush() {
  if (batch_.empty()) return ok_status();
  auto st = sys::write_all(fd_, batch_, options_.path);
  if (st) {
    size_ += static_cast<int64_t>(batch_.size());
  } else {
    // Cut a partly written record off (ENOSPC mid-batch), so that the next
    // batch starts on a line of its own.
    (void)sys::ftruncate(fd_.get(), size_);
  }
  batch_.clear();
  return st;
}

Status RotatingFile::rotate() {
  const std::string& path = options_.path;
  if (options_.max_file < 2) {
    if (sys::ftruncate(fd_.get(), 0) != 0) return sys_error("truncate", path);
    size_ = 0;
    return ok_status();
  }
  // Oldest first: each rename replaces the file one index up, so the one at
  // max-file - 1 is dropped by the first rename and no index is ever
  // missing for longer than one rename.
  for (int i = options_.max_file - 1; i >= 1; --i) {
    auto st = sys::rename(rotated_name(path, i - 1), rotated_name(path, i));
    if (!st && st.error().code() != ENOENT) return st;
  }
  fd_ = BERTH_VALUE(open_log(path, O_TRUNC));
  size_ = 0;
  return ok_status();
}

void LineAssembler::feed(std::string_view data, int64_t now_ns, const Sink& sink) {
  // Lines complete in `data` alone are sent from it without a copy.
  if (pending_.empty() && first_piece_ns_ < 0) {
    while (!data.empty()) {
      const void* nl = memchr(data.data(), '\n', std::min(data.size(), kMaxPiece));
      if (nl == nullptr) break;
      size_t len = static_cast<const char*>(nl) - data.data() + 1;
      sink(data.substr(0, len), now_ns);
      data.remove_prefix(len);
    }
    if (data.size() < kMaxPiece) {
      pending_.assign(data);
      return;
    }
  }
  pending_.append(data);
  std::string_view rest = pending_;
  while (!rest.empty()) {
    const void* nl = memchr(rest.data(), '\n', std::min(rest.size(), kMaxPiece));
    int64_t t = first_piece_ns_ >= 0 ? first_piece_ns_ : now_ns;
    if (nl != nullptr) {
      size_t len = static_cast<const char*>(nl) - rest.data() + 1;
      sink(rest.substr(0, len), t);
      first_piece_ns_ = -1;
      rest.remove_prefix(len);
    } else if (rest.size() >= kMaxPiece) {
      sink(rest.substr(0, kMaxPiece), t);
      first_piece_ns_ = t;
      rest.remove_prefix(kMaxPiece);
    } else {
      break;
    }
  }
  pending_.erase(0, pending_.size() - rest.size());
}

void LineAssembler::finish(int64_t now_ns, const Sink& sink) {
  if (!pending_.empty()) sink(pending_, first_piece_ns_ >= 0 ? first_piece_ns_ : now_ns);
  pending_.clear();
  first_piece_ns_ = -1;
}

}  // namespace berth::logs
