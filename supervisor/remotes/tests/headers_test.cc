// Header parsers and host resolution, as data.

#include <doctest/doctest.h>

#include "berth/remotes/hosts.h"
#include "berth/remotes/http_headers.h"

using namespace berth::remotes;

TEST_CASE("www-authenticate: bearer with a quoted scope holding a comma") {
  auto c = parse_www_authenticate(
      R"(Bearer realm="http://127.0.0.1:5001/token",service="berth-test",scope="repository:a/b:pull,push",error="insufficient_scope")");
  REQUIRE(c);
  CHECK(c->scheme == "bearer");
  CHECK(c->param("realm") == "http://127.0.0.1:5001/token");
  CHECK(c->param("service") == "berth-test");
  CHECK(c->param("scope") == "repository:a/b:pull,push");
  CHECK(c->param("error") == "insufficient_scope");
}

TEST_CASE("www-authenticate: basic, odd spacing, case, escapes and unquoted values") {
  auto c = parse_www_authenticate(R"(basic   REALM = "Registry \"Realm\"", charset=UTF-8)");
  REQUIRE(c);
  CHECK(c->scheme == "basic");
  CHECK(c->param("realm") == "Registry \"Realm\"");
  CHECK(c->param("charset") == "UTF-8");
}

TEST_CASE("www-authenticate: an unknown scheme first, then bearer") {
  auto c = parse_www_authenticate(R"(Negotiate abc, Bearer realm="https://auth/t",service="s")");
  REQUIRE(c);
  CHECK(c->scheme == "bearer");
  CHECK(c->param("realm") == "https://auth/t");
  CHECK(!parse_www_authenticate(""));
  CHECK(!parse_www_authenticate("Negotiate"));
}

TEST_CASE("link: next page, relative and absolute, other rels ignored") {
  CHECK(parse_link_next(R"(</v2/r/tags/list?last=b&n=2>; rel="next")",
                        "http://h:5000/v2/r/tags/list") ==
        "http://h:5000/v2/r/tags/list?last=b&n=2");
  CHECK(parse_link_next(R"(<https://x/p?a=1>; rel="prev", <https://y/q>; rel=next)", "http://h/") ==
        "https://y/q");
  CHECK(!parse_link_next(R"(<https://x/p>; rel="prev")", "http://h/"));
  CHECK(!parse_link_next("", "http://h/"));
}

TEST_CASE("location: absolute kept, path joined to the origin, query appended") {
  CHECK(resolve_location("http://a:1/v2/x/blobs/uploads/u?_state=s", "http://b:2/y") ==
        "http://a:1/v2/x/blobs/uploads/u?_state=s");
  CHECK(resolve_location("/v2/x/blobs/uploads/u", "https://reg.example:5000/v2/x/blobs/uploads/") ==
        "https://reg.example:5000/v2/x/blobs/uploads/u");
  CHECK(add_query("http://a/u?_state=s", "digest", "sha256:ab") ==
        "http://a/u?_state=s&digest=sha256%3Aab");
  CHECK(add_query("http://a/u", "digest", "sha256:ab") == "http://a/u?digest=sha256%3Aab");
}

TEST_CASE("hosts: docker.io through its mirrors, then registry-1") {
  HostsConfig cfg;
  cfg.mirrors = {"https://mirror.example/", "http://127.0.0.1:5999"};
  auto e = endpoints_for(cfg, "docker.io", true);
  REQUIRE(e.ok());
  REQUIRE(e->size() == 3);
  CHECK((*e)[0].base() == "https://mirror.example");
  CHECK((*e)[0].mirror);
  CHECK((*e)[1].base() == "http://127.0.0.1:5999");
  CHECK((*e)[2].base() == "https://registry-1.docker.io");
  CHECK(!(*e)[2].mirror);
  // Pushes never go to a mirror.
  auto push = endpoints_for(cfg, "docker.io", false);
  REQUIRE(push.ok());
  CHECK(push->size() == 1);
  cfg.mirrors = {"https://mirror.example/path"};
  CHECK(endpoints_for(cfg, "docker.io", true).error().code() == EINVAL);
}

TEST_CASE("hosts: loopback is plain http, others https unless insecure") {
  HostsConfig cfg;
  cfg.insecure_registries = {"10.1.0.0/16", "reg.lan:5000", "fd00::/8"};
  auto base = [&](const char* d) { return endpoints_for(cfg, d, true)->back().base(); };
  CHECK(base("127.0.0.1:5000") == "http://127.0.0.1:5000");
  CHECK(base("127.8.9.1") == "http://127.8.9.1");
  CHECK(base("localhost:5000") == "http://localhost:5000");
  CHECK(base("[::1]:5000") == "http://[::1]:5000");
  CHECK(base("10.1.2.3:443") == "http://10.1.2.3:443");
  CHECK(base("10.2.0.1") == "https://10.2.0.1");
  CHECK(base("reg.lan:5000") == "http://reg.lan:5000");
  CHECK(base("reg.lan:5001") == "https://reg.lan:5001");
  CHECK(base("[fd00::5]:5000") == "http://[fd00::5]:5000");
  CHECK(base("quay.io") == "https://quay.io");
  CHECK(api_host("docker.io") == "registry-1.docker.io");
  CHECK(!is_loopback_host("128.0.0.1"));
  CHECK(!is_loopback_host("localhost.example"));
}
