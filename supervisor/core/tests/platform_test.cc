#include <doctest/doctest.h>

#include <string>

#include "berth/core/platform.h"

using berth::core::parse_platform;
using berth::core::Platform;

namespace {
std::string p(std::string_view text) {
  auto r = parse_platform(text);
  return r ? r->str() : "ERR: " + r.error().message();
}
}  // namespace

TEST_CASE("platforms normalise as containerd's do") {
  CHECK(p("linux/amd64") == "linux/amd64");
  CHECK(p("Linux/X86_64") == "linux/amd64");
  CHECK(p("linux/amd64/v1") == "linux/amd64");
  CHECK(p("linux/aarch64") == "linux/arm64");
  CHECK(p("linux/arm64/v8") == "linux/arm64");
  CHECK(p("linux/arm") == "linux/arm/v7");
  CHECK(p("linux/arm/6") == "linux/arm/v6");
  CHECK(p("linux/armhf") == "linux/arm/v7");
  CHECK(p("linux/i386") == "linux/386");
  CHECK(p("arm64") == "linux/arm64");
  CHECK(p("linux") == berth::core::host_platform().str());
  CHECK(p("windows/amd64") == "windows/amd64");
}

TEST_CASE("bad platforms are named") {
  CHECK(p("").starts_with("ERR: invalid platform ``"));
  CHECK(p("linux/") == "ERR: invalid platform `linux/`: empty component");
  CHECK(p("linux/amd64/v2/x") ==
        "ERR: invalid platform `linux/amd64/v2/x`: too many components (os/architecture/variant)");
  CHECK(p("plan10") == "ERR: invalid platform `plan10`: unknown operating system or architecture");
  CHECK(p("linux/z80") == "ERR: invalid platform `linux/z80`: unknown architecture `z80`");
  CHECK(p("beos/amd64") == "ERR: invalid platform `beos/amd64`: unknown operating system `beos`");
}

TEST_CASE("matching index entries") {
  using berth::core::platform_matches;
  CHECK(platform_matches({"linux", "amd64", ""}, {"linux", "amd64", ""}));
  CHECK(platform_matches({"linux", "arm64", ""}, {"linux", "aarch64", "v8"}));
  CHECK(platform_matches({"linux", "arm", ""}, {"linux", "arm", "v7"}));  // arm means v7
  CHECK_FALSE(platform_matches({"linux", "arm", "v6"}, {"linux", "arm", "v7"}));
  CHECK_FALSE(platform_matches({"linux", "amd64", ""}, {"windows", "amd64", ""}));
  CHECK_FALSE(platform_matches({"linux", "amd64", ""}, {"linux", "arm64", ""}));
}

TEST_CASE("the host platform is linux/amd64 on this machine's kind") {
  Platform h = berth::core::host_platform();
  CHECK(h.os == "linux");
  CHECK_FALSE(h.architecture.empty());
}
