#include "state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "berth/base/sys.h"
#include "berth/cgroups/resources.h"
#include "berth/json/json.h"

namespace berth::container {

namespace {

Status lock(BorrowedFd fd, const std::string& path) {
  int rc;
  do { rc = sys::flock(fd.get(), LOCK_EX); } while (rc != 0 && errno == EINTR);
  if (rc != 0) return sys_error("lock", path);
  return {};
}

const json::Value* member(const json::Value& obj, std::string_view key) { return obj.get(key); }

std::string string_member(const json::Value& obj, std::string_view key) {
  const auto* v = member(obj, key);
  return v && v->is_string() ? v->as_string() : std::string();
}

}  // namespace

Result<StateDir> StateDir::create(const std::string& root, std::string_view id) {
  BERTH_TRY(sys::mkdir_p(root, 0700));
  std::string path = root + "/" + std::string(id);
  if (sys::mkdirat(sys::kAtFdcwd, path.c_str(), 0700) != 0) {
    if (errno == EEXIST)
      return make_error("container `" + std::string(id) + "`: " + std::string(kExist), EEXIST);
    return sys_error("mkdir", path);
  }
  auto fd = sys::open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!fd) {
    sys::unlinkat(sys::kAtFdcwd, path.c_str(), AT_REMOVEDIR);
    return std::move(fd).error();
  }
  StateDir dir(path, std::move(*fd));
  BERTH_TRY(lock(dir.fd(), path));
  return dir;
}

Result<StateDir> StateDir::open(const std::string& root, std::string_view id) {
  BERTH_TRY(validate_id(id));
  std::string path = root + "/" + std::string(id);
  auto fd = sys::open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!fd) {
    if (fd.error().code() == ENOENT)
      return make_error("container `" + std::string(id) + "`: " + std::string(kNotExist), ENOENT);
    return std::move(fd).error();
  }
  StateDir dir(path, std::move(*fd));
  BERTH_TRY(lock(dir.fd(), path));
  // A delete may have removed the directory while we waited for the lock.
  if (!sys::exists(path))
    return make_error("container `" + std::string(id) + "`: " + std::string(kNotExist), ENOENT);
  return dir;
}

std::string StateDir::exec_socket() const { return sys::fd_path(fd()) + "/exec.sock"; }

bool StateDir::has_exec_socket() const {
  return sys::faccessat(fd_.get(), "exec.sock", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

Status StateDir::save(const StoredState& s) const {
  json::Writer w(true);
  w.begin_object();
  w.key("id").string(s.id);
  w.key("ociVersion").string(s.oci_version);
  w.key("pid").integer(s.pid);
  w.key("startTime").uinteger(s.start_time);
  w.key("bundle").string(s.bundle);
  w.key("rootfs").string(s.rootfs);
  w.key("created").string(s.created);
  w.key("owner").string(s.owner);
  w.key("annotations").begin_object();
  for (const auto& [k, v] : s.annotations) w.key(k).string(v);
  w.end_object();
  w.key("cgroups").begin_array();
  for (size_t i = 0; i < s.cgroup_dirs.size(); ++i) {
    w.begin_object();
    w.key("dir").string(s.cgroup_dirs[i]);
    w.key("created").boolean(i < s.cgroup_created.size() && s.cgroup_created[i]);
    w.end_object();
  }
  w.end_array();
  w.key("cgroupsMade").begin_array();
  for (const auto& d : s.cgroup_made_dirs) w.string(d);
  w.end_array();
  w.end_object();
  return sys::write_file_atomic(path_ + "/state.json", w.str());
}

Result<StoredState> StateDir::load() const {
  std::string file = path_ + "/state.json";
  auto text = sys::read_file(file, 1 << 20);
  if (!text) {
    if (text.error().code() == ENOENT)
      return make_error("container is still being created", EAGAIN);
    return std::move(text).error();
  }
  auto doc = BERTH_VALUE(json::parse(*text, file));
  StoredState s;
  s.id = string_member(doc, "id");
  s.oci_version = string_member(doc, "ociVersion");
  if (const auto* v = doc.get("pid")) s.pid = static_cast<pid_t>(v->as_i64().value_or(0));
  if (const auto* v = doc.get("startTime")) s.start_time = v->as_u64().value_or(0);
  s.bundle = string_member(doc, "bundle");
  s.rootfs = string_member(doc, "rootfs");
  s.created = string_member(doc, "created");
  s.owner = string_member(doc, "owner");
  if (const auto* a = doc.get("annotations"); a && a->is_object())
    for (const auto& [k, v] : a->members())
      if (v.is_string()) s.annotations[k] = v.as_string();
  if (const auto* c = doc.get("cgroups"); c && c->is_array()) {
    for (const auto& item : c->items()) {
      s.cgroup_dirs.push_back(string_member(item, "dir"));
      const auto* created = item.get("created");
      s.cgroup_created.push_back(created && created->is_bool() && created->as_bool());
    }
  }
  if (const auto* m = doc.get("cgroupsMade"); m && m->is_array())
    for (const auto& item : m->items())
      if (item.is_string()) s.cgroup_made_dirs.push_back(item.as_string());
  return s;
}

Status StateDir::save_config(std::string_view config_json) const {
  return sys::write_file_atomic(path_ + "/config.json", config_json);
}

Result<std::string> StateDir::load_config() const { return sys::read_file(path_ + "/config.json"); }

Status StateDir::destroy() {
  auto st = sys::remove_all(path_);
  fd_.reset();
  return st;
}

bool init_alive(const StoredState& state) {
  if (state.pid <= 0) return false;
  auto start = sys::process_start_time(state.pid);
  if (!start || *start != state.start_time) return false;
  char st = sys::process_state(state.pid);
  return st != 0 && st != 'Z' && st != 'X';
}

ContainerStatus current_status(const StoredState& state, const StateDir& dir) {
  if (!init_alive(state)) return ContainerStatus::kStopped;
  if (dir.has_exec_socket()) return ContainerStatus::kCreated;
  cgroups::Placement placement;
  placement.dirs = state.cgroup_dirs;
  if (auto frozen = cgroups::frozen(placement); frozen && *frozen) return ContainerStatus::kPaused;
  return ContainerStatus::kRunning;
}

State public_state(const StoredState& stored, ContainerStatus status) {
  State s;
  s.oci_version = stored.oci_version;
  s.id = stored.id;
  s.status = status;
  s.pid = status == ContainerStatus::kStopped ? 0 : stored.pid;
  s.bundle = stored.bundle;
  s.rootfs = stored.rootfs;
  s.created = stored.created;
  s.owner = stored.owner;
  s.annotations = stored.annotations;
  return s;
}

Error not_running_error(std::string_view id) {
  return make_error("container `" + std::string(id) + "`: " + std::string(kNotRunning), ESRCH);
}

Error refused_in_state(std::string_view verb, std::string_view id, ContainerStatus status,
                       std::string_view hint) {
  std::string why;
  if (status == ContainerStatus::kStopped)
    why = std::string(kNotRunning) + " (it is stopped)";
  else if (status == ContainerStatus::kPaused)
    why = std::string(kPaused);
  else
    why = "it is " + std::string(status_name(status));
  if (!hint.empty()) why += " (" + std::string(hint) + ")";
  return make_error("cannot " + std::string(verb) + " container `" + std::string(id) + "`: " + why,
                    status == ContainerStatus::kStopped ? ESRCH : EINVAL);
}

}  // namespace berth::container
