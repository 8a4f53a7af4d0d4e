#pragma once
// ttrpc server on the shim's event loop (protocol: ttrpc/frame.h).
//
// Non-blocking throughout: the listener and every connection are watched by
// the loop; each connection keeps a read buffer (partial frames wait for
// more bytes) and a write buffer (flushed when the socket is writable).
// Requests are dispatched by service + method to registered handlers; a
// handler answers through its Responder whenever it is done (now, or later
// from another callback), so answers go out in any order.

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/loop/loop.h"
#include "berth/ttrpc/frame.h"

namespace berth::ttrpc {

using Metadata = std::vector<std::pair<std::string, std::string>>;

struct IncomingRequest {
  std::string service;
  std::string method;
  std::string payload;
  Metadata metadata;
  uint64_t deadline_ns = 0;  // CLOCK_MONOTONIC; 0 = none
  // First value of a metadata key, or empty.
  std::string meta(std::string_view key) const;
};

class Connection;

// Answers one request, at most once (later calls, and calls after the
// connection closed, are dropped). Copyable so that it can ride in callbacks.
class Responder {
 public:
  Responder() = default;
  void reply(const std::string& payload) const;  // success
  void fail(const RpcStatus& status) const;
  void fail(Code code, std::string message) const { fail(RpcStatus{code, std::move(message)}); }
  // Sends `status` when it is an error, else `payload`.
  void finish(const RpcStatus& status, const std::string& payload) const;
  uint32_t stream_id() const { return stream_id_; }

 private:
  friend class Connection;
  friend class Server;
  Responder(std::weak_ptr<Connection> conn, uint32_t stream_id)
      : conn_(std::move(conn)), stream_id_(stream_id) {}
  std::weak_ptr<Connection> conn_;
  uint32_t stream_id_ = 0;
};

using Handler = std::function<void(const IncomingRequest&, Responder)>;

struct ServerOptions {
  // Peers whose uid is ours or 0 are accepted; others are disconnected.
  bool check_peer_uid = true;
  // A peer that does not read its responses is dropped beyond this.
  size_t max_write_buffer = 64u << 20;
};

class Server {
 public:
  Server(loop::Loop& loop, ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void register_method(const std::string& service, const std::string& method, Handler handler);
  // Serves connections accepted on `listener` (a bound, listening socket).
  Status serve(UniqueFd listener);
  // Serves one already-connected socket (tests, socket activation).
  Status add_connection(UniqueFd sock);
  // Stops accepting; existing connections stay.
  void stop_listening();
  void close_all();
  size_t connection_count() const { return connections_.size(); }
  // Called after a connection closed (the peer hung up or misbehaved).
  void on_disconnect(std::function<void()> cb) { on_disconnect_ = std::move(cb); }

 private:
  friend class Connection;
  void accept_ready();
  void dispatch(Connection& conn, uint32_t stream_id, IncomingRequest req);
  void closed(uint64_t id);

  loop::Loop& loop_;
  ServerOptions options_;
  UniqueFd listener_;
  loop::Loop::Handle listen_watch_ = 0;
  std::map<std::pair<std::string, std::string>, Handler> handlers_;
  std::map<uint64_t, std::shared_ptr<Connection>> connections_;
  uint64_t next_id_ = 1;
  std::function<void()> on_disconnect_;
};

}  // namespace berth::ttrpc
