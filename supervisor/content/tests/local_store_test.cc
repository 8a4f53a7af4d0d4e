// The local content store: the conformance suite, then what is specific to
// its layout on disk (local_store.h).

#include "berth/content/local_store.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>

#include "berth/base/sys.h"
#include "berth/core/digest.h"
#include "berth/testsuite/content_store_suite.h"
#include "berth/testsuite/temp_dir.h"
#include "berth/testsuite/why.h"

using namespace berth;
using berth::content::LocalStore;
using berth::testsuite::TempDir;

namespace {

std::unique_ptr<LocalStore> open_local(const std::string& root) {
  auto store = LocalStore::open(root);
  REQUIRE_MESSAGE(store.ok(), testsuite::why(store));
  return std::move(store).value();
}

}  // namespace

TEST_CASE("local store passes the content store suite") {
  testsuite::run_content_store_suite(
      [](const std::string& root) -> std::unique_ptr<core::ContentStore> {
        return open_local(root);
      });
}

TEST_CASE("blobs are 0444 files named by their hex, and nothing else is ever in blobs/") {
  TempDir tmp;
  auto store = open_local(tmp.path());
  std::string data = "hello blob";
  auto w = store->writer("r", static_cast<int64_t>(data.size()), core::digest_of(data));
  REQUIRE(w.ok());
  REQUIRE((*w)->write(data).ok());
  REQUIRE((*w)->commit().ok());
  std::string blob =
      tmp.path() + "/blobs/sha256/" + std::string(core::digest_hex(core::digest_of(data)));
  auto st = sys::stat(blob);
  REQUIRE(st.ok());
  CHECK((st->st_mode & 07777) == 0444);
  // A failed commit and a pending ingest leave no file in blobs/.
  auto bad = store->writer("bad", 0, core::digest_of("other"));
  REQUIRE(bad.ok());
  REQUIRE((*bad)->write(data + "!").ok());
  CHECK(!(*bad)->commit().ok());
  auto pending = store->writer("pending", 0, "");
  REQUIRE(pending.ok());
  REQUIRE((*pending)->write("half").ok());
  auto names = sys::list_dir(tmp.path() + "/blobs/sha256");
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{std::string(core::digest_hex(core::digest_of(data)))});
}

TEST_CASE("a ref is hashed into the ingest's name, so a path-like ref stays inside ingest/") {
  TempDir tmp;
  auto store = open_local(tmp.path() + "/store");
  auto w = store->writer("../../escape", 0, "");
  REQUIRE(w.ok());
  REQUIRE((*w)->write("x").ok());
  CHECK(!sys::exists(tmp.path() + "/escape"));
  auto ingest = sys::list_dir(tmp.path() + "/store/ingest");
  REQUIRE(ingest.ok());
  REQUIRE(ingest->size() == 1);
  CHECK((*ingest)[0] == core::digest_hex(core::digest_of("../../escape")));
  auto ingests = store->ingests();
  REQUIRE(ingests.ok());
  REQUIRE(ingests->size() == 1);
  CHECK((*ingests)[0].ref == "../../escape");
}

TEST_CASE("a ref reused for a different digest starts its ingest over") {
  TempDir tmp;
  auto store = open_local(tmp.path());
  {
    auto w = store->writer("reused", 10, core::digest_of("0123456789"));
    REQUIRE(w.ok());
    REQUIRE((*w)->write("01234").ok());
  }
  auto w = store->writer("reused", 3, core::digest_of("abc"));
  REQUIRE(w.ok());
  CHECK((*w)->offset() == 0);
  REQUIRE((*w)->write("abc").ok());
  auto info = (*w)->commit();
  REQUIRE_MESSAGE(info.ok(), testsuite::why(info));
  CHECK(info->digest == core::digest_of("abc"));
}

TEST_CASE("writes past the expected size are refused and the ingest stays resumable") {
  TempDir tmp;
  auto store = open_local(tmp.path());
  auto w = store->writer("over", 4, core::digest_of("abcd"));
  REQUIRE(w.ok());
  REQUIRE((*w)->write("ab").ok());
  auto over = (*w)->write("cdef");
  REQUIRE(!over.ok());
  CHECK(over.error().code() == EBADMSG);
  CHECK((*w)->offset() == 2);
  REQUIRE((*w)->write("cd").ok());
  CHECK((*w)->commit().ok());
}

TEST_CASE("open deletes ingests a killed process left half-removed") {
  TempDir tmp;
  { open_local(tmp.path()); }
  std::string trash = tmp.path() + "/ingest/.remove-abc-1-0";
  REQUIRE(sys::mkdir(trash, 0700).ok());
  REQUIRE(sys::write_file_atomic(trash + "/data", "left").ok());
  auto store = open_local(tmp.path());
  CHECK(!sys::exists(trash));
  auto ingests = store->ingests();
  REQUIRE(ingests.ok());
  CHECK(ingests->empty());
}

TEST_CASE("a relative root is refused") {
  auto store = LocalStore::open("relative/content");
  REQUIRE(!store.ok());
  CHECK(store.error().code() == EINVAL);
}
