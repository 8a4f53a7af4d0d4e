#include <doctest/doctest.h>

#include <sys/resource.h>

#include <string>

#include "berth/json/json.h"
#include "berth/spec/spec.h"

using namespace berth::spec;

namespace {

// A config with the given top-level members after ociVersion.
std::string config(std::string_view members = "") {
  std::string out = R"({"ociVersion": "1.2.0")";
  if (!members.empty()) {
    out += ", ";
    out.append(members);
  }
  return out + "}";
}

// A config with a valid process plus `fields` inside it.
std::string with_process(std::string_view fields) {
  std::string p = R"("process": {"args": ["sh"], "cwd": "/")";
  if (!fields.empty()) {
    p += ", ";
    p.append(fields);
  }
  return config(p + "}");
}

std::string with_linux(std::string_view fields) {
  return config(std::string(R"("linux": {)") + std::string(fields) + "}");
}

Spec parse_ok(const std::string& text) {
  auto r = parse_spec(text);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message()));
  return std::move(r).value();
}

// The error message, which must contain every part of `expected`.
std::string parse_fails(const std::string& text, std::initializer_list<std::string_view> expected) {
  auto r = parse_spec(text);
  REQUIRE_MESSAGE(!r.ok(), text);
  std::string msg = r.error().message();
  for (std::string_view part : expected) CHECK_MESSAGE(msg.find(part) != std::string::npos, msg);
  CHECK(msg.rfind("config.json: ", 0) == 0);
  return msg;
}

const char* const kFullConfig = R"({
  "ociVersion": "1.2.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 25, "width": 80},
    "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [5, 4294967295]},
    "args": ["/bin/sh", "-c", "echo hi"],
    "env": ["PATH=/usr/bin:/bin", "EMPTY=", "X=a=b"],
    "cwd": "/home/user",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_KILL"],
      "effective": ["CAP_KILL"],
      "inheritable": [],
      "permitted": ["CAP_CHOWN", "CAP_KILL"],
      "ambient": ["CAP_KILL"]
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096},
      {"type": "RLIMIT_CORE", "soft": 18446744073709551615, "hard": 18446744073709551615}
    ],
    "noNewPrivileges": true,
    "apparmorProfile": "berth-default",
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "oomScoreAdj": -500,
    "scheduler": {"policy": "SCHED_BATCH", "nice": 5, "flags": ["SCHED_FLAG_RESET_ON_FORK"]},
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
    "execCPUAffinity": {"initial": "0", "final": "0-3"},
    "someFutureField": {"ignored": true}
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "box",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data/./x//", "type": "none", "source": "/srv/data",
     "options": ["rbind", "ro", "idmap"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]},
    {"destination": "/a/b/../c", "type": "tmpfs", "source": "tmpfs", "options": null}
  ],
  "hooks": {
    "prestart": [{"path": "/usr/bin/old-hook"}],
    "createRuntime": [{"path": "/usr/bin/netns-setup", "args": ["netns-setup", "up"],
                       "env": ["A=1"], "timeout": 10}],
    "poststop": [{"path": "/usr/bin/cleanup"}]
  },
  "annotations": {"org.example.key": "value", "com.example.empty": ""},
  "linux": {
    "namespaces": [
      {"type": "pid"}, {"type": "network", "path": "/var/run/netns/box"},
      {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"},
      {"type": "cgroup"}, {"type": "time"}
    ],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}],
    "timeOffsets": {"monotonic": {"secs": -3600, "nanosecs": 5}, "boottime": {"secs": 7}},
    "devices": [
      {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438,
       "uid": 0, "gid": 0},
      {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0},
      {"path": "/dev/myfifo", "type": "p"}
    ],
    "cgroupsPath": "system.slice:berth:box",
    "resources": {"memory": {"limit": 9223372036854771712, "swap": -1},
                  "devices": [{"allow": false, "access": "rwm"}]},
    "rootfsPropagation": "rslave",
    "sysctl": {"net.ipv4.ip_forward": "1", "kernel.msgmax": "8192"},
    "maskedPaths": ["/proc/kcore", "/proc//keys/"],
    "readonlyPaths": ["/proc/sys"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 38,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/seccomp-agent.sock",
      "listenerMetadata": "meta",
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 18446744073709551615, "valueTwo": 4294967296,
                   "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
      ]
    },
    "personality": {"domain": "LINUX32", "flags": []}
  },
  "vm": {"hypervisor": {"path": "/ignored"}}
})";

}  // namespace

