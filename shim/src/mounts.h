#pragma once
// Rootfs mounts from CreateTaskRequest (overlay layers from the snapshotter,
// or a bind of a prepared directory) as plan → apply, so that option
// parsing is tested as data.

#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth::shim {

struct MountSpec {
  std::string type;    // "overlay", "bind", "tmpfs", ...
  std::string source;
  std::vector<std::string> options;  // fstab style
};

struct MountStep {
  std::string source, target, fstype, data;
  unsigned long flags = 0;
};

// The mount(2) calls that put `spec` on `target`: one for most types; a
// bind that is read-only needs a second, remounting call (the kernel ignores
// MS_RDONLY on the first bind); propagation flags get their own call.
Result<std::vector<MountStep>> plan_mount(const MountSpec& spec, const std::string& target);
Status apply_mount(const std::vector<MountStep>& steps);
// Unmounts everything stacked on `target` (lazy, so a busy mount does not
// wedge a Delete). Not mounted is fine.
Status unmount_all(const std::string& target);

}  // namespace berth::shim
