#pragma once
// config.json mount options → mount(2)/mount_setattr(2) arguments, as data so
// that the translation is unit-tested without root.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::os {

struct MountOptions {
  unsigned long flags = 0;        // MS_* for the mount itself (MS_RDONLY, MS_NOSUID, ...)
  unsigned long clear_flags = 0;  // flags an option explicitly turned off ("rw", "suid", ...)
  std::vector<unsigned long> propagation;  // MS_SHARED|MS_REC, ... applied after, in order
  uint64_t recursive_set = 0;  // MOUNT_ATTR_* from "rro", "rnosuid", ... (mount_setattr)
  uint64_t recursive_clear = 0;
  bool bind = false;
  bool recursive_bind = false;
  bool remount = false;
  std::string data;  // filesystem options ("mode=755,size=65536k")
  // Bind mounts ignore MS_RDONLY etc. in the first call: a second remount
  // with these flags makes them stick.
  bool needs_bind_remount() const;
};

// `field` names the mount in errors: "mounts[3].options".
Result<MountOptions> parse_mount_options(const std::vector<std::string>& options,
                                         std::string_view field);

}  // namespace berth::os