TEST_CASE("a full realistic config parses into the expected fields") {
  Spec s = parse_ok(kFullConfig);
  CHECK(s.oci_version == "1.2.0");
  REQUIRE(s.root);
  CHECK(s.root->path == "rootfs");
  CHECK(s.root->readonly);
  CHECK(s.hostname == "box");
  CHECK(s.domainname == "example.org");

  REQUIRE(s.process);
  const Process& p = *s.process;
  CHECK(p.terminal);
  REQUIRE(p.console_size);
  CHECK(p.console_size->height == 25);
  CHECK(p.console_size->width == 80);
  CHECK(p.user.uid == 1000);
  CHECK(p.user.gid == 1000);
  CHECK(p.user.umask == 18u);
  CHECK(p.user.additional_gids == std::vector<uint32_t>{5, 4294967295u});
  CHECK(p.args == std::vector<std::string>{"/bin/sh", "-c", "echo hi"});
  CHECK(p.env.size() == 3);
  CHECK(p.cwd == "/home/user");
  REQUIRE(p.capabilities);
  CHECK(p.capabilities->bounding == std::vector<std::string>{"CAP_CHOWN", "CAP_KILL"});
  CHECK(p.capabilities->ambient == std::vector<std::string>{"CAP_KILL"});
  CHECK(p.capabilities->inheritable.empty());
  REQUIRE(p.rlimits.size() == 2);
  CHECK(p.rlimits[0].type == "RLIMIT_NOFILE");
  CHECK(p.rlimits[0].resource == RLIMIT_NOFILE);
  CHECK(p.rlimits[0].soft == 1024);
  CHECK(p.rlimits[0].hard == 4096);
  CHECK(p.rlimits[1].resource == RLIMIT_CORE);
  CHECK(p.rlimits[1].soft == UINT64_MAX);
  CHECK(p.rlimits[1].hard == UINT64_MAX);
  CHECK(p.no_new_privileges);
  CHECK(p.apparmor_profile == "berth-default");
  CHECK(p.selinux_label == "system_u:system_r:container_t:s0");
  CHECK(p.oom_score_adj == -500);
  REQUIRE(p.scheduler);
  CHECK(p.scheduler->policy == "SCHED_BATCH");
  CHECK(p.scheduler->policy_value == 3);
  CHECK(p.scheduler->nice == 5);
  CHECK_FALSE(p.scheduler->priority);
  CHECK(p.scheduler->flags == std::vector<std::string>{"SCHED_FLAG_RESET_ON_FORK"});
  REQUIRE(p.io_priority);
  CHECK(p.io_priority->class_value == 2);
  CHECK(p.io_priority->priority == 4);

  REQUIRE(s.mounts.size() == 3);
  CHECK(s.mounts[0].destination == "/proc");
  CHECK(s.mounts[0].options.empty());
  CHECK(s.mounts[1].destination == "/data/x");  // cleaned
  CHECK(s.mounts[1].source == "/srv/data");
  CHECK(s.mounts[1].options == std::vector<std::string>{"rbind", "ro", "idmap"});
  REQUIRE(s.mounts[1].uid_mappings.size() == 1);
  CHECK(s.mounts[1].uid_mappings[0].host_id == 100000);
  CHECK(s.mounts[1].gid_mappings[0].size == 65536);
  CHECK(s.mounts[2].destination == "/a/c");
  CHECK(s.mounts[2].options.empty());  // null is absent

  REQUIRE(s.hooks.prestart.size() == 1);
  REQUIRE(s.hooks.create_runtime.size() == 1);
  CHECK(s.hooks.create_runtime[0].path == "/usr/bin/netns-setup");
  CHECK(s.hooks.create_runtime[0].args == std::vector<std::string>{"netns-setup", "up"});
  CHECK(s.hooks.create_runtime[0].env == std::vector<std::string>{"A=1"});
  CHECK(s.hooks.create_runtime[0].timeout == 10);
  CHECK_FALSE(s.hooks.prestart[0].timeout);
  CHECK(s.hooks.poststop.size() == 1);
  CHECK(s.hooks.create_container.empty());
  CHECK(s.annotations.at("org.example.key") == "value");
  CHECK(s.annotations.at("com.example.empty").empty());

  REQUIRE(s.linux_);
  const Linux& l = *s.linux_;
  REQUIRE(l.namespaces.size() == 8);
  CHECK(l.namespaces[0].type == NamespaceType::kPid);
  CHECK(l.namespaces[1].type == NamespaceType::kNetwork);
  CHECK(l.namespaces[1].path == "/var/run/netns/box");
  CHECK(s.has_namespace(NamespaceType::kTime));
  CHECK(s.find_namespace(NamespaceType::kUser)->path.empty());
  CHECK(l.gid_mappings[0].host_id == 200000);
  CHECK(l.time_offsets.at("monotonic").secs == -3600);
  CHECK(l.time_offsets.at("monotonic").nanosecs == 5);
  CHECK(l.time_offsets.at("boottime").secs == 7);
  REQUIRE(l.devices.size() == 3);
  CHECK(l.devices[0].type == 'c');
  CHECK(l.devices[0].major == 10);
  CHECK(l.devices[0].minor == 229);
  CHECK(l.devices[0].file_mode == 438u);
  CHECK(l.devices[1].type == 'b');
  CHECK_FALSE(l.devices[1].uid);
  CHECK(l.devices[2].type == 'p');
  CHECK(l.cgroups_path == "system.slice:berth:box");
  CHECK(
      l.resources.raw_json ==
      R"({"memory":{"limit":9223372036854771712,"swap":-1},"devices":[{"allow":false,"access":"rwm"}]})");
  CHECK(l.rootfs_propagation == "rslave");
  CHECK(l.sysctl.at("net.ipv4.ip_forward") == "1");
  CHECK(l.masked_paths == std::vector<std::string>{"/proc/kcore", "/proc/keys"});
  CHECK(l.readonly_paths == std::vector<std::string>{"/proc/sys"});
  CHECK(l.mount_label == "system_u:object_r:container_file_t:s0");
  REQUIRE(l.seccomp);
  const Seccomp& sc = *l.seccomp;
  CHECK(sc.default_action == "SCMP_ACT_ERRNO");
  CHECK(sc.default_errno_ret == 38u);
  CHECK(sc.architectures.size() == 2);
  CHECK(sc.flags == std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"});
  CHECK(sc.listener_path == "/run/seccomp-agent.sock");
  CHECK(sc.listener_metadata == "meta");
  REQUIRE(sc.syscalls.size() == 3);
  CHECK(sc.syscalls[0].names == std::vector<std::string>{"read", "write"});
  REQUIRE(sc.syscalls[1].args.size() == 1);
  CHECK(sc.syscalls[1].args[0].index == 0);
  CHECK(sc.syscalls[1].args[0].value == UINT64_MAX);
  CHECK(sc.syscalls[1].args[0].value_two == 4294967296ull);
  CHECK(sc.syscalls[1].args[0].op == "SCMP_CMP_MASKED_EQ");
  CHECK(sc.syscalls[2].errno_ret == 1u);
  CHECK(l.personality_domain == "LINUX32");
  CHECK_FALSE(l.intel_rdt_raw);
}

TEST_CASE("a minimal config leaves optional parts absent") {
  Spec s = parse_ok(config());
  CHECK(s.oci_version == "1.2.0");
  CHECK_FALSE(s.root);
  CHECK_FALSE(s.process);
  CHECK_FALSE(s.linux_);
  CHECK(s.mounts.empty());
  CHECK_FALSE(s.has_namespace(NamespaceType::kPid));
}

TEST_CASE("top level: JSON, ociVersion, root") {
  parse_fails("[]", {"expected an object, got array"});
  parse_fails("{", {"invalid JSON"});
  parse_fails("{}", {"ociVersion: required"});
  parse_fails(R"({"ociVersion": 1})", {"ociVersion: expected a string, got 1"});
  parse_fails(R"({"ociVersion": ""})", {"ociVersion: must not be empty"});
  parse_fails(config(R"("root": {"readonly": true})"), {"root.path: required"});
  parse_fails(config(R"("root": "rootfs")"), {"root: expected an object, got string"});
  parse_fails(config(R"("root": {"path": "rootfs", "readonly": "yes"})"),
              {"root.readonly: expected a boolean, got string"});
  parse_fails(config(R"("hostname": ["x"])"), {"hostname: expected a string, got array"});
  parse_fails(config(R"("annotations": {"": "x"})"), {"annotations: keys must not be empty"});
  parse_fails(config(R"("annotations": {"a": 1})"), {"annotations[\"a\"]: expected a string"});
}

TEST_CASE("ociVersion must be SemVer 2.0 with major version 1") {
  for (const char* v : {"1.0.0", "1.2.0", "1.0.2-dev", "1.1.0-rc.1", "1.3.0", "1.0.0+build.7",
                        "1.2.1-rc.1+git.abc-1", "1.10.200"}) {
    CAPTURE(v);
    parse_ok(std::string(R"({"ociVersion": ")") + v + "\"}");
  }
  for (const char* v : {"invalid", "1", "1.2", "1.2.0.0", "v1.2.0", "01.2.0", "1.02.0", "1.2.0-",
                        "1.2.0-rc..1", "1.2.0-01", "1.2.0+", "1.2.0 ", "1.2.x"}) {
    CAPTURE(v);
    parse_fails(std::string(R"({"ociVersion": ")") + v + "\"}",
                {"ociVersion: \"", "is not a SemVer 2.0 version", "1.0.0 to 1.2.x"});
  }
  for (const char* v : {"0.5.0", "2.0.0", "1000000.0.0"}) {
    CAPTURE(v);
    parse_fails(std::string(R"({"ociVersion": ")") + v + "\"}",
                {"ociVersion: version \"", "is not supported", "1.0.0 to 1.2.x"});
  }
}

TEST_CASE("deep and oversized configs are refused") {
  std::string deep = config(R"("annotations": )" + std::string(70, '[') + std::string(70, ']'));
  CHECK(parse_fails(deep, {}) == "config.json: nesting deeper than 64 levels");
  std::string big = config(R"("hostname": ")" + std::string(kMaxConfigSize, 'a') + "\"");
  parse_fails(big, {"larger than 16777216 bytes"});
}

