// berth.v1.Images over images::ImageService.

#include <algorithm>

#include "berth/core/errdefs.h"
#include "berth/core/reference.h"
#include "berth/services/services.h"
#include "berth/v1/images.grpc.pb.h"
#include "convert.h"

namespace berth::services {
namespace {

using grpc::ServerContext;
using grpc::Status;
namespace v1 = berth::v1;

std::optional<core::Credentials> credentials_of(const v1::RegistryAuth& auth, bool has) {
  if (!has || (auth.username().empty() && auth.password().empty() && auth.identity_token().empty()))
    return std::nullopt;
  return core::Credentials{auth.username(), auth.password(), auth.identity_token()};
}

std::vector<images::Filter> filters_of(const google::protobuf::RepeatedPtrField<v1::Filter>& in) {
  std::vector<images::Filter> out;
  for (const auto& f : in) out.push_back({f.key(), f.value()});
  return out;
}

void fill_progress(const images::Progress& p, v1::Progress* out) {
  out->set_id(p.id);
  out->set_status(p.status);
  out->set_current(p.current);
  out->set_total(p.total);
  out->set_result(p.result);
}

class ImagesService final : public v1::Images::Service {
 public:
  explicit ImagesService(Context& ctx) : ctx_(ctx), svc_(*ctx.image_service) {}

  Status List(ServerContext* c, const v1::ListImagesRequest* req,
              v1::ListImagesResponse* resp) override {
    auto ns = namespace_of(c);
    auto views = svc_.list(ns, filters_of(req->filters()), req->all());
    if (!views) return to_status(views.error());
    for (const auto& v : *views) fill_summary(ns, v, resp->add_images());
    return Status::OK;
  }

  Status Inspect(ServerContext* c, const v1::InspectImageRequest* req,
                 v1::InspectImageResponse* resp) override {
    auto ns = namespace_of(c);
    auto v = svc_.find(ns, req->ref());
    if (!v) return to_status(v.error());
    auto json = svc_.inspect_json(ns, *v);
    if (!json) return to_status(json.error());
    resp->set_json(*json);
    fill_summary(ns, *v, resp->mutable_summary());
    return Status::OK;
  }

  Status History(ServerContext* c, const v1::HistoryRequest* req,
                 v1::HistoryResponse* resp) override {
    auto items = svc_.history(namespace_of(c), req->ref());
    if (!items) return to_status(items.error());
    for (const auto& i : *items) {
      auto* out = resp->add_items();
      out->set_id(i.id);
      out->set_created(i.created);
      out->set_created_by(i.created_by);
      out->set_size(i.size);
      out->set_comment(i.comment);
      for (const auto& t : i.tags) out->add_tags(t);
    }
    return Status::OK;
  }

  Status Tag(ServerContext* c, const v1::TagRequest* req, v1::TagResponse*) override {
    auto st = svc_.tag(namespace_of(c), req->source(), req->target());
    return st.ok() ? Status::OK : to_status(st.error());
  }

  Status Remove(ServerContext* c, const v1::RemoveImageRequest* req,
                v1::RemoveImageResponse* resp) override {
    auto ns = namespace_of(c);
    // docker: the last name of an image a container was made from goes
    // only with --force (the container keeps its snapshot and config).
    if (!req->force() && ctx_.containers) {
      auto view = svc_.find(ns, req->ref());
      auto names = view ? svc_.names_of(ns, view->config_desc.digest)
                        : Result<std::vector<std::string>>(std::vector<std::string>{});
      bool last = !names || names->size() <= 1 ||
                  view->config_desc.digest.find(req->ref()) != std::string::npos;
      auto users = ctx_.containers->list(ns, true, {});
      if (view && last && users) {
        for (const auto& ct : *users) {
          if (ct.image_id != view->config_desc.digest) continue;
          return to_status(core::in_use("conflict: unable to remove repository reference \"" +
                                        req->ref() + "\" (must force) - container " +
                                        ct.id.substr(0, 12) + " is using its referenced image " +
                                        view->config_desc.digest.substr(7, 12)));
        }
      }
    }
    auto r = svc_.remove(ns, req->ref(), req->force(), req->no_prune());
    if (!r) return to_status(r.error());
    for (const auto& u : r->untagged) resp->add_untagged(u);
    for (const auto& d : r->deleted) resp->add_deleted(d);
    return Status::OK;
  }

  Status Pull(ServerContext* c, const v1::PullRequest* req,
              grpc::ServerWriter<v1::Progress>* w) override {
    std::atomic<bool> cancel{false};
    images::PullRequest pr{req->ref(), req->platform(), req->all_tags(),
                           credentials_of(req->auth(), req->has_auth())};
    auto r = svc_.pull(
        namespace_of(c), pr,
        [&](const images::Progress& p) {
          if (c->IsCancelled()) cancel = true;
          v1::Progress msg;
          fill_progress(p, &msg);
          if (!w->Write(msg)) cancel = true;
        },
        cancel);
    return r ? Status::OK : to_status(r.error());
  }

