// Layers crafted in memory with libarchive's writer, applied to temp dirs.
// Runs as root (owners, device nodes, trusted.* xattrs), as the suite does.

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "berth/base/sha256.h"
#include "berth/base/sys.h"
#include "berth/diff/apply.h"
#include "testsuite/tree.h"

namespace fs = std::filesystem;
using namespace berth;
using namespace berth::diff;

namespace {

using Entry = berth::testsuite::TarEntry;
using Comp = berth::testsuite::TarCompression;
using berth::testsuite::make_tar;

// A temp dir with the layer root at <tmp>/root and room for decoys beside it.
struct Sandbox {
  fs::path dir;
  fs::path root;
  Sandbox() {
    char tmpl[] = "/tmp/berth-diff-test.XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    root = dir / "root";
    fs::create_directory(root);
  }
  ~Sandbox() { fs::remove_all(dir); }

  Result<ApplyResult> apply(const std::string& layer, ApplyOptions o = {},
                            size_t chunk = 64 << 10) {
    auto fd = sys::open(root.string(), O_RDONLY | O_DIRECTORY);
    REQUIRE(fd.ok());
    size_t pos = 0;
    ChunkSource src = [&]() -> Result<std::string_view> {
      std::string_view v(layer.data() + pos, std::min(chunk, layer.size() - pos));
      pos += v.size();
      return v;
    };
    return apply_layer(*fd, src, o);
  }
  std::string read(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

struct stat lstat_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st;
}

const std::vector<Entry> kTree = {
    {.name = "etc/", .type = AE_IFDIR, .perm = 0755, .mtime = 1'500'000'000},
    {.name = "etc/hostname", .data = "box\n"},
    {.name = "bin/", .type = AE_IFDIR, .perm = 0755},
    {.name = "bin/su", .perm = 04755, .data = "#!suid", .uid = 1000, .gid = 1000},
    {.name = "bin/sh", .type = AE_IFLNK, .symlink = "/bin/busybox", .uid = 7},
    {.name = "bin/hard", .hardlink = "bin/su"},
    {.name = "run/fifo", .type = AE_IFIFO, .perm = 0600},
    {.name = "dev/null", .type = AE_IFCHR, .perm = 0666, .major = 1, .minor = 3},
    {.name = "caps", .data = "x", .xattrs = {{"user.note", "hello"}}},
};

}  // namespace

TEST_CASE("a layer's entries land with their types, owners, modes, times and xattrs") {
  Sandbox s;
  auto r = s.apply(make_tar(kTree));
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  CHECK(r->entries == kTree.size());
  CHECK(s.read(s.root / "etc/hostname") == "box\n");
  auto su = lstat_of(s.root / "bin/su");
  CHECK((su.st_mode & 07777) == 04755);  // setuid survives the chown before it
  CHECK(su.st_uid == 1000);
  CHECK(su.st_nlink == 2);
  CHECK(lstat_of(s.root / "bin/hard").st_ino == su.st_ino);
  CHECK(fs::read_symlink(s.root / "bin/sh") == "/bin/busybox");
  CHECK(lstat_of(s.root / "bin/sh").st_uid == 7);
  CHECK(S_ISFIFO(lstat_of(s.root / "run/fifo").st_mode));
  auto null = lstat_of(s.root / "dev/null");
  CHECK(S_ISCHR(null.st_mode));
  CHECK(null.st_rdev == makedev(1, 3));
  char buf[16] = {};
  CHECK(::getxattr((s.root / "caps").c_str(), "user.note", buf, sizeof buf) == 5);
  CHECK(std::string(buf) == "hello");
  // The directory's time is set after its children were created in it.
  CHECK(lstat_of(s.root / "etc").st_mtime == 1'500'000'000);
  CHECK(lstat_of(s.root / "etc/hostname").st_mtime == 1'000'000'000);
}

TEST_CASE(
    "the diffID is the sha256 of the uncompressed tar, whatever the compression and chunking") {
  std::string tar = make_tar(kTree);
  std::string want = "sha256:" + sha256_hex(tar);
  for (Comp c : {Comp::kNone, Comp::kGzip, Comp::kZstd}) {
    for (size_t chunk : {size_t{1}, size_t{4096}, size_t{64 << 10}}) {
      Sandbox s;
      auto r = s.apply(make_tar(kTree, c), {}, chunk);
      REQUIRE_MESSAGE(r.ok(), r.error().to_string());
      CHECK(r->diff_id == want);
      CHECK(r->tar_size == tar.size());
      CHECK(s.read(s.root / "bin/su") == "#!suid");
    }
  }
}

TEST_CASE("no entry escapes the root") {
  SUBCASE("`..` is refused, naming the layer and the entry") {
    Sandbox s;
    auto r = s.apply(make_tar({{.name = "a/../../decoy", .data = "pwned"}}),
                     {.label = "layer sha256:abc"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().starts_with(
        "layer sha256:abc: entry `a/../../decoy`: path escapes the layer root"));
    CHECK_FALSE(fs::exists(s.dir / "decoy"));
  }
  SUBCASE("absolute names are relative to the root") {
    Sandbox s;
    REQUIRE(s.apply(make_tar({{.name = "/abs/file", .data = "in"}})).ok());
    CHECK(s.read(s.root / "abs/file") == "in");
  }
  SUBCASE("a symlinked parent resolves inside the root") {
    Sandbox s;
    std::ofstream(s.dir / "decoy") << "original";
    auto r = s.apply(
        make_tar({{.name = "esc", .type = AE_IFLNK, .symlink = ".."},  // outside: the sandbox dir
                  {.name = "abs", .type = AE_IFLNK, .symlink = s.dir.string()},
                  {.name = "esc/decoy", .data = "pwned"},
                  {.name = "abs/decoy2", .data = "pwned"}}));
    REQUIRE_MESSAGE(r.ok(), r.error().to_string());
    CHECK(s.read(s.dir / "decoy") == "original");
    CHECK(s.read(s.root / "decoy") == "pwned");  // "esc" is the root itself, seen from inside
    CHECK_FALSE(fs::exists(s.dir / "decoy2"));
    // The absolute symlink's target was created inside the root.
    CHECK(s.read(s.root / s.dir.relative_path() / "decoy2") == "pwned");
  }
  SUBCASE("a file over a symlink replaces the symlink, never writes through it") {
    Sandbox s;
    std::ofstream(s.dir / "decoy") << "original";
    fs::create_symlink(s.dir / "decoy", s.root / "x");
    REQUIRE(s.apply(make_tar({{.name = "x", .data = "pwned"}})).ok());
    CHECK(s.read(s.dir / "decoy") == "original");
    CHECK(s.read(s.root / "x") == "pwned");
    CHECK_FALSE(fs::is_symlink(s.root / "x"));
  }
  SUBCASE("hard links reach only inodes inside the root") {
    Sandbox s;
    std::ofstream(s.dir / "decoy") << "original";
    auto through_symlink =
        s.apply(make_tar({{.name = "esc", .type = AE_IFLNK, .symlink = s.dir.string()},
                          {.name = "h", .hardlink = "esc/decoy"}}));
    CHECK_FALSE(through_symlink.ok());  // esc/decoy is <root>/<tmp>/decoy: absent
    CHECK(lstat_of(s.dir / "decoy").st_nlink == 1);
    Sandbox s2;
    auto passwd = lstat_of("/etc/passwd").st_nlink;
    CHECK_FALSE(s2.apply(make_tar({{.name = "p", .hardlink = "/etc/passwd"}})).ok());
    CHECK_FALSE(s2.apply(make_tar({{.name = "p", .hardlink = "../decoy"}})).ok());
    CHECK(lstat_of("/etc/passwd").st_nlink == passwd);
    // A link to a symlink links the symlink itself, inside the root.
    Sandbox s3;
    REQUIRE(s3.apply(make_tar({{.name = "sl", .type = AE_IFLNK, .symlink = "/etc/passwd"},
                               {.name = "h", .hardlink = "sl"}}))
                .ok());
    CHECK(fs::is_symlink(s3.root / "h"));
  }
}

TEST_CASE("whiteouts: overlay devices and opaque xattrs, or removals in native mode") {
  SUBCASE("overlay") {
    Sandbox s;
    auto r = s.apply(make_tar({{.name = "d/", .type = AE_IFDIR},
                               {.name = "d/.wh..wh..opq"},
                               {.name = "d/kept", .data = "k"},
                               {.name = ".wh.gone"},
                               {.name = ".wh..wh.plnk/", .type = AE_IFDIR}}));
    REQUIRE_MESSAGE(r.ok(), r.error().to_string());
    auto wh = lstat_of(s.root / "gone");
    CHECK(S_ISCHR(wh.st_mode));
    CHECK(wh.st_rdev == makedev(0, 0));
    char v[4] = {};
    CHECK(::getxattr((s.root / "d").c_str(), "trusted.overlay.opaque", v, sizeof v) == 1);
    CHECK(v[0] == 'y');
    CHECK_FALSE(fs::exists(s.root / ".wh..wh..opq"));
    CHECK_FALSE(fs::exists(s.root / ".wh..wh.plnk"));
  }
  SUBCASE("native") {
    Sandbox s;
    fs::create_directories(s.root / "d/old");
    std::ofstream(s.root / "gone") << "lower";
    std::ofstream(s.root / "d/lower-file") << "lower";
    ApplyOptions o;
    o.whiteouts = WhiteoutMode::kNative;
    auto r = s.apply(
        make_tar(
            {{.name = "d/new", .data = "upper"}, {.name = "d/.wh..wh..opq"}, {.name = ".wh.gone"}}),
        o);
    REQUIRE_MESSAGE(r.ok(), r.error().to_string());
    CHECK_FALSE(fs::exists(s.root / "gone"));
    CHECK_FALSE(fs::exists(s.root / "d/old"));
    CHECK_FALSE(fs::exists(s.root / "d/lower-file"));
    CHECK(s.read(s.root / "d/new") == "upper");
  }
}

TEST_CASE("replacing entries: a directory stays a directory, anything else is replaced") {
  Sandbox s;
  fs::create_directories(s.root / "d/child");
  std::ofstream(s.root / "f") << "old";
  auto r = s.apply(
      make_tar({{.name = "d", .type = AE_IFDIR, .perm = 0700}, {.name = "f", .type = AE_IFDIR}}));
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  CHECK(fs::exists(s.root / "d/child"));
  CHECK((lstat_of(s.root / "d").st_mode & 0777) == 0700);
  CHECK(fs::is_directory(s.root / "f"));
  REQUIRE(s.apply(make_tar({{.name = "d", .data = "now a file"}})).ok());
  CHECK(s.read(s.root / "d") == "now a file");
}

TEST_CASE("device nodes can be refused") {
  Sandbox s;
  ApplyOptions o;
  o.allow_devices = false;
  o.label = "layer L";
  auto r = s.apply(make_tar({{.name = "dev/sda", .type = AE_IFBLK, .major = 8}}), o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() ==
        "layer L: entry `dev/sda`: device nodes are not allowed in this layer");
}

TEST_CASE("bombs and broken streams stop with an error naming the limit") {
  SUBCASE("entry count") {
    Sandbox s;
    ApplyOptions o;
    o.max_entries = 3;
    auto r = s.apply(make_tar({{.name = "a"}, {.name = "b"}, {.name = "c"}, {.name = "d"}}), o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find("more than 3 entries") != std::string::npos);
  }
  SUBCASE("expansion ratio") {
    Sandbox s;
    ApplyOptions o;
    o.ratio_slack = 1 << 20;
    o.max_ratio = 100;
    std::string gz =
        make_tar({{.name = "zeros", .data = std::string(32 << 20, '\0')}}, Comp::kGzip);
    REQUIRE(gz.size() < (1 << 20));
    auto r = s.apply(gz, o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find("decompression bomb") != std::string::npos);
    // Stopped early: far less than the bomb reached the disk.
    if (fs::exists(s.root / "zeros")) CHECK(fs::file_size(s.root / "zeros") < (8u << 20));
  }
  SUBCASE("total size") {
    Sandbox s;
    ApplyOptions o;
    o.max_bytes = 4096;
    CHECK_FALSE(s.apply(make_tar({{.name = "big", .data = std::string(100000, 'x')}}), o).ok());
  }
  SUBCASE("path length") {
    Sandbox s;
    ApplyOptions o;
    auto r = s.apply(make_tar({{.name = std::string(300, 'n')}}), o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find("path component longer than 255") != std::string::npos);
  }
  SUBCASE("truncated gzip") {
    Sandbox s;
    std::string gz = make_tar(kTree, Comp::kGzip);
    CHECK_FALSE(s.apply(gz.substr(0, gz.size() / 2)).ok());
  }
  SUBCASE("not a tar") {
    Sandbox s;
    auto r = s.apply(std::string(2048, 'Z'));
    REQUIRE_FALSE(r.ok());
  }
  SUBCASE("a failing source") {
    Sandbox s;
    auto fd = sys::open(s.root.string(), O_RDONLY | O_DIRECTORY);
    REQUIRE(fd.ok());
    ChunkSource broken = []() -> Result<std::string_view> {
      return make_error("connection reset", ECONNRESET);
    };
    auto r = apply_layer(*fd, broken, {.label = "layer X"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find("connection reset") != std::string::npos);
  }
}
