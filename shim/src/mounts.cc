#include "mounts.h"

#include <fcntl.h>
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
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
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
// containerd compacts overlay options from this size on.
constexpr size_t kCompactFrom = 4096 - 512;

size_t options_size(const std::vector<std::string>& options) {
  size_t n = 0;
  for (const auto& o : options) n += o.size() + 1;
  return n;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

}  // namespace

CompactedOptions compact_lowerdir(const std::vector<std::string>& options) {
  CompactedOptions out{"", options};
  constexpr std::string_view key = "lowerdir=";
  size_t at = options.size();
  for (size_t i = 0; i < options.size(); ++i)
    if (options[i].rfind(key, 0) == 0) at = i;
  if (at == options.size()) return out;
  auto dirs = split(options[at].substr(key.size()), ':');
  // The longest common prefix, cut back to a whole directory.
  std::string common = dirs[0];
  for (const auto& d : dirs) {
    size_t n = 0;
    while (n < common.size() && n < d.size() && common[n] == d[n]) ++n;
    common.resize(n);
  }
  size_t slash = common.rfind('/');
  if (slash == std::string::npos || slash == 0 || common[0] != '/') return out;
  common.resize(slash);
  std::string joined;
  for (const auto& d : dirs) {
    std::string rel = d.substr(common.size() + 1);
    if (rel.empty()) return out;  // a lowerdir that is the common dir itself
    if (!joined.empty()) joined.push_back(':');
    joined += rel;
  }
  out.chdir = common;
  out.options[at] = std::string(key) + joined;
  return out;
}

Result<std::vector<MountStep>> plan_mount(const MountSpec& spec, const std::string& target) {
  unsigned long flags = 0, propagation = 0;
  std::string data;
  CompactedOptions compacted{"", spec.options};
  if (spec.type == "overlay" && options_size(spec.options) >= kCompactFrom)
    compacted = compact_lowerdir(spec.options);
  for (const auto& opt : compacted.options) {
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
  MountStep first{spec.source,
                  target,
                  bind ? std::string() : spec.type,
                  bind ? std::string() : data,
                  bind ? (flags & (MS_BIND | MS_REC)) : flags,
                  compacted.chdir};
  steps.push_back(first);
  // A bind ignores every flag but MS_REC; apply the rest with a remount.
  unsigned long rest = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (bind && rest != 0)
    steps.push_back(MountStep{"", target, "", "", MS_REMOUNT | MS_BIND | rest, ""});
  if (propagation != 0) steps.push_back(MountStep{"", target, "", "", propagation, ""});
  return steps;
}

Status apply_mount(const std::vector<MountStep>& steps) {
  for (const auto& s : steps) {
    if (s.chdir.empty()) {
      BERTH_TRY(sys::mount(s.source, s.target, s.fstype, s.flags, s.data));
      continue;
    }
    // The shim is single-threaded: changing its working directory for one
    // call is safe; it is restored whatever the mount's outcome.
    auto here = BERTH_VALUE(sys::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (sys::chdir(s.chdir.c_str()) != 0) return sys_error("chdir", s.chdir);
    Status st = sys::mount(s.source, s.target, s.fstype, s.flags, s.data);
    if (sys::fchdir(here.get()) != 0) return sys_error("fchdir", "the previous working directory");
    if (!st) return Status(st.error().wrap("in `" + s.chdir + "`"));
  }
  return {};
}

Status unmount_all(const std::string& target) {
  for (int i = 0; i < 64; ++i) {
    if (sys::umount2(target.c_str(), MNT_DETACH) != 0) {
      if (errno == EINVAL || errno == ENOENT) return {};  // nothing (more) mounted there
      return sys_error("umount", target);
    }
  }
  return make_error("umount `" + target + "`: still mounted after 64 unmounts", EBUSY);
}

}  // namespace berth::shim
