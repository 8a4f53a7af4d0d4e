#pragma once
// Mounting what a snapshotter returns (containerd's mount.All / UnmountAll).
//
//   type      options understood
//   bind      bind, rbind, ro, rw
//   overlay   lowerdir=a:b:…, upperdir=, workdir=, ro, any other key=value
//             or flag passed to overlayfs as is
//
// Overlay goes through the new mount API with one "lowerdir+" per layer
// (Linux 6.8), so an image with more layers than one option page
// (4096 bytes of "lowerdir=…") holds still mounts. Without fsopen (ENOSYS)
// or without "lowerdir+" (EINVAL before 6.8) it falls back to mount(2)
// with the joined option string.

#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/snapshots.h"

namespace berth::snapshots {

// Mounts each of `mounts` on `target` in order; on a failure, the ones
// already mounted are unmounted again.
Status mount_all(const std::vector<core::Mount>& mounts, std::string_view target);
// Unmounts everything stacked on `target`; fine when nothing is mounted.
Status unmount_all(std::string_view target);

}  // namespace berth::snapshots
