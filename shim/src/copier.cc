#include "copier.h"

#include "berth/base/sys.h"

namespace berth::shim {

namespace {
constexpr size_t kBufferSize = 64 * 1024;
}

Copier::Copier(loop::Loop& loop, int src, int dst, std::function<void()> done)
    : loop_(loop), src_(src), dst_(dst), done_(std::move(done)) {}

Copier::~Copier() { stop(); }

Status Copier::start() {
  BERTH_TRY(sys::set_nonblocking(BorrowedFd(src_), true));
  BERTH_TRY(sys::set_nonblocking(BorrowedFd(dst_), true));
  update();
  if (src_watch_ == 0) return make_error("copier: cannot watch fd " + std::to_string(src_));
  return {};
}

// A descriptor is registered only while its events are wanted: epoll reports
// HUP and ERR even with an empty mask, which would spin a full or idle copier.
void Copier::set_watch(loop::Loop::Handle& watch, uint32_t& current, int fd, uint32_t want,
                       bool is_src) {
  if (want == current && (watch != 0) == (want != 0)) return;
  if (want == 0) {
    if (watch != 0) loop_.remove(watch);
    watch = 0;
  } else if (watch == 0) {
    auto h = is_src ? loop_.add(fd, want, [this](uint32_t ev) { on_src(ev); })
                    : loop_.add(fd, want, [this](uint32_t ev) { on_dst(ev); });
    watch = h ? *h : 0;
  } else {
    (void)loop_.modify(watch, want);
  }
  current = want;
}

void Copier::stop() {
  if (src_watch_ != 0) loop_.remove(src_watch_);
  if (dst_watch_ != 0) loop_.remove(dst_watch_);
  src_watch_ = dst_watch_ = 0;
  src_events_ = dst_events_ = 0;
}

void Copier::finish() {
  if (finished_) return;
  finished_ = true;
  stop();
  if (done_) {
    auto cb = std::move(done_);
    loop_.defer(cb);
  }
}

void Copier::on_src(uint32_t) {
  while (!eof_ && buf_.size() - pos_ < kBufferSize) {
    char tmp[16384];
    size_t want = std::min(sizeof tmp, kBufferSize - (buf_.size() - pos_));
    auto r = sys::read_some(BorrowedFd(src_), tmp, want);
    if (r.would_block()) break;
    if (r.n <= 0) {  // EOF, or EIO from a pty master whose slave is gone
      eof_ = true;
      break;
    }
    if (pos_ > 0 && pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }
    buf_.append(tmp, static_cast<size_t>(r.n));
  }
  pump();
}

void Copier::on_dst(uint32_t events) {
  if (events & (EPOLLERR)) {
    eof_ = true;
    buf_.clear();
    pos_ = 0;
  }
  pump();
}

void Copier::pump() {
  while (pos_ < buf_.size()) {
    auto r = sys::write_some(BorrowedFd(dst_), buf_.data() + pos_, buf_.size() - pos_);
    if (r.would_block()) break;
    if (r.n < 0) {  // the reader is gone (EPIPE) or worse: nothing more to do
      buf_.clear();
      pos_ = 0;
      eof_ = true;
      break;
    }
    pos_ += static_cast<size_t>(r.n);
  }
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  if (eof_ && buf_.empty()) return finish();
  update();
}

void Copier::update() {
  if (finished_) return;
  uint32_t want_src = (!eof_ && buf_.size() - pos_ < kBufferSize) ? uint32_t{EPOLLIN} : 0u;
  uint32_t want_dst = buf_.size() > pos_ ? uint32_t{EPOLLOUT} : 0u;
  set_watch(src_watch_, src_events_, src_, want_src, true);
  set_watch(dst_watch_, dst_events_, dst_, want_dst, false);
}

}  // namespace berth::shim
