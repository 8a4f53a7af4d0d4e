#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include "berth/base/sys.h"
#include "bundle.h"

using namespace berth;
using namespace berth::shim;

TEST_CASE("socket path is containerd 1.6's sha256 of address/ns/id") {
  // printf %s /tmp/containerd-ref/containerd.sock/default/b-trace-rm | sha256sum
  CHECK(socket_path("/run/containerd/s", "/tmp/containerd-ref/containerd.sock", "default",
                    "b-trace-rm") ==
        "/run/containerd/s/ed0dee5377644e66583768570a401a29a05fd160b8c4ad5c9354fd2fcca1914b");
  CHECK(socket_path("/d", "/a/", "ns", "id") == socket_path("/d", "/a", "ns", "id"));
}

TEST_CASE("identifiers follow containerd's rule") {
  CHECK(valid_identifier("c1"));
  CHECK(valid_identifier("d4a0fba914e4faa9fed0b6274a313ff982fe697278a582931727047ed6bfb10f"));
  CHECK(valid_identifier("a.b_c-d"));
  CHECK_FALSE(valid_identifier(""));
  CHECK_FALSE(valid_identifier("../x"));
  CHECK_FALSE(valid_identifier("a/b"));
  CHECK_FALSE(valid_identifier("-a"));
  CHECK_FALSE(valid_identifier("a--b"));
  CHECK_FALSE(valid_identifier("a."));
  CHECK_FALSE(valid_identifier(std::string(77, 'a')));
}

TEST_CASE("runtime and exit records round-trip through the bundle") {
  char dir[] = "/tmp/berth-bundle-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  std::string b = dir;
  CHECK_FALSE(read_runtime_record(b));
  CHECK_FALSE(read_exit_record(b));
  REQUIRE(write_runtime_record(b, {"/usr/sbin/runc", "/run/containerd/runc/default", true}).ok());
  auto r = read_runtime_record(b);
  REQUIRE(r);
  CHECK(r->binary == "/usr/sbin/runc");
  CHECK(r->root == "/run/containerd/runc/default");
  CHECK(r->systemd_cgroup);
  REQUIRE(write_exit_record(b, {143, {1795394193, 822347779}}).ok());
  auto e = read_exit_record(b);
  REQUIRE(e);
  CHECK(e->exit_status == 143);
  CHECK(e->exited_at.seconds == 1795394193);
  CHECK(e->exited_at.nanos == 822347779);
  REQUIRE(sys::write_file_atomic(b + "/init.pid", "4242", 0600).ok());
  auto pid = read_pid_file(b + "/init.pid");
  REQUIRE(pid);
  CHECK(*pid == 4242);
  REQUIRE(sys::write_file_atomic(b + "/bad.pid", "12x", 0600).ok());
  CHECK_FALSE(read_pid_file(b + "/bad.pid"));
  REQUIRE(sys::remove_all(b).ok());
}

TEST_CASE("config.json: annotations and the pid namespace") {
  auto spec = parse_bundle_spec(
      R"({"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.sandbox-id":"pod1",
      "io.kubernetes.cri.container-type":"container"},
      "linux":{"namespaces":[{"type":"mount"},{"type":"pid"},{"type":"network","path":"/proc/1/ns/net"}]}})");
  REQUIRE(spec.ok());
  CHECK(spec->own_pid_namespace);
  CHECK(spec->annotations.at("io.kubernetes.cri.container-type") == "container");
  CHECK(shim_group(*spec) == "pod1");

  // The runc shim's own label comes first.
  spec = parse_bundle_spec(R"({"annotations":{"io.kubernetes.cri.sandbox-id":"pod1",
      "io.containerd.runc.v2.group":"g7"},"linux":{"namespaces":[{"type":"pid","path":"/proc/9/ns/pid"}]}})");
  REQUIRE(spec.ok());
  CHECK(shim_group(*spec) == "g7");
  CHECK_FALSE(spec->own_pid_namespace);  // joined by path

  spec =
      parse_bundle_spec(R"({"process":{"args":["sh"]},"linux":{"namespaces":[{"type":"mount"}]}})");
  REQUIRE(spec.ok());
  CHECK(shim_group(*spec) == "");
  CHECK_FALSE(spec->own_pid_namespace);  // host pid namespace

  spec = parse_bundle_spec(R"({"linux":{"namespaces":[{"type":"pid","path":""}]}})");
  REQUIRE(spec.ok());
  CHECK(spec->own_pid_namespace);  // an empty path is no path

  CHECK_FALSE(parse_bundle_spec("[1,2]").ok());
  CHECK_FALSE(parse_bundle_spec("{\"annotations\":").ok());
}

TEST_CASE("config.json read from the bundle") {
  char tmpl[] = "/tmp/berth-shim-bundle-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  CHECK_FALSE(read_bundle_spec(dir).ok());
  REQUIRE(sys::write_file_atomic(dir + "/config.json",
                                 R"({"annotations":{"io.containerd.runc.v2.group":"g"}})")
              .ok());
  auto spec = read_bundle_spec(dir);
  REQUIRE(spec.ok());
  CHECK(shim_group(*spec) == "g");
  (void)sys::remove_all(dir);
}
