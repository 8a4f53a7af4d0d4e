// The working directory docker creates in the rootfs at create
// (Container.SetupWorkingDirectory), made one component at a time inside
// the rootfs.
#include <fcntl.h>
#include <sys/stat.h>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/oci/spec.h"
#include "rules.h"

namespace berth::oci {

Status create_working_dir(const SpecInput& in) {
  if (!in.config || !in.image) return core::invalid_argument("spec: no container or image config");
  std::string dir =
      !in.config->working_dir.empty() ? in.config->working_dir : in.image->working_dir;
  if (dir.empty()) return ok_status();
  if (dir.front() != '/')
    return core::invalid_argument("the working directory '" + dir +
                                  "' is invalid, it needs to be an absolute path");
  dir = clean_path(dir);
  auto root = BERTH_VALUE(sys::open(in.rootfs, O_PATH | O_DIRECTORY));
  // parent: the deepest existing directory, opened in-root; each missing
  // name is made under it with mkdirat, which never follows a final
  // symlink (it fails with EEXIST), and then opened in-root again.
  UniqueFd parent = BERTH_VALUE(sys::open_in_root(root, "/", O_PATH | O_DIRECTORY));
  std::string prefix;
  size_t pos = 1;
  while (pos <= dir.size()) {
    size_t end = dir.find('/', pos);
    if (end == std::string::npos) end = dir.size();
    std::string name = dir.substr(pos, end - pos);
    pos = end + 1;
    prefix += "/" + name;
    auto next = sys::open_in_root(root, prefix, O_PATH | O_DIRECTORY);
    if (!next.ok() && next.error().code() == ENOENT) {
      if (sys::mkdirat(parent.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
        return sys_error("mkdir", in.rootfs + prefix);
      next = sys::open_in_root(root, prefix, O_PATH | O_DIRECTORY);
    }
    if (!next.ok()) {
      if (next.error().code() == ENOTDIR)
        return core::invalid_argument("Cannot mkdir: " + dir + " is not a directory");
      return next.error().wrap("working directory `" + dir + "`");
    }
    parent = std::move(*next);
  }
  return ok_status();
}

}  // namespace berth::oci
