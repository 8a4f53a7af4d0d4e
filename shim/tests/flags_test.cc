#include <doctest/doctest.h>

#include "flags.h"

using namespace berth::shim;

TEST_CASE("containerd 1.6 start command line") {
  auto f = parse_flags({"-namespace", "default", "-address", "/run/containerd/containerd.sock",
                        "-publish-binary", "/usr/bin/containerd", "-debug", "-id", "c1", "start"});
  REQUIRE(f.ok());
  CHECK(f->ns == "default");
  CHECK(f->address == "/run/containerd/containerd.sock");
  CHECK(f->publish_binary == "/usr/bin/containerd");
  CHECK(f->debug);
  CHECK(f->id == "c1");
  CHECK(f->action == "start");
}

TEST_CASE("delete with -bundle, -flag=value and --flag forms") {
  auto f =
      parse_flags({"--namespace=k8s.io", "-id=abc", "-bundle", "/b", "-debug=false", "delete"});
  REQUIRE(f.ok());
  CHECK(f->ns == "k8s.io");
  CHECK(f->id == "abc");
  CHECK(f->bundle == "/b");
  CHECK_FALSE(f->debug);
  CHECK(f->action == "delete");
}

TEST_CASE("-v, unknown flags and actions") {
  auto v = parse_flags({"-v"});
  REQUIRE(v.ok());
  CHECK(v->version);
  auto bad = parse_flags({"-nope", "x", "start"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().to_string() == "flag provided but not defined: -nope");
  CHECK_FALSE(parse_flags({"-id"}).ok());
  CHECK_FALSE(parse_flags({"-id", "x", "restart"}).ok());
  CHECK_FALSE(parse_flags({"start", "extra"}).ok());
}