  Status Push(ServerContext* c, const v1::PushRequest* req,
              grpc::ServerWriter<v1::Progress>* w) override {
    std::atomic<bool> cancel{false};
    std::mutex mu;
    auto st = svc_.push(
        namespace_of(c), req->ref(), req->all_tags(), credentials_of(req->auth(), req->has_auth()),
        [&](const images::Progress& p) {
          std::lock_guard lock(mu);
          if (c->IsCancelled()) cancel = true;
          v1::Progress msg;
          fill_progress(p, &msg);
          if (!w->Write(msg)) cancel = true;
        },
        cancel);
    return st.ok() ? Status::OK : to_status(st.error());
  }

  Status Save(ServerContext* c, const v1::SaveRequest* req,
              grpc::ServerWriter<v1::DataChunk>* w) override {
    std::vector<std::string> refs(req->refs().begin(), req->refs().end());
    // Coalesced into 1 MiB messages: libarchive writes header-sized bits.
    std::string pending;
    auto flush = [&]() -> berth::Status {
      if (pending.empty()) return ok_status();
      v1::DataChunk chunk;
      chunk.set_data(std::move(pending));
      pending.clear();
      if (!w->Write(chunk)) return core::canceled("save: the client went away");
      return ok_status();
    };
    auto st = svc_.save(namespace_of(c), refs, [&](std::string_view bytes) -> berth::Status {
      pending.append(bytes);
      if (pending.size() >= (1 << 20)) return flush();
      return ok_status();
    });
    if (st.ok()) st = flush();
    return st.ok() ? Status::OK : to_status(st.error());
  }

  Status Load(ServerContext* c,
              grpc::ServerReaderWriter<v1::Progress, v1::LoadRequest>* stream) override {
    v1::LoadRequest msg;
    std::string current;
    bool quiet = false, first = true;
    images::ChunkReader reader = [&]() -> Result<std::string_view> {
      for (;;) {
        if (!stream->Read(&msg)) return std::string_view();
        if (first) quiet = msg.quiet(), first = false;
        if (msg.data().empty()) continue;
        current = std::move(*msg.mutable_data());
        return std::string_view(current);
      }
    };
    auto loaded = svc_.load(namespace_of(c), reader, [&](const images::Progress& p) {
      if (quiet && !p.id.empty()) return;
      v1::Progress out;
      fill_progress(p, &out);
      stream->Write(out);
    });
    return loaded ? Status::OK : to_status(loaded.error());
  }

  Status Import(ServerContext* c,
                grpc::ServerReaderWriter<v1::Progress, v1::ImportRequest>* stream) override {
    v1::ImportRequest msg;
    if (!stream->Read(&msg))
      return Status(grpc::StatusCode::INVALID_ARGUMENT, "import: no options sent");
    images::ImportRequest req{
        msg.ref(), {msg.changes().begin(), msg.changes().end()}, msg.message(), msg.platform()};
    if (!msg.url().empty()) {
      auto id = svc_.import_from(namespace_of(c), req, [&](const images::ChunkWriter& out) {
        return ctx_.fetch_url(msg.url(), out);
      });
      if (!id) return to_status(id.error());
      v1::Progress done;
      done.set_result(*id);
      stream->Write(done);
      return Status::OK;
    }
    std::string current = msg.data();
    bool first = true;
    images::ChunkReader reader = [&]() -> Result<std::string_view> {
      if (first && !current.empty()) {
        first = false;
        return std::string_view(current);
      }
      first = false;
      for (;;) {
        if (!stream->Read(&msg)) return std::string_view();
        if (msg.data().empty()) continue;
        current = std::move(*msg.mutable_data());
        return std::string_view(current);
      }
    };
    auto id = svc_.import(namespace_of(c), req, reader);
    if (!id) return to_status(id.error());
    v1::Progress out;
    out.set_result(*id);
    stream->Write(out);
    return Status::OK;
  }

  Status Prune(ServerContext* c, const v1::PruneImagesRequest* req,
               v1::PruneReport* resp) override {
    auto r = svc_.prune(namespace_of(c), req->all(), filters_of(req->filters()));
    if (!r) return to_status(r.error());
    for (const auto& d : r->deleted) resp->add_deleted(d);
    resp->set_space_reclaimed(r->reclaimed);
    return Status::OK;
  }

 private:
  void fill_summary(const std::string& ns, const images::ImageView& v, v1::ImageSummary* out) {
    out->set_id(v.config_desc.digest);
    out->set_name(v.record.name);
    auto ref = core::parse_reference(v.record.name, false);
    if (ref) {
      if (!ref->tag.empty()) out->add_repo_tags(ref->str());
      core::Reference bare = *ref;
      bare.tag.clear();
      bare.digest = v.record.target.digest;
      out->add_repo_digests(bare.str());
    }
    (void)ns;
    out->set_created(images::parse_time(v.config.created));
    out->set_size(v.size);
    for (const auto& [k, val] : v.config.labels) (*out->mutable_labels())[k] = val;
    out->set_containers(-1);
    to_proto(v.record.target, out->mutable_target());
  }

  Context& ctx_;
  images::ImageService& svc_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_images_service(Context& ctx) {
  return std::make_unique<ImagesService>(ctx);
}

}  // namespace berth::services
