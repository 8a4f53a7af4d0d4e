#pragma once
// UniqueFd: the one owner of a file descriptor. Move-only; closes in its
// destructor. Code creates descriptors only with O_CLOEXEC / SOCK_CLOEXEC /
// *_CLOEXEC flags so that nothing leaks across an exec into a container
// (CVE-2024-21626 was a leaked host fd). BorrowedFd is the non-owning view
// that functions take as a parameter.

#include <unistd.h>

#include <utility>

namespace berth {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    // close() errors other than EINTR mean a bug; EINTR must not be retried
    // on Linux (the descriptor is already gone).
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

class BorrowedFd {
 public:
  BorrowedFd(const UniqueFd& fd) : fd_(fd.get()) {}  // NOLINT: implicit by design
  explicit BorrowedFd(int fd) : fd_(fd) {}
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace berth
