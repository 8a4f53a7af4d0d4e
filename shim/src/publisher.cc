#include "publisher.h"

#include <algorithm>

#include "berth/base/log.h"
#include "containerd/services/events/ttrpc/v1/events.pb.h"

namespace berth::shim {

namespace {
constexpr const char* kService = "containerd.services.events.ttrpc.v1.Events";
constexpr const char* kNamespaceKey = "containerd-namespace-ttrpc";
}  // namespace

Publisher::Publisher(loop::Loop& loop, std::string ttrpc_address, std::string ns)
    : Publisher(loop, std::move(ttrpc_address), std::move(ns), Options{}) {}

Publisher::Publisher(loop::Loop& loop, std::string ttrpc_address, std::string ns, Options options)
    : loop_(loop),
      address_(std::move(ttrpc_address)),
      namespace_(std::move(ns)),
      options_(options) {
  // $TTRPC_ADDRESS is a plain path in 1.6; accept a unix:// form too.
  if (address_.rfind("unix://", 0) == 0) address_ = address_.substr(7);
  if (!address_.empty()) client_ = std::make_unique<ttrpc::Client>(loop_, address_);
}

Publisher::~Publisher() {
  if (retry_timer_ != 0) loop_.cancel_timer(retry_timer_);
  if (flush_timer_ != 0) loop_.cancel_timer(flush_timer_);
}

void Publisher::publish(const std::string& topic, const google::protobuf::MessageLite& event) {
  if (!client_) {
    shim_log::debug("no TTRPC_ADDRESS: event " + topic + " not published");
    return;
  }
  if (queue_.size() >= options_.max_queue) {
    ++dropped_;
    shim_log::error("event queue full (" + std::to_string(queue_.size()) + "): dropped " + topic);
    return;
  }
  queue_.push_back(
      Event{topic, event.GetTypeName(), event.SerializeAsString(), sys::wall_now(), 0});
  send_next();
}

void Publisher::send_next() {
  if (in_flight_ || retry_timer_ != 0 || queue_.empty()) return;
  const Event& e = queue_.front();
  containerd::services::events::ttrpc::v1::ForwardRequest req;
  auto* env = req.mutable_envelope();
  env->mutable_timestamp()->set_seconds(e.when.seconds);
  env->mutable_timestamp()->set_nanos(e.when.nanos);
  env->set_namespace_(namespace_);
  env->set_topic(e.topic);
  env->mutable_event()->set_type_url(e.type_url);
  env->mutable_event()->set_value(e.bytes);
  in_flight_ = true;
  std::weak_ptr<bool> alive = alive_;
  client_->call(kService, "Forward", req.SerializeAsString(), {{kNamespaceKey, namespace_}},
                options_.timeout, [this, alive](ttrpc::Client::Reply reply) {
                  if (alive.lock()) on_reply(reply);
                });
}

void Publisher::on_reply(const ttrpc::Client::Reply& reply) {
  in_flight_ = false;
  if (queue_.empty()) return;
  Event& e = queue_.front();
  if (reply.status.ok()) {
    ++delivered_;
    queue_.pop_front();
  } else if (++e.attempts >= options_.attempts) {
    ++dropped_;
    shim_log::error("publish " + e.topic + " failed " + std::to_string(e.attempts) +
                    " times, dropped: " + reply.status.message);
    queue_.pop_front();
  } else {
    auto backoff = std::min(options_.max_backoff,
                            options_.first_backoff * (1 << std::min(e.attempts - 1, 10)));
    shim_log::warn("publish " + e.topic + ": " + reply.status.message + "; retrying");
    std::weak_ptr<bool> alive = alive_;
    retry_timer_ = loop_.add_timer(backoff, [this, alive] {
      if (!alive.lock()) return;
      retry_timer_ = 0;
      send_next();
    });
    return;
  }
  check_flush();
  send_next();
}

void Publisher::flush(std::chrono::milliseconds limit, std::function<void()> cb) {
  flush_cb_ = std::move(cb);
  std::weak_ptr<bool> alive = alive_;
  if (flush_timer_ != 0) loop_.cancel_timer(flush_timer_);
  flush_timer_ = loop_.add_timer(limit, [this, alive] {
    if (!alive.lock()) return;
    flush_timer_ = 0;
    if (!queue_.empty())
      shim_log::warn("shutting down with " + std::to_string(queue_.size()) + " events unpublished");
    if (auto cb = std::move(flush_cb_)) {
      flush_cb_ = nullptr;
      cb();
    }
  });
  check_flush();
}

void Publisher::check_flush() {
  if (!flush_cb_ || !queue_.empty() || in_flight_) return;
  if (flush_timer_ != 0) loop_.cancel_timer(flush_timer_);
  flush_timer_ = 0;
  auto cb = std::move(flush_cb_);
  flush_cb_ = nullptr;
  loop_.defer(cb);
}

}  // namespace berth::shim
