// create: the parent side (P in sync_protocol.h).
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "berth/base/child_process.h"
#include "berth/base/clock.h"
#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/linux/console.h"
#include "berth/linux/hooks.h"
#include "create_internal.h"
#include "prepared.h"
#include "state_store.h"
#include "sync_protocol.h"

namespace berth::container {

namespace {

// The name of our euid from /etc/passwd, read directly: NSS (getpwuid)
// would load modules and keep berth from linking statically.
std::string owner_name() {
  std::string uid = std::to_string(sys::geteuid());
  auto passwd = sys::read_file("/etc/passwd", 4 << 20);
  if (passwd) {
    size_t i = 0;
    while (i < passwd->size()) {
      size_t end = passwd->find('\n', i);
      if (end == std::string::npos) end = passwd->size();
      std::string_view line(passwd->data() + i, end - i);
      i = end + 1;
      size_t c1 = line.find(':'), c2 = line.find(':', c1 + 1), c3 = line.find(':', c2 + 1);
      if (c3 == std::string_view::npos) continue;
      if (line.substr(c2 + 1, c3 - c2 - 1) == uid) return std::string(line.substr(0, c1));
    }
  }
  return uid;
}

// The intermediate process H: joins namespaces and the time namespace,
// which only affect children created afterwards, then clones the init.
[[noreturn]] void run_intermediate(const Prepared& p, const InitChannels& ch) {
  auto fail = [&](const Error& e) {
    (void)sync::send(BorrowedFd(ch.sync), sync::Type::kError, sync::encode_error(e));
    sys::exit_immediately(1);
  };
  sys::prctl(PR_SET_NAME, "berth:[0:NS]");
  if (auto st = os::join_namespaces(p.namespaces); !st) fail(st.error());
  if (p.namespaces.new_time) {
    if (auto st = sys::unshare(CLONE_NEWTIME); !st) fail(st.error().wrap("time namespace"));
    if (p.spec.linux_) {
      if (auto st = os::write_time_offsets(p.spec.linux_->time_offsets); !st)
        fail(st.error().wrap("linux.timeOffsets"));
    }
  }
  auto pid = sys::clone_process(static_cast<uint64_t>(p.namespaces.clone_flags));
  if (!pid) fail(pid.error());
  if (*pid == 0) run_init(p, ch);
  (void)sync::send(BorrowedFd(ch.sync), sync::Type::kInitPid, std::to_string(*pid));
  sys::exit_immediately(0);
}

}  // namespace

Result<CreatedContainer> create_container(const Globals& globals, const CreateOptions& options) {
  Prepared p = BERTH_VALUE(prepare(globals, options));

  auto dir = BERTH_VALUE(StateDir::create(globals.root, options.id));
  ScopeGuard remove_dir([&] { (void)dir.destroy(); });

  BERTH_TRY(cgroups::create(p.cgroup));
  ScopeGuard remove_cgroup([&] { (void)cgroups::remove(p.cgroup); });
  if (!globals.cgroups_disabled)
    BERTH_TRY_CTX(cgroups::apply_resources(p.cgroup_layout, p.cgroup, p.resources),
                  "linux.resources");

  auto listener = BERTH_VALUE(sys::listen_unix(dir.exec_socket(), 1));
  auto channel = BERTH_VALUE(sys::socket_pair(SOCK_SEQPACKET));
  InitChannels ch{channel.second.get(), listener.get(), dir.fd().get(), channel.first.get()};

  // A subreaper: when H exits, the init is re-parented to us, so a failed
  // create can reap it and `run` can wait for it.
  if (sys::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return sys_error("prctl PR_SET_CHILD_SUBREAPER");

  // Killed and reaped on every way out until released: a failed create
  // leaves no process behind.
  ChildProcess init;
  UniqueFd console_master;
  if (p.namespaces.needs_intermediate()) {
    auto h = BERTH_VALUE(ChildProcess::clone(0));
    if (h.in_child()) run_intermediate(p, ch);
    channel.second.reset();
    auto msg = sync::receive(channel.first);
    auto hs = h.wait();
    if (!msg) return std::move(msg).error().wrap("create: namespace helper");
    if (msg->type == sync::Type::kError) return sync::decode_error(msg->payload);
    if (msg->type != sync::Type::kInitPid)
      return make_error("create: unexpected sync message", EPROTO);
    (void)hs;
    // H has exited, so the init is our child now (we are its subreaper).
    init = BERTH_VALUE(ChildProcess::adopt(static_cast<pid_t>(std::atoi(msg->payload.c_str()))));
  } else {
    init = BERTH_VALUE(ChildProcess::clone(static_cast<uint64_t>(p.namespaces.clone_flags)));
    if (init.in_child()) run_init(p, ch);
    channel.second.reset();
  }
  const pid_t init_pid = init.pid();
  listener.reset();  // the init holds the only listening descriptor now

  const auto& lx = *p.spec.linux_;
  const auto* user_ns = p.spec.find_namespace(spec::NamespaceType::kUser);
  if (user_ns && user_ns->path.empty())
    BERTH_TRY(os::write_id_mappings(init_pid, lx.uid_mappings, lx.gid_mappings));
  BERTH_TRY_CTX(cgroups::join(p.cgroup, init_pid), "join cgroup");

  std::string state = hook_state_json(options.id, ContainerStatus::kCreating, init_pid, p.bundle,
                                      p.spec.annotations);
  BERTH_TRY(sync::send(channel.first, sync::Type::kGo, state));
  for (;;) {
    auto msg = sync::receive(channel.first);
    if (!msg) return make_error("create: container init exited during setup", ECHILD);
    if (msg->type == sync::Type::kError) return sync::decode_error(msg->payload);
    if (msg->type == sync::Type::kRunHooks) {
      BERTH_TRY(os::run_hooks(p.spec.hooks.prestart, "prestart", state));
      BERTH_TRY(os::run_hooks(p.spec.hooks.create_runtime, "createRuntime", state));
      BERTH_TRY(sync::send(channel.first, sync::Type::kHooksDone));
    } else if (msg->type == sync::Type::kConsole) {
      if (msg->fds.empty())
        return make_error("create: console message without a descriptor", EPROTO);
      if (options.console_socket.empty()) {
        console_master = std::move(msg->fds[0]);
      } else {
        BERTH_TRY_CTX(os::send_console(options.console_socket, msg->fds[0], msg->payload),
                      "--console-socket");
      }
    } else if (msg->type == sync::Type::kReady) {
      break;
    } else {
      return make_error("create: unexpected sync message", EPROTO);
    }
  }

  StoredState stored;
  stored.id = options.id;
  stored.oci_version = p.spec.oci_version;
  stored.pid = init_pid;
  stored.start_time = BERTH_VALUE(sys::process_start_time(init_pid));
  stored.bundle = p.bundle;
  stored.rootfs = p.rootfs.rootfs;
  stored.created = rfc3339_utc_now();
  stored.owner = owner_name();
  stored.annotations = p.spec.annotations;
  stored.cgroup_dirs = p.cgroup.dirs;
  stored.cgroup_created = p.cgroup.created;
  stored.cgroup_made_dirs = p.cgroup.made_dirs;
  BERTH_TRY(dir.save_config(p.config_text));
  BERTH_TRY(dir.save(stored));
  if (!options.pid_file.empty())
    BERTH_TRY_CTX(sys::write_file_atomic(options.pid_file, std::to_string(init_pid), 0644),
                  "--pid-file");

  init.release();
  remove_cgroup.dismiss();
  remove_dir.dismiss();
  return CreatedContainer{std::move(dir), std::move(stored), std::move(p.spec),
                          std::move(console_master)};
}

Status create(const Globals& globals, const CreateOptions& options) {
  auto created = create_container(globals, options);
  if (!created) return std::move(created).error();
  return {};
}

}  // namespace berth::container
