// Container records: create, find, list, rename, remove (see service.h).

#include "berth/containers/service.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/json/json.h"
#include "internal.h"

namespace berth::containers {

namespace {

std::string random_id() {
  std::string id = random_hex(64);
  // docker never hands out an all-digit id: its short form would parse as a
  // number in some tools.
  if (std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) id[0] = 'a';
  return id;
}

Status validate_name(std::string_view name) {
  bool ok = is_valid_name(name);
  if (!ok)
    return core::invalid_argument("Invalid container name (" + std::string(name) +
                                  "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  return ok_status();
}

std::string env_key(const std::string& kv) { return kv.substr(0, kv.find('=')); }

// docker merges the image's config into the container's at create, so that
// inspect shows what runs and a later rmi cannot change it.
void merge_image_config(core::ContainerConfig& c, const core::ImageConfig& image) {
  if (!c.entrypoint) {
    if (!image.entrypoint.empty()) c.entrypoint = image.entrypoint;
    if (c.cmd.empty()) c.cmd = image.cmd;
  }
  std::vector<std::string> env = image.env;
  for (const auto& kv : c.env) {
    auto key = env_key(kv);
    std::erase_if(env, [&](const std::string& e) { return env_key(e) == key; });
    env.push_back(kv);
  }
  c.env = std::move(env);
  if (c.working_dir.empty()) c.working_dir = image.working_dir;
  if (c.user.empty()) c.user = image.user;
  if (c.stop_signal.empty()) c.stop_signal = image.stop_signal;
  for (const auto& [k, v] : image.labels) c.labels.emplace(k, v);
}

constexpr const char* kHosts =
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n";

}  // namespace

ContainerService::ContainerService(Paths paths, core::ContainerStore& store,
                                   core::VolumeStore& volumes, core::Snapshotter& snapshotter,
                                   core::TaskRuntime& tasks, core::EventBus& events, Hooks hooks)
    : paths_(std::move(paths)),
      store_(store),
      volumes_(volumes),
      snapshotter_(snapshotter),
      tasks_(tasks),
      events_(events),
      hooks_(std::move(hooks)) {
  worker_ = std::thread([this] { worker_loop(); });
  tasks_.set_handlers(
      [this](std::string_view ns, const core::TaskExit& exit) { on_exit(std::string(ns), exit); },
      [this](std::string_view ns, std::string_view topic, std::string_view id) {
        if (topic == "/tasks/oom") {
          auto e = entry(ns, id);
          std::lock_guard lock(e->oom_mu);
          e->oom = true;
        }
      });
}

ContainerService::~ContainerService() {
  tasks_.set_handlers(nullptr, nullptr);
  {
    std::lock_guard lock(work_mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::string ContainerService::container_dir(std::string_view id) const {
  return paths_.root + "/containers/" + std::string(id);
}
std::string ContainerService::log_path(std::string_view id) const {
  return container_dir(id) + "/" + std::string(id) + "-json.log";
}
std::string ContainerService::bundle_dir(std::string_view ns, std::string_view id) const {
  return paths_.state + "/containers/" + std::string(ns) + "/" + std::string(id);
}

std::shared_ptr<ContainerService::Entry> ContainerService::entry(std::string_view ns,
                                                                 std::string_view id) {
  std::lock_guard lock(entries_mu_);
  auto& e = entries_[std::string(ns) + "/" + std::string(id)];
  if (!e) e = std::make_shared<Entry>();
  return e;
}

Result<core::Container> ContainerService::find(std::string_view ns, std::string_view ref) {
  if (ref.empty()) return core::invalid_argument("container name or id: empty");
  std::string_view name = ref.starts_with('/') ? ref.substr(1) : ref;
  if (ref.size() == 64) {
    auto exact = store_.get(ns, ref);
    if (exact || exact.error().code() != ENOENT) return exact;
  }
  auto all = BERTH_VALUE(store_.list(ns));
  for (auto& c : all)
    if (c.name == name) return std::move(c);
  const core::Container* match = nullptr;
  for (const auto& c : all) {
    if (!c.id.starts_with(ref)) continue;
    if (match)
      return core::invalid_argument("multiple IDs found with provided prefix: " + std::string(ref));
    match = &c;
  }
  if (!match) return core::not_found("No such container: " + std::string(ref));
  return *match;
}

Result<std::vector<core::Container>> ContainerService::list(
    std::string_view ns, bool all, const std::vector<ListFilter>& filters) {
  auto records = BERTH_VALUE(store_.list(ns));
  // Filters of one key are OR'ed, different keys AND'ed (docker's rule); a
  // status filter lists stopped containers without -a.
  std::map<std::string, std::vector<std::string>> by_key;
  for (const auto& f : filters) {
    static const std::set<std::string> kKeys = {"status", "name",     "id",
                                                "label",  "ancestor", "exited"};
    if (!kKeys.count(f.key)) return core::invalid_argument("invalid filter '" + f.key + "'");
    by_key[f.key].push_back(f.value);
  }
  auto matches = [](const core::Container& c, const std::string& key, const std::string& v) {
    if (key == "status") return core::to_string(c.state.status) == v;
    if (key == "name") return c.name.find(v) != std::string::npos;
    if (key == "id") return c.id.starts_with(v);
    if (key == "label") {
      auto eq = v.find('=');
      auto it = c.config.labels.find(v.substr(0, eq));
      return it != c.config.labels.end() &&
             (eq == std::string::npos || it->second == v.substr(eq + 1));
    }
    if (key == "ancestor")
      return c.config.image == v || c.image_name == v || c.image_id == v ||
             c.image_id.substr(7).starts_with(v);
    return c.state.status == core::ContainerStatus::exited &&
           std::to_string(c.state.exit_code) == v;  // exited
  };
  std::vector<core::Container> out;
  for (auto& c : records) {
    bool keep =
        all || by_key.count("status") || by_key.count("exited") || is_active(c.state.status);
    for (const auto& [key, values] : by_key)
      keep = keep && std::any_of(values.begin(), values.end(),
                                 [&](const std::string& v) { return matches(c, key, v); });
    if (keep) out.push_back(std::move(c));
  }
  return out;
}

Result<std::string> ContainerService::write_files(const core::Container& c) {
  std::string dir = container_dir(c.id);
  BERTH_TRY(sys::mkdir_p(dir, 0710));
  std::string hostname = c.config.hostname.empty() ? c.id.substr(0, 12) : c.config.hostname;
  std::string hosts = kHosts;
  if (c.config.network_mode == "host") {
    auto host_hosts = sys::read_file("/etc/hosts", 1 << 20);
    if (host_hosts) hosts = *host_hosts;
    auto host_name = sys::read_file("/etc/hostname", 4096);
    if (host_name && c.config.hostname.empty())
      hostname = host_name->substr(0, host_name->find('\n'));
  } else {
    hosts += "127.0.1.1\t" + hostname + "\n";
  }
  BERTH_TRY(sys::write_file_atomic(dir + "/hostname", hostname + "\n", 0644));
  BERTH_TRY(sys::write_file_atomic(dir + "/hosts", hosts, 0644));
  auto resolv = sys::read_file("/etc/resolv.conf", 1 << 20);
  BERTH_TRY(sys::write_file_atomic(dir + "/resolv.conf", resolv ? *resolv : "", 0644));
  return dir;
}

Result<std::string> ContainerService::create(std::string_view ns, std::string name,
                                             core::ContainerConfig config) {
  if (name.starts_with('/')) name.erase(0, 1);
  if (!name.empty()) BERTH_TRY(validate_name(name));
  const auto& rp = config.restart.name;
  if (rp != "no" && rp != "always" && rp != "unless-stopped" && rp != "on-failure")
    return core::invalid_argument("invalid restart policy '" + rp + "'");
  if (config.auto_remove && rp != "no")
    return core::invalid_argument("Conflicting options: --restart and --rm");
  if (config.network_mode.empty()) config.network_mode = "none";
  if (config.network_mode != "none" && config.network_mode != "host")
    return core::invalid_argument("network " + config.network_mode +
                                  " not found (this berthd has `none` and `host`)");
  // docker: -v makes a missing host directory, --mount refuses it.
  for (auto& m : config.mounts) {
    if (m.type != "bind") continue;
    if (!m.source.starts_with("/"))
      return core::invalid_argument(
          "invalid mount config for type \"bind\": invalid mount path: '" + m.source +
          "' mount path must be absolute");
    auto create = std::find(m.options.begin(), m.options.end(), "create-host-path");
    bool may_create = create != m.options.end();
    if (may_create) m.options.erase(create);
    if (sys::exists(m.source)) continue;
    if (!may_create)
      return core::invalid_argument(
          "invalid mount config for type \"bind\": bind source path does not exist: " + m.source);
    BERTH_TRY(sys::mkdir_p(m.source, 0755));
  }
  auto image = BERTH_VALUE(hooks_.resolve_image(ns, config.image));
  merge_image_config(config, image.config);

  core::Container c;
  c.id = random_id();
  c.name = name.empty() ? generate_name(c.id) : name;
  c.image_name = image.name;
  c.image_id = image.id;
  c.snapshotter = std::string(snapshotter_.name());
  c.snapshot_key = c.id;
  c.config = std::move(config);
  c.created_at_ns = now_ns();

  auto made_volumes = BERTH_VALUE(prepare_volumes(ns, c.config, image.config));
  ScopeGuard drop_volumes([&] {
    for (const auto& v : made_volumes) (void)volume_remove(ns, v, true);
  });
  auto chain = core::chain_id(image.config.diff_ids);
  BERTH_TRY(snapshotter_.prepare(c.snapshot_key, chain, {{"berth.container", c.id}}));
  ScopeGuard drop_snapshot([&] { (void)snapshotter_.remove(c.snapshot_key); });
  auto dir = write_files(c);
  ScopeGuard drop_dir([&] { (void)sys::remove_all(container_dir(c.id)); });
  if (!dir) return dir.error();
  // The image's config as it was: start needs it (volumes, users) even if
  // the image is removed meanwhile.
  json::Writer w;
  w.value(image.config.raw);
  BERTH_TRY(sys::write_file_atomic(*dir + "/image-config.json", w.str(), 0600));
  // A generated name that is taken gets a number, as docker's does.
  for (int attempt = 1;; ++attempt) {
    auto created = store_.create(ns, c);
    if (created) break;
    if (!name.empty() || created.error().code() != EEXIST || attempt > 20) return created.error();
    c.name = generate_name(c.id) + std::to_string(attempt);
  }
  drop_dir.dismiss();
  drop_snapshot.dismiss();
  drop_volumes.dismiss();
  publish(ns, "/containers/create", c);
  return c.id;
}

Status ContainerService::rename(std::string_view ns, std::string_view ref, std::string new_name) {
  if (new_name.starts_with('/')) new_name.erase(0, 1);
  BERTH_TRY(validate_name(new_name));
  auto c = BERTH_VALUE(find(ns, ref));
  auto e = entry(ns, c.id);
  std::lock_guard lock(e->mu);
  c = BERTH_VALUE(store_.get(ns, c.id));
  if (c.name == new_name)
    return core::invalid_argument("Renaming a container with the same name as its current name");
  c.name = new_name;
  BERTH_TRY(store_.update(ns, c));
  publish(ns, "/containers/rename", c);
  return ok_status();
}

Status ContainerService::remove_locked(std::string_view ns, const core::Container& c, Entry& e,
                                       bool anonymous_volumes) {
  cleanup_task(ns, c);
  auto snap = snapshotter_.remove(c.snapshot_key);
  if (!snap && snap.error().code() != ENOENT) return snap;
  BERTH_TRY(store_.remove(ns, c.id));
  if (anonymous_volumes) {
    for (const auto& m : c.config.mounts) {
      if (m.type != "volume") continue;
      auto v = volumes_.get(ns, m.source);
      if (v && v->anonymous) (void)volume_remove(ns, m.source, false);
    }
  }
  (void)sys::remove_all(container_dir(c.id));
  e.removed = true;
  e.cv.notify_all();
  publish(ns, "/containers/delete", c);
  // The entry outlives the record a little: attach and wait calls that saw
  // the container still read its last exit from it.
  std::string key = std::string(ns) + "/" + c.id;
  schedule(std::chrono::seconds(30), [this, key] {
    std::lock_guard lock(entries_mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second->removed) entries_.erase(it);
  });
  return ok_status();
}

Status ContainerService::remove(std::string_view ns, std::string_view ref, bool force,
                                bool volumes) {
  auto c = BERTH_VALUE(find(ns, ref));
  auto e = entry(ns, c.id);
  std::unique_lock lock(e->mu);
  c = BERTH_VALUE(store_.get(ns, c.id));
  if (is_active(c.state.status)) {
    if (!force)
      return core::in_use("You cannot remove a " + std::string(core::to_string(c.state.status)) +
                          " container " + c.id +
                          ". Stop the container before attempting removal or force remove");
    // No restart policy may bring it back while it goes.
    c.state.status = core::ContainerStatus::removing;
    c.state.stopped_by_user = true;
    BERTH_TRY(store_.update_state(ns, c.id, c.state));
    uint64_t gen = e->exits;
    auto killed = tasks_.kill(ns, c.id, "", SIGKILL, true);
    if (killed) e->cv.wait_for(lock, std::chrono::seconds(10), [&] { return e->exits != gen; });
  }
  return remove_locked(ns, c, *e, volumes);
}

void ContainerService::publish(std::string_view ns, std::string_view topic,
                               const core::Container& c, std::string_view extra) {
  json::Writer w;
  w.begin_object().key("id").string(c.id).key("name").string(c.name);
  w.key("image").string(c.config.image);
  if (!extra.empty()) w.key("exitCode").string(extra);
  w.end_object();
  events_.publish({now_ns(), std::string(ns), std::string(topic), w.str()});
}

}  // namespace berth::containers
