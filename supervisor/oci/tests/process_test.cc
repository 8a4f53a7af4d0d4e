#include <doctest/doctest.h>

#include <algorithm>

#include "rules.h"

using namespace berth;
using namespace berth::oci;

namespace {
core::ImageConfig image_with(std::vector<std::string> entrypoint, std::vector<std::string> cmd) {
  core::ImageConfig image;
  image.entrypoint = std::move(entrypoint);
  image.cmd = std::move(cmd);
  return image;
}
using Args = std::vector<std::string>;
}  // namespace

TEST_CASE("command: the image's entrypoint and cmd, the user's cmd replacing the image's") {
  auto image = image_with({"/entry", "-x"}, {"serve"});
  core::ContainerConfig c;
  CHECK(*command_of(c, image) == Args{"/entry", "-x", "serve"});
  c.cmd = {"sh"};
  CHECK(*command_of(c, image) == Args{"/entry", "-x", "sh"});
}

TEST_CASE("command: --entrypoint drops the image's cmd; --entrypoint \"\" clears it") {
  auto image = image_with({"/entry"}, {"serve"});
  core::ContainerConfig c;
  c.entrypoint = Args{"/bin/sh"};
  CHECK(*command_of(c, image) == Args{"/bin/sh"});
  c.cmd = {"-c", "true"};
  CHECK(*command_of(c, image) == Args{"/bin/sh", "-c", "true"});
  c.entrypoint = Args{""};
  CHECK(*command_of(c, image) == Args{"-c", "true"});
  c.cmd.clear();
  auto none = command_of(c, image);
  REQUIRE(!none.ok());
  CHECK(none.error().message() == "no command specified");
  CHECK(none.error().code() == EINVAL);
  CHECK(!command_of(core::ContainerConfig{}, image_with({}, {})).ok());
}

TEST_CASE("env: PATH, HOSTNAME and TERM first, the user's over the image's, bare K unsets") {
  core::ImageConfig image;
  image.env = {"PATH=/image/bin", "A=image", "B=image", "GONE=x"};
  core::ContainerConfig c;
  c.env = {"B=user", "C=user", "GONE"};
  // docker run -t -e B=user -e C=user -e GONE: the image's PATH replaces the
  // default in place; merge() lists the user's entries before the image's.
  CHECK(container_env(c, image, "abc", true) ==
        Args{"PATH=/image/bin", "HOSTNAME=abc", "TERM=xterm", "B=user", "C=user", "A=image"});
  CHECK(container_env(core::ContainerConfig{}, core::ImageConfig{}, "h", false) ==
        Args{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=h"});
}

TEST_CASE("env: replace_or_append_env keeps order and removes bare keys") {
  CHECK(replace_or_append_env({"A=1", "B=2"}, {"B=3", "C=4", "A"}) == Args{"B=3", "C=4"});
  CHECK(replace_or_append_env({"A=1"}, {"A", "A=5"}) == Args{"A=5"});
}

TEST_CASE("ulimits: docker's names to RLIMIT_*, checked as go-units does") {
  auto r = rlimits_of({{"nofile", 1024, 2048}, {"core", -1, -1}});
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].type == "RLIMIT_NOFILE");
  CHECK((*r)[0].soft == 1024);
  CHECK((*r)[0].hard == 2048);
  CHECK((*r)[1].type == "RLIMIT_CORE");
  CHECK((*r)[1].hard == UINT64_MAX);
  auto bad = rlimits_of({{"files", 1, 1}});
  REQUIRE(!bad.ok());
  CHECK(bad.error().message() == "invalid ulimit type: files");
  auto inverted = rlimits_of({{"nproc", 10, 5}});
  REQUIRE(!inverted.ok());
  CHECK(inverted.error().message().find("10 > 5") != std::string::npos);
}
