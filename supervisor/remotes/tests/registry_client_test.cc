// RegistryClient against real peers: Debian's docker-registry 2.8.2 (no
// auth, htpasswd, tokens) and fault_server.py (drops, 500s, bad digests).

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <thread>

#include "berth/core/digest.h"
#include "berth/remotes/registry_client.h"
#include "registry_fixture.h"

using namespace berth;
using namespace berth::remotes;
using namespace berth::remotes::testing;
using core::Descriptor;

namespace {

// The error of a failed result for a REQUIRE_MESSAGE; doctest builds the
// message even for passing checks when run with -s.
template <class R>
std::string why(const R& r) {
  return r.ok() ? std::string() : r.error().to_string();
}

core::Reference parse_ref(const std::string& text) { return core::parse_reference(text).value(); }

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen());
  return s;
}

Descriptor blob_descriptor(const std::string& data, std::string media_type) {
  Descriptor d;
  d.media_type = std::move(media_type);
  d.digest = core::digest_of(data);
  d.size = static_cast<int64_t>(data.size());
  return d;
}

core::ByteSource source_of(const std::string& data) {
  return [&data](int64_t offset, size_t max) -> Result<std::string_view> {
    return std::string_view(data).substr(static_cast<size_t>(offset), max);
  };
}

HostsConfig fast_config() {
  HostsConfig c;
  c.certs_dirs = {};
  c.retry_backoff = std::chrono::milliseconds(10);
  return c;
}

struct Image {
  std::string config =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  std::string layer = random_bytes(5000, 7);
  Descriptor config_d = blob_descriptor(config, std::string(core::media::kOciConfig));
  Descriptor layer_d = blob_descriptor(layer, std::string(core::media::kOciLayerGzip));
  std::string manifest(std::string_view type = core::media::kOciManifest) const {
    return R"({"schemaVersion":2,"mediaType":")" + std::string(type) +
           R"(","config":{"mediaType":")" + config_d.media_type + R"(","digest":")" +
           config_d.digest + R"(","size":)" + std::to_string(config_d.size) +
           R"(},"layers":[{"mediaType":")" + layer_d.media_type + R"(","digest":")" +
           layer_d.digest + R"(","size":)" + std::to_string(layer_d.size) + "}]}";
  }
};

void push_image(RegistryClient& c, const core::Reference& repo, const Image& img,
                const std::string& tag) {
  REQUIRE(c.push_blob(repo, img.config_d, source_of(img.config), {}).ok());
  REQUIRE(c.push_blob(repo, img.layer_d, source_of(img.layer), {}).ok());
  auto st = c.push_manifest(repo, tag, core::media::kOciManifest, img.manifest());
  REQUIRE_MESSAGE(st.ok(), why(st));
}

std::string fetch_all(RegistryClient& c, const core::Reference& repo, const Descriptor& d,
                      int64_t offset) {
  std::string got;
  auto st = c.fetch_blob(repo, d, offset, [&](std::string_view b) {
    got.append(b);
    return ok_status();
  });
  REQUIRE_MESSAGE(st.ok(), why(st));
  return got;
}

}  // namespace

