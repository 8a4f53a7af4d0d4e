// The snapshotter conformance suite (see snapshotter_suite.h). Tests may
// call libc directly; the code under test goes through berth::sys.

#include "testsuite/snapshotter_suite.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "berth/base/sha256.h"
#include "berth/base/sys.h"
#include "berth/diff/apply.h"
#include "berth/diff/write.h"
#include "berth/snapshots/mount.h"
#include "berth/snapshots/storage.h"
#include "testsuite/tree.h"

namespace fs = std::filesystem;

namespace berth::testsuite {
namespace {

using core::SnapshotKind;

template <class T>
std::string why(const Result<T>& r) {
  return r.ok() ? std::string() : r.error().to_string();
}
template <class T>
int code(const Result<T>& r) {
  return r.ok() ? 0 : r.error().code();
}

struct TempRoot {
  std::string path;
  TempRoot() : path(sys::make_temp_dir("berth-snapshots-").value()) {}
  ~TempRoot() {
    // A failed REQUIRE may leave a mount behind: lazily detach what is
    // still there before deleting, so the tree below is never reached.
    auto names = sys::list_dir(path);
    for (const auto& name : names.ok() ? *names : std::vector<std::string>{})
      if (name.starts_with("mnt")) (void)snapshots::unmount_all(path + "/" + name);
    (void)sys::remove_all(path);
  }
};

struct Mounted {
  std::string target;
  Mounted(const std::vector<core::Mount>& mounts, std::string t) : target(std::move(t)) {
    fs::create_directories(target);
    auto st = snapshots::mount_all(mounts, target);
    REQUIRE_MESSAGE(st.ok(), why(st));
  }
  ~Mounted() { (void)snapshots::unmount_all(target); }
};

void write_file(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  REQUIRE(out.good());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::unique_ptr<core::Snapshotter> open(const SnapshotterFactory& factory,
                                        const std::string& root) {
  auto s = factory(root);
  REQUIRE_MESSAGE(s.ok(), why(s));
  return std::move(*s);
}

void require_ok(const Status& st) { REQUIRE_MESSAGE(st.ok(), why(st)); }

std::vector<core::Mount> must(Result<std::vector<core::Mount>> r) {
  REQUIRE_MESSAGE(r.ok(), why(r));
  return std::move(*r);
}

size_t entries_in(const std::string& dir) { return sys::list_dir(dir).value().size(); }

// Every record has its directory (its mounts work) and no directory is
// left without a record.
void check_consistent(core::Snapshotter& sn, const TempRoot& t) {
  auto all = sn.list();
  REQUIRE_MESSAGE(all.ok(), why(all));
  CHECK(entries_in(t.path + "/s/snapshots") == all->size());
  CHECK(entries_in(t.path + "/s/staging") == 0);
  CHECK(entries_in(t.path + "/s/trash") == 0);
  for (const auto& info : *all) {
    if (info.kind == SnapshotKind::kCommitted) continue;
    Mounted m(must(sn.mounts(info.key)), t.path + "/mnt-check");
  }
}

// The sequence shared by the chain and round-trip cases: a base layer
// written through its mount, committed as "a".
void make_base(core::Snapshotter& sn, const std::string& root) {
  auto m = must(sn.prepare("a-active", "", {{"stage", "base"}}));
  {
    Mounted x(m, root + "/mnt-a");
    write_file(x.target + "/base.txt", "base");
    fs::create_directories(x.target + "/dir");
    write_file(x.target + "/dir/f", "f");
  }
  require_ok(sn.commit("a", "a-active", {{"layer", "a"}}));
}

std::string g_crash_at;
void crash_hook(std::string_view step) {
  if (step == g_crash_at) ::_exit(0);
}

}  // namespace

void snapshotter_suite(const SnapshotterFactory& factory) {
  TempRoot t;
  std::string root = t.path + "/s";

  SUBCASE("chains: prepare, commit, prepare on it, view; files visible through the mounts") {
    auto sn = open(factory, root);
    make_base(*sn, t.path);
    CHECK(code(sn->stat("a-active")) == ENOENT);
    auto a = sn->stat("a");
    REQUIRE(a.ok());
    CHECK(a->kind == SnapshotKind::kCommitted);
    CHECK(a->parent.empty());
    CHECK(a->labels == core::Labels{{"layer", "a"}});
    CHECK(code(sn->mounts("a")) == EINVAL);

    {
      Mounted b(must(sn->prepare("b-active", "a")), t.path + "/mnt-b");
      CHECK(read_file(b.target + "/base.txt") == "base");
      write_file(b.target + "/b.txt", "b");
      REQUIRE(::unlink((b.target + "/dir/f").c_str()) == 0);
    }
    require_ok(sn->commit("b", "b-active"));
    CHECK(sn->stat("b")->parent == "a");

    {
      Mounted c(must(sn->prepare("c-active", "a")), t.path + "/mnt-c");
      CHECK(read_file(c.target + "/dir/f") == "f");  // b's changes are b's alone
      CHECK(!fs::exists(c.target + "/b.txt"));
    }
    {
      Mounted v(must(sn->view("v", "b")), t.path + "/mnt-v");
      CHECK(read_file(v.target + "/base.txt") == "base");
      CHECK(read_file(v.target + "/b.txt") == "b");
      CHECK(!fs::exists(v.target + "/dir/f"));
      int fd = ::open((v.target + "/new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      int error = errno;  // before doctest's reporting can change it
      CHECK(fd == -1);
      CHECK(error == EROFS);
    }
    {
      Mounted v1(must(sn->view("v1", "a")), t.path + "/mnt-v1");
      CHECK(read_file(v1.target + "/dir/f") == "f");
      int rc = ::mkdir((v1.target + "/x").c_str(), 0755);
      int error = errno;
      CHECK(rc == -1);
      CHECK(error == EROFS);
    }
    auto v = sn->stat("v");
    CHECK(v->kind == SnapshotKind::kView);
    CHECK(v->parent == "b");
  }

  SUBCASE("errors: unknown parent, active parent, taken keys, commit of non-active") {
    auto sn = open(factory, root);
    CHECK(code(sn->prepare("x", "nope")) == ENOENT);
    must(sn->prepare("a-active", ""));
    CHECK(code(sn->prepare("y", "a-active")) == EINVAL);
    CHECK(code(sn->prepare("a-active", "")) == EEXIST);
    require_ok(sn->commit("a", "a-active"));
    CHECK(code(sn->commit("a2", "a")) == EINVAL);  // committed: read-only for good
    must(sn->view("v", "a"));
    CHECK(code(sn->commit("v2", "v")) == EINVAL);
    must(sn->prepare("c", "a"));
    CHECK(code(sn->commit("a", "c")) == EEXIST);
    CHECK(code(sn->view("v", "a")) == EEXIST);
    CHECK(code(sn->stat("nope")) == ENOENT);
    CHECK(code(sn->remove("nope")) == ENOENT);
    CHECK(code(sn->layer_dirs("a")) == EINVAL);
    auto all = sn->list();
    REQUIRE(all.ok());
    std::vector<std::string> keys;
    for (const auto& i : *all) keys.push_back(i.key);
    CHECK(keys == std::vector<std::string>{"a", "c", "v"});
    check_consistent(*sn, t);
  }

  SUBCASE("remove: EBUSY with children, then leaf first; directories go with the records") {
    auto sn = open(factory, root);
    make_base(*sn, t.path);
    must(sn->prepare("b-active", "a"));
    must(sn->view("v", "a"));
    auto busy = sn->remove("a");
    CHECK(code(busy) == EBUSY);
    CHECK(sn->stat("a").ok());
    require_ok(sn->remove("b-active"));
    CHECK(code(sn->remove("a")) == EBUSY);
    require_ok(sn->remove("v"));
    require_ok(sn->remove("a"));
    CHECK(sn->list()->empty());
    CHECK(entries_in(root + "/snapshots") == 0);
    CHECK(entries_in(root + "/trash") == 0);
  }

  SUBCASE("stat, list, usage, labels and times") {
    auto sn = open(factory, root);
    auto m = must(sn->prepare("a-active", "", {{"k", "v"}}));
    {
      Mounted x(m, t.path + "/mnt-a");
      write_file(x.target + "/big", std::string(100000, 'x'));
    }
    auto info = sn->stat("a-active");
    REQUIRE(info.ok());
    CHECK(info->kind == SnapshotKind::kActive);
    CHECK(info->labels == core::Labels{{"k", "v"}});
    CHECK(info->created_at > 0);
    CHECK(info->updated_at >= info->created_at);
    auto u = sn->usage("a-active");
    REQUIRE(u.ok());
    CHECK(u->size >= 100000);
    CHECK(u->inodes >= 1);
    require_ok(sn->commit("a", "a-active"));
    auto uc = sn->usage("a");
    REQUIRE(uc.ok());
    CHECK(uc->size == u->size);
    CHECK(uc->inodes == u->inodes);
    CHECK(sn->stat("a")->labels.empty());  // commit's labels replace the active's
    auto dirs = sn->prepare("b", "a");
    REQUIRE(dirs.ok());
    auto ld = sn->layer_dirs("b");
    REQUIRE(ld.ok());
    CHECK(ld->lowers.size() == 1);
    CHECK(sn->list()->size() == 2);
  }

  SUBCASE("a crash between steps keeps records and directories consistent") {
    struct Case {
      const char* step;
      bool key_after;  // the operation's key exists after reopening
    };
    const Case cases[] = {
        {"create:renamed", false}, {"create:committed", true},  {"commit:updated", false},
        {"remove:deleted", true},  {"remove:committed", false}, {"remove:renamed", false},
    };
    for (const auto& c : cases) {
      std::string step = c.step;
      CAPTURE(step);
      (void)sys::remove_all(root);
      {
        auto sn = open(factory, root);
        make_base(*sn, t.path);
        must(sn->prepare("act", "a"));
        must(sn->prepare("gone", "a"));
      }
      pid_t pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        g_crash_at = step;
        snapshots::set_step_hook(crash_hook);
        auto sn = factory(root);
        if (!sn.ok()) ::_exit(2);
        if (step.starts_with("create")) (void)(*sn)->prepare("new", "a");
        if (step.starts_with("commit")) (void)(*sn)->commit("new", "act");
        if (step.starts_with("remove")) (void)(*sn)->remove("gone");
        ::_exit(3);  // the step was never reached
      }
      int status = 0;
      REQUIRE(::waitpid(pid, &status, 0) == pid);
      REQUIRE(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 0);

      auto sn = open(factory, root);
      check_consistent(*sn, t);
      std::string key = step.starts_with("remove") ? "gone" : "new";
      CHECK(sn->stat(key).ok() == c.key_after);
      if (step.starts_with("commit")) CHECK(sn->stat("act")->kind == SnapshotKind::kActive);
      must(sn->prepare("after", "a"));
      check_consistent(*sn, t);
    }
  }

  SUBCASE(
      "round trip: write_layer of a changed snapshot, applied onto its parent, gives the same "
      "tree") {
    auto sn = open(factory, root);
    must(sn->prepare("A-active", ""));
    auto adirs = sn->layer_dirs("A-active");
    REQUIRE(adirs.ok());
    auto mode = adirs->whiteouts == core::WhiteoutStyle::kOverlay ? diff::WhiteoutMode::kOverlay
                                                                  : diff::WhiteoutMode::kNative;
    std::string cap = net_bind_capability();
    std::string layer = make_tar({
        {.name = "etc/", .type = 0040000, .perm = 0755},
        {.name = "etc/passwd", .data = "root:x:0:0::/root:/bin/sh\n"},
        {.name = "bin/", .type = 0040000, .perm = 0755},
        {.name = "bin/ping",
         .perm = 04755,
         .data = "ping",
         .xattrs = {{"security.capability", cap}}},
        {.name = "bin/sh", .perm = 0755, .data = "sh"},
        {.name = "bin/link", .hardlink = "bin/sh"},
        {.name = "bin/sym", .type = 0120000, .perm = 0777, .symlink = "sh"},
        {.name = "data/", .type = 0040000, .perm = 0750, .uid = 1000, .gid = 1000},
        {.name = "data/a", .data = "A", .uid = 1000, .gid = 1000},
        {.name = "data/b", .data = "B"},
        {.name = "data/sub/", .type = 0040000, .perm = 0755},
        {.name = "data/sub/c", .data = "C"},
        {.name = "opq/", .type = 0040000, .perm = 0755},
        {.name = "opq/x", .data = "X"},
        {.name = "opq/y", .data = "Y"},
        {.name = "gone/", .type = 0040000, .perm = 0755},
        {.name = "gone/f", .data = "F"},
        {.name = "dev/", .type = 0040000, .perm = 0755},
        {.name = "dev/null", .type = 0020000, .perm = 0666, .major = 1, .minor = 3},
        {.name = "dev/fifo", .type = 0010000, .perm = 0600},
        {.name = "note", .data = "n", .xattrs = {{"user.note", "hello"}}},
    });
    auto apply = [&](const std::string& key, const std::string& tar) {
      auto dirs = sn->layer_dirs(key);
      REQUIRE(dirs.ok());
      auto fd = sys::open(dirs->upper, O_RDONLY | O_DIRECTORY);
      REQUIRE(fd.ok());
      bool done = false;
      diff::ApplyOptions o;
      o.whiteouts = mode;
      auto r = diff::apply_layer(
          *fd,
          [&]() -> Result<std::string_view> {
            if (done) return std::string_view();
            done = true;
            return std::string_view(tar);
          },
          o);
      REQUIRE_MESSAGE(r.ok(), why(r));
      return r->diff_id;
    };
    apply("A-active", layer);
    require_ok(sn->commit("A", "A-active"));

    std::map<std::string, std::string> expected;
    {
      Mounted b(must(sn->prepare("B-active", "A")), t.path + "/mnt-b");
      const std::string& m = b.target;
      REQUIRE(::unlink((m + "/data/a").c_str()) == 0);
      fs::remove_all(m + "/gone");
      write_file(m + "/etc/passwd", "root:x:0:0::/root:/bin/ash\n");
      REQUIRE(::chmod((m + "/bin/sh").c_str(), 0700) == 0);
      REQUIRE(::lchown((m + "/data/b").c_str(), 1001, 1001) == 0);
      REQUIRE(::lsetxattr((m + "/etc/passwd").c_str(), "user.added", "1", 1, 0) == 0);
      fs::create_directories(m + "/new/deep");
      write_file(m + "/new/deep/file", "new");
      REQUIRE(::link((m + "/new/deep/file").c_str(), (m + "/new/file2").c_str()) == 0);
      REQUIRE(::symlink("../etc/passwd", (m + "/new/sym").c_str()) == 0);
      // Gone and made again: overlayfs marks the new dir opaque.
      fs::remove_all(m + "/opq");
      REQUIRE(::mkdir((m + "/opq").c_str(), 0711) == 0);
      write_file(m + "/opq/z", "Z");
      expected = describe_tree(m);
    }
    CHECK(expected.count("/opq/z"));
    CHECK(!expected.count("/opq/x"));
    CHECK(expected["/bin/ping"].find("security.capability") != std::string::npos);

    auto bdirs = sn->layer_dirs("B-active");
    REQUIRE(bdirs.ok());
    std::string gz;
    diff::WriteOptions wo;
    wo.gzip = true;
    auto w = diff::write_layer(*bdirs, wo, [&](std::string_view chunk) -> Status {
      gz.append(chunk);
      return {};
    });
    REQUIRE_MESSAGE(w.ok(), why(w));
    CHECK(w->digest == "sha256:" + sha256_hex(gz));
    CHECK(w->size == gz.size());
    auto names = list_tar(gz);
    auto has = [&](const std::string& prefix) {
      return std::any_of(names.begin(), names.end(),
                         [&](const std::string& n) { return n.starts_with(prefix); });
    };
    CHECK(has("data/.wh.a "));
    CHECK(has(".wh.gone "));
    CHECK(has("new/file2 hardlink new/deep/file"));
    CHECK(!has("bin/ping"));  // unchanged
    CHECK(!has("dev/"));

    must(sn->prepare("C-active", "A"));
    CHECK(apply("C-active", gz) == w->diff_id);
    Mounted c(must(sn->mounts("C-active")), t.path + "/mnt-c");
    auto got = describe_tree(c.target);
    CHECK(got == expected);
    if (got != expected) {
      for (const auto& [k, v] : expected)
        if (got[k] != v) MESSAGE(k << ": want `" << v << "` got `" << got[k] << "`");
      for (const auto& [k, v] : got)
        if (!expected.count(k)) MESSAGE(k << ": unexpected `" << v << "`");
    }
  }
}

}  // namespace berth::testsuite
