// berth.v1.Volumes over the container service's volume calls.

#include <set>

#include "berth/core/errdefs.h"
#include "berth/services/services.h"
#include "berth/v1/volumes.grpc.pb.h"

namespace berth::services {
namespace {

namespace v1 = berth::v1;
using grpc::ServerContext;
using grpc::Status;

void fill(const core::Volume& v, v1::VolumeInfo* out) {
  out->set_name(v.name);
  out->set_driver("local");
  out->set_mountpoint(v.mountpoint);
  for (const auto& [k, val] : v.labels) (*out->mutable_labels())[k] = val;
  out->set_created_at_ns(v.created_at_ns);
  out->set_anonymous(v.anonymous);
}

class VolumesService final : public v1::Volumes::Service {
 public:
  explicit VolumesService(Context& ctx) : svc_(*ctx.containers) {}

  Status Create(ServerContext* c, const v1::CreateVolumeRequest* req,
                v1::VolumeInfo* resp) override {
    if (!req->driver().empty() && req->driver() != "local")
      return to_status(core::not_found("plugin \"" + req->driver() + "\" not found"));
    if (!req->driver_opts().empty())
      return to_status(core::invalid_argument(
          "volume driver options (-o) are not supported yet: the local driver makes a directory"));
    std::map<std::string, std::string> labels(req->labels().begin(), req->labels().end());
    auto v = svc_.volume_create(namespace_of(c), req->name(), std::move(labels));
    if (!v) return to_status(v.error());
    fill(*v, resp);
    return Status::OK;
  }

  Status Inspect(ServerContext* c, const v1::InspectVolumeRequest* req,
                 v1::VolumeInfo* resp) override {
    auto v = svc_.volume_get(namespace_of(c), req->name());
    if (!v) return to_status(v.error());
    fill(*v, resp);
    return Status::OK;
  }

  Status List(ServerContext* c, const v1::ListVolumesRequest* req,
              v1::ListVolumesResponse* resp) override {
    auto ns = namespace_of(c);
    auto list = svc_.volume_list(ns);
    if (!list) return to_status(list.error());
    std::set<std::string> used;
    bool dangling_filter = false, dangling = false;
    for (const auto& f : req->filters()) {
      if (f.key() == "dangling") {
        dangling_filter = true;
        dangling = f.value() == "true" || f.value() == "1";
      } else if (f.key() != "name" && f.key() != "label") {
        return to_status(core::invalid_argument("invalid filter '" + f.key() + "'"));
      }
    }
    if (dangling_filter) {
      auto containers = svc_.list(ns, true, {});
      if (!containers) return to_status(containers.error());
      for (const auto& ct : *containers)
        for (const auto& m : ct.config.mounts)
          if (m.type == "volume") used.insert(m.source);
    }
    for (const auto& v : *list) {
      bool keep = true;
      for (const auto& f : req->filters()) {
        if (f.key() == "name") keep = keep && v.name.find(f.value()) != std::string::npos;
        if (f.key() == "label") {
          auto eq = f.value().find('=');
          auto it = v.labels.find(f.value().substr(0, eq));
          keep = keep && it != v.labels.end() &&
                 (eq == std::string::npos || it->second == f.value().substr(eq + 1));
        }
      }
      if (dangling_filter) keep = keep && (used.count(v.name) == 0) == dangling;
      if (keep) fill(v, resp->add_volumes());
    }
    return Status::OK;
  }

  Status Remove(ServerContext* c, const v1::RemoveVolumeRequest* req,
                v1::RemoveVolumeResponse*) override {
    auto st = svc_.volume_remove(namespace_of(c), req->name(), req->force());
    if (!st) {
      if (req->force() && st.error().code() == ENOENT) return Status::OK;
      return to_status(st.error());
    }
    return Status::OK;
  }

  Status Prune(ServerContext* c, const v1::PruneVolumesRequest*, v1::PruneReport* resp) override {
    auto removed = svc_.volume_prune(namespace_of(c));
    if (!removed) return to_status(removed.error());
    for (const auto& n : *removed) resp->add_deleted(n);
    return Status::OK;
  }

 private:
  containers::ContainerService& svc_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_volumes_service(Context& ctx) {
  return std::make_unique<VolumesService>(ctx);
}

}  // namespace berth::services
