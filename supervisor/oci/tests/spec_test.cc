#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>

#include "berth/base/sys.h"
#include "berth/json/json.h"
#include "berth/oci/spec.h"
#include "rules.h"

using namespace berth;
using namespace berth::oci;
using json::Value;

namespace {

struct Fixture {
  std::string dir;
  core::ContainerConfig config;
  core::ImageConfig image;
  SpecInput in;
  Fixture() {
    dir = *sys::make_temp_dir("berth-oci-spec-");
    REQUIRE(sys::mkdir_p(dir + "/rootfs/etc", 0755).ok());
    REQUIRE(sys::write_file_atomic(
                dir + "/rootfs/etc/passwd",
                "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::/home/tester:/bin/sh\n", 0644)
                .ok());
    REQUIRE(sys::write_file_atomic(dir + "/rootfs/etc/group", "root:x:0:\ntester:x:1000:\n", 0644)
                .ok());
    image.cmd = {"sh"};
    image.env = {"PATH=/usr/bin:/bin"};
    in.id = "0123456789ab" + std::string(52, 'c');
    in.config = &config;
    in.image = &image;
    in.rootfs = dir + "/rootfs";
    in.cgroups_path = "/berth/x";
    in.host_capabilities = 0x1fffeffffffULL;
    in.kernel_release = "6.1.0";
  }
  ~Fixture() { (void)sys::remove_all(dir); }
  Value spec() {
    auto text = generate_spec(in);
    REQUIRE_MESSAGE(text.ok(), (text.ok() ? "" : text.error().to_string()));
    auto v = json::parse(*text, "config.json");
    REQUIRE(v.ok());
    return *v;
  }
};

std::vector<std::string> strings(const Value* v) {
  std::vector<std::string> out;
  if (v)
    for (const auto& s : v->items()) out.push_back(s.as_string());
  return out;
}

const Value& at(const Value& v, std::initializer_list<std::string_view> path) {
  const Value* cur = &v;
  for (auto k : path) {
    cur = cur->get(k);
    REQUIRE_MESSAGE(cur, std::string(k));
  }
  return *cur;
}

}  // namespace

TEST_CASE("spec: a plain run gets docker's defaults") {
  Fixture f;
  auto s = f.spec();
  CHECK(at(s, {"ociVersion"}).as_string() == "1.2.0");
  CHECK(at(s, {"hostname"}).as_string() == "0123456789ab");
  CHECK(strings(&at(s, {"process", "args"})) == std::vector<std::string>{"sh"});
  CHECK(strings(&at(s, {"process", "env"})) ==
        std::vector<std::string>{"PATH=/usr/bin:/bin", "HOSTNAME=0123456789ab", "HOME=/root"});
  CHECK(at(s, {"process", "cwd"}).as_string() == "/");
  CHECK(at(s, {"process", "capabilities", "effective"}).items().size() == 14);
  CHECK(at(s, {"root", "path"}).as_string() == f.in.rootfs);
  CHECK(!at(s, {"root", "readonly"}).as_bool());
  CHECK(at(s, {"linux", "cgroupsPath"}).as_string() == "/berth/x");
  CHECK(strings(&at(s, {"linux", "maskedPaths"})) == kMaskedPaths);
  CHECK(strings(&at(s, {"linux", "readonlyPaths"})) == kReadonlyPaths);
  CHECK(at(s, {"linux", "seccomp", "defaultAction"}).as_string() == "SCMP_ACT_ERRNO");
  CHECK(at(s, {"linux", "sysctl", "net.ipv4.ip_unprivileged_port_start"}).as_string() == "0");
  CHECK(at(s, {"linux", "namespaces"}).items().size() == 5);
  CHECK(at(s, {"mounts"}).items().size() == 7);
}

TEST_CASE("spec: -u, -w, -t, --read-only, --hostname, --ulimit, --no-new-privileges") {
  Fixture f;
  f.config.user = "tester";
  f.config.working_dir = "/work/";
  f.config.tty = true;
  f.config.read_only = true;
  f.config.hostname = "web";
  f.config.ulimits = {{"nofile", 100, 200}};
  f.config.no_new_privileges = true;
  auto s = f.spec();
  CHECK(at(s, {"process", "user", "uid"}).as_u64() == 1000);
  CHECK(at(s, {"process", "cwd"}).as_string() == "/work");
  CHECK(at(s, {"process", "terminal"}).as_bool());
  CHECK(at(s, {"process", "noNewPrivileges"}).as_bool());
  CHECK(at(s, {"root", "readonly"}).as_bool());
  CHECK(at(s, {"hostname"}).as_string() == "web");
  CHECK(strings(&at(s, {"process", "env"})) ==
        std::vector<std::string>{"PATH=/usr/bin:/bin", "HOSTNAME=web", "TERM=xterm",
                                 "HOME=/home/tester"});
  // a non-root user: bounding only
  CHECK(at(s, {"process", "capabilities", "bounding"}).items().size() == 14);
  CHECK(at(s, {"process", "capabilities", "effective"}).items().empty());
  CHECK(at(s, {"process", "rlimits"}).items()[0].get("type")->as_string() == "RLIMIT_NOFILE");
  f.config.working_dir = "relative";
  CHECK(!generate_spec(f.in).ok());
}