TEST_CASE("process: required fields and paths") {
  parse_fails(config(R"("process": {"cwd": "/"})"), {"process.args: must name the program"});
  parse_fails(config(R"("process": {"cwd": "/", "args": []})"), {"process.args:"});
  parse_fails(config(R"("process": {"args": ["sh"]})"), {"process.cwd: required"});
  CHECK(parse_fails(config(R"("process": {"args": ["sh"], "cwd": "tmp"})"), {}) ==
        R"(config.json: process.cwd: must be an absolute path, got "tmp")");
  parse_fails(config(R"("process": {"args": ["sh", 3], "cwd": "/"})"),
              {"process.args[1]: expected a string, got 3"});
  parse_fails(config(R"("process": {"args": ["s\u0000h"], "cwd": "/"})"),
              {"process.args[0]: must not contain a NUL character"});
  parse_fails(with_process(R"("env": ["NOVALUE"])"),
              {"process.env[0]: expected NAME=value, got \"NOVALUE\""});
  parse_fails(with_process(R"("env": ["=x"])"), {"process.env[0]:"});
  parse_fails(with_process(R"("terminal": 1)"), {"process.terminal: expected a boolean, got 1"});
}

TEST_CASE("process: user ids are exact unsigned 32-bit integers") {
  CHECK(parse_fails(with_process(R"("user": {"uid": -1, "gid": 0})"), {}) ==
        "config.json: process.user.uid: expected an unsigned 32-bit integer, got -1");
  parse_fails(with_process(R"("user": {"uid": 0, "gid": 4294967296})"),
              {"process.user.gid: expected an unsigned 32-bit integer, got 4294967296"});
  parse_fails(with_process(R"("user": {"uid": 1.5})"), {"process.user.uid:", "got 1.5"});
  parse_fails(with_process(R"("user": {"uid": "0"})"), {"process.user.uid:", "got string"});
  parse_fails(with_process(R"("user": {"additionalGids": [1, -2]})"),
              {"process.user.additionalGids[1]: expected an unsigned 32-bit integer, got -2"});
  parse_fails(with_process(R"("user": {"umask": 1e2})"), {"process.user.umask:"});
  Spec s = parse_ok(with_process(R"("user": {"uid": 4294967295, "gid": 7, "umask": 63})"));
  CHECK(s.process->user.uid == 4294967295u);
  CHECK(s.process->user.umask == 63u);
  Spec no_umask = parse_ok(with_process(R"("user": {"uid": 1, "gid": 1})"));
  CHECK_FALSE(no_umask.process->user.umask);
}

