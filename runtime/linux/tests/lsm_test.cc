#include "berth/linux/lsm.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <string>

#include "berth/base/sys.h"

using berth::os::LsmHost;

namespace {

std::string fake_sys() {
  char dir[] = "/tmp/berth-lsm-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  return dir;
}

berth::spec::Process process(std::string apparmor, std::string selinux) {
  berth::spec::Process p;
  p.apparmor_profile = std::move(apparmor);
  p.selinux_label = std::move(selinux);
  return p;
}

}  // namespace

TEST_CASE("detect_lsm reads AppArmor's parameter and wants selinuxfs mounted") {
  std::string root = fake_sys();
  CHECK_FALSE(berth::os::detect_lsm(root).apparmor);
  REQUIRE(berth::sys::mkdir_p(root + "/module/apparmor/parameters", 0755).ok());
  REQUIRE(berth::sys::write_file_atomic(root + "/module/apparmor/parameters/enabled", "N\n").ok());
  CHECK_FALSE(berth::os::detect_lsm(root).apparmor);
  REQUIRE(berth::sys::write_file_atomic(root + "/module/apparmor/parameters/enabled", "Y\n").ok());
  CHECK(berth::os::detect_lsm(root).apparmor);
  // A directory that is not selinuxfs is not SELinux.
  REQUIRE(berth::sys::mkdir_p(root + "/fs/selinux", 0755).ok());
  CHECK_FALSE(berth::os::detect_lsm(root).selinux);
  REQUIRE(berth::sys::remove_all(root).ok());
}

TEST_CASE("check_lsm refuses what it cannot apply and accepts empty values") {
  LsmHost none;
  CHECK(berth::os::check_lsm(process("", ""), none, "config.json: process.").ok());
  auto st = berth::os::check_lsm(process("docker-default", ""), none, "config.json: process.");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() ==
        "config.json: process.apparmorProfile: `docker-default`: AppArmor is not enabled on this "
        "host");
  CHECK(st.error().code() == ENOTSUP);
  st = berth::os::check_lsm(process("", "system_u:system_r:container_t:s0"), none, "p.json: ");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message().find("p.json: selinuxLabel: ") == 0);
  CHECK(st.error().message().find("SELinux is not enabled on this host") != std::string::npos);
  LsmHost both{true, true};
  st = berth::os::check_lsm(process("docker-default", ""), both, "config.json: process.");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message().find("berth does not apply AppArmor profiles") != std::string::npos);
}
