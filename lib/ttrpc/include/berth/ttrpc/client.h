#pragma once
// ttrpc client on the event loop (protocol: ttrpc/frame.h): connects to a
// unix socket path on first use, sends requests on odd, increasing stream
// ids, matches responses by id (in any order) and fails each call that has
// no answer by its timeout with DeadlineExceeded. A broken connection fails
// the calls in flight with Unavailable; the next call reconnects.
//
// Callbacks always run from the loop, never from inside call().

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "berth/loop/loop.h"
#include "berth/ttrpc/frame.h"
#include "berth/ttrpc/server.h"

namespace berth::ttrpc {

class FramedSocket;

class Client {
 public:
  struct Reply {
    RpcStatus status;
    std::string payload;  // the response message when status is OK
  };
  using Callback = std::function<void(Reply)>;

  Client(loop::Loop& loop, std::string socket_path);
  ~Client();  // pending callbacks are dropped, not called
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void call(const std::string& service, const std::string& method, const std::string& payload,
            const Metadata& metadata, std::chrono::nanoseconds timeout, Callback cb);
  // Fails the calls in flight with Unavailable and drops the connection.
  void close(const std::string& reason = "client closed");
  size_t in_flight() const { return pending_.size(); }

 private:
  struct Pending {
    Callback cb;
    loop::Loop::Handle timer = 0;
  };
  Status ensure_connected();
  void on_frame(uint32_t stream_id, std::string payload, bool oversized);
  void complete(uint32_t stream_id, Reply reply);
  void later(Callback cb, Reply reply);

  loop::Loop& loop_;
  std::string path_;
  std::unique_ptr<FramedSocket> socket_;
  uint32_t next_stream_id_ = 1;
  std::map<uint32_t, Pending> pending_;
  std::shared_ptr<Client*> self_;
};

}  // namespace berth::ttrpc
