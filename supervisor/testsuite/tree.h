#pragma once
// Test helpers shared by the conformance suites and the diff tests: layers
// crafted in memory, trees described for comparison.

#include <sys/types.h>

#include <ctime>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace berth::testsuite {

struct TarEntry {
  std::string name;
  unsigned type = 0100000;  // AE_IFREG
  int perm = 0644;
  std::string data;
  std::string symlink;
  std::string hardlink;
  uid_t uid = 0;
  gid_t gid = 0;
  unsigned major = 0, minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
  time_t mtime = 1'000'000'000;
};

enum class TarCompression { kNone, kGzip, kZstd };

// A PAX tar of `entries`, compressed as asked.
std::string make_tar(const std::vector<TarEntry>& entries,
                     TarCompression compression = TarCompression::kNone);

// The entries of a tar (gzip or not) as "name type [link]" lines, in order.
std::vector<std::string> list_tar(const std::string& tar);

// path → "type mode uid:gid size/target/rdev mtime(non-dirs) xattrs sha(data)"
// for every entry under `root` (trusted.overlay.* left out: overlayfs's
// bookkeeping, not the tree's content). Dir mtimes are left out too: an
// apply touches them.
std::map<std::string, std::string> describe_tree(const std::string& root);

// A valid security.capability value (VFS_CAP_REVISION_2) granting
// CAP_NET_BIND_SERVICE, permitted and effective.
std::string net_bind_capability();

}  // namespace berth::testsuite
