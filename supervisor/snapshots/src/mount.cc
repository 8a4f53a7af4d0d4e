// mount_all / unmount_all (see mount.h).

#include "berth/snapshots/mount.h"

#include <string>

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/core/errdefs.h"

namespace berth::snapshots {
namespace {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Status mount_bind(const core::Mount& m, const std::string& target) {
  unsigned long flags = MS_BIND;
  bool ro = false;
  for (const auto& o : m.options) {
    if (o == "rbind")
      flags |= MS_REC;
    else if (o == "ro")
      ro = true;
    else if (o != "bind" && o != "rw")
      return core::invalid_argument("bind mount of `" + m.source + "`: option `" + o +
                                    "` not supported");
  }
  BERTH_TRY(sys::mount(m.source, target, "", flags));
  // A bind mount ignores MS_RDONLY on creation: read-only takes a remount.
  if (ro) {
    auto st = sys::mount("", target, "", MS_BIND | MS_REMOUNT | MS_RDONLY | (flags & MS_REC));
    if (!st) {
      (void)sys::umount(target, MNT_DETACH);
      return st;
    }
  }
  return {};
}

// Returns ENOSYS/EINVAL from the first call the kernel lacks, so the
// caller can fall back before anything is mounted.
Status mount_overlay_fsconfig(const core::Mount& m, const std::string& target) {
  std::string what = "overlay on `" + target + "`";
  UniqueFd fs = BERTH_VALUE(sys::fsopen("overlay"));
  unsigned int attrs = 0;
  for (const auto& o : m.options) {
    if (o == "ro") {
      attrs |= MOUNT_ATTR_RDONLY;
    } else if (o == "rw") {
    } else if (o.starts_with("lowerdir=")) {
      for (const auto& dir : split(std::string_view(o).substr(9), ':'))
        BERTH_TRY(sys::fsconfig_string(fs, "lowerdir+", dir, what));
    } else if (auto eq = o.find('='); eq != std::string::npos) {
      BERTH_TRY(sys::fsconfig_string(fs, o.substr(0, eq), o.substr(eq + 1), what));
    } else {
      BERTH_TRY(sys::fsconfig_flag(fs, o, what));
    }
  }
  BERTH_TRY(sys::fsconfig_create(fs, what));
  UniqueFd mnt = BERTH_VALUE(sys::fsmount(fs, attrs, what));
  return sys::move_mount_to(mnt, target);
}

Status mount_overlay_classic(const core::Mount& m, const std::string& target) {
  unsigned long flags = 0;
  std::string data;
  for (const auto& o : m.options) {
    if (o == "ro") {
      flags |= MS_RDONLY;
      continue;
    }
    if (o == "rw") continue;
    data += (data.empty() ? "" : ",") + o;
  }
  return sys::mount(m.source.empty() ? "overlay" : m.source, target, "overlay", flags, data);
}

Status mount_one(const core::Mount& m, const std::string& target) {
  if (m.type == "bind") return mount_bind(m, target);
  if (m.type != "overlay")
    return core::unsupported("mount type `" + m.type + "` on `" + target + "`: not supported");
  auto st = mount_overlay_fsconfig(m, target);
  if (st || (st.error().code() != ENOSYS && st.error().code() != EINVAL)) return st;
  // EINVAL may also be a bad option: mount(2) then reports it again.
  return mount_overlay_classic(m, target);
}

}  // namespace

Status mount_all(const std::vector<core::Mount>& mounts, std::string_view target) {
  std::string t(target);
  size_t done = 0;
  ScopeGuard undo([&] {
    for (; done > 0; --done) (void)sys::umount(t, MNT_DETACH);
  });
  for (const auto& m : mounts) {
    BERTH_TRY(mount_one(m, t));
    ++done;
  }
  undo.dismiss();
  return {};
}

Status unmount_all(std::string_view target) {
  // Each umount takes the top of the stack; EINVAL means nothing is mounted
  // there any more.
  for (int i = 0; i < 64; ++i) {
    auto st = sys::umount(target, 0);
    if (!st) {
      if (st.error().code() == EINVAL || st.error().code() == ENOENT) return {};
      return st;
    }
  }
  return make_error("unmount `" + std::string(target) + "`: more than 64 mounts stacked", EBUSY);
}

}  // namespace berth::snapshots