TEST_CASE("process: consoleSize is validated but kept only with a terminal") {
  Spec s = parse_ok(with_process(R"("consoleSize": {"height": 1, "width": 2})"));
  CHECK_FALSE(s.process->console_size);
  parse_fails(with_process(R"("terminal": true, "consoleSize": {"height": 1})"),
              {"process.consoleSize.width: required"});
}

TEST_CASE("process: rlimits") {
  parse_fails(with_process(R"("rlimits": [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}])"),
              {"process.rlimits[0].type: unknown rlimit type \"RLIMIT_BOGUS\""});
  parse_fails(with_process(R"("rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1},
                                          {"type": "RLIMIT_NOFILE", "soft": 2, "hard": 2}])"),
              {"process.rlimits: duplicate rlimit \"RLIMIT_NOFILE\""});
  parse_fails(with_process(R"("rlimits": [{"type": "RLIMIT_NOFILE", "soft": 2, "hard": 1}])"),
              {"process.rlimits[0].soft:", "above the hard limit"});
  parse_fails(with_process(R"("rlimits": [{"type": "RLIMIT_NOFILE", "soft": -1, "hard": 1}])"),
              {"process.rlimits[0].soft: expected an unsigned 64-bit integer, got -1"});
  parse_fails(with_process(R"("rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1}])"),
              {"process.rlimits[0].hard: required"});
}

