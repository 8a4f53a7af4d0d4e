#include <doctest/doctest.h>

#include <algorithm>

#include "rules.h"

using namespace berth;
using namespace berth::oci;

namespace {
using Caps = std::vector<std::string>;
// This host's root: everything up to CAP_CHECKPOINT_RESTORE but CAP_SYS_RESOURCE.
constexpr uint64_t kHost = 0x1fffeffffffULL;
}  // namespace

TEST_CASE("caps: docker's 14 defaults without flags") {
  auto caps = tweak_capabilities({}, {}, false, kHost);
  REQUIRE(caps.ok());
  CHECK(caps->size() == 14);
  CHECK(*caps == default_capabilities());
  CHECK(std::find(caps->begin(), caps->end(), "CAP_SYS_ADMIN") == caps->end());
}

TEST_CASE("caps: --cap-add/--cap-drop, CAP_ prefix optional, any case") {
  auto caps =
      tweak_capabilities({"net_admin", "CAP_SYS_PTRACE"}, {"chown", "CAP_KILL"}, false, kHost);
  REQUIRE(caps.ok());
  CHECK(caps->size() == 14);
  CHECK(caps->front() == "CAP_DAC_OVERRIDE");
  CHECK(caps->at(12) == "CAP_NET_ADMIN");
  CHECK(caps->at(13) == "CAP_SYS_PTRACE");
}

TEST_CASE("caps: ALL") {
  auto all_but = tweak_capabilities({"ALL"}, {"NET_ADMIN"}, false, kHost);
  REQUIRE(all_but.ok());
  CHECK(all_but->size() == 39);  // 41 known, minus SYS_RESOURCE (absent here) and NET_ADMIN
  auto only = tweak_capabilities({"chown"}, {"all"}, false, kHost);
  REQUIRE(only.ok());
  CHECK(*only == Caps{"CAP_CHOWN"});
  CHECK(tweak_capabilities({}, {"ALL"}, false, kHost)->empty());
}

TEST_CASE("caps: unknown names and capabilities the daemon lacks are refused") {
  auto unknown = tweak_capabilities({"FOO"}, {}, false, kHost);
  REQUIRE(!unknown.ok());
  CHECK(unknown.error().message() == "unknown capability: \"CAP_FOO\"");
  auto absent = tweak_capabilities({"SYS_RESOURCE"}, {}, false, kHost);
  REQUIRE(!absent.ok());
  CHECK(absent.error().message().find("not available in the current environment") !=
        std::string::npos);
}

TEST_CASE("caps: --privileged gets what the daemon holds") {
  auto caps = tweak_capabilities({"FOO"}, {}, true, kHost);
  REQUIRE(caps.ok());
  CHECK(caps->size() == 40);
  CHECK(std::find(caps->begin(), caps->end(), "CAP_SYS_RESOURCE") == caps->end());
  CHECK(caps->back() == "CAP_CHECKPOINT_RESTORE");
  CHECK(capabilities_in(0x5) == Caps{"CAP_CHOWN", "CAP_DAC_READ_SEARCH"});
}

TEST_CASE("caps: a non-root user keeps only the bounding set, as after execve") {
  auto root = capabilities_for({"CAP_CHOWN"}, 0);
  CHECK(root.effective == Caps{"CAP_CHOWN"});
  CHECK(root.permitted == Caps{"CAP_CHOWN"});
  auto user = capabilities_for({"CAP_CHOWN"}, 1000);
  CHECK(user.bounding == Caps{"CAP_CHOWN"});
  CHECK(user.effective.empty());
  CHECK(user.permitted.empty());
}

TEST_CASE("caps: this process' CapEff parses") {
  auto mask = current_capabilities();
  REQUIRE(mask.ok());
}
