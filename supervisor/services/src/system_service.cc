// berth.v1.System: version, info, ping, login/logout, disk usage, prune.

#include <sys/utsname.h>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/core/platform.h"
#include "berth/json/json.h"
#include "berth/services/services.h"
#include "berth/v1/system.grpc.pb.h"

namespace berth::services {
namespace {

using grpc::ServerContext;
using grpc::Status;
namespace v1 = berth::v1;

// docker stores docker.io credentials under its v1 index address.
std::string credential_key(const std::string& server) {
  if (server.empty() || server == "docker.io" || server == "index.docker.io" ||
      server == "registry-1.docker.io" || server.find("://index.docker.io") != std::string::npos)
    return "https://index.docker.io/v1/";
  std::string s = server;
  for (std::string_view scheme : {"https://", "http://"})
    if (s.rfind(scheme, 0) == 0) s = s.substr(scheme.size());
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

class SystemService final : public v1::System::Service {
 public:
  explicit SystemService(Context& ctx) : ctx_(ctx) {}

  Status Version(ServerContext*, const v1::VersionRequest*, v1::VersionResponse* resp) override {
    struct utsname u {};
    sys::uname(&u);
    auto p = core::host_platform();
    resp->set_version(ctx_.info.version);
    resp->set_api_version("1");
    resp->set_os(p.os);
    resp->set_arch(p.architecture);
    resp->set_kernel_version(u.release);
    return Status::OK;
  }

  Status Info(ServerContext* c, const v1::InfoRequest*, v1::InfoResponse* resp) override {
    auto views = ctx_.image_service->list(namespace_of(c), {}, true);
    json::Writer w;
    w.begin_object();
    w.key("Images").integer(views ? static_cast<int64_t>(views->size()) : 0);
    w.key("Driver").string(ctx_.info.snapshotter);
    w.key("DockerRootDir").string(ctx_.info.root);
    w.key("ExecRoot").string(ctx_.info.state);
    w.key("ServerVersion").string(ctx_.info.version);
    w.key("OperatingSystem").string("linux");
    w.key("Architecture").string(core::host_platform().architecture);
    w.key("Name").string(hostname());
    w.end_object();
    resp->set_json(w.str());
    return Status::OK;
  }

  Status Ping(ServerContext*, const v1::PingRequest*, v1::PingResponse*) override {
    return Status::OK;
  }

  Status Login(ServerContext*, const v1::LoginRequest* req, v1::LoginResponse* resp) override {
    if (req->username().empty())
      return to_status(core::invalid_argument("login: a username is required"));
    if (req->password().empty())
      return to_status(core::invalid_argument("login: a password is required"));
    std::string key = credential_key(req->server());
    std::string host = key == "https://index.docker.io/v1/" ? "docker.io" : key;
    core::Credentials creds{req->username(), req->password(), {}};
    auto st = ctx_.check_login(host, creds);
    if (!st.ok()) return to_status(st.error());
    auto stored = ctx_.credentials->store(key, creds);
    if (!stored.ok()) return to_status(stored.error());
    resp->set_status("Login Succeeded");
    return Status::OK;
  }

  Status Logout(ServerContext*, const v1::LogoutRequest* req, v1::LogoutResponse* resp) override {
    std::string key = credential_key(req->server());
    auto st = ctx_.credentials->erase(key);
    if (!st.ok() && !core::is_not_found(st.error())) return to_status(st.error());
    resp->set_status(st.ok() ? "Removing login credentials for " + key : "Not logged in to " + key);
    return Status::OK;
  }

  Status DiskUsage(ServerContext* c, const v1::DiskUsageRequest*,
                   v1::DiskUsageResponse* resp) override {
    auto du = ctx_.image_service->disk_usage(namespace_of(c));
    if (!du) return to_status(du.error());
    auto* row = resp->add_rows();
    row->set_type("Images");
    row->set_total(du->images);
    row->set_active(du->active_images);
    row->set_size(du->size);
    row->set_reclaimable(du->reclaimable);
    for (const char* type : {"Containers", "Local Volumes", "Build Cache"})
      resp->add_rows()->set_type(type);
    return Status::OK;
  }

  Status Prune(ServerContext* c, const v1::SystemPruneRequest* req,
               v1::PruneReport* resp) override {
    auto r = ctx_.image_service->prune(namespace_of(c), req->all(), {});
    if (!r) return to_status(r.error());
    for (const auto& d : r->deleted) resp->add_deleted(d);
    resp->set_space_reclaimed(r->reclaimed);
    return Status::OK;
  }

 private:
  static std::string hostname() {
    struct utsname u {};
    sys::uname(&u);
    return u.nodename;
  }
  Context& ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_system_service(Context& ctx) {
  return std::make_unique<SystemService>(ctx);
}

}  // namespace berth::services
