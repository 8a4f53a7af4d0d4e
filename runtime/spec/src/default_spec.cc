// `berth spec`: the config.json `runc spec` writes (runc's
// libcontainer/specconv Example and, for --rootless, ToRootless), so that
// bundles and tutorials written for runc work unchanged. Differences: the
// hostname is "berth", and the cgroup namespace is always listed (runc adds
// it only on cgroup v2, which is all berth supports).

#include <string_view>
#include <vector>

#include "berth/json/json.h"
#include "berth/spec/spec.h"

namespace berth::spec {
namespace {

using Strings = std::vector<std::string_view>;

void write_strings(json::Writer& w, const Strings& items) {
  w.begin_array();
  for (std::string_view s : items) w.string(s);
  w.end_array();
}

struct DefaultMount {
  std::string_view destination, type, source;
  Strings options;
};

void write_mount(json::Writer& w, const DefaultMount& m, bool rootless) {
  w.begin_object();
  w.key("destination").string(m.destination);
  w.key("type").string(m.type);
  w.key("source").string(m.source);
  if (!m.options.empty()) {
    w.key("options").begin_array();
    for (std::string_view opt : m.options) {
      // A rootless container cannot chown its devpts to gid 5, which is not
      // mapped; runc drops every uid=/gid= option for the same reason.
      if (rootless && (opt.starts_with("uid=") || opt.starts_with("gid="))) continue;
      w.string(opt);
    }
    w.end_array();
  }
  w.end_object();
}

void write_id_mapping(json::Writer& w, uint32_t host_id) {
  w.begin_array().begin_object();
  w.key("containerID").uinteger(0);
  w.key("hostID").uinteger(host_id);
  w.key("size").uinteger(1);
  w.end_object().end_array();
}

}  // namespace

std::string default_spec_json(bool rootless, uint32_t uid, uint32_t gid) {
  const Strings kCaps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  const DefaultMount kMounts[] = {
      {"/proc", "proc", "proc", {}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}},
  };
  // A user namespace that does not own the network namespace cannot mount
  // a fresh sysfs, so rootless binds the host's /sys read-only instead.
  const DefaultMount kRootlessSys = {
      "/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}};

  json::Writer w(/*pretty=*/true);
  w.begin_object();
  w.key("ociVersion").string("1.2.0");

  w.key("process").begin_object();
  w.key("terminal").boolean(true);
  w.key("user").begin_object();
  w.key("uid").uinteger(0);
  w.key("gid").uinteger(0);
  w.end_object();
  w.key("args");
  write_strings(w, {"sh"});
  w.key("env");
  write_strings(
      w, {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"});
  w.key("cwd").string("/");
  // runc >= 1.1.2 no longer grants inheritable capabilities (CVE-2022-29162).
  w.key("capabilities").begin_object();
  for (std::string_view set : {"bounding", "effective", "permitted"}) {
    w.key(set);
    write_strings(w, kCaps);
  }
  w.end_object();
  w.key("rlimits").begin_array().begin_object();
  w.key("type").string("RLIMIT_NOFILE").key("hard").uinteger(1024).key("soft").uinteger(1024);
  w.end_object().end_array();
  w.key("noNewPrivileges").boolean(true);
  w.end_object();

  w.key("root").begin_object();
  w.key("path").string("rootfs");
  w.key("readonly").boolean(true);
  w.end_object();
  w.key("hostname").string("berth");

  w.key("mounts").begin_array();
  for (const DefaultMount& m : kMounts)
    write_mount(w, rootless && m.destination == "/sys" ? kRootlessSys : m, rootless);
  w.end_array();

  w.key("linux").begin_object();
  if (rootless) {
    w.key("uidMappings");
    write_id_mapping(w, uid);
    w.key("gidMappings");
    write_id_mapping(w, gid);
  } else {
    // Deny all device access; runc's rootless conversion drops resources,
    // since an unprivileged user cannot apply them without delegation.
    w.key("resources").begin_object().key("devices").begin_array().begin_object();
    w.key("allow").boolean(false).key("access").string("rwm");
    w.end_object().end_array().end_object();
  }
  w.key("namespaces").begin_array();
  for (std::string_view ns : {"pid", "network", "ipc", "uts", "mount", "cgroup", "user"}) {
    if (rootless && ns == "network") continue;  // no way to wire it up unprivileged
    if (!rootless && ns == "user") continue;
    w.begin_object().key("type").string(ns).end_object();
  }
  w.end_array();
  w.key("maskedPaths");
  write_strings(w,
                {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                 "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                 "/proc/scsi", "/sys/devices/virtual/tpm"});
  w.key("readonlyPaths");
  write_strings(w, {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
  w.end_object();

  w.end_object();
  return w.str();
}

}  // namespace berth::spec