TEST_CASE("process: capabilities, scheduler, ioPriority, oomScoreAdj") {
  parse_fails(with_process(R"("capabilities": {"effective": ["CAP_KILL", "NET_ADMIN"]})"),
              {"process.capabilities.effective[1]:", "\"NET_ADMIN\""});
  parse_fails(with_process(R"("capabilities": ["CAP_KILL"])"),
              {"process.capabilities: expected an object, got array"});
  parse_fails(with_process(R"("scheduler": {"policy": "SCHED_FAST"})"),
              {"process.scheduler.policy: unknown scheduler policy \"SCHED_FAST\""});
  parse_fails(with_process(R"("scheduler": {"nice": 1})"), {"process.scheduler.policy: required"});
  parse_fails(with_process(R"("scheduler": {"policy": "SCHED_OTHER", "nice": 20})"),
              {"process.scheduler.nice:"});
  parse_fails(with_process(R"("scheduler": {"policy": "SCHED_OTHER", "flags": ["X"]})"),
              {"process.scheduler.flags[0]: unknown scheduler flag"});
  Spec s = parse_ok(with_process(
      R"("scheduler": {"policy": "SCHED_DEADLINE", "runtime": 1, "deadline": 2, "period": 3})"));
  CHECK(s.process->scheduler->policy_value == 6);
  CHECK(s.process->scheduler->period == 3u);

  parse_fails(with_process(R"("ioPriority": {"class": "IOPRIO_CLASS_NONE", "priority": 0})"),
              {"process.ioPriority.class: unknown I/O priority class"});
  parse_fails(with_process(R"("ioPriority": {"class": "IOPRIO_CLASS_RT", "priority": 8})"),
              {"process.ioPriority.priority: must be between 0 and 7, got 8"});
  Spec io =
      parse_ok(with_process(R"("ioPriority": {"class": "IOPRIO_CLASS_IDLE", "priority": 7})"));
  CHECK(io.process->io_priority->class_value == 3);

  parse_fails(with_process(R"("oomScoreAdj": 1001)"), {"process.oomScoreAdj:"});
  parse_fails(with_process(R"("oomScoreAdj": 2147483648)"),
              {"process.oomScoreAdj: expected a 32-bit integer, got 2147483648"});
}

TEST_CASE("mounts: destinations are absolute and never climb above /") {
  parse_fails(config(R"("mounts": [{"type": "proc"}])"), {"mounts[0].destination: required"});
  parse_fails(config(R"("mounts": [{"destination": "proc"}])"),
              {"mounts[0].destination: must be absolute", "\"proc\""});
  parse_fails(config(R"("mounts": [{"destination": "/ok"}, {"destination": "/../etc"}])"),
              {"mounts[1].destination:", "climbs above"});
  parse_fails(config(R"("mounts": [{"destination": "/a/../../etc"}])"), {"mounts[0].destination:"});
  parse_fails(config(R"("mounts": [{"destination": "/x", "options": "ro"}])"),
              {"mounts[0].options: expected an array, got string"});
  parse_fails(config(R"("mounts": {})"), {"mounts: expected an array, got object"});
  parse_fails(config(R"("mounts": [{"destination": "/x",
                                    "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}])"),
              {"mounts[0].gidMappings: required when uidMappings is set"});
  parse_fails(config(R"("mounts": [{"destination": "/x",
                                    "uidMappings": [{"containerID": 0, "hostID": 1}],
                                    "gidMappings": []}])"),
              {"mounts[0].uidMappings[0].size: required"});
  Spec s = parse_ok(config(R"("mounts": [{"destination": "/"}, {"destination": "/a/b/.."}])"));
  CHECK(s.mounts[0].destination == "/");
  CHECK(s.mounts[1].destination == "/a");
}

TEST_CASE("hooks: absolute paths and positive timeouts") {
  parse_fails(config(R"("hooks": {"poststart": [{"path": "hook"}]})"),
              {"hooks.poststart[0].path: must be an absolute path"});
  parse_fails(config(R"("hooks": {"createContainer": [{"path": "/h", "timeout": 0}]})"),
              {"hooks.createContainer[0].timeout: must be greater than zero"});
  parse_fails(config(R"("hooks": {"startContainer": [{"path": "/h", "timeout": -5}]})"),
              {"hooks.startContainer[0].timeout:"});
  parse_fails(config(R"("hooks": {"poststop": [{"args": []}]})"),
              {"hooks.poststop[0].path: required"});
}

TEST_CASE("linux.namespaces") {
  CHECK(parse_fails(
            with_linux(R"("namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "foo"}])"),
            {}) == R"(config.json: linux.namespaces[2].type: unknown namespace type "foo")");
  CHECK(parse_fails(with_linux(R"("namespaces": [{"type": "pid"}, {"type": "pid"}])"), {}) ==
        R"(config.json: linux.namespaces: duplicate namespace "pid")");
  parse_fails(with_linux(R"("namespaces": [{"type": "network", "path": "netns/x"}])"),
              {"linux.namespaces[0].path: must be an absolute path"});
  parse_fails(with_linux(R"("namespaces": [{"path": "/x"}])"),
              {"linux.namespaces[0].type: required"});
  Spec s = parse_ok(with_linux(R"("namespaces": [{"type": "network", "path": ""}])"));
  CHECK(s.find_namespace(NamespaceType::kNetwork)->path.empty());
}

