// The overlayfs snapshotter against the conformance suite, plus what only
// it has: the shape of its mounts.

#include <doctest/doctest.h>

#include "berth/base/sys.h"
#include "berth/snapshots/overlay.h"
#include "testsuite/snapshotter_suite.h"

using namespace berth;

TEST_CASE("overlay snapshotter passes the snapshotter suite") {
  testsuite::snapshotter_suite(
      [](const std::string& root) -> Result<std::unique_ptr<core::Snapshotter>> {
        auto s = snapshots::OverlaySnapshotter::open(root);
        if (!s) return std::move(s).error();
        return std::unique_ptr<core::Snapshotter>(std::move(*s));
      });
}

TEST_CASE("overlay mounts: bind for one layer, overlay with the parents nearest first") {
  struct TempDir {
    std::string path = sys::make_temp_dir("berth-overlay-").value();
    ~TempDir() { (void)sys::remove_all(path); }
  } t;
  const std::string* tmp = &t.path;
  std::string root = *tmp + "/s";
  {
    auto sn = snapshots::OverlaySnapshotter::open(root);
    REQUIRE(sn.ok());
    auto& s = **sn;
    auto base = s.prepare("a-active", "");
    REQUIRE(base.ok());
    REQUIRE(base->size() == 1);
    CHECK((*base)[0].type == "bind");
    CHECK((*base)[0].options == std::vector<std::string>{"rw", "rbind"});
    REQUIRE(s.commit("a", "a-active").ok());
    REQUIRE(s.prepare("b-active", "a").ok());
    REQUIRE(s.commit("b", "b-active").ok());

    auto one = s.view("v1", "a");
    REQUIRE(one.ok());
    CHECK((*one)[0].type == "bind");
    CHECK((*one)[0].options[0] == "ro");

    auto two = s.view("v2", "b");
    REQUIRE(two.ok());
    CHECK((*two)[0].type == "overlay");
    auto& opts = (*two)[0].options;
    CHECK(std::find(opts.begin(), opts.end(), "ro") != opts.end());
    for (const auto& o : opts) CHECK(!o.starts_with("upperdir="));
    CHECK(opts.back() == "lowerdir=" + root + "/snapshots/2/fs:" + root + "/snapshots/1/fs");

    auto act = s.prepare("c", "b");
    REQUIRE(act.ok());
    auto& aopts = (*act)[0].options;
    CHECK(std::find(aopts.begin(), aopts.end(), "upperdir=" + root + "/snapshots/5/fs") !=
          aopts.end());
    CHECK(std::find(aopts.begin(), aopts.end(), "workdir=" + root + "/snapshots/5/work") !=
          aopts.end());
  }
  CHECK(snapshots::overlay_supported(root));
}
