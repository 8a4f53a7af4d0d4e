#include "berth/linux/lsm.h"

#include "berth/base/sys.h"

namespace berth::os {

namespace {

constexpr unsigned long kSelinuxMagic = 0xf97cff8c;

}  // namespace

LsmHost detect_lsm(const std::string& sys_root) {
  LsmHost host;
  auto enabled = sys::read_file(sys_root + "/module/apparmor/parameters/enabled", 64);
  host.apparmor = enabled && !enabled->empty() && (*enabled)[0] == 'Y';
  // An empty directory is not enough: selinuxfs must be mounted there.
  auto magic = sys::statfs_type(sys_root + "/fs/selinux");
  host.selinux = magic && *magic == kSelinuxMagic;
  return host;
}

Status check_lsm(const spec::Process& process, const LsmHost& host, std::string_view field_prefix) {
  std::string prefix(field_prefix);
  if (!process.apparmor_profile.empty())
    return make_error(prefix + "apparmorProfile: `" + process.apparmor_profile + "`: " +
                          (host.apparmor ? "berth does not apply AppArmor profiles"
                                         : "AppArmor is not enabled on this host"),
                      ENOTSUP);
  if (!process.selinux_label.empty())
    return make_error(prefix + "selinuxLabel: `" + process.selinux_label + "`: " +
                          (host.selinux ? "berth does not apply SELinux labels"
                                        : "SELinux is not enabled on this host"),
                      ENOTSUP);
  return {};
}

}  // namespace berth::os