TEST_CASE("linux: user namespace and id mappings") {
  const char* maps = R"("uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                        "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}])";
  parse_fails(with_linux(std::string(R"("namespaces": [{"type": "pid"}], )") + maps),
              {"linux.uidMappings: set, but linux.namespaces has no user namespace"});
  parse_fails(with_linux(R"("gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}])"),
              {"linux.gidMappings:", "no user namespace"});
  parse_fails(with_linux(R"("namespaces": [{"type": "user"}])"),
              {"linux.uidMappings: required when creating a new user namespace"});
  // Joining a user namespace needs no maps; giving them anyway is fine.
  parse_ok(with_linux(R"("namespaces": [{"type": "user", "path": "/proc/1/ns/user"}])"));
  parse_ok(with_linux(
      std::string(R"("namespaces": [{"type": "user", "path": "/proc/1/ns/user"}], )") + maps));
  parse_ok(with_linux(std::string(R"("namespaces": [{"type": "user"}], )") + maps));
  parse_fails(with_linux(R"("namespaces": [{"type": "user"}],
                            "uidMappings": [{"containerID": 0, "hostID": 1, "size": 0}])"),
              {"linux.uidMappings[0].size: must be at least 1"});
  parse_fails(with_linux(R"("namespaces": [{"type": "user"}],
                            "uidMappings": [{"containerID": 4294967295, "hostID": 1, "size": 2}])"),
              {"linux.uidMappings[0].size:"});
  parse_fails(with_linux(R"("uidMappings": [{"containerID": -1, "hostID": 1, "size": 1}])"),
              {"linux.uidMappings[0].containerID: expected an unsigned 32-bit integer, got -1"});
}

TEST_CASE("linux: time offsets need a new time namespace") {
  parse_fails(
      with_linux(R"("timeOffsets": {"realtime": {"secs": 1}}, "namespaces": [{"type": "time"}])"),
      {"linux.timeOffsets.realtime: unknown clock"});
  parse_fails(with_linux(R"("timeOffsets": {"monotonic": {"secs": 1}})"),
              {"linux.timeOffsets: set, but linux.namespaces has no time namespace"});
  parse_fails(with_linux(R"("timeOffsets": {"boottime": {"secs": 1}},
                            "namespaces": [{"type": "time", "path": "/proc/1/ns/time"}])"),
              {"linux.timeOffsets: cannot be set when joining"});
  parse_fails(with_linux(R"("timeOffsets": {"boottime": {"nanosecs": 1000000000}},
                            "namespaces": [{"type": "time"}])"),
              {"linux.timeOffsets.boottime.nanosecs:"});
}

TEST_CASE("linux.devices") {
  parse_fails(with_linux(R"("devices": [{"path": "/dev/x", "type": "z", "major": 1, "minor": 1}])"),
              {"linux.devices[0].type: unknown device type \"z\""});
  parse_fails(with_linux(R"("devices": [{"path": "dev/x", "type": "c", "major": 1, "minor": 1}])"),
              {"linux.devices[0].path: must be an absolute path"});
  parse_fails(with_linux(R"("devices": [{"path": "/../x", "type": "c", "major": 1, "minor": 1}])"),
              {"linux.devices[0].path:", "climbs above"});
  parse_fails(with_linux(R"("devices": [{"path": "/dev/x", "type": "b", "minor": 1}])"),
              {"linux.devices[0].major: required"});
  parse_fails(with_linux(R"("devices": [{"path": "/dev/x", "type": "u", "major": 1}])"),
              {"linux.devices[0].minor: required"});
  parse_fails(with_linux(R"("devices": [{"type": "p"}])"), {"linux.devices[0].path: required"});
  parse_fails(with_linux(R"("devices": [{"path": "/dev/x", "type": "c", "major": 1, "minor": 1,
                                         "fileMode": -1}])"),
              {"linux.devices[0].fileMode:"});
  Spec s = parse_ok(with_linux(R"("devices": [{"path": "/dev/f", "type": "p"},
                                              {"path": "/dev/t", "type": "u", "major": 5, "minor": 0}])"));
  CHECK(s.linux_->devices[0].type == 'p');
  CHECK(s.linux_->devices[1].type == 'u');
}

