// write_layer on upper dirs built by hand (overlay style) and on tree
// pairs (native style); the tars are read back with libarchive.

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "berth/base/sha256.h"
#include "berth/base/sys.h"
#include "berth/diff/apply.h"
#include "berth/diff/write.h"
#include "testsuite/tree.h"

using namespace berth;
namespace fs = std::filesystem;

namespace {

struct Tmp {
  std::string path = sys::make_temp_dir("berth-write-").value();
  ~Tmp() { (void)sys::remove_all(path); }
};

void put(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

Result<diff::WriteResult> write(const core::LayerDirs& dirs, std::string* out, bool gzip = false) {
  diff::WriteOptions o;
  o.gzip = gzip;
  return diff::write_layer(dirs, o, [&](std::string_view chunk) -> Status {
    out->append(chunk);
    return {};
  });
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "[" + x + "] ";
  return s;
}

std::string err(const Result<diff::WriteResult>& r) { return r.ok() ? "" : r.error().to_string(); }

}  // namespace

TEST_CASE("overlay upper: whiteouts, opaque dirs, hard links, long names, sorted") {
  Tmp t;
  std::string up = t.path + "/upper";
  put(up + "/b", "b");
  put(up + "/a/x", "x");
  REQUIRE(::mknod((up + "/a/gone").c_str(), S_IFCHR | 0, makedev(0, 0)) == 0);
  fs::create_directories(up + "/opq");
  REQUIRE(::setxattr((up + "/opq").c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0);
  put(up + "/opq/kept", "k");
  REQUIRE(::link((up + "/b").c_str(), (up + "/c").c_str()) == 0);
  std::string long_name = "long/" + std::string(200, 'n');
  put(up + "/" + long_name, "l");
  REQUIRE(::setxattr((up + "/" + long_name).c_str(), "user.k", "v", 1, 0) == 0);

  std::string tar;
  auto r = write({up, {}, core::WhiteoutStyle::kOverlay}, &tar);
  REQUIRE_MESSAGE(r.ok(), err(r));
  CHECK(r->diff_id == "sha256:" + sha256_hex(tar));
  CHECK(r->digest == r->diff_id);
  CHECK(r->size == tar.size());
  const auto want_list = std::vector<std::string>{"a/ 4",
                                                  "a/.wh.gone 8",
                                                  "a/x 8",
                                                  "b 8",
                                                  "c hardlink b",
                                                  "long/ 4",
                                                  long_name + " 8",
                                                  "opq/ 4",
                                                  "opq/.wh..wh..opq 8",
                                                  "opq/kept 8"};
  CHECK_MESSAGE(testsuite::list_tar(tar) == want_list, joined(testsuite::list_tar(tar)));

  // Applied to a fresh dir in overlay mode it reproduces the upper.
  std::string back = t.path + "/back";
  fs::create_directories(back);
  auto fd = sys::open(back, O_RDONLY | O_DIRECTORY);
  REQUIRE(fd.ok());
  bool done = false;
  auto applied = diff::apply_layer(*fd,
                                   [&]() -> Result<std::string_view> {
                                     if (done) return std::string_view();
                                     done = true;
                                     return std::string_view(tar);
                                   },
                                   {});
  REQUIRE(applied.ok());
  CHECK(applied->diff_id == r->diff_id);
  auto want = testsuite::describe_tree(up);
  auto got = testsuite::describe_tree(back);
  // apply makes whiteouts anew (their time is not the layer's to keep).
  CHECK(got["/a/gone"].starts_with("20000 0:0 dev 0,0"));
  want.erase("/a/gone");
  got.erase("/a/gone");
  CHECK(got == want);
  char v[4] = {};
  CHECK(::getxattr((back + "/opq").c_str(), "trusted.overlay.opaque", v, sizeof v) == 1);
}

TEST_CASE("gzip output is reproducible and its diffID is the uncompressed tar's") {
  Tmp t;
  std::string up = t.path + "/upper";
  put(up + "/f", std::string(50000, 'z'));
  std::string one, two;
  auto r1 = write({up, {}, core::WhiteoutStyle::kOverlay}, &one, true);
  auto r2 = write({up, {}, core::WhiteoutStyle::kOverlay}, &two, true);
  REQUIRE(r1.ok());
  REQUIRE(r2.ok());
  CHECK(one == two);
  CHECK(one.size() < 50000);
  CHECK(r1->digest == "sha256:" + sha256_hex(one));
  CHECK(r1->digest != r1->diff_id);
  std::string plain;
  auto r3 = write({up, {}, core::WhiteoutStyle::kOverlay}, &plain);
  REQUIRE(r3.ok());
  CHECK(r3->diff_id == r1->diff_id);
  CHECK(r1->tar_size == plain.size());
}

TEST_CASE("an upper using redirect_dir is refused; a sink error stops the write") {
  Tmp t;
  std::string up = t.path + "/upper";
  fs::create_directories(up + "/moved");
  REQUIRE(::setxattr((up + "/moved").c_str(), "trusted.overlay.redirect", "/old", 4, 0) == 0);
  std::string tar;
  auto r = write({up, {}, core::WhiteoutStyle::kOverlay}, &tar);
  REQUIRE(!r.ok());
  CHECK(r.error().code() == ENOTSUP);

  fs::remove_all(up + "/moved");
  put(up + "/f", "f");
  auto failed = diff::write_layer(
      {up, {}, core::WhiteoutStyle::kOverlay}, {},
      [](std::string_view) -> Status { return make_error("store `x`: disk full", ENOSPC); });
  REQUIRE(!failed.ok());
  CHECK(failed.error().code() == ENOSPC);
}

TEST_CASE("native: upper compared with the parent's tree") {
  Tmp t;
  std::string low = t.path + "/lower", up = t.path + "/upper";
  put(low + "/same", "s");
  put(low + "/deleted", "d");
  put(low + "/dir/changed", "old");
  put(low + "/dir/kept", "k");
  put(low + "/deldir/inner", "i");
  put(low + "/untouched/x", "x");
  fs::create_directories(up);
  for (const char* p : {"same", "dir/changed", "dir/kept", "untouched/x"}) {
    fs::create_directories(fs::path(up + "/" + p).parent_path());
    fs::copy_file(low + "/" + p, up + "/" + p);
    struct stat st {};
    REQUIRE(::stat((low + "/" + p).c_str(), &st) == 0);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    REQUIRE(::utimensat(AT_FDCWD, (up + "/" + p).c_str(), times, 0) == 0);
  }
  put(up + "/dir/changed", "new!");
  put(up + "/added/deep/f", "a");

  std::string tar;
  auto r = write({up, {low}, core::WhiteoutStyle::kNative}, &tar);
  REQUIRE_MESSAGE(r.ok(), err(r));
  const auto want_list =
      std::vector<std::string>{".wh.deldir 8",   ".wh.deleted 8", "added/ 4",     "added/deep/ 4",
                               "added/deep/f 8", "dir/ 4",        "dir/changed 8"};
  CHECK_MESSAGE(testsuite::list_tar(tar) == want_list, joined(testsuite::list_tar(tar)));
}
