#include "berth/ttrpc/client.h"

#include "berth/base/sys.h"
#include "berth/ttrpc/framed_socket.h"
#include "ttrpc/ttrpc.pb.h"

namespace berth::ttrpc {

Client::Client(loop::Loop& loop, std::string socket_path)
    : loop_(loop), path_(std::move(socket_path)), self_(std::make_shared<Client*>(this)) {}

Client::~Client() {
  for (auto& [id, p] : pending_) loop_.cancel_timer(p.timer);
  pending_.clear();
  self_.reset();
}

void Client::later(Callback cb, Reply reply) {
  std::weak_ptr<Client*> weak = self_;
  loop_.defer([weak, cb = std::move(cb), reply = std::move(reply)]() mutable {
    if (weak.lock()) cb(std::move(reply));
  });
}

Status Client::ensure_connected() {
  if (socket_ && socket_->is_open()) return {};
  socket_.reset();
  auto fd = BERTH_VALUE(sys::connect_unix_nonblocking(path_));
  auto sock = std::make_unique<FramedSocket>(loop_, std::move(fd));
  BERTH_TRY(sock->start(
      [this](FrameReader::Frame&& f) {
        if (static_cast<MessageType>(f.header.type) == MessageType::kResponse)
          on_frame(f.header.stream_id, std::move(f.payload), f.oversized);
      },
      [this](const std::string& reason) {
        close(reason.empty() ? "connection closed by " + path_ : reason);
      }));
  socket_ = std::move(sock);
  // A fresh connection starts its stream ids over.
  next_stream_id_ = 1;
  return {};
}

void Client::call(const std::string& service, const std::string& method, const std::string& payload,
                  const Metadata& metadata, std::chrono::nanoseconds timeout, Callback cb) {
  if (auto st = ensure_connected(); !st) {
    later(std::move(cb), Reply{RpcStatus{Code::kUnavailable, st.error().to_string()}, {}});
    return;
  }
  ::ttrpc::Request req;
  req.set_service(service);
  req.set_method(method);
  req.set_payload(payload);
  if (timeout.count() > 0) req.set_timeout_nano(timeout.count());
  for (const auto& [k, v] : metadata) {
    auto* kv = req.add_metadata();
    kv->set_key(k);
    kv->set_value(v);
  }
  std::string bytes = req.SerializeAsString();
  if (bytes.size() > kMaxMessage) {
    later(std::move(cb),
          Reply{RpcStatus{Code::kResourceExhausted, "request of " + std::to_string(bytes.size()) +
                                                        " bytes exceeds the maximum message size"},
                {}});
    return;
  }
  uint32_t sid = next_stream_id_;
  next_stream_id_ += 2;
  Pending p{std::move(cb), 0};
  if (timeout.count() > 0) {
    std::weak_ptr<Client*> weak = self_;
    p.timer = loop_.add_timer(timeout, [weak, sid, service, method] {
      auto self = weak.lock();
      if (!self) return;
      auto it = (*self)->pending_.find(sid);
      if (it == (*self)->pending_.end()) return;
      it->second.timer = 0;  // firing now: nothing to cancel
      (*self)->complete(sid, Reply{RpcStatus{Code::kDeadlineExceeded,
                                             service + "/" + method + ": deadline exceeded"},
                                   {}});
    });
  }
  pending_.emplace(sid, std::move(p));
  socket_->send(encode_frame(sid, MessageType::kRequest, bytes));
}

void Client::complete(uint32_t stream_id, Reply reply) {
  auto it = pending_.find(stream_id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (p.timer != 0) loop_.cancel_timer(p.timer);
  if (p.cb) p.cb(std::move(reply));
}

void Client::on_frame(uint32_t stream_id, std::string payload, bool oversized) {
  if (oversized) {
    complete(stream_id,
             Reply{RpcStatus{Code::kResourceExhausted, "response exceeds the maximum message size"},
                   {}});
    return;
  }
  ::ttrpc::Response resp;
  if (!resp.ParseFromString(payload)) {
    complete(stream_id,
             Reply{RpcStatus{Code::kInternal, "unmarshal response error: invalid protobuf"}, {}});
    return;
  }
  if (resp.has_status() && resp.status().code() != 0) {
    complete(
        stream_id,
        Reply{RpcStatus{static_cast<Code>(resp.status().code()), resp.status().message()}, {}});
    return;
  }
  complete(stream_id, Reply{RpcStatus::Ok(), std::move(*resp.mutable_payload())});
}

void Client::close(const std::string& reason) {
  if (socket_) {
    socket_->close();
    // May be running inside the socket's own callback: free it later.
    std::shared_ptr<FramedSocket> dead(socket_.release());
    loop_.defer([dead] {});
  }
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) {
    if (p.timer != 0) loop_.cancel_timer(p.timer);
    if (p.cb) later(std::move(p.cb), Reply{RpcStatus{Code::kUnavailable, reason}, {}});
  }
}

}  // namespace berth::ttrpc