TEST_CASE("linux: sysctl, propagation, personality, paths, raw sections") {
  parse_fails(with_linux(R"("sysctl": {"": "1"})"), {"linux.sysctl: keys must not be empty"});
  parse_fails(with_linux(R"("sysctl": {"net.core.somaxconn": 256})"),
              {"linux.sysctl[\"net.core.somaxconn\"]: expected a string, got 256"});
  parse_fails(with_linux(R"("rootfsPropagation": "rshared-ish")"),
              {"linux.rootfsPropagation: unknown propagation"});
  for (const char* p : {"", "shared", "slave", "private", "unbindable", "rshared", "rslave",
                        "rprivate", "runbindable"}) {
    Spec s = parse_ok(with_linux(std::string(R"("rootfsPropagation": ")") + p + "\""));
    CHECK(s.linux_->rootfs_propagation == p);
  }
  parse_fails(with_linux(R"("personality": {"domain": "LINUX64"})"),
              {"linux.personality.domain: unknown personality domain"});
  parse_fails(with_linux(R"("personality": {})"), {"linux.personality.domain: required"});
  parse_fails(with_linux(R"("maskedPaths": ["proc/kcore"])"),
              {"linux.maskedPaths[0]: must be an absolute path"});
  parse_fails(with_linux(R"("readonlyPaths": ["/proc", 1])"), {"linux.readonlyPaths[1]:"});
  parse_fails(with_linux(R"("resources": [])"), {"linux.resources: expected an object, got array"});
  Spec s = parse_ok(with_linux(R"("intelRdt": {"closID": "x"}, "resources": {})"));
  CHECK(s.linux_->intel_rdt_raw == R"({"closID":"x"})");
  CHECK(s.linux_->resources.raw_json == "{}");
  Spec none = parse_ok(with_linux(""));
  CHECK(none.linux_->resources.raw_json.empty());
}

TEST_CASE("linux.seccomp") {
  parse_fails(with_linux(R"("seccomp": {})"), {"linux.seccomp.defaultAction: required"});
  parse_fails(with_linux(R"("seccomp": {"defaultAction": "SCMP_ACT_MAYBE"})"),
              {"linux.seccomp.defaultAction: unknown seccomp action"});
  parse_fails(with_linux(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1})"),
              {"linux.seccomp.defaultErrnoRet: not allowed with defaultAction"});
  parse_fails(
      with_linux(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["x86"]})"),
      {"linux.seccomp.architectures[0]:"});
  parse_fails(with_linux(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "flags": ["TSYNC"]})"),
              {"linux.seccomp.flags[0]: unknown seccomp flag"});
  parse_fails(
      with_linux(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "m"})"),
      {"linux.seccomp.listenerMetadata: requires listenerPath"});
  const std::string head = R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [)";
  parse_fails(with_linux(head + R"({"action": "SCMP_ACT_ERRNO"}]})"),
              {"linux.seccomp.syscalls[0].names: required"});
  parse_fails(with_linux(head + R"({"names": [], "action": "SCMP_ACT_ERRNO"}]})"),
              {"linux.seccomp.syscalls[0].names: must contain at least one"});
  parse_fails(with_linux(head + R"({"names": ["read"]}]})"),
              {"linux.seccomp.syscalls[0].action: required"});
  parse_fails(
      with_linux(head + R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]})"),
      {"linux.seccomp.syscalls[0].errnoRet: not allowed with action"});
  parse_fails(with_linux(head + R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                    "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})"),
              {"linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5"});
  parse_fails(with_linux(head + R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                    "args": [{"index": 0, "value": 18446744073709551616,
                                              "op": "SCMP_CMP_EQ"}]}]})"),
              {"linux.seccomp.syscalls[0].args[0].value: expected an unsigned 64-bit integer"});
  parse_fails(with_linux(head + R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                    "args": [{"index": 0, "value": 1, "op": "EQ"}]}]})"),
              {"linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator"});
  parse_fails(with_linux(head + R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                    "args": [{"index": 0, "op": "SCMP_CMP_EQ"}]}]})"),
              {"linux.seccomp.syscalls[0].args[0].value: required"});
}

TEST_CASE("hostname and domainname need a uts namespace") {
  parse_fails(config(R"("hostname": "h")"), {"hostname: requires a uts namespace"});
  parse_fails(config(R"("domainname": "d", "linux": {"namespaces": [{"type": "pid"}]})"),
              {"domainname: requires a uts namespace"});
  parse_ok(config(R"("hostname": "h", "linux": {"namespaces": [{"type": "uts"}]})"));
}

