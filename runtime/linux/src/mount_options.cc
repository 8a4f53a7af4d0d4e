#include "berth/linux/mount_options.h"

#include <linux/mount.h>
#include <sys/mount.h>

#include <array>

namespace berth::os {

namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // the option turns the flag off
  unsigned long flag;
};

constexpr std::array kFlagOptions{
    FlagOption{"ro", false, MS_RDONLY},
    FlagOption{"rw", true, MS_RDONLY},
    FlagOption{"nosuid", false, MS_NOSUID},
    FlagOption{"suid", true, MS_NOSUID},
    FlagOption{"nodev", false, MS_NODEV},
    FlagOption{"dev", true, MS_NODEV},
    FlagOption{"noexec", false, MS_NOEXEC},
    FlagOption{"exec", true, MS_NOEXEC},
    FlagOption{"sync", false, MS_SYNCHRONOUS},
    FlagOption{"async", true, MS_SYNCHRONOUS},
    FlagOption{"dirsync", false, MS_DIRSYNC},
    FlagOption{"mand", false, MS_MANDLOCK},
    FlagOption{"nomand", true, MS_MANDLOCK},
    FlagOption{"noatime", false, MS_NOATIME},
    FlagOption{"atime", true, MS_NOATIME},
    FlagOption{"nodiratime", false, MS_NODIRATIME},
    FlagOption{"diratime", true, MS_NODIRATIME},
    FlagOption{"relatime", false, MS_RELATIME},
    FlagOption{"norelatime", true, MS_RELATIME},
    FlagOption{"strictatime", false, MS_STRICTATIME},
    FlagOption{"nostrictatime", true, MS_STRICTATIME},
    FlagOption{"lazytime", false, MS_LAZYTIME},
    FlagOption{"nolazytime", true, MS_LAZYTIME},
    FlagOption{"nosymfollow", false, 256 /* MS_NOSYMFOLLOW, Linux 5.10 */},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr std::array kPropagationOptions{
    PropagationOption{"private", MS_PRIVATE},
    PropagationOption{"rprivate", MS_PRIVATE | MS_REC},
    PropagationOption{"shared", MS_SHARED},
    PropagationOption{"rshared", MS_SHARED | MS_REC},
    PropagationOption{"slave", MS_SLAVE},
    PropagationOption{"rslave", MS_SLAVE | MS_REC},
    PropagationOption{"unbindable", MS_UNBINDABLE},
    PropagationOption{"runbindable", MS_UNBINDABLE | MS_REC},
};

struct RecursiveOption {
  std::string_view name;
  bool clear;
  uint64_t attr;
};

// runc's recursive variants ("rro", ...), applied with mount_setattr(2)
// and AT_RECURSIVE (Linux 5.12).
constexpr std::array kRecursiveOptions{
    RecursiveOption{"rro", false, MOUNT_ATTR_RDONLY},
    RecursiveOption{"rrw", true, MOUNT_ATTR_RDONLY},
    RecursiveOption{"rnosuid", false, MOUNT_ATTR_NOSUID},
    RecursiveOption{"rsuid", true, MOUNT_ATTR_NOSUID},
    RecursiveOption{"rnodev", false, MOUNT_ATTR_NODEV},
    RecursiveOption{"rdev", true, MOUNT_ATTR_NODEV},
    RecursiveOption{"rnoexec", false, MOUNT_ATTR_NOEXEC},
    RecursiveOption{"rexec", true, MOUNT_ATTR_NOEXEC},
    RecursiveOption{"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    RecursiveOption{"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    RecursiveOption{"rnoatime", false, MOUNT_ATTR_NOATIME},
    RecursiveOption{"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    RecursiveOption{"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    RecursiveOption{"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

}  // namespace

bool MountOptions::needs_bind_remount() const {
  constexpr unsigned long kRemountable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                         MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | 256;
  return bind && (flags & kRemountable) != 0;
}

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options,
                                         std::string_view field) {
  MountOptions out;
  for (const auto& option : options) {
    bool matched = false;
    for (const auto& f : kFlagOptions) {
      if (option != f.name) continue;
      if (f.clear) {
        out.flags &= ~f.flag;
        out.clear_flags |= f.flag;
      } else {
        out.flags |= f.flag;
        out.clear_flags &= ~f.flag;
      }
      matched = true;
      break;
    }
    if (matched) continue;
    for (const auto& p : kPropagationOptions) {
      if (option != p.name) continue;
      out.propagation.push_back(p.flags);
      matched = true;
      break;
    }
    if (matched) continue;
    for (const auto& r : kRecursiveOptions) {
      if (option != r.name) continue;
      if (r.clear) {
        out.recursive_clear |= r.attr;
      } else {
        out.recursive_set |= r.attr;
      }
      matched = true;
      break;
    }
    if (matched) continue;
    if (option == "bind") {
      out.bind = true;
    } else if (option == "rbind") {
      out.bind = true;
      out.recursive_bind = true;
    } else if (option == "remount") {
      out.remount = true;
    } else if (option == "defaults" || option == "tmpcopyup") {
      // "defaults" means no flags; "tmpcopyup" (a runc extension) is not
      // supported and ignored like crun does when it cannot apply it.
    } else if (option == "idmap" || option == "ridmap") {
      return make_error(std::string(field) + ": idmapped mounts are not supported yet");
    } else if (option.empty()) {
      return make_error(std::string(field) + ": empty option");
    } else {
      if (!out.data.empty()) out.data.push_back(',');
      out.data.append(option);
    }
  }
  return out;
}

}  // namespace berth::os
