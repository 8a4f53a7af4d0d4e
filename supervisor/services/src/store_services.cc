// berth.v1.Content, Snapshots, Leases and Events: the low-level stores,
// ctr style.

#include <unistd.h>

#include <thread>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/services/services.h"
#include "berth/v1/content.grpc.pb.h"

namespace berth::services {
namespace {

using grpc::ServerContext;
using grpc::Status;
namespace v1 = berth::v1;

class ContentService final : public v1::Content::Service {
 public:
  explicit ContentService(Context& ctx) : store_(*ctx.content) {}
  Status List(ServerContext*, const v1::ListContentRequest*,
              v1::ListContentResponse* resp) override {
    auto all = store_.list();
    if (!all) return to_status(all.error());
    for (const auto& i : *all) fill(i, resp->add_infos());
    return Status::OK;
  }
  Status Info(ServerContext*, const v1::ContentInfoRequest* req, v1::ContentInfo* resp) override {
    auto i = store_.info(req->digest());
    if (!i) return to_status(i.error());
    fill(*i, resp);
    return Status::OK;
  }
  Status Read(ServerContext*, const v1::ReadContentRequest* req,
              grpc::ServerWriter<v1::ContentChunk>* w) override {
    auto fd = store_.open_blob(req->digest());
    if (!fd) return to_status(fd.error());
    std::string buf(1 << 20, '\0');
    for (;;) {
      ssize_t n = sys::read(fd->get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return to_status(sys_error("read blob", req->digest()));
      if (n == 0) return Status::OK;
      v1::ContentChunk chunk;
      chunk.set_data(buf.data(), static_cast<size_t>(n));
      if (!w->Write(chunk)) return Status::CANCELLED;
    }
  }
  Status Delete(ServerContext*, const v1::DeleteContentRequest* req,
                v1::DeleteContentResponse*) override {
    auto st = store_.remove(req->digest());
    return st.ok() ? Status::OK : to_status(st.error());
  }
  Status ListIngests(ServerContext*, const v1::ListIngestsRequest*,
                     v1::ListIngestsResponse* resp) override {
    auto all = store_.ingests();
    if (!all) return to_status(all.error());
    for (const auto& i : *all) {
      auto* o = resp->add_ingests();
      o->set_ref(i.ref);
      o->set_offset(i.offset);
      o->set_total(i.total);
      o->set_expected(i.expected);
      o->set_updated_at(i.updated_at);
    }
    return Status::OK;
  }

 private:
  static void fill(const core::ContentInfo& i, v1::ContentInfo* o) {
    o->set_digest(i.digest);
    o->set_size(i.size);
    o->set_created_at(i.created_at);
  }
  core::ContentStore& store_;
};

class SnapshotsService final : public v1::Snapshots::Service {
 public:
  explicit SnapshotsService(Context& ctx) : ctx_(ctx) {}
  Status List(ServerContext*, const v1::ListSnapshotsRequest* req,
              v1::ListSnapshotsResponse* resp) override {
    auto* sn = pick(req->snapshotter());
    if (!sn) return unknown(req->snapshotter());
    auto all = sn->list();
    if (!all) return to_status(all.error());
    for (const auto& i : *all) fill(i, resp->add_snapshots());
    return Status::OK;
  }
  Status Stat(ServerContext*, const v1::StatSnapshotRequest* req, v1::SnapshotInfo* resp) override {
    auto* sn = pick(req->snapshotter());
    if (!sn) return unknown(req->snapshotter());
    auto i = sn->stat(req->key());
    if (!i) return to_status(i.error());
    fill(*i, resp);
    return Status::OK;
  }
  Status Mounts(ServerContext*, const v1::SnapshotMountsRequest* req,
                v1::SnapshotMountsResponse* resp) override {
    auto* sn = pick(req->snapshotter());
    if (!sn) return unknown(req->snapshotter());
    auto m = sn->mounts(req->key());
    if (!m) return to_status(m.error());
    for (const auto& x : *m) {
      auto* o = resp->add_mounts();
      o->set_type(x.type);
      o->set_source(x.source);
      for (const auto& opt : x.options) o->add_options(opt);
    }
    return Status::OK;
  }
  Status Remove(ServerContext*, const v1::RemoveSnapshotRequest* req,
                v1::RemoveSnapshotResponse*) override {
    auto* sn = pick(req->snapshotter());
    if (!sn) return unknown(req->snapshotter());
    auto st = sn->remove(req->key());
    return st.ok() ? Status::OK : to_status(st.error());
  }
  Status Usage(ServerContext*, const v1::SnapshotUsageRequest* req,
               v1::SnapshotUsageResponse* resp) override {
    auto* sn = pick(req->snapshotter());
    if (!sn) return unknown(req->snapshotter());
    auto u = sn->usage(req->key());
    if (!u) return to_status(u.error());
    resp->set_size(u->size);
    resp->set_inodes(u->inodes);
    return Status::OK;
  }

