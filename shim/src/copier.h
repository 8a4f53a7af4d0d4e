#pragma once
// Copies bytes from one non-blocking descriptor to another on the loop,
// with a bounded buffer: when the reader of dst is slow the copier stops
// reading src (back-pressure reaches the writer of src instead of the
// shim's memory). Used for stdin FIFO → container pipe and for pty I/O.
// The descriptors are borrowed: the owner keeps them open while the copier
// lives. A descriptor may be watched only once per loop, so pass a dup() of
// one that is already watched elsewhere (the pty master).

#include <functional>
#include <string>

#include "berth/loop/loop.h"

namespace berth::shim {

class Copier {
 public:
  // done runs once, from the loop, when src ended (EOF, EIO of a pty whose
  // other side closed, or an error) and everything read was written, or
  // when dst failed.
  Copier(loop::Loop& loop, int src, int dst, std::function<void()> done);
  ~Copier();
  Copier(const Copier&) = delete;
  Copier& operator=(const Copier&) = delete;

  Status start();
  void stop();  // no callback
  bool finished() const { return finished_; }

 private:
  void on_src(uint32_t events);
  void on_dst(uint32_t events);
  void pump();
  void update();
  void set_watch(loop::Loop::Handle& watch, uint32_t& current, int fd, uint32_t want, bool is_src);
  void finish();

  loop::Loop& loop_;
  int src_, dst_;
  std::function<void()> done_;
  loop::Loop::Handle src_watch_ = 0, dst_watch_ = 0;
  uint32_t src_events_ = 0, dst_events_ = 0;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  bool finished_ = false;
};

}  // namespace berth::shim
