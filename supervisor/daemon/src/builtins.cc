// The one wiring list: which implementation backs each core interface.
// Plugins never know each other; only this file links them all.
//
//   interface            implementation                          on disk
//   core::ContentStore   content::LocalStore                     <root>/content
//   core::ImageStore     metadata::SqlImageStore                 <root>/meta.db
//   core::LeaseStore     metadata::SqlLeaseStore                 <root>/meta.db
//   core::Snapshotter    snapshots::OverlaySnapshotter           <root>/snapshots/overlayfs
//                        (snapshots::NativeSnapshotter when overlay is unavailable or asked for)
//   core::EventBus       events::Exchange                        memory
//   core::Registry       remotes::RegistryClient (per operation)  —
//   core::CredentialStore remotes::DockerConfigStore             auth-config (docker's config.json)
//   core::ContainerStore metadata::SqlContainerStore             <root>/meta.db
//   core::VolumeStore    metadata::SqlVolumeStore                <root>/meta.db, <root>/volumes
//   core::TaskRuntime    tasks::ShimTaskRuntime (berth-shim)     <state>/tasks.ttrpc, <state>/s
//   container hooks      oci::generate_spec, snapshots::mount_all, images::ImageService::find

#include "builtins.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdlib>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"

#include "berth/containers/service.h"
#include "berth/content/local_store.h"
#include "berth/oci/spec.h"
#include "berth/snapshots/copy_tree.h"
#include "berth/snapshots/mount.h"
#include "berth/tasks/shim_task_runtime.h"
#include "berth/events/exchange.h"
#include "berth/metadata/metadata.h"
#include "berth/remotes/docker_config.h"
#include "berth/remotes/registry_client.h"
#include "berth/remotes/url.h"
#include "berth/snapshots/native.h"
#include "berth/snapshots/overlay.h"

namespace berth::daemon {

struct Builtins::Plugins {
  std::unique_ptr<core::ContentStore> content;
  std::unique_ptr<metadata::MetadataDb> db;
  std::unique_ptr<core::ImageStore> images;
  std::unique_ptr<core::LeaseStore> leases;
  std::unique_ptr<core::Snapshotter> snapshotter;
  std::unique_ptr<core::EventBus> events;
  std::unique_ptr<core::CredentialStore> credentials;
  remotes::HostsConfig hosts;
  std::string auth_config;
  std::unique_ptr<images::ImageService> image_service;
  std::unique_ptr<core::ContainerStore> containers;
  std::unique_ptr<core::VolumeStore> volumes;
  std::unique_ptr<core::TaskRuntime> tasks;
  std::unique_ptr<containers::ContainerService> container_service;
};

Builtins::~Builtins() = default;

namespace {

// A credential store holding one login (the request's own), in front of
// nothing: what a pull with explicit credentials uses.
class OneCredential final : public core::CredentialStore {
 public:
  explicit OneCredential(core::Credentials c) : c_(std::move(c)) {}
  Result<std::optional<core::Credentials>> get(std::string_view) override {
    return std::optional(c_);
  }
  Status store(std::string_view, const core::Credentials&) override { return ok_status(); }
  Status erase(std::string_view) override { return ok_status(); }

 private:
  core::Credentials c_;
};

// A registry client that owns the credential store it reads.
class OwningRegistry final : public core::Registry {
 public:
  OwningRegistry(std::unique_ptr<core::CredentialStore> creds, const remotes::HostsConfig& hosts)
      : creds_(std::move(creds)), client_(hosts, *creds_) {}
  Result<core::ResolvedManifest> resolve(const core::Reference& r) override {
    return client_.resolve(r);
  }
  Result<std::string> fetch_manifest(const core::Reference& r, const core::Descriptor& d) override {
    return client_.fetch_manifest(r, d);
  }
  Status fetch_blob(const core::Reference& r, const core::Descriptor& d, int64_t o,
                    const core::ByteSink& s) override {
    return client_.fetch_blob(r, d, o, s);
  }
  Result<bool> blob_exists(const core::Reference& r, const core::Descriptor& d) override {
    return client_.blob_exists(r, d);
  }
  Result<bool> mount_blob(const core::Reference& r, const core::Descriptor& d,
                          const core::Reference& f) override {
    return client_.mount_blob(r, d, f);
  }
  Status push_blob(const core::Reference& r, const core::Descriptor& d, const core::ByteSource& s,
                   const std::function<void(int64_t)>& p) override {
    return client_.push_blob(r, d, s, p);
  }
  Status push_manifest(const core::Reference& r, std::string_view t, std::string_view m,
                       std::string_view b) override {
    return client_.push_manifest(r, t, m, b);
  }
  Result<std::vector<std::string>> list_tags(const core::Reference& r) override {
    return client_.list_tags(r);
  }
  Status check_login(std::string_view h, const core::Credentials& c) override {
    return client_.check_login(h, c);
  }