TEST_CASE("anonymous registry: push (monolithic and chunked), resolve, fetch, tags, mount, 404s") {
  auto reg = LocalRegistry::start(Auth::kNone);
  MemoryCredentials creds;
  HostsConfig cfg = fast_config();
  cfg.chunk_size = 1024;  // the 5000-byte layer goes up in 5 PATCHes
  RegistryClient c(cfg, creds);
  auto repo = parse_ref(reg.host + "/team/app:1");
  Image img;

  CHECK(c.blob_exists(repo, img.layer_d).value() == false);
  std::vector<int64_t> progress;
  REQUIRE(c.push_blob(repo, img.layer_d, source_of(img.layer), [&](int64_t n) {
             progress.push_back(n);
           }).ok());
  CHECK(progress == std::vector<int64_t>{1024, 2048, 3072, 4096, 5000});
  CHECK(c.blob_exists(repo, img.layer_d).value() == true);
  push_image(c, repo, img, "1");
  REQUIRE(c.push_manifest(repo, "2", core::media::kOciManifest, img.manifest()).ok());

  auto resolved = c.resolve(repo);
  REQUIRE_MESSAGE(resolved.ok(), why(resolved));
  CHECK(resolved->descriptor.media_type == core::media::kOciManifest);
  CHECK(resolved->descriptor.digest == core::digest_of(img.manifest()));
  CHECK(resolved->body == img.manifest());
  auto by_digest = c.fetch_manifest(repo, resolved->descriptor);
  REQUIRE(by_digest.ok());
  CHECK(*by_digest == img.manifest());

  CHECK(fetch_all(c, repo, img.layer_d, 0) == img.layer);
  CHECK(fetch_all(c, repo, img.layer_d, 4321) == img.layer.substr(4321));

  auto tags = c.list_tags(repo);
  REQUIRE(tags.ok());
  std::sort(tags->begin(), tags->end());  // 2.8.2 lists in no particular order
  CHECK(*tags == std::vector<std::string>{"1", "2"});

  auto other = parse_ref(reg.host + "/other/app:1");
  CHECK(c.mount_blob(other, img.layer_d, repo).value() == true);
  CHECK(c.blob_exists(other, img.layer_d).value() == true);
  Descriptor absent = blob_descriptor("not pushed", std::string(core::media::kOciLayer));
  CHECK(c.mount_blob(other, absent, repo).value() == false);

  auto missing = c.resolve(parse_ref(reg.host + "/team/app:nope"));
  REQUIRE(!missing.ok());
  CHECK(missing.error().code() == ENOENT);
  CHECK(missing.error().message() ==
        "manifest for " + reg.host +
            "/team/app:nope not found: manifest unknown: manifest unknown");
  auto no_blob = c.fetch_blob(repo, absent, 0, [](std::string_view) { return ok_status(); });
  REQUIRE(!no_blob.ok());
  CHECK(no_blob.error().code() == ENOENT);
}

TEST_CASE("docker v2 manifests resolve as themselves: every Accept type on its own line") {
  auto reg = LocalRegistry::start(Auth::kNone);
  MemoryCredentials creds;
  RegistryClient c(fast_config(), creds);
  auto repo = parse_ref(reg.host + "/d/app:v2");
  Image img;
  img.config_d.media_type = core::media::kDockerConfig;
  img.layer_d.media_type = core::media::kDockerLayerGzip;
  REQUIRE(c.push_blob(repo, img.config_d, source_of(img.config), {}).ok());
  REQUIRE(c.push_blob(repo, img.layer_d, source_of(img.layer), {}).ok());
  std::string m = img.manifest(core::media::kDockerManifest);
  REQUIRE(c.push_manifest(repo, "v2", core::media::kDockerManifest, m).ok());
  auto r = c.resolve(repo);
  REQUIRE_MESSAGE(r.ok(), why(r));
  // Without the Docker type in Accept the registry would convert it to schema1.
  CHECK(r->descriptor.media_type == core::media::kDockerManifest);
  CHECK(r->descriptor.digest == core::digest_of(m));
}

TEST_CASE("basic auth: stored credentials work, none or wrong ones are refused") {
  auto reg = LocalRegistry::start(Auth::kBasic, {{"alice", "wonder"}});
  MemoryCredentials creds;
  RegistryClient c(fast_config(), creds);
  auto repo = parse_ref(reg.host + "/private/app:1");
  Image img;

  auto anon = c.blob_exists(repo, img.layer_d);
  REQUIRE(!anon.ok());
  CHECK(anon.error().code() == EACCES);
  auto anon_pull = c.resolve(repo);
  REQUIRE(!anon_pull.ok());
  CHECK(anon_pull.error().message().find("pull access denied for " + reg.host +
                                         "/private/app, repository does not exist or may require "
                                         "'docker login'") == 0);

  CHECK(c.check_login(reg.host, {"alice", "wonder", ""}).ok());
  auto bad = c.check_login(reg.host, {"alice", "wrong", ""});
  REQUIRE(!bad.ok());
  CHECK(bad.error().code() == EACCES);
  CHECK(bad.error().message().find("unauthorized: authentication required") != std::string::npos);
  CHECK(bad.error().message().find("wrong") == std::string::npos);

  creds.entries[reg.host] = {"alice", "wrong", ""};
  auto wrong = c.resolve(repo);
  REQUIRE(!wrong.ok());
  CHECK(wrong.error().code() == EACCES);
  CHECK(wrong.error().message() == "unauthorized: authentication required");

  creds.entries[reg.host] = {"alice", "wonder", ""};
  push_image(c, repo, img, "1");
  auto r = c.resolve(repo);
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(fetch_all(c, repo, img.layer_d, 0) == img.layer);
}

