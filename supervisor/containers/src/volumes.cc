// Volumes (docker's `local` driver): records in the VolumeStore, data in
// <root>/volumes/<name>/_data. `_data` is made at a container's first start
// with the volume, as a copy of what the image has at the mount path (docker's
// copy-up), so a named volume starts with the image's files and keeps them.

#include <algorithm>
#include <set>

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "internal.h"

namespace berth::containers {

namespace {

Status validate_volume_name(std::string_view name) {
  if (!is_valid_name(name))
    return core::invalid_argument("create " + std::string(name) + ": \"" + std::string(name) +
                                  "\" includes invalid characters for a local volume name, only "
                                  "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed");
  return ok_status();
}

}  // namespace

std::string ContainerService::volume_dir(std::string_view name) const {
  return paths_.root + "/volumes/" + std::string(name);
}

Result<core::Volume> ContainerService::volume_create(std::string_view ns, std::string name,
                                                     std::map<std::string, std::string> labels) {
  bool anonymous = name.empty();
  if (anonymous) name = random_hex(64);
  BERTH_TRY(validate_volume_name(name));
  auto existing = volumes_.get(ns, name);
  if (existing) return existing;
  core::Volume v;
  v.name = name;
  v.mountpoint = volume_dir(name) + "/_data";
  v.labels = std::move(labels);
  v.anonymous = anonymous;
  v.created_at_ns = now_ns();
  BERTH_TRY(sys::mkdir_p(volume_dir(name), 0701));
  ScopeGuard drop([&] { (void)sys::remove_all(volume_dir(name)); });
  auto created = volumes_.create(ns, v);
  if (!created) {
    // A concurrent create of the same name won: theirs is ours.
    if (created.error().code() == EEXIST) {
      drop.dismiss();
      return volumes_.get(ns, name);
    }
    return created.error();
  }
  drop.dismiss();
  events_.publish({now_ns(), std::string(ns), "/volumes/create", "{\"name\":\"" + v.name + "\"}"});
  return v;
}

Result<core::Volume> ContainerService::volume_get(std::string_view ns, std::string_view name) {
  return volumes_.get(ns, name);
}

Result<std::vector<core::Volume>> ContainerService::volume_list(std::string_view ns) {
  return volumes_.list(ns);
}

Status ContainerService::volume_remove(std::string_view ns, std::string_view name, bool force) {
  auto v = BERTH_VALUE(volumes_.get(ns, name));
  if (!force) {
    auto all = BERTH_VALUE(store_.list(ns));
    std::vector<std::string> users;
    for (const auto& c : all)
      for (const auto& m : c.config.mounts)
        if (m.type == "volume" && m.source == v.name) users.push_back(c.id);
    if (!users.empty()) {
      std::string list;
      for (const auto& u : users) list += (list.empty() ? "" : ", ") + u;
      return core::in_use("remove " + v.name + ": volume is in use - [" + list + "]");
    }
  }
  BERTH_TRY(volumes_.remove(ns, name));
  (void)sys::remove_all(volume_dir(name));
  events_.publish({now_ns(), std::string(ns), "/volumes/delete", "{\"name\":\"" + v.name + "\"}"});
  return ok_status();
}

Result<std::vector<std::string>> ContainerService::volume_prune(std::string_view ns) {
  auto all = BERTH_VALUE(store_.list(ns));
  std::set<std::string> used;
  for (const auto& c : all)
    for (const auto& m : c.config.mounts)
      if (m.type == "volume") used.insert(m.source);
  std::vector<std::string> removed;
  for (const auto& v : BERTH_VALUE(volumes_.list(ns))) {
    if (used.count(v.name)) continue;
    if (volume_remove(ns, v.name, true)) removed.push_back(v.name);
  }
  return removed;
}

Result<std::vector<std::string>> ContainerService::prepare_volumes(std::string_view ns,
                                                                   core::ContainerConfig& c,
                                                                   const core::ImageConfig& image) {
  std::vector<std::string> made;
  ScopeGuard undo([&] {
    for (const auto& v : made) (void)volume_remove(ns, v, true);
  });
  std::set<std::string> targets;
  for (const auto& m : c.mounts) targets.insert(m.target);
  // An image's VOLUME not covered by the user's mounts gets an anonymous one.
  for (const auto& path : image.volumes) {
    std::string target = path;
    while (target.size() > 1 && target.back() == '/') target.pop_back();
    if (targets.count(target)) continue;
    c.mounts.push_back({"volume", "", target, false, "", {}});
    targets.insert(target);
  }
  for (auto& m : c.mounts) {
    if (m.type != "volume") continue;
    bool anonymous = m.source.empty();
    if (!anonymous && volumes_.get(ns, m.source)) continue;
    auto v = BERTH_VALUE(volume_create(ns, m.source, {}));
    m.source = v.name;
    if (anonymous) made.push_back(v.name);
  }
  undo.dismiss();
  return made;
}

Result<std::vector<core::MountSpec>> ContainerService::resolve_mounts(std::string_view ns,
                                                                      const core::Container& c,
                                                                      const std::string& rootfs) {
  std::vector<core::MountSpec> out;
  for (auto m : c.config.mounts) {
    if (m.type != "volume") {
      out.push_back(std::move(m));
      continue;
    }
    auto v = BERTH_VALUE(volumes_.get(ns, m.source));
    if (!sys::exists(v.mountpoint)) {
      // First use: the image's content at the path, resolved in the rootfs
      // (a symlink in the image cannot make us copy a host directory).
      auto root = BERTH_VALUE(sys::open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC));
      auto src = sys::open_in_root(root, m.target, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (src && hooks_.copy_tree) {
        // The resolved path: nothing runs in the rootfs yet, so it cannot
        // change between this lookup and the copy.
        auto resolved = BERTH_VALUE(sys::readlink(sys::fd_path(*src)));
        BERTH_TRY(hooks_.copy_tree(resolved, v.mountpoint));
      } else {
        BERTH_TRY(sys::mkdir_p(v.mountpoint, 0755));
      }
    }
    m.type = "bind";
    m.source = v.mountpoint;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace berth::containers