 private:
  core::Snapshotter* pick(const std::string& name) {
    if (name.empty() || name == ctx_.snapshotter->name()) return ctx_.snapshotter;
    return nullptr;
  }
  static Status unknown(const std::string& name) {
    return Status(grpc::StatusCode::NOT_FOUND, "snapshotter " + name + " is not available");
  }
  static void fill(const core::SnapshotInfo& i, v1::SnapshotInfo* o) {
    o->set_key(i.key);
    o->set_parent(i.parent);
    o->set_kind(std::string(core::to_string(i.kind)));
    for (const auto& [k, v] : i.labels) (*o->mutable_labels())[k] = v;
    o->set_created_at(i.created_at);
    o->set_updated_at(i.updated_at);
  }
  Context& ctx_;
};

class LeasesService final : public v1::Leases::Service {
 public:
  explicit LeasesService(Context& ctx) : leases_(*ctx.leases) {}
  Status Create(ServerContext* c, const v1::CreateLeaseRequest* req, v1::LeaseInfo* resp) override {
    core::Labels labels(req->labels().begin(), req->labels().end());
    int64_t expires =
        req->expires_in_seconds() > 0 ? ::time(nullptr) + req->expires_in_seconds() : 0;
    auto l = leases_.create(namespace_of(c), req->id(), labels, expires);
    if (!l) return to_status(l.error());
    fill(*l, resp);
    return Status::OK;
  }
  Status Delete(ServerContext* c, const v1::DeleteLeaseRequest* req,
                v1::DeleteLeaseResponse*) override {
    auto st = leases_.remove(namespace_of(c), req->id());
    return st.ok() ? Status::OK : to_status(st.error());
  }
  Status List(ServerContext* c, const v1::ListLeasesRequest*,
              v1::ListLeasesResponse* resp) override {
    auto all = leases_.list(namespace_of(c));
    if (!all) return to_status(all.error());
    for (const auto& l : *all) fill(l, resp->add_leases());
    return Status::OK;
  }

 private:
  static void fill(const core::Lease& l, v1::LeaseInfo* o) {
    o->set_id(l.id);
    for (const auto& [k, v] : l.labels) (*o->mutable_labels())[k] = v;
    o->set_created_at(l.created_at);
    o->set_expires_at(l.expires_at);
  }
  core::LeaseStore& leases_;
};

class EventsService final : public v1::Events::Service {
 public:
  explicit EventsService(Context& ctx) : bus_(*ctx.events) {}
  Status Subscribe(ServerContext* c, const v1::SubscribeRequest* req,
                   grpc::ServerWriter<v1::Envelope>* w) override {
    auto sub = bus_.subscribe();
    core::Event ev;
    // The stream ends when the client goes away: a watcher thread closes
    // the subscription so next() wakes up.
    std::atomic<bool> done{false};
    std::thread watcher([&] {
      while (!done && !c->IsCancelled())
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      sub->close();
    });
    while (sub->next(ev)) {
      bool keep = req->filters().empty();
      for (const auto& f : req->filters()) {
        auto pos = f.find("~=");
        std::string want = pos == std::string::npos ? f : f.substr(pos + 2);
        if (f.rfind("topic", 0) == 0 ? ev.topic.find(want) != std::string::npos : ev.ns == want)
          keep = true;
      }
      if (!keep) continue;
      v1::Envelope env;
      env.set_timestamp_ns(ev.timestamp_ns);
      env.set_namespace_(ev.ns);
      env.set_topic(ev.topic);
      env.set_payload_json(ev.payload_json);
      if (!w->Write(env)) break;
    }
    done = true;
    watcher.join();
    return Status::OK;
  }

 private:
  core::EventBus& bus_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_content_service(Context& ctx) {
  return std::make_unique<ContentService>(ctx);
}
std::unique_ptr<grpc::Service> make_snapshots_service(Context& ctx) {
  return std::make_unique<SnapshotsService>(ctx);
}
std::unique_ptr<grpc::Service> make_leases_service(Context& ctx) {
  return std::make_unique<LeasesService>(ctx);
}
std::unique_ptr<grpc::Service> make_events_service(Context& ctx) {
  return std::make_unique<EventsService>(ctx);
}

}  // namespace berth::services
