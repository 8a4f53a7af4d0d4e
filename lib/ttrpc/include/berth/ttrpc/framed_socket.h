#pragma once
// A non-blocking stream socket on the loop that reads and writes ttrpc
// frames: the transport under both Server connections and Client.

#include <functional>
#include <memory>
#include <string>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/loop/loop.h"
#include "berth/ttrpc/frame.h"

namespace berth::ttrpc {

class FramedSocket {
 public:
  using FrameCallback = std::function<void(FrameReader::Frame&&)>;
  // Why the socket closed: "" for an orderly end of stream from the peer.
  using CloseCallback = std::function<void(const std::string& reason)>;
  // The peer half-closed (end of stream on read); the socket stays open
  // for writing until the owner calls close_when_flushed().
  using EofCallback = std::function<void()>;

  FramedSocket(loop::Loop& loop, UniqueFd fd, size_t max_write_buffer = 64u << 20);
  ~FramedSocket();
  FramedSocket(const FramedSocket&) = delete;
  FramedSocket& operator=(const FramedSocket&) = delete;

  // Starts watching. on_frame runs for each complete frame; on_close once,
  // when the peer hangs up or an I/O error occurs, and is the last callback
  // (it may destroy this object). Without on_eof an end of stream closes
  // at once, dropping unsent bytes.
  Status start(FrameCallback on_frame, CloseCallback on_close, EofCallback on_eof = {});
  // Queues a frame and writes as much as the socket takes now. A write
  // error closes the socket (on_close runs from the loop, not from here).
  void send(std::string frame);
  // Closes without calling on_close.
  void close();
  // After on_eof: closes (and calls on_close with "") once everything
  // queued has been written, or at once if nothing is.
  void close_when_flushed();
  bool is_open() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  size_t pending_write() const { return out_.size() - out_pos_; }

 private:
  void on_events(uint32_t events);
  int flush();  // 0, or the errno of a failed write
  void fail(const std::string& reason);
  void update_interest();

  loop::Loop& loop_;
  UniqueFd fd_;
  size_t max_write_buffer_;
  loop::Loop::Handle watch_ = 0;
  FrameReader reader_;
  std::string out_;
  size_t out_pos_ = 0;
  bool want_write_ = false;
  bool failing_ = false;
  bool read_closed_ = false;
  bool close_when_flushed_ = false;
  uint32_t interest_ = EPOLLIN;
  FrameCallback on_frame_;
  CloseCallback on_close_;
  EofCallback on_eof_;
  // Lets deferred callbacks detect that this object is gone.
  std::shared_ptr<FramedSocket*> self_;
};

}  // namespace berth::ttrpc
