#include "berth/ttrpc/server.h"

#include <unistd.h>

#include <set>

#include "berth/base/sys.h"
#include "berth/ttrpc/framed_socket.h"
#include "ttrpc/ttrpc.pb.h"

namespace berth::ttrpc {

std::string IncomingRequest::meta(std::string_view key) const {
  for (const auto& [k, v] : metadata)
    if (k == key) return v;
  return {};
}

// One accepted connection: its transport, the last stream id seen (ids must
// increase) and the streams still waiting for an answer.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, uint64_t id, UniqueFd fd)
      : server_(server),
        id_(id),
        socket_(server.loop_, std::move(fd), server.options_.max_write_buffer) {}

  Status start() {
    return socket_.start([this](FrameReader::Frame&& f) { on_frame(std::move(f)); },
                         [this](const std::string&) { server_.closed(id_); },
                         [this] {
                           peer_done_ = true;
                           close_if_answered();
                         });
  }

  void respond(uint32_t stream_id, const RpcStatus& status, const std::string& payload) {
    if (pending_.erase(stream_id) == 0) return;  // answered already
    ::ttrpc::Response resp;
    if (!status.ok()) {
      resp.mutable_status()->set_code(static_cast<int32_t>(status.code));
      resp.mutable_status()->set_message(status.message);
    } else {
      resp.set_payload(payload);
    }
    std::string bytes = resp.SerializeAsString();
    if (bytes.size() > kMaxMessage) {
      resp.Clear();
      resp.mutable_status()->set_code(static_cast<int32_t>(Code::kResourceExhausted));
      resp.mutable_status()->set_message("response of " + std::to_string(bytes.size()) +
                                         " bytes exceeds the maximum message size of " +
                                         std::to_string(kMaxMessage));
      bytes = resp.SerializeAsString();
    }
    socket_.send(encode_frame(stream_id, MessageType::kResponse, bytes));
    close_if_answered();
  }

  void close() { socket_.close(); }

 private:
  // After the peer's half-close, every request it sent is still answered
  // and every answer written before the connection closes.
  void close_if_answered() {
    if (peer_done_ && pending_.empty()) socket_.close_when_flushed();
  }

  void reject(uint32_t stream_id, Code code, std::string message) {
    pending_.insert(stream_id);
    respond(stream_id, RpcStatus{code, std::move(message)}, {});
  }

  void on_frame(FrameReader::Frame&& f) {
    const uint32_t sid = f.header.stream_id;
    const auto type = static_cast<MessageType>(f.header.type);
    if (f.oversized) {
      if (type == MessageType::kRequest)
        reject(sid, Code::kResourceExhausted,
               "message length " + std::to_string(f.header.length) +
                   " exceeds maximum message size of " + std::to_string(kMaxMessage));
      return;
    }
    if (type == MessageType::kResponse) return;  // a server has no calls out
    if (sid % 2 != 1)
      return reject(sid, Code::kInvalidArgument,
                    "StreamID must be odd for client initiated streams");
    if (type != MessageType::kRequest)
      return reject(sid, Code::kInvalidArgument,
                    "streaming is not supported: message type " + std::to_string(f.header.type));
    if (sid <= last_stream_id_)
      return reject(sid, Code::kInvalidArgument, "StreamID cannot be re-used and must increment");
    last_stream_id_ = sid;

    ::ttrpc::Request req;
    if (!req.ParseFromString(f.payload))
      return reject(sid, Code::kInvalidArgument, "unmarshal request error: invalid protobuf");
    IncomingRequest in;
    in.service = req.service();
    in.method = req.method();
    in.payload = std::move(*req.mutable_payload());
    for (const auto& kv : req.metadata()) in.metadata.emplace_back(kv.key(), kv.value());
    if (req.timeout_nano() > 0)
      in.deadline_ns = sys::monotonic_ns() + static_cast<uint64_t>(req.timeout_nano());
    pending_.insert(sid);
    server_.dispatch(*this, sid, std::move(in));
  }

  friend class Server;
  Server& server_;
  uint64_t id_;
  FramedSocket socket_;
  uint32_t last_stream_id_ = 0;
  std::set<uint32_t> pending_;
  bool peer_done_ = false;
};

void Responder::reply(const std::string& payload) const { finish(RpcStatus::Ok(), payload); }

void Responder::fail(const RpcStatus& status) const {
  RpcStatus s = status;
  if (s.ok()) s = RpcStatus{Code::kUnknown, "error without a code"};
  finish(s, {});
}

void Responder::finish(const RpcStatus& status, const std::string& payload) const {
  if (auto conn = conn_.lock()) conn->respond(stream_id_, status, payload);
}

Server::Server(loop::Loop& loop, ServerOptions options) : loop_(loop), options_(options) {}

Server::~Server() {
  stop_listening();
  close_all();
}

void Server::register_method(const std::string& service, const std::string& method,
                             Handler handler) {
  handlers_[{service, method}] = std::move(handler);
}

Status Server::serve(UniqueFd listener) {
  BERTH_TRY(sys::set_nonblocking(listener, true));
  listener_ = std::move(listener);
  listen_watch_ =
      BERTH_VALUE(loop_.add(listener_.get(), EPOLLIN, [this](uint32_t) { accept_ready(); }));
  return {};
}

void Server::stop_listening() {
  if (listen_watch_ != 0) loop_.remove(listen_watch_);
  listen_watch_ = 0;
  listener_.reset();
}

void Server::close_all() {
  auto conns = std::move(connections_);
  connections_.clear();
  for (auto& [id, c] : conns) c->close();
  // A handler on one of these connections may be what called us.
  loop_.defer([conns] {});
}

void Server::accept_ready() {
  for (int i = 0; i < 64; ++i) {
    auto sock = sys::accept_nonblocking(listener_);
    if (!sock) return;  // EAGAIN, or a transient error: the loop calls again
    if (options_.check_peer_uid) {
      // ttrpc's UnixSocketRequireSameUser, plus root: the socket is 0600
      // already, this is the second lock on the door.
      auto cred = sys::peer_credentials(*sock);
      uid_t me = sys::geteuid();
      if (!cred || (cred->uid != me && cred->uid != 0)) continue;  // drop it
    }
    (void)add_connection(std::move(*sock));
  }
}

Status Server::add_connection(UniqueFd sock) {
  uint64_t id = next_id_++;
  auto conn = std::make_shared<Connection>(*this, id, std::move(sock));
  BERTH_TRY(conn->start());
  connections_.emplace(id, std::move(conn));
  return {};
}

void Server::closed(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  auto keep = std::move(it->second);  // destroyed after we are done with it
  connections_.erase(it);
  loop_.defer([keep] {});
  if (on_disconnect_) on_disconnect_();
}

void Server::dispatch(Connection& conn, uint32_t stream_id, IncomingRequest req) {
  Responder responder(conn.weak_from_this(), stream_id);
  auto it = handlers_.find({req.service, req.method});
  if (it == handlers_.end()) {
    bool known_service = false;
    for (const auto& [key, h] : handlers_) known_service |= key.first == req.service;
    responder.fail(Code::kUnimplemented, known_service
                                             ? "method " + req.method + " is not implemented"
                                             : "service " + req.service + " is not implemented");
    return;
  }
  it->second(req, responder);
}

}  // namespace berth::ttrpc
