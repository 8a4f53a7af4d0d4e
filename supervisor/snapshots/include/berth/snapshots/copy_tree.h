#pragma once
// A faithful copy of a directory tree, for the native snapshotter (and
// for tests that need a tree's twin). Through berth::sys only, no `cp -a`:
//   - owners, then modes (chown clears setuid/setgid, so the mode after it),
//     then xattrs (chown also drops security.capability, so after it too),
//     then times (directories last, after their children were made);
//   - hard links inside the tree stay hard links;
//   - symlinks copied as links (never followed), devices and fifos made
//     with mknod; sockets skipped (meaningless in a snapshot, as docker);
//   - file data by copy_file_range (a reflink where the filesystem can).
// `dst` must not exist; it is made with the metadata of `src`.

#include <string>

#include "berth/base/error.h"

namespace berth::snapshots {

Status copy_tree(const std::string& src, const std::string& dst);

}  // namespace berth::snapshots