TEST_CASE("token auth: bearer tokens per scope, pushes get a pull,push token") {
  auto reg = LocalRegistry::start(Auth::kToken, {{"bob", "builder"}, {"reader", "r:pull"}});
  MemoryCredentials creds;
  RegistryClient c(fast_config(), creds);
  auto repo = parse_ref(reg.host + "/tok/app:1");
  Image img;

  auto anon = c.push_blob(repo, img.config_d, source_of(img.config), {});
  REQUIRE(!anon.ok());
  CHECK((anon.error().code() == EACCES || anon.error().code() == EPERM));

  CHECK(c.check_login(reg.host, {"bob", "builder", ""}).ok());
  auto bad = c.check_login(reg.host, {"bob", "nope", ""});
  REQUIRE(!bad.ok());
  CHECK(bad.error().code() == EACCES);

  creds.entries[reg.host] = {"bob", "builder", ""};
  push_image(c, repo, img, "1");
  // docker's identity token: an OAuth2 refresh token POSTed to the realm.
  creds.entries[reg.host] = {"", "", "idtok-bob"};
  auto by_identity = c.resolve(repo);
  REQUIRE_MESSAGE(by_identity.ok(), why(by_identity));
  creds.entries[reg.host] = {"", "", "idtok-nobody"};
  auto bad_identity = c.resolve(repo);
  REQUIRE(!bad_identity.ok());
  CHECK(bad_identity.error().code() == EACCES);
  CHECK(bad_identity.error().message().find("idtok") == std::string::npos);
  // A pull-only user: the registry answers insufficient_scope, one fresh
  // token does not help, the push is denied (not retried forever).
  creds.entries[reg.host] = {"reader", "r", ""};
  CHECK(c.resolve(repo).ok());
  auto denied = c.push_manifest(repo, "2", core::media::kOciManifest, img.manifest());
  REQUIRE(!denied.ok());
  CHECK(denied.error().code() == EPERM);
  CHECK(denied.error().message().find("denied: requested access to the resource is denied") !=
        std::string::npos);
  creds.entries[reg.host] = {"bob", "builder", ""};
  auto r = c.resolve(repo);
  REQUIRE_MESSAGE(r.ok(), why(r));
  // Parallel layer fetches share one client (and its token cache).
  std::vector<std::thread> threads;
  std::vector<std::string> got(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      (void)c.fetch_blob(repo, img.layer_d, 0, [&, i](std::string_view b) {
        got[static_cast<size_t>(i)].append(b);
        return ok_status();
      });
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) CHECK(g == img.layer);
}

TEST_CASE("connection refused: unavailable, in Go's words, after the retries") {
  MemoryCredentials creds;
  RegistryClient c(fast_config(), creds);
  int port = free_port();
  auto r = c.resolve(parse_ref("127.0.0.1:" + std::to_string(port) + "/x:1"));
  REQUIRE(!r.ok());
  CHECK(r.error().code() == EHOSTUNREACH);
  CHECK(r.error().message() == "Get \"http://127.0.0.1:" + std::to_string(port) +
                                   "/v2/x/manifests/1\": dial tcp 127.0.0.1:" +
                                   std::to_string(port) + ": connect: connection refused");
}

