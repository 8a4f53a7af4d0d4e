#include <doctest/doctest.h>

#include <string>

#include "berth/core/reference.h"

using berth::core::parse_reference;

namespace {

std::string norm(std::string_view text, bool default_tag = true) {
  auto r = parse_reference(text, default_tag);
  return r ? r->str() : "ERR: " + r.error().message();
}
std::string familiar(std::string_view text) {
  auto r = parse_reference(text);
  return r ? r->familiar() : "ERR: " + r.error().message();
}
const std::string kDigest = "sha256:" + std::string(64, 'a');

}  // namespace

TEST_CASE("docker's normalisation of names") {
  CHECK(norm("busybox") == "docker.io/library/busybox:latest");
  CHECK(norm("busybox:1.36") == "docker.io/library/busybox:1.36");
  CHECK(norm("user/app") == "docker.io/user/app:latest");
  CHECK(norm("docker.io/busybox") == "docker.io/library/busybox:latest");
  CHECK(norm("index.docker.io/busybox") == "docker.io/library/busybox:latest");
  CHECK(norm("docker.io/library/busybox:latest") == "docker.io/library/busybox:latest");
  CHECK(norm("localhost/app") == "localhost/app:latest");
  CHECK(norm("localhost:5000/app") == "localhost:5000/app:latest");
  CHECK(norm("127.0.0.1:5000/team/app:v1") == "127.0.0.1:5000/team/app:v1");
  CHECK(norm("[::1]:5000/app:v1") == "[::1]:5000/app:v1");
  CHECK(norm("quay.io/a/b/c") == "quay.io/a/b/c:latest");
  CHECK(norm("ab-c__d/e--f.g") == "docker.io/ab-c__d/e--f.g:latest");
  CHECK(norm("a.b_c/d").starts_with(
      "ERR: invalid reference format: bad registry host"));  // has a dot: a host
}

TEST_CASE("tags and digests") {
  CHECK(norm("busybox@" + kDigest) == "docker.io/library/busybox@" + kDigest);
  CHECK(norm("busybox:1@" + kDigest) == "docker.io/library/busybox:1@" + kDigest);
  CHECK(norm("localhost:5000/app@" + kDigest) == "localhost:5000/app@" + kDigest);
  CHECK(norm("busybox", false) == "docker.io/library/busybox");
  CHECK(norm("busybox:" + std::string(128, 't')).find("ERR") == std::string::npos);
  CHECK(norm("busybox:" + std::string(129, 't'))
            .starts_with("ERR: invalid reference format: bad tag"));
  CHECK(norm("busybox:.x").starts_with("ERR: invalid reference format: bad tag"));
  CHECK(norm("busybox@sha256:abc").starts_with("ERR: invalid reference format: bad digest"));
  CHECK(norm("busybox@sha256:" + std::string(64, 'A'))
            .starts_with("ERR: invalid reference format: bad digest"));
}

TEST_CASE("familiar forms, as docker prints them") {
  CHECK(familiar("docker.io/library/busybox") == "busybox:latest");
  CHECK(familiar("docker.io/user/app:2") == "user/app:2");
  CHECK(familiar("docker.io/library/a/b") == "library/a/b:latest");
  CHECK(familiar("localhost:5000/app") == "localhost:5000/app:latest");
}

TEST_CASE("bad references: docker's words, the reference named") {
  CHECK(norm("").starts_with("ERR: invalid reference format"));
  CHECK(norm("Busybox") ==
        "ERR: invalid reference format: repository name must be lowercase (`Busybox`)");
  CHECK(norm("user/App")
            .starts_with("ERR: invalid reference format: repository name must be lowercase"));
  CHECK(norm("UPPER.io/app") == "UPPER.io/app:latest");  // a registry host may have upper case
  CHECK(norm("-app").starts_with("ERR: invalid reference format"));
  CHECK(norm("app-").starts_with("ERR: invalid reference format"));
  CHECK(norm("a//b").starts_with("ERR: invalid reference format"));
  CHECK(norm("a/").starts_with("ERR: invalid reference format"));
  CHECK(norm("a..b").starts_with("ERR: invalid reference format"));
  CHECK(norm("a___b").starts_with("ERR: invalid reference format"));
  CHECK(norm("host:99999x/app").starts_with("ERR: invalid reference format"));
  CHECK(norm("app:").starts_with("ERR: invalid reference format"));
  CHECK(norm(":tag").starts_with("ERR: invalid reference format"));
  CHECK(norm("app@").starts_with("ERR: invalid reference format"));
  CHECK(norm("with space").starts_with("ERR: invalid reference format"));
  CHECK(norm(std::string(64, 'a')).starts_with("ERR: invalid repository name"));
  CHECK(norm(std::string(250, 'a') + "/bbbbbb").find("255 characters") != std::string::npos);
}

TEST_CASE("digests and image ids") {
  using berth::core::is_digest;
  using berth::core::is_full_image_id;
  CHECK(is_digest(kDigest));
  CHECK_FALSE(is_digest("sha256:abc"));
  CHECK_FALSE(is_digest("sha256"));
  CHECK(is_full_image_id(std::string(64, 'f')));
  CHECK(is_full_image_id(kDigest));
  CHECK_FALSE(is_full_image_id(std::string(63, 'f')));
}