TEST_CASE("unknown keys and null members are ignored") {
  Spec s = parse_ok(config(R"("future": {"x": [1, 2]}, "hostname": null, "process": null,
                              "linux": {"newThing": 1, "namespaces": null})"));
  CHECK(s.hostname.empty());
  CHECK_FALSE(s.process);
  REQUIRE(s.linux_);
  CHECK(s.linux_->namespaces.empty());
}

TEST_CASE("default spec parses back, rootful and rootless") {
  Spec s = parse_ok(default_spec_json(false, 0, 0));
  CHECK(s.oci_version == "1.2.0");
  CHECK(s.hostname == "berth");
  REQUIRE(s.root);
  CHECK(s.root->path == "rootfs");
  CHECK(s.root->readonly);
  REQUIRE(s.process);
  CHECK(s.process->terminal);
  CHECK(s.process->args == std::vector<std::string>{"sh"});
  CHECK(s.process->env.size() == 2);
  CHECK(s.process->env[1] == "TERM=xterm");
  CHECK(s.process->cwd == "/");
  CHECK(s.process->no_new_privileges);
  REQUIRE(s.process->capabilities);
  const std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  CHECK(s.process->capabilities->bounding == caps);
  CHECK(s.process->capabilities->effective == caps);
  CHECK(s.process->capabilities->permitted == caps);
  CHECK(s.process->capabilities->inheritable.empty());
  REQUIRE(s.process->rlimits.size() == 1);
  CHECK(s.process->rlimits[0].resource == RLIMIT_NOFILE);
  CHECK(s.process->rlimits[0].soft == 1024);
  REQUIRE(s.mounts.size() == 7);
  CHECK(s.mounts[0].destination == "/proc");
  CHECK(s.mounts[2].options.back() == "gid=5");
  CHECK(s.mounts[5].type == "sysfs");
  CHECK(s.mounts[6].destination == "/sys/fs/cgroup");
  for (NamespaceType t : {NamespaceType::kPid, NamespaceType::kNetwork, NamespaceType::kIpc,
                          NamespaceType::kUts, NamespaceType::kMount, NamespaceType::kCgroup})
    CHECK(s.has_namespace(t));
  CHECK_FALSE(s.has_namespace(NamespaceType::kUser));
  CHECK(s.linux_->masked_paths.size() == 11);
  CHECK(s.linux_->readonly_paths.size() == 5);
  CHECK(s.linux_->resources.raw_json == R"({"devices":[{"allow":false,"access":"rwm"}]})");
  CHECK(s.linux_->uid_mappings.empty());

  Spec rl = parse_ok(default_spec_json(true, 1000, 1001));
  CHECK(rl.has_namespace(NamespaceType::kUser));
  CHECK_FALSE(rl.has_namespace(NamespaceType::kNetwork));
  REQUIRE(rl.linux_->uid_mappings.size() == 1);
  CHECK(rl.linux_->uid_mappings[0].container_id == 0);
  CHECK(rl.linux_->uid_mappings[0].host_id == 1000);
  CHECK(rl.linux_->uid_mappings[0].size == 1);
  CHECK(rl.linux_->gid_mappings[0].host_id == 1001);
  CHECK(rl.linux_->resources.raw_json.empty());
  REQUIRE(rl.mounts.size() == 7);
  CHECK(rl.mounts[5].destination == "/sys");
  CHECK(rl.mounts[5].type == "none");
  CHECK(rl.mounts[5].source == "/sys");
  CHECK(rl.mounts[5].options.front() == "rbind");
  for (const Mount& m : rl.mounts)
    for (const std::string& opt : m.options) CHECK(opt.rfind("gid=", 0) != 0);

  // Extreme ids still produce a config that parses.
  Spec max = parse_ok(default_spec_json(true, UINT32_MAX - 1, UINT32_MAX - 1));
  CHECK(max.linux_->uid_mappings[0].host_id == UINT32_MAX - 1);
}

TEST_CASE("parse_process reads a process.json with paths from its root") {
  auto p = parse_process(R"({"args": ["ls", "-l"], "cwd": "/tmp", "env": ["A=1"],
                             "user": {"uid": 5, "gid": 6}, "terminal": false,
                             "rlimits": [{"type": "RLIMIT_NPROC", "soft": 10, "hard": 20}]})",
                         "process.json");
  REQUIRE_MESSAGE(p.ok(), (p.ok() ? std::string() : p.error().message()));
  CHECK(p->args == std::vector<std::string>{"ls", "-l"});
  CHECK(p->cwd == "/tmp");
  CHECK(p->user.uid == 5);
  CHECK(p->rlimits[0].resource == RLIMIT_NPROC);

  auto bad = parse_process(R"({"args": ["ls"], "cwd": "rel"})", "process.json");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == R"(process.json: cwd: must be an absolute path, got "rel")");
  auto not_obj = parse_process("[1]", "process.json");
  REQUIRE_FALSE(not_obj.ok());
  CHECK(not_obj.error().message() == "process.json: expected an object, got array");
  auto no_args = parse_process(R"({"cwd": "/"})", "p.json");
  REQUIRE_FALSE(no_args.ok());
  CHECK(no_args.error().message().rfind("p.json: args:", 0) == 0);
  auto invalid = parse_process("{", "p.json");
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().message().rfind("p.json: invalid JSON", 0) == 0);
}