namespace {

struct Fault {
  TempDir dir;
  std::string data;
  Peer server;
  Fault(const std::string& mode, std::string bytes) : data(std::move(bytes)) {
    std::ofstream(dir.path + "/blob", std::ios::binary) << data;
    server = Peer::spawn_reporting_port(
        {"/usr/bin/python3", fault_server_script(), mode, dir.path + "/blob"},
        dir.path + "/server.log");
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(server.port()); }
  std::string requests() const {
    std::ifstream in(dir.path + "/blob.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

}  // namespace

TEST_CASE("a connection dropped mid-blob resumes with Range; the sink never sees a byte twice") {
  for (const char* mode : {"drop", "drop-200", "drop-every"}) {
    CAPTURE(mode);
    Fault f(mode, random_bytes(200000, 3));
    MemoryCredentials creds;
    RegistryClient c(fast_config(), creds);
    Descriptor d = blob_descriptor(f.data, std::string(core::media::kOciLayer));
    std::string got = fetch_all(c, parse_ref(f.host() + "/r:1"), d, 0);
    CHECK(got.size() == f.data.size());
    CHECK(got == f.data);
    // drop-every: 7 drops, more than the 3 retries; each one made progress.
    CHECK(f.requests().find(std::string(mode) == "drop-every"
                                ? "range=bytes=180000-"
                                : "range=bytes=100000-") != std::string::npos);
  }
}

TEST_CASE("500 twice then 200: retried; with one retry the 500 stands") {
  {
    Fault f("flaky", random_bytes(1000, 4));
    MemoryCredentials creds;
    RegistryClient c(fast_config(), creds);
    Descriptor d = blob_descriptor(f.data, std::string(core::media::kOciLayer));
    CHECK(fetch_all(c, parse_ref(f.host() + "/r:1"), d, 0) == f.data);
  }
  {
    Fault f("flaky", random_bytes(1000, 4));
    MemoryCredentials creds;
    HostsConfig cfg = fast_config();
    cfg.retries = 1;
    RegistryClient c(cfg, creds);
    Descriptor d = blob_descriptor(f.data, std::string(core::media::kOciLayer));
    auto st = c.fetch_blob(parse_ref(f.host() + "/r:1"), d, 0,
                           [](std::string_view) { return ok_status(); });
    REQUIRE(!st.ok());
    CHECK(st.error().code() == EHOSTUNREACH);
    CHECK(st.error().message() == "received unexpected HTTP status: 500 Internal Server Error");
  }
}

TEST_CASE("a manifest whose Docker-Content-Digest disagrees with its body is refused") {
  Image img;
  Fault f("baddigest", img.manifest());
  MemoryCredentials creds;
  RegistryClient c(fast_config(), creds);
  auto r = c.resolve(parse_ref(f.host() + "/r:1"));
  REQUIRE(!r.ok());
  CHECK(r.error().code() == EBADMSG);
  CHECK(r.error().message().find("digest mismatch") != std::string::npos);
}

TEST_CASE("a blob whose bytes do not match its digest is refused") {
  Fault f("flaky", random_bytes(1000, 5));
  MemoryCredentials creds;
  RegistryClient c(fast_config(), creds);
  Descriptor d = blob_descriptor(random_bytes(1000, 6), std::string(core::media::kOciLayer));
  auto st = c.fetch_blob(parse_ref(f.host() + "/r:1"), d, 0,
                         [](std::string_view) { return ok_status(); });
  REQUIRE(!st.ok());
  CHECK(st.error().code() == EBADMSG);
}

TEST_CASE("tags/list follows Link pages") {
  Fault f("tags", "unused");
  MemoryCredentials creds;
  RegistryClient c(fast_config(), creds);
  auto tags = c.list_tags(parse_ref(f.host() + "/r:1"));
  REQUIRE_MESSAGE(tags.ok(), why(tags));
  CHECK(*tags == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("schema1 manifests are refused in docker's words") {
  Fault f("schema1", R"({"schemaVersion":1,"name":"r","tag":"1","fsLayers":[],"signatures":[]})");
  MemoryCredentials creds;
  RegistryClient c(fast_config(), creds);
  auto r = c.resolve(parse_ref(f.host() + "/r:1"));
  REQUIRE(!r.ok());
  CHECK(r.error().code() == ENOTSUP);
  CHECK(r.error().message().find("[DEPRECATION NOTICE] Docker Image Format v1") == 0);
  CHECK(r.error().message().find("Suggest the author of " + f.host() + "/r:1 to upgrade") !=
        std::string::npos);
}

TEST_CASE("a blob redirected to another host is followed without the registry's credentials") {
  Fault f("redirect", random_bytes(3000, 8));
  MemoryCredentials creds;
  creds.entries[f.host()] = {"u", "secret-pass", ""};
  RegistryClient c(fast_config(), creds);
  Descriptor d = blob_descriptor(f.data, std::string(core::media::kOciLayer));
  CHECK(fetch_all(c, parse_ref(f.host() + "/r:1"), d, 0) == f.data);
  CHECK(f.requests().find("cdn authorization=None") != std::string::npos);
}
