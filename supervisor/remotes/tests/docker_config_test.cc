// DockerConfigStore against files in a temp dir.

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "berth/json/json.h"
#include "berth/remotes/docker_config.h"

using namespace berth;
using namespace berth::remotes;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/berth-remotes-test.XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("base64 round trip through OpenSSL") {
  for (std::string s : {"", "a", "ab", "abc", "user:p@ss:with:colons", "\xff\x00x"}) {
    CHECK(base64_decode(base64_encode(s)) == s);
  }
  CHECK(base64_encode("u:p") == "dTpw");
  CHECK(!base64_decode("abc"));
}

TEST_CASE("config.json: store, get, erase; 0600; other keys kept") {
  TempDir dir;
  std::string path = dir.path + "/sub/config.json";
  fs::create_directories(dir.path + "/sub");
  {
    std::ofstream out(path);
    out << R"({"psFormat": "table {{.ID}}", "auths": {"other:1": {"auth": "eDp5"}}, "credHelpers": {"gcr.io": "gcr"}})";
  }
  chmod(path.c_str(), 0644);
  DockerConfigStore store(path);
  CHECK(store.get("127.0.0.1:5000")->has_value() == false);
  REQUIRE(store.store("127.0.0.1:5000", {"alice", "s3cr:et", ""}).ok());
  REQUIRE(store.store("docker.io", {"bob", "pw", "refresh-token"}).ok());

  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto doc = json::parse(slurp(path), path);
  REQUIRE(doc.ok());
  CHECK(doc->get("psFormat")->as_string() == "table {{.ID}}");
  CHECK(doc->get("credHelpers")->get("gcr.io")->as_string() == "gcr");
  const json::Value* auths = doc->get("auths");
  CHECK(auths->get("other:1") != nullptr);
  CHECK(auths->get("127.0.0.1:5000")->get("auth")->as_string() == base64_encode("alice:s3cr:et"));
  // docker's key for Docker Hub
  REQUIRE(auths->get("https://index.docker.io/v1/") != nullptr);
  CHECK(auths->get("https://index.docker.io/v1/")->get("identitytoken")->as_string() ==
        "refresh-token");

  auto got = store.get("127.0.0.1:5000");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->username == "alice");
  CHECK((*got)->password == "s3cr:et");
  auto hub = store.get("index.docker.io");
  REQUIRE(hub.ok());
  REQUIRE(hub->has_value());
  CHECK((*hub)->username == "bob");
  CHECK((*hub)->identity_token == "refresh-token");

  REQUIRE(store.erase("127.0.0.1:5000").ok());
  CHECK(!store.get("127.0.0.1:5000")->has_value());
  auto again = store.erase("127.0.0.1:5000");
  REQUIRE(!again.ok());
  CHECK(again.error().code() == ENOENT);
  CHECK(fs::exists(path));
  CHECK(!fs::exists(path + ".tmp"));
}

TEST_CASE("config.json: keys written with a scheme match; a missing file is no credentials") {
  TempDir dir;
  std::string path = dir.path + "/config.json";
  DockerConfigStore store(path);
  CHECK(!store.get("reg.example")->has_value());
  {
    std::ofstream out(path);
    out << R"({"auths": {"https://reg.example": {"auth": ")" << base64_encode("u:p") << R"("}}})";
  }
  auto got = store.get("reg.example");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->password == "p");
}

TEST_CASE("config.json: a bad auth value fails without printing it") {
  TempDir dir;
  std::string path = dir.path + "/config.json";
  {
    std::ofstream out(path);
    out << R"({"auths": {"h:1": {"auth": "bm9jb2xvbg=="}}})";  // "nocolon"
  }
  DockerConfigStore store(path);
  auto got = store.get("h:1");
  REQUIRE(!got.ok());
  CHECK(got.error().message().find("bm9jb2xvbg") == std::string::npos);
  CHECK(got.error().message().find("h:1") != std::string::npos);
}
