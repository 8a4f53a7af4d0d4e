#pragma once
// Linux security modules a config may name: process.apparmorProfile and
// process.selinuxLabel. berth applies neither, and the runtime spec says a
// runtime MUST error on a property it cannot apply, so a non-empty value is
// refused (runc and crun refuse it too when the host lacks the module). An
// empty value means "none" and is always accepted.

#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/spec/spec.h"

namespace berth::os {

struct LsmHost {
  bool apparmor = false;  // /sys/module/apparmor/parameters/enabled is "Y"
  bool selinux = false;   // selinuxfs is mounted at /sys/fs/selinux
};

// As runc detects them; `sys_root` is "/sys" except in tests.
LsmHost detect_lsm(const std::string& sys_root = "/sys");

// `field_prefix` names where the process came from and precedes the field
// name: "config.json: process." or "/path/process.json: ".
Status check_lsm(const spec::Process& process, const LsmHost& host, std::string_view field_prefix);

}  // namespace berth::os
