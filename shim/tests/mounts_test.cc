#include <doctest/doctest.h>
#include <sys/mount.h>

#include "mounts.h"

using namespace berth::shim;

TEST_CASE("overlay rootfs from the snapshotter is one mount with the options as data") {
  MountSpec m{"overlay", "overlay",
              {"index=off", "workdir=/s/426/work", "upperdir=/s/426/fs", "lowerdir=/s/1/fs"}};
  auto plan = plan_mount(m, "/b/rootfs");
  REQUIRE(plan.ok());
  REQUIRE(plan->size() == 1);
  const auto& s = (*plan)[0];
  CHECK(s.source == "overlay");
  CHECK(s.target == "/b/rootfs");
  CHECK(s.fstype == "overlay");
  CHECK(s.flags == 0);
  CHECK(s.data == "index=off,workdir=/s/426/work,upperdir=/s/426/fs,lowerdir=/s/1/fs");
}

TEST_CASE("a read-only bind is a bind plus a read-only remount") {
  MountSpec m{"bind", "/var/lib/x/fs", {"rbind", "ro", "nosuid", "rprivate"}};
  auto plan = plan_mount(m, "/b/rootfs");
  REQUIRE(plan.ok());
  REQUIRE(plan->size() == 3);
  CHECK((*plan)[0].flags == (MS_BIND | MS_REC));
  CHECK((*plan)[0].fstype.empty());
  CHECK((*plan)[0].data.empty());
  CHECK((*plan)[1].flags == (MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID));
  CHECK((*plan)[2].flags == (MS_PRIVATE | MS_REC));
}

TEST_CASE("rw clears ro; unknown words are data") {
  MountSpec m{"tmpfs", "tmpfs", {"ro", "rw", "size=64k", "mode=755"}};
  auto plan = plan_mount(m, "/t");
  REQUIRE(plan.ok());
  CHECK((*plan)[0].flags == 0);
  CHECK((*plan)[0].data == "size=64k,mode=755");
}

TEST_CASE("options beyond one page are refused with the size in the message") {
  MountSpec m{"overlay", "overlay", {"lowerdir=" + std::string(5000, 'a')}};
  auto plan = plan_mount(m, "/b/rootfs");
  REQUIRE_FALSE(plan.ok());
  CHECK(plan.error().to_string().find("exceed one page") != std::string::npos);
}