TEST_CASE("spec: --privileged drops masks, seccomp and the device cgroup") {
  Fixture f;
  f.config.privileged = true;
  f.in.host_dev = f.dir + "/nodev";
  auto s = f.spec();
  CHECK(!at(s, {"linux"}).get("maskedPaths"));
  CHECK(!at(s, {"linux"}).get("readonlyPaths"));
  CHECK(!at(s, {"linux"}).get("seccomp"));
  CHECK(at(s, {"process", "capabilities", "effective"}).items().size() == 40);
  CHECK(at(s, {"linux", "resources", "devices"}).items().size() == 1);
}

TEST_CASE("spec: seccomp=unconfined, a custom profile, --uts host, --init") {
  Fixture f;
  f.config.seccomp_profile = "unconfined";
  CHECK(!f.spec().get("linux")->get("seccomp"));
  f.config.seccomp_profile = R"({"defaultAction":"SCMP_ACT_ALLOW"})";
  CHECK(at(f.spec(), {"linux", "seccomp", "defaultAction"}).as_string() == "SCMP_ACT_ALLOW");
  f.config.seccomp_profile.clear();
  f.config.uts_mode = "host";
  auto uts_host = f.spec();
  CHECK(uts_host.get("hostname") == nullptr);
  f.config.uts_mode.clear();
  f.config.init = true;
  f.in.init_path = "/usr/bin/tini";
  CHECK(strings(&at(f.spec(), {"process", "args"})) ==
        std::vector<std::string>{"/sbin/docker-init", "--", "sh"});
}

TEST_CASE("spec: bad input is refused before anything is written") {
  Fixture f;
  f.in.id = "short";
  CHECK(!generate_spec(f.in).ok());
  Fixture g;
  g.config.user = "nobody2";
  auto e = generate_spec(g.in);
  REQUIRE(!e.ok());
  CHECK(e.error().message() == "unable to find user nobody2: no matching entries in passwd file");
  Fixture h;
  h.config.network_mode = "host";
  h.config.sysctls = {{"net.core.somaxconn", "1"}};
  CHECK(!generate_spec(h.in).ok());
}

TEST_CASE("exec: the container's env and rules with the exec's options on top") {
  Fixture f;
  f.config.env = {"A=1"};
  ExecOptions exec{{"ls", "-l"}, {"A=2", "B=3"}, "tester", "/tmp", true, false};
  auto text = generate_exec_process(f.in, exec);
  REQUIRE(text.ok());
  auto p = *json::parse(*text, "process");
  CHECK(strings(p.get("args")) == std::vector<std::string>{"ls", "-l"});
  CHECK(strings(p.get("env")) == std::vector<std::string>{"PATH=/usr/bin:/bin",
                                                          "HOSTNAME=0123456789ab", "TERM=xterm",
                                                          "A=2", "B=3", "HOME=/home/tester"});
  CHECK(p.get("cwd")->as_string() == "/tmp");
  CHECK(p.get("user")->get("uid")->as_u64() == 1000);
  CHECK(p.get("capabilities")->get("effective")->items().empty());
  ExecOptions priv{{"id"}, {}, "", "", false, true};
  auto pp = *json::parse(*generate_exec_process(f.in, priv), "process");
  CHECK(pp.get("capabilities")->get("effective")->items().size() == 40);
  CHECK(!generate_exec_process(f.in, ExecOptions{}).ok());
}

TEST_CASE("working dir: made in the rootfs when missing, never through a symlink out of it") {
  Fixture f;
  f.config.working_dir = "/srv/app/";
  REQUIRE(create_working_dir(f.in).ok());
  CHECK(sys::exists(f.in.rootfs + "/srv/app"));
  REQUIRE(create_working_dir(f.in).ok());  // already there
  // /esc links to a decoy host directory beside the rootfs: the mkdir must
  // not land in it.
  REQUIRE(sys::mkdir_p(f.dir + "/decoy", 0755).ok());
  REQUIRE(::symlink((f.dir + "/decoy").c_str(), (f.in.rootfs + "/esc").c_str()) == 0);
  f.config.working_dir = "/esc/new";
  CHECK(!create_working_dir(f.in).ok());
  CHECK(!sys::exists(f.dir + "/decoy/new"));
  f.config.working_dir = "/etc/passwd/x";
  auto file = create_working_dir(f.in);
  REQUIRE(!file.ok());
  CHECK(file.error().message() == "Cannot mkdir: /etc/passwd/x is not a directory");
  f.config.working_dir.clear();
  f.image.working_dir = "/from/image";
  REQUIRE(create_working_dir(f.in).ok());
  CHECK(sys::exists(f.in.rootfs + "/from/image"));
}

TEST_CASE("spec: --network host takes the host's hostname and no network sysctls") {
  Fixture f;
  f.config.network_mode = "host";
  auto s = f.spec();
  auto host = sys::read_file("/proc/sys/kernel/hostname");
  REQUIRE(host.ok());
  CHECK(at(s, {"hostname"}).as_string() + "\n" == *host);
  CHECK(!at(s, {"linux"}).get("sysctl"));
  CHECK(at(s, {"linux", "namespaces"}).items().size() == 4);
}
