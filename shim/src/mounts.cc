#include "mounts.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>

#include "berth/base/sys.h"

namespace berth::shim {

namespace {

struct Flag {
  const char* name;
  bool clear;
  unsigned long value;
};

// fstab flag words (mount(8)); anything else is filesystem data.
constexpr Flag kFlags[] = {
    {"async", true, MS_SYNCHRONOUS},  {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},         {"defaults", false, 0},
    {"dev", true, MS_NODEV},          {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},   {"exec", true, MS_NOEXEC},
    {"mand", false, MS_MANDLOCK},     {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},       {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},     {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME}, {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},     {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME}, {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},         {"rw", true, MS_RDONLY},
    {"strictatime", false, MS_STRICTATIME}, {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

constexpr Flag kPropagation[] = {
    {"private", false, MS_PRIVATE},       {"rprivate", false, MS_PRIVATE | MS_REC},
    {"shared", false, MS_SHARED},         {"rshared", false, MS_SHARED | MS_REC},
    {"slave", false, MS_SLAVE},           {"rslave", false, MS_SLAVE | MS_REC},
    {"unbindable", false, MS_UNBINDABLE}, {"runbindable", false, MS_UNBINDABLE | MS_REC},
};

// mount(2) copies at most one page of data.
constexpr size_t kMaxData = 4096 - 1;

}  // namespace

Result<std::vector<MountStep>> plan_mount(const MountSpec& spec, const std::string& target) {
  unsigned long flags = 0, propagation = 0;
  std::string data;
  for (const auto& opt : spec.options) {
    bool known = false;
    for (const auto& f : kFlags) {
      if (opt != f.name) continue;
      flags = f.clear ? (flags & ~f.value) : (flags | f.value);
      known = true;
      break;
    }
    for (const auto& f : kPropagation) {
      if (known || opt != f.name) continue;
      propagation |= f.value;
      known = true;
    }
    if (known) continue;
    if (!data.empty()) data.push_back(',');
    data.append(opt);
  }
  if (spec.type == "bind" || spec.type == "rbind") {
    flags |= MS_BIND;
    if (spec.type == "rbind") flags |= MS_REC;
  }
  if (data.size() > kMaxData)
    return make_error("mount " + spec.type + " on `" + target + "`: options exceed one page (" +
                          std::to_string(data.size()) + " bytes)",
                      E2BIG);
  if (spec.type.empty() && !(flags & MS_BIND))
    return make_error("mount on `" + target + "`: no filesystem type", EINVAL);

  std::vector<MountStep> steps;
  const bool bind = flags & MS_BIND;
  MountStep first{spec.source, target, bind ? std::string() : spec.type, bind ? std::string() : data,
                  bind ? (flags & (MS_BIND | MS_REC)) : flags};
  steps.push_back(first);
  // A bind ignores every flag but MS_REC; apply the rest with a remount.
  unsigned long rest = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (bind && rest != 0) steps.push_back(MountStep{"", target, "", "", MS_REMOUNT | MS_BIND | rest});
  if (propagation != 0) steps.push_back(MountStep{"", target, "", "", propagation});
  return steps;
}

Status apply_mount(const std::vector<MountStep>& steps) {
  for (const auto& s : steps) BERTH_TRY(sys::mount(s.source, s.target, s.fstype, s.flags, s.data));
  return {};
}

Status unmount_all(const std::string& target) {
  for (int i = 0; i < 64; ++i) {
    if (::umount2(target.c_str(), MNT_DETACH) != 0) {
      if (errno == EINVAL || errno == ENOENT) return {};  // nothing (more) mounted there
      return sys_error("umount", target);
    }
  }
  return make_error("umount `" + target + "`: still mounted after 64 unmounts", EBUSY);
}

}  // namespace berth::shim
