// A container's cgroup directories: where they go (plan_placement, pure), and
// making, joining and removing them.
//
// Files are written with O_CREAT: on cgroupfs every interface file exists
// already, so O_CREAT only opens it; it lets the unit tests' fake cgroupfs
// (plain directories in a temp dir) record the same writes.

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/cgroups/cgroups.h"

namespace berth::cgroups {

namespace {

std::vector<std::string_view> path_components(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view c = path.substr(start, end - start);
    if (!c.empty() && c != ".") out.push_back(c);
    start = end + 1;
  }
  return out;
}

void append_path(std::string& dir, std::string_view component) {
  if (dir.empty() || dir.back() != '/') dir.push_back('/');
  dir.append(component);
}

std::string parent_of(std::string_view dir) {
  size_t slash = dir.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return std::string(dir.substr(0, slash));
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == '\n' || s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  return std::string(s);
}

Status write_cgroup_file(const std::string& path, std::string_view value) {
  auto fd = BERTH_VALUE(sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  return sys::write_all(fd, value, path);
}

// Missing files read as "": a fake cgroupfs has only what a test wrote.
Result<std::string> read_cgroup_file(const std::string& path) {
  auto text = sys::read_file(path, 1 << 20);
  if (!text && text.error().code() == ENOENT) return std::string();
  return text;
}

Result<bool> holds_processes(const std::string& dir) {
  auto procs = BERTH_VALUE(read_cgroup_file(dir + "/cgroup.procs"));
  return !trim(procs).empty();
}

// A v1 cpuset hierarchy: cpuset files but no cgroup.controllers (which only
// cgroup2 has; there an empty cpuset.cpus means "inherit", so nothing to copy).
bool is_v1_cpuset(const std::string& dir) {
  return sys::exists(dir + "/cpuset.cpus") && !sys::exists(dir + "/cgroup.controllers");
}

struct CpusetValues {
  std::string cpus, mems;
};

// A new v1 cpuset cgroup starts with empty cpus and mems, and the kernel
// refuses to move a task into it (ENOSPC) until both are set: take them from
// the nearest ancestor that has them.
Result<CpusetValues> inherited_cpuset(const std::string& existing, const std::string& for_dir) {
  for (std::string dir = existing;; dir = parent_of(dir)) {
    if (!sys::exists(dir + "/cpuset.cpus")) break;  // above the hierarchy's mount
    CpusetValues v;
    v.cpus = trim(BERTH_VALUE(read_cgroup_file(dir + "/cpuset.cpus")));
    v.mems = trim(BERTH_VALUE(read_cgroup_file(dir + "/cpuset.mems")));
    if (!v.cpus.empty() && !v.mems.empty()) return v;
    if (dir == "/") break;
  }
  return make_error("cgroup `" + for_dir + "`: no ancestor has cpuset.cpus and cpuset.mems set",
                    ENOSPC);
}

// mkdir -p of one container directory. Appends each directory it makes to
// `made` (parents first) before doing anything else that can fail, so the
// caller's rollback sees it. mkdir comes first, with no stat or access
// probe before it: the usual case (a new container under a parent that
// exists) is then one syscall, and EEXIST or ENOENT lead to the rarer ones.
Status create_dir(const std::string& dir, std::vector<std::string>& made, bool& created) {
  created = false;
  std::vector<std::string> missing;  // deepest first
  std::string top = dir;             // the directory the walk made, or found
  bool made_top = false;
  for (;;) {
    if (sys::mkdirat(sys::kAtFdcwd, top.c_str(), 0755) == 0) {
      made_top = true;
      break;
    }
    int err = errno;
    if (err == EEXIST) break;
    if (err != ENOENT || top == "/") return sys_error(err, "mkdir", top);
    missing.push_back(top);
    top = parent_of(top);
  }
  if (!made_top && missing.empty()) {
    auto st = BERTH_VALUE(sys::stat(dir));
    if (!S_ISDIR(st.st_mode))
      return make_error("cgroup `" + dir + "`: exists and is not a directory", ENOTDIR);
    // Sharing a cgroup with running processes would mix their limits with
    // the container's and make `kill --all` kill them too.
    if (BERTH_VALUE(holds_processes(dir)))
      return make_error("cgroup `" + dir + "`: already holds processes", EBUSY);
    return {};
  }
  if (made_top) made.push_back(top);
  std::string existing = made_top ? parent_of(top) : top;
  bool cpuset = is_v1_cpuset(existing);
  CpusetValues values;
  if (cpuset) {
    values = BERTH_VALUE(inherited_cpuset(existing, dir));
    if (made_top) {
      BERTH_TRY(write_cgroup_file(top + "/cpuset.cpus", values.cpus));
      BERTH_TRY(write_cgroup_file(top + "/cpuset.mems", values.mems));
    }
  }

  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (sys::mkdirat(sys::kAtFdcwd, it->c_str(), 0755) != 0) {
      // Made meanwhile by someone else (a second container under the same
      // new parent): theirs, not ours to set up or remove.
      if (errno == EEXIST && it + 1 != missing.rend()) continue;
      return sys_error("mkdir", *it);
    }
    made.push_back(*it);
    if (cpuset) {
      BERTH_TRY(write_cgroup_file(*it + "/cpuset.cpus", values.cpus));
      BERTH_TRY(write_cgroup_file(*it + "/cpuset.mems", values.mems));
    }
  }
  created = true;
  return {};
}

void sleep_ms(long ms) {
  struct timespec ts {};
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (sys::nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

// rmdir of a container's own directory, after the cgroups the container made
// inside it. cgroupfs answers EBUSY (a fake one ENOTEMPTY) both while it
// holds processes and for a moment after the last one exited (v1 frees the
// css asynchronously): the first is an error, the second is waited out.
Status remove_leaf(const std::string& dir) {
  // rmdir first: a container's cgroup seldom has children of its own, and
  // when it has, rmdir says so (EBUSY; ENOTEMPTY on a fake) before any
  // listing is needed.
  if (sys::unlinkat(sys::kAtFdcwd, dir.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return {};
  if (errno != EBUSY && errno != ENOTEMPTY) return sys_error("rmdir", dir);
  auto names = sys::list_subdirs(dir);
  if (!names) {
    if (names.error().code() == ENOENT) return {};
    return std::move(names).error();
  }
  for (const auto& name : *names) BERTH_TRY(remove_leaf(dir + "/" + name));
  long delay_ms = 10;
  for (int attempt = 0;; ++attempt) {
    if (sys::unlinkat(sys::kAtFdcwd, dir.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return {};
    int err = errno;
    if (err != EBUSY && err != ENOTEMPTY) return sys_error(err, "rmdir", dir);
    if (BERTH_VALUE(holds_processes(dir)))
      return make_error("cgroup `" + dir + "`: still holds processes", EBUSY);
    if (attempt == 5) return sys_error(err, "rmdir", dir);
    sleep_ms(delay_ms);  // 10 + 20 + ... + 160 ms at most
    delay_ms *= 2;
  }
}

Status collect_pids(const std::string& dir, std::vector<pid_t>& out) {
  auto procs = sys::read_file(dir + "/cgroup.procs", 16 << 20);
  if (!procs) {
    if (procs.error().code() == ENOENT) return {};  // gone, or a fake without the file
    return std::move(procs).error();
  }
  std::string_view text = *procs;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    pid_t pid = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (ec == std::errc() && p == line.data() + line.size() && pid > 0) out.push_back(pid);
  }
  auto names = sys::list_subdirs(dir);
  if (!names) return names.error().code() == ENOENT ? Status() : std::move(names).error();
  for (const auto& name : *names) BERTH_TRY(collect_pids(dir + "/" + name, out));
  return {};
}

}  // namespace

Result<Placement> plan_placement(const Layout& layout, std::string_view cgroups_path,
                                 std::string_view container_id) {
  auto path_error = [&](std::string what, int code = EINVAL) {
    return make_error("linux.cgroupsPath \"" + std::string(cgroups_path) + "\": " + what, code);
  };
  if (cgroups_path.find('\0') != std::string_view::npos) return path_error("contains a NUL byte");
  // runc reads "slice:prefix:name" as a systemd unit only under
  // --systemd-cgroup; as a plain directory name it is almost surely a
  // config written for the systemd driver, so say so instead of creating it.
  if (!cgroups_path.empty() && cgroups_path[0] != '/' &&
      std::count(cgroups_path.begin(), cgroups_path.end(), ':') == 2)
    return path_error(
        "systemd-style path (slice:prefix:name) needs --systemd-cgroup, which is not supported",
        ENOTSUP);

  bool absolute = !cgroups_path.empty() && cgroups_path[0] == '/';
  std::vector<std::string_view> components;
  if (cgroups_path.empty()) {
    if (container_id.empty() || container_id == "." || container_id == ".." ||
        container_id.find('/') != std::string_view::npos)
      return make_error("cgroup of container \"" + std::string(container_id) +
                        "\": the container id cannot name a directory");
    components.push_back(container_id);
  } else {
    // ".." may not climb above the mount's root (absolute) or the caller's
    // own cgroup (relative): leaving it would put the container beside, or
    // above, cgroups that are not its own.
    for (std::string_view c : path_components(cgroups_path)) {
      if (c != "..") {
        components.push_back(c);
        continue;
      }
      if (components.empty())
        return path_error(absolute ? "\"..\" leads above the cgroup hierarchy's root"
                                   : "\"..\" leads outside this process's own cgroup");
      components.pop_back();
    }
    // Never the root of a hierarchy, nor the caller's own cgroup: neither
    // is the container's to limit or to remove.
    if (components.empty())
      return path_error(absolute ? "names the cgroup hierarchy's root"
                                 : "names this process's own cgroup");
  }

  Placement placement;
  for (const auto& h : layout.hierarchies) {
    std::string dir = h.mount_point;
    if (!absolute) {
      if (h.own_path.empty())
        return path_error("this process's own cgroup is not reachable under `" + h.mount_point +
                              "`; use an absolute cgroupsPath",
                          ENOENT);
      for (std::string_view c : path_components(h.own_path)) append_path(dir, c);
    }
    for (std::string_view c : components) append_path(dir, c);
    placement.dirs.push_back(std::move(dir));
  }
  placement.created.assign(placement.dirs.size(), false);
  return placement;
}

Status create(Placement& placement) {
  placement.created.assign(placement.dirs.size(), false);
  placement.made_dirs.clear();
  // A failure part-way leaves nothing behind: the container is not created.
  ScopeGuard undo([&] {
    for (auto it = placement.made_dirs.rbegin(); it != placement.made_dirs.rend(); ++it)
      sys::unlinkat(sys::kAtFdcwd, it->c_str(), AT_REMOVEDIR);
    placement.made_dirs.clear();
    placement.created.assign(placement.dirs.size(), false);
  });
  for (size_t i = 0; i < placement.dirs.size(); ++i) {
    bool created = false;
    BERTH_TRY(create_dir(placement.dirs[i], placement.made_dirs, created));
    placement.created[i] = created;
  }
  undo.dismiss();
  return {};
}

Status join(const Placement& placement, pid_t pid) {
  std::string text = std::to_string(pid);
  for (const auto& dir : placement.dirs)
    BERTH_TRY_CTX(write_cgroup_file(dir + "/cgroup.procs", text),
                  "move pid " + text + " into its cgroup");
  return {};
}

Status remove(const Placement& placement) {
  Status first_error;
  auto note = [&](Status st) {
    if (!st.ok() && first_error.ok()) first_error = std::move(st);
  };
  std::vector<std::string> leaves;
  for (size_t i = 0; i < placement.dirs.size() && i < placement.created.size(); ++i)
    if (placement.created[i]) leaves.push_back(placement.dirs[i]);
  // Every hierarchy is tried even after one fails, so one stuck cgroup does
  // not leave all the others behind.
  for (const auto& leaf : leaves) note(remove_leaf(leaf));

  std::vector<std::string> parents;
  for (const auto& dir : placement.made_dirs)
    if (std::find(leaves.begin(), leaves.end(), dir) == leaves.end()) parents.push_back(dir);
  std::sort(parents.begin(), parents.end(), [](const std::string& a, const std::string& b) {
    auto depth = [](const std::string& s) { return std::count(s.begin(), s.end(), '/'); };
    return depth(a) != depth(b) ? depth(a) > depth(b) : a > b;
  });
  // A parent this container made may since hold another container's cgroup
  // (two cgroupsPaths under one new /a): then it is shared and stays.
  for (const auto& dir : parents) {
    if (sys::unlinkat(sys::kAtFdcwd, dir.c_str(), AT_REMOVEDIR) == 0) continue;
    if (errno == ENOENT || errno == EBUSY || errno == ENOTEMPTY) continue;
    note(sys_error("rmdir", dir));
  }
  return first_error;
}

// The union over every hierarchy, not just the first: a process that left
// the container's cgroup in one hierarchy (a v1 process with write access to
// its cgroupfs can) is still the container's, and `kill --all` must reach it.
// Directories already gone count as empty.
Result<std::vector<pid_t>> pids(const Placement& placement) {
  std::vector<pid_t> out;
  for (const auto& dir : placement.dirs) BERTH_TRY(collect_pids(dir, out));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace berth::cgroups
