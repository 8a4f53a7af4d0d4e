// The SQLite image and lease stores: the conformance suites, then the
// schema's own guarantees.

#include "berth/metadata/metadata.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "berth/base/sys.h"
#include "berth/core/digest.h"
#include "berth/testsuite/image_store_suite.h"
#include "berth/testsuite/container_store_suite.h"
#include "berth/testsuite/lease_store_suite.h"
#include "berth/testsuite/temp_dir.h"
#include "berth/testsuite/why.h"

using namespace berth;
using namespace berth::metadata;
using berth::testsuite::TempDir;

namespace {

std::shared_ptr<MetadataDb> open_db(const std::string& root) {
  auto db = MetadataDb::open(root);
  REQUIRE_MESSAGE(db.ok(), testsuite::why(db));
  return std::move(db).value();
}

}  // namespace

TEST_CASE("the SQLite image store passes the image store suite") {
  testsuite::run_image_store_suite(
      [](const std::string& root) -> std::unique_ptr<core::ImageStore> {
        return std::make_unique<SqlImageStore>(open_db(root));
      });
}

TEST_CASE("the SQLite lease store passes the lease store suite") {
  testsuite::run_lease_store_suite(
      [](const std::string& root) -> std::unique_ptr<core::LeaseStore> {
        return std::make_unique<SqlLeaseStore>(open_db(root));
      });
}

TEST_CASE("the SQLite container store passes the container store suite") {
  testsuite::run_container_store_suite(
      [](const std::string& root) -> std::unique_ptr<core::ContainerStore> {
        return std::make_unique<SqlContainerStore>(open_db(root));
      });
}

TEST_CASE("meta.db is created 0600 at the latest schema version") {
  TempDir tmp;
  auto db = open_db(tmp.path() + "/state");
  CHECK(db->db().schema_version() == 3);
  auto st = sys::stat(tmp.path() + "/state/meta.db");
  REQUIRE(st.ok());
  CHECK((st->st_mode & 0777) == 0600);
}

TEST_CASE("images and leases of one database share its namespaces") {
  TempDir tmp;
  auto db = open_db(tmp.path());
  // Borrowed, as berthd's plugin list holds them: the db outlives both.
  SqlImageStore images(*db);
  SqlLeaseStore leases(*db);
  REQUIRE(leases.create("builds", "b1", {}, 0).ok());
  auto ns = images.namespaces();
  REQUIRE(ns.ok());
  CHECK(*ns == std::vector<std::string>{"builds"});
}

TEST_CASE("a corrupt JSON column is an error naming the image, not a crash") {
  TempDir tmp;
  auto db = open_db(tmp.path());
  SqlImageStore images(db);
  core::Image img;
  img.name = "broken";
  img.target = {"application/vnd.oci.image.index.v1+json", core::digest_of("x"), 1, {}, {}, {}};
  REQUIRE(images.put("default", img).ok());
  REQUIRE(db->db()
              .transaction([&]() -> Status {
                auto st = BERTH_VALUE(db->db().prepare("UPDATE images SET labels = '{not json'"));
                return st.run();
              })
              .ok());
  auto got = images.get("default", "broken");
  REQUIRE(!got.ok());
  CHECK(got.error().message().find("image `broken` labels") != std::string::npos);
}

TEST_CASE("identifiers follow containerd's rule") {
  for (const std::string& ok :
       std::vector<std::string>{"default", "k8s.io", "a", "a-b_c.d", std::string(76, 'z')})
    CHECK_MESSAGE(validate_identifier(ok, "namespace").ok(), ok);
  for (const std::string& bad :
       std::vector<std::string>{"", ".a", "a.", "a..b", "a/b", "ä", std::string(77, 'z')})
    CHECK_MESSAGE(!validate_identifier(bad, "namespace").ok(), bad);
}

TEST_CASE("the SQLite volume store keeps volumes per namespace") {
  TempDir tmp;
  SqlVolumeStore store(open_db(tmp.path()));
  core::Volume v{"data", "/var/lib/berthd/volumes/data/_data", {{"a", "b"}}, false, 42};
  REQUIRE(store.create("default", v).ok());
  auto again = store.create("default", v);
  REQUIRE(!again.ok());
  CHECK(again.error().code() == EEXIST);
  auto got = store.get("default", "data");
  REQUIRE(got.ok());
  CHECK(*got == v);
  CHECK(store.list("k8s.io")->empty());
  CHECK(store.list("default")->size() == 1);
  REQUIRE(store.remove("default", "data").ok());
  auto missing = store.get("default", "data");
  REQUIRE(!missing.ok());
  CHECK(missing.error().code() == ENOENT);
  CHECK(store.remove("default", "data").error().code() == ENOENT);
}