 private:
  std::unique_ptr<core::CredentialStore> creds_;
  remotes::RegistryClient client_;
};

// A helper binary: the configured path, else next to berthd, else where the
// build tree puts it (relative to berthd's own folder there), else on PATH.
std::string find_binary(const std::string& configured, const std::string& name,
                        const std::vector<std::string>& beside) {
  if (!configured.empty()) return configured;
  auto self = sys::readlink("/proc/self/exe");
  if (self) {
    std::string dir = self->substr(0, self->rfind('/'));
    for (const auto& rel : beside) {
      std::string candidate = dir + "/" + rel;
      if (sys::is_executable(candidate)) return candidate;
    }
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t colon = dirs.find(':', start);
    std::string candidate = dirs.substr(start, colon - start) + "/" + name;
    if (sys::is_executable(candidate)) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return name;
}

bool cgroup_v2_host() {
  auto type = sys::statfs_type("/sys/fs/cgroup");
  return type && *type == 0x63677270;  // CGROUP2_SUPER_MAGIC
}

oci::SpecInput spec_input(const containers::SpecRequest& r, bool cgroup_v2) {
  oci::SpecInput in;
  in.id = r.id;
  in.config = r.config;
  in.image = r.image;
  in.rootfs = r.rootfs;
  in.hostname_file = r.hostname_file;
  in.hosts_file = r.hosts_file;
  in.resolv_file = r.resolv_file;
  in.mounts = r.mounts;
  in.namespace_paths = r.namespace_paths;
  in.cgroup_v2 = cgroup_v2;
  in.cgroups_path = "/berth/" + r.id;
  return in;
}

std::string default_auth_config() {
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.docker/config.json";
}

}  // namespace

Result<std::unique_ptr<Builtins>> Builtins::open(const Config& config) {
  std::unique_ptr<Builtins> b(new Builtins());
  b->plugins_ = std::make_unique<Plugins>();
  auto& p = *b->plugins_;
  p.content = BERTH_VALUE(content::LocalStore::open(config.root + "/content"));
  p.db = BERTH_VALUE(metadata::MetadataDb::open(config.root));
  p.images = std::make_unique<metadata::SqlImageStore>(*p.db);
  p.leases = std::make_unique<metadata::SqlLeaseStore>(*p.db);
  std::string snapshotter = config.snapshotter;
  if (snapshotter == "overlayfs" && !snapshots::overlay_supported(config.root)) {
    spdlog::warn("overlayfs is not usable under {}: using the native snapshotter", config.root);
    snapshotter = "native";
  }
  if (snapshotter == "overlayfs") {
    p.snapshotter =
        BERTH_VALUE(snapshots::OverlaySnapshotter::open(config.root + "/snapshots/overlayfs"));
  } else if (snapshotter == "native") {
    p.snapshotter =
        BERTH_VALUE(snapshots::NativeSnapshotter::open(config.root + "/snapshots/native"));
  } else {
    return make_error("config: snapshotter: unknown snapshotter `" + snapshotter +
                      "` (overlayfs, native)");
  }
  p.events = std::make_unique<events::Exchange>();
  p.auth_config = config.auth_config.empty() ? default_auth_config() : config.auth_config;
  p.credentials = std::make_unique<remotes::DockerConfigStore>(p.auth_config);
  p.hosts.insecure_registries = config.insecure_registries;
  p.hosts.mirrors = config.registry_mirrors;
  p.hosts.certs_dirs = config.certs_dirs;

  images::Options options;
  options.max_concurrent_downloads = config.max_concurrent_downloads;
  options.platform = core::host_platform();
  auto* plugins = &p;
  images::RegistryFactory registries =
      [plugins](const std::optional<core::Credentials>& creds) -> std::unique_ptr<core::Registry> {
    std::unique_ptr<core::CredentialStore> store;
    if (creds)
      store = std::make_unique<OneCredential>(*creds);
    else
      store = std::make_unique<remotes::DockerConfigStore>(plugins->auth_config);
    return std::make_unique<OwningRegistry>(std::move(store), plugins->hosts);
  };
  p.image_service = std::make_unique<images::ImageService>(
      images::Stores{*p.content, *p.snapshotter, *p.images, *p.leases, *p.events}, registries,
      options);

  p.containers = std::make_unique<metadata::SqlContainerStore>(*p.db);
  p.volumes = std::make_unique<metadata::SqlVolumeStore>(*p.db);
  tasks::ShimTaskRuntimeOptions task_options;
  task_options.shim_binary =
      find_binary(config.shim_binary, "berth-shim", {"berth-shim", "../../shim/berth-shim"});
  task_options.state_dir = config.state;
  task_options.daemon_address = config.address;
  auto self = sys::readlink("/proc/self/exe");
  task_options.publish_binary = self ? *self : "berthd";
  task_options.default_runtime =
      find_binary(config.default_runtime, "berth", {"berth", "../../runtime/cli/berth"});
  p.tasks = BERTH_VALUE(tasks::ShimTaskRuntime::create(task_options));
  containers::Paths container_paths{
      config.root, config.state,
      find_binary(config.logger_binary, "berth-logger",
                  {"berth-logger", "../libexec/berth/berth-logger", "../logs/berth-logger"})};
  containers::Hooks hooks;
  hooks.resolve_image = [plugins](std::string_view ns,
                                  std::string_view ref) -> Result<containers::ResolvedImage> {
    auto view = plugins->image_service->find(ns, ref);
    if (!view) {
      if (view.error().code() == ENOENT)
        return core::not_found("No such image: " + std::string(ref));
      return view.error();
    }
    return containers::ResolvedImage{view->record.name, view->config_desc.digest, view->config};
  };
  bool v2 = cgroup_v2_host();
  hooks.generate_spec = [v2](const containers::SpecRequest& r) -> Result<std::string> {
    auto in = spec_input(r, v2);
    // Called with the rootfs mounted: docker makes a missing working dir
    // at create (berth and crun refuse one that is missing).
    BERTH_TRY(oci::create_working_dir(in));
    return oci::generate_spec(in);
  };
  hooks.generate_exec = [v2](const containers::SpecRequest& r, const containers::ExecSpec& e) {
    oci::ExecOptions options{e.args, e.env, e.user, e.working_dir, e.tty, e.privileged};
    return oci::generate_exec_process(spec_input(r, v2), options);
  };
  hooks.mount_rootfs = [](const std::vector<core::Mount>& mounts, std::string_view target) {
    return snapshots::mount_all(mounts, target);
  };
  hooks.unmount_rootfs = [](std::string_view target) { return snapshots::unmount_all(target); };
  hooks.copy_tree = [](const std::string& src, const std::string& dst) {
    return snapshots::copy_tree(src, dst);
  };
  p.container_service = std::make_unique<containers::ContainerService>(
      container_paths, *p.containers, *p.volumes, *p.snapshotter, *p.tasks, *p.events,
      std::move(hooks));
  if (auto st = p.container_service->recover(); !st)
    spdlog::warn("recovering containers: {}", st.error().to_string());

  auto& ctx = b->ctx_;
  ctx.info = {"0.1.0", config.root, config.state, config.address,
              std::string(p.snapshotter->name())};
  ctx.content = p.content.get();
  ctx.snapshotter = p.snapshotter.get();
  ctx.images = p.images.get();
  ctx.leases = p.leases.get();
  ctx.events = p.events.get();
  ctx.credentials = p.credentials.get();
  ctx.image_service = p.image_service.get();
  ctx.containers = p.container_service.get();
  ctx.fetch_url = [plugins](std::string_view url, const core::ByteSink& sink) {
    return remotes::fetch_url(plugins->hosts, url, sink);
  };
  ctx.check_login = [registries](std::string_view host, const core::Credentials& c) -> Status {
    return registries(c)->check_login(host, c);
  };
  return b;
}

std::vector<std::unique_ptr<grpc::Service>> Builtins::make_services() {
  std::vector<std::unique_ptr<grpc::Service>> out;
  out.push_back(services::make_system_service(ctx_));
  out.push_back(services::make_images_service(ctx_));
  out.push_back(services::make_content_service(ctx_));
  out.push_back(services::make_snapshots_service(ctx_));
  out.push_back(services::make_leases_service(ctx_));
  out.push_back(services::make_events_service(ctx_));
  out.push_back(services::make_containers_service(ctx_));
  out.push_back(services::make_volumes_service(ctx_));
  return out;
}

}  // namespace berth::daemon
