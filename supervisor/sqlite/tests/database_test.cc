#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "berth/sqlite/database.h"

using namespace berth;
using berth::sqlite::Database;

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/berth-sqlite-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + path).c_str()); }
};
}  // namespace

TEST_CASE("migrations run once, in order, and the file is 0600") {
  TempDir dir;
  std::string path = dir.path + "/meta.db";
  std::vector<Database::Migration> v1 = {"CREATE TABLE a (x INTEGER)"};
  {
    auto db = Database::open(path, v1);
    REQUIRE(db.ok());
    CHECK((*db)->schema_version() == 1);
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto v2 = v1;
  v2.push_back("CREATE TABLE b (y TEXT NOT NULL)");
  auto db = Database::open(path, v2);  // only migration 2 runs: table a exists already
  REQUIRE(db.ok());
  CHECK((*db)->schema_version() == 2);
  // A database newer than the code is refused rather than misread.
  auto older = Database::open(path, v1);
  REQUIRE(!older.ok());
  CHECK(older.error().message().find("newer than this berthd knows") != std::string::npos);
}

TEST_CASE("a failed transaction leaves nothing") {
  TempDir dir;
  auto db = Database::open(dir.path + "/t.db", {"CREATE TABLE t (k TEXT PRIMARY KEY)"});
  REQUIRE(db.ok());
  auto& d = **db;
  REQUIRE(d.transaction([&]() -> Status {
             auto st = BERTH_VALUE(d.prepare("INSERT INTO t VALUES (?)"));
             return st.bind(1, "one").run();
           }).ok());
  auto failed = d.transaction([&]() -> Status {
    auto st = BERTH_VALUE(d.prepare("INSERT INTO t VALUES (?)"));
    BERTH_TRY(st.bind(1, "two").run());
    auto dup = BERTH_VALUE(d.prepare("INSERT INTO t VALUES (?)"));
    return dup.bind(1, "one").run();  // primary key conflict
  });
  CHECK(!failed.ok());
  int64_t count = -1;
  REQUIRE(d.read([&]() -> Status {
             auto st = BERTH_VALUE(d.prepare("SELECT count(*) FROM t"));
             BERTH_TRY(st.step());
             count = st.column_int(0);
             return ok_status();
           }).ok());
  CHECK(count == 1);
}

TEST_CASE("foreign keys are enforced") {
  TempDir dir;
  auto db =
      Database::open(dir.path + "/fk.db", {"CREATE TABLE p (id TEXT PRIMARY KEY);"
                                           "CREATE TABLE c (pid TEXT NOT NULL REFERENCES p(id))"});
  REQUIRE(db.ok());
  auto& d = **db;
  auto st = d.transaction([&]() -> Status {
    auto ins = BERTH_VALUE(d.prepare("INSERT INTO c VALUES ('missing')"));
    return ins.run();
  });
  CHECK(!st.ok());
}
