#include <doctest/doctest.h>

#include <algorithm>

#include "fixture.h"
#include "rules.h"

using namespace berth;
using namespace berth::oci;

namespace {

struct Fixture : testing::InputFixture {
  Spec spec;
  std::vector<Mount> build() {
    auto m = build_mounts(in, spec);
    REQUIRE(m.ok());
    return *m;
  }
};

const Mount* find(const std::vector<Mount>& ms, std::string_view dest) {
  for (const auto& m : ms)
    if (m.destination == dest) return &m;
  return nullptr;
}

bool has(const Mount* m, std::string_view opt) {
  return m && std::find(m->options.begin(), m->options.end(), opt) != m->options.end();
}

std::vector<std::string> dests(const std::vector<Mount>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.destination);
  return out;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("mounts: docker's defaults, /dev/shm 64 MiB, /sys and cgroups read-only") {
  Fixture f;
  auto ms = f.build();
  CHECK(dests(ms) ==
        Strings{"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"});
  CHECK(find(ms, "/dev/shm")->options ==
        Strings{"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"});
  CHECK(has(find(ms, "/sys"), "ro"));
  CHECK(has(find(ms, "/sys/fs/cgroup"), "ro"));
  CHECK(find(ms, "/dev/pts")->options ==
        Strings{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  f.config.shm_size = 1 << 20;
  CHECK(has(find(f.build(), "/dev/shm"), "size=1048576"));
}

TEST_CASE("mounts: the network files, binds by depth, a user mount replacing a default") {
  Fixture f;
  f.in.hostname_file = "/run/h";
  f.in.hosts_file = "/run/hosts";
  f.in.resolv_file = "/run/resolv";
  f.in.mounts = {{"bind", "/host/deep", "/a/b/c", false, "", {}},
                 {"volume", "/var/lib/berthd/volumes/v/_data", "/a", true, "", {}},
                 {"tmpfs", "", "/dev/shm", false, "", {"size=1m"}}};
  auto ms = f.build();
  CHECK(dests(ms) == Strings{"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue",
                             "/a", "/etc/resolv.conf", "/etc/hostname", "/etc/hosts", "/dev/shm",
                             "/a/b/c"});
  CHECK(find(ms, "/a")->options == Strings{"rbind", "ro"});
  CHECK(find(ms, "/a/b/c")->options == Strings{"rbind", "rprivate"});
  CHECK(find(ms, "/etc/hosts")->options == Strings{"rbind", "rprivate"});
  CHECK(find(ms, "/etc/hosts")->source == "/run/hosts");
  CHECK(find(ms, "/dev/shm")->options ==
        Strings{"noexec", "nosuid", "nodev", "rprivate", "size=1m"});
}

TEST_CASE("mounts: a user /dev drops every default under it; --ipc none drops /dev/shm") {
  Fixture f;
  f.in.mounts = {{"bind", "/hostdev", "/dev", false, "", {}}};
  CHECK(dests(f.build()) == Strings{"/proc", "/sys", "/sys/fs/cgroup", "/dev"});
  Fixture g;
  g.config.ipc_mode = "none";
  CHECK(find(g.build(), "/dev/shm") == nullptr);
  Fixture h;
  h.config.ipc_mode = "host";
  auto shm = find(h.build(), "/dev/shm");
  REQUIRE(shm);
  CHECK(shm->source == "/dev/shm");
  CHECK(shm->type == "bind");
}

TEST_CASE("mounts: tmpfs options merge as docker's: the later of a kind wins") {
  Fixture f;
  f.in.mounts = {{"tmpfs", "", "/run", false, "", {"exec", "size=1m", "size=2m", "mode=700"}}};
  CHECK(find(f.build(), "/run")->options ==
        Strings{"nosuid", "nodev", "rprivate", "exec", "size=2m", "mode=700"});
  f.in.mounts = {{"tmpfs", "", "/run", true, "", {"bogus=1"}}};
  auto bad = build_mounts(f.in, f.spec);
  REQUIRE(!bad.ok());
  CHECK(bad.error().message().find("invalid tmpfs option") != std::string::npos);
}

TEST_CASE("mounts: --read-only makes the defaults ro but the kernel's writable ones") {
  Fixture f;
  f.config.read_only = true;
  f.in.hosts_file = "/run/hosts";
  auto ms = f.build();
  CHECK(!has(find(ms, "/proc"), "ro"));
  CHECK(!has(find(ms, "/dev"), "ro"));
  CHECK(!has(find(ms, "/dev/shm"), "ro"));
  CHECK(has(find(ms, "/sys"), "ro"));
  CHECK(has(find(ms, "/etc/hosts"), "ro"));
}

TEST_CASE("mounts: --privileged makes /sys and cgroups writable") {
  Fixture f;
  f.config.privileged = true;
  auto ms = f.build();
  CHECK(!has(find(ms, "/sys"), "ro"));
  CHECK(!has(find(ms, "/sys/fs/cgroup"), "ro"));
}

TEST_CASE("mounts: --init binds the init read-only in a private pid namespace only") {
  Fixture f;
  f.config.init = true;
  f.in.init_path = "/usr/bin/docker-init";
  auto init = find(f.build(), "/sbin/docker-init");
  REQUIRE(init);
  CHECK(init->options == Strings{"bind", "ro"});
  f.config.pid_mode = "host";
  CHECK(find(f.build(), "/sbin/docker-init") == nullptr);
  f.config.pid_mode.clear();
  f.in.init_path.clear();
  CHECK(!build_mounts(f.in, f.spec).ok());
}

TEST_CASE("mounts: shared and slave binds set the rootfs propagation; bad input refused") {
  Fixture f;
  f.in.mounts = {{"bind", "/s", "/s", false, "rslave", {}}};
  f.build();
  CHECK(f.spec.rootfs_propagation == "rslave");
  f.in.mounts.push_back({"bind", "/t", "/t", false, "rshared", {}});
  f.build();
  CHECK(f.spec.rootfs_propagation == "shared");
  f.in.mounts = {{"bind", "relative", "/x", false, "", {}}};
  CHECK(!build_mounts(f.in, f.spec).ok());
  f.in.mounts = {{"bind", "/x", "x", false, "", {}}};
  CHECK(!build_mounts(f.in, f.spec).ok());
  f.in.mounts = {{"bind", "/x", "/x", false, "sideways", {}}};
  CHECK(!build_mounts(f.in, f.spec).ok());
}
