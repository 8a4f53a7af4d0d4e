#pragma once
// Rootfs mounts from CreateTaskRequest (overlay layers from the snapshotter,
// or a bind of a prepared directory) as plan → apply, so that option
// parsing is tested as data.
//
// mount(2) copies at most one page of data. An image with many layers gives
// an overlay lowerdir list longer than that (about 40 layers with
// containerd's snapshot paths): as containerd does, when the options come
// near a page (within 512 bytes), the lowerdirs are written relative to
// their longest common parent directory and the mount runs with that
// directory as the working directory (the kernel resolves relative
// overlay paths against it).

#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth::shim {

struct MountSpec {
  std::string type;  // "overlay", "bind", "tmpfs", ...
  std::string source;
  std::vector<std::string> options;  // fstab style
};

struct MountStep {
  std::string source, target, fstype, data;
  unsigned long flags = 0;
  std::string chdir;  // working directory for this mount(2) ("" = unchanged)
};

// The lowerdir compaction: {"lowerdir=/s/snapshots/3/fs:/s/snapshots/2/fs",
// ...} → chdir "/s/snapshots", {"lowerdir=3/fs:2/fs", ...}. Unchanged
// (empty chdir) when the lowerdirs share no parent but "/".
struct CompactedOptions {
  std::string chdir;
  std::vector<std::string> options;
};
CompactedOptions compact_lowerdir(const std::vector<std::string>& options);

// The mount(2) calls that put `spec` on `target`: one for most types; a
// bind that is read-only needs a second, remounting call (the kernel ignores
// MS_RDONLY on the first bind); propagation flags get their own call.
Result<std::vector<MountStep>> plan_mount(const MountSpec& spec, const std::string& target);
Status apply_mount(const std::vector<MountStep>& steps);
// Unmounts everything stacked on `target` (lazy, so a busy mount does not
// wedge a Delete). Not mounted is fine.
Status unmount_all(const std::string& target);

}  // namespace berth::shim
