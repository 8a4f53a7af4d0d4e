#include "berth/ttrpc/framed_socket.h"

#include <cstring>

#include "berth/base/sys.h"

namespace berth::ttrpc {

FramedSocket::FramedSocket(loop::Loop& loop, UniqueFd fd, size_t max_write_buffer)
    : loop_(loop),
      fd_(std::move(fd)),
      max_write_buffer_(max_write_buffer),
      self_(std::make_shared<FramedSocket*>(this)) {}

FramedSocket::~FramedSocket() { close(); }

Status FramedSocket::start(FrameCallback on_frame, CloseCallback on_close, EofCallback on_eof) {
  on_frame_ = std::move(on_frame);
  on_close_ = std::move(on_close);
  on_eof_ = std::move(on_eof);
  BERTH_TRY(sys::set_nonblocking(fd_, true));
  watch_ = BERTH_VALUE(loop_.add(fd_.get(), EPOLLIN, [this](uint32_t ev) { on_events(ev); }));
  return {};
}

void FramedSocket::close() {
  if (watch_ != 0) loop_.remove(watch_);
  watch_ = 0;
  fd_.reset();
  out_.clear();
  out_pos_ = 0;
}

void FramedSocket::close_when_flushed() {
  close_when_flushed_ = true;
  if (fd_.valid() && pending_write() == 0) fail("");
}

// Also the orderly close (reason ""): on_close always runs from the loop.
void FramedSocket::fail(const std::string& reason) {
  if (failing_) return;
  failing_ = true;
  close();
  // Never re-enter the owner from inside send(): report from the loop.
  std::weak_ptr<FramedSocket*> weak = self_;
  loop_.defer([weak, reason] {
    if (auto self = weak.lock()) {
      auto cb = std::move((*self)->on_close_);
      if (cb) cb(reason);
    }
  });
}

void FramedSocket::update_interest() {
  want_write_ = pending_write() > 0;
  // A half-closed socket stays readable forever (EOF): after it, only
  // writability matters, and EPOLLHUP (always reported) says the peer left.
  uint32_t events = 0;
  if (!read_closed_) events |= EPOLLIN;
  if (want_write_) events |= EPOLLOUT;
  if (events == interest_ || watch_ == 0) return;
  interest_ = events;
  (void)loop_.modify(watch_, events);
}

int FramedSocket::flush() {
  while (pending_write() > 0) {
    auto r = sys::write_some(fd_, out_.data() + out_pos_, pending_write());
    if (r.would_block()) break;
    if (r.n < 0) return r.err;
    out_pos_ += static_cast<size_t>(r.n);
  }
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  } else if (out_pos_ > (1u << 20)) {
    out_.erase(0, out_pos_);
    out_pos_ = 0;
  }
  update_interest();
  if (close_when_flushed_ && pending_write() == 0) fail("");
  return 0;
}

void FramedSocket::send(std::string frame) {
  if (!fd_.valid()) return;
  if (pending_write() + frame.size() > max_write_buffer_) {
    fail("peer is not reading: write buffer over " + std::to_string(max_write_buffer_) + " bytes");
    return;
  }
  if (out_.empty()) {
    out_ = std::move(frame);
    out_pos_ = 0;
  } else {
    out_.append(frame);
  }
  if (want_write_) return;  // the loop flushes when the socket drains
  if (int err = flush(); err != 0) fail(std::string("write: ") + std::strerror(err));
}

void FramedSocket::on_events(uint32_t events) {
  std::weak_ptr<FramedSocket*> weak = self_;
  if (events & EPOLLOUT) {
    if (int err = flush(); err != 0) return fail(std::string("write: ") + std::strerror(err));
    if (!fd_.valid()) return;
  }
  if (read_closed_) {
    // The peer closed its end entirely: what is still queued cannot arrive.
    if (events & (EPOLLHUP | EPOLLERR)) fail("");
    return;
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  // Bounded work per wakeup so that one chatty peer cannot starve the rest.
  char buf[64 * 1024];
  for (int round = 0; round < 16; ++round) {
    auto r = sys::read_some(fd_, buf, sizeof buf);
    if (r.would_block()) return;
    if (r.n < 0) return fail(std::string("read: ") + std::strerror(r.err));
    if (r.n == 0) {
      // Orderly end of stream. Frames already parsed were dispatched; an
      // owner that listens for the half-close still owes their answers
      // (a peer may shutdown(SHUT_WR) after its last request and read on).
      if (on_eof_) {
        read_closed_ = true;
        update_interest();
        on_eof_();
        return;
      }
      failing_ = true;
      close();
      auto cb = std::move(on_close_);
      if (cb) cb("");
      return;
    }
    reader_.feed(buf, static_cast<size_t>(r.n));
    while (auto frame = reader_.next()) {
      on_frame_(std::move(*frame));
      // A handler may have closed or destroyed us.
      if (weak.expired() || !fd_.valid()) return;
    }
    if (static_cast<size_t>(r.n) < sizeof buf) return;
  }
}

}  // namespace berth::ttrpc
