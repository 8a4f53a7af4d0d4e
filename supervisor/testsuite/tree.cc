// Test helpers (see tree.h). Tests may call libc directly.

#include "testsuite/tree.h"

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "berth/base/sha256.h"

namespace fs = std::filesystem;

namespace berth::testsuite {
namespace {

la_ssize_t append(struct archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

std::string xattrs_of(const std::string& path) {
  std::vector<std::string> out;
  char list[65536];
  ssize_t n = ::llistxattr(path.c_str(), list, sizeof list);
  for (ssize_t pos = 0; n > 0 && pos < n;) {
    std::string key(list + pos);
    pos += static_cast<ssize_t>(key.size()) + 1;
    if (key.starts_with("trusted.overlay.")) continue;
    char value[65536];
    ssize_t len = ::lgetxattr(path.c_str(), key.c_str(), value, sizeof value);
    out.push_back(key + "=" +
                  sha256_hex(std::string_view(value, len > 0 ? static_cast<size_t>(len) : 0)));
  }
  std::sort(out.begin(), out.end());
  std::string s;
  for (const auto& x : out) s += " " + x;
  return s;
}

}  // namespace

std::string make_tar(const std::vector<TarEntry>& entries, TarCompression compression) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (compression == TarCompression::kGzip) archive_write_add_filter_gzip(a);
  if (compression == TarCompression::kZstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  REQUIRE(archive_write_open(a, &out, nullptr, append, nullptr) == ARCHIVE_OK);
  for (const auto& e : entries) {
    struct archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.name.c_str());
    archive_entry_set_perm(ae, e.perm);
    archive_entry_set_uid(ae, e.uid);
    archive_entry_set_gid(ae, e.gid);
    archive_entry_set_mtime(ae, e.mtime, 0);
    if (!e.hardlink.empty()) {
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_hardlink(ae, e.hardlink.c_str());
      archive_entry_set_size(ae, 0);
    } else {
      archive_entry_set_filetype(ae, e.type);
      if (e.type == AE_IFLNK) archive_entry_set_symlink(ae, e.symlink.c_str());
      if (e.type == AE_IFCHR || e.type == AE_IFBLK) {
        archive_entry_set_rdevmajor(ae, e.major);
        archive_entry_set_rdevminor(ae, e.minor);
      }
      archive_entry_set_size(ae, e.type == AE_IFREG ? static_cast<la_int64_t>(e.data.size()) : 0);
    }
    for (const auto& [k, v] : e.xattrs)
      archive_entry_xattr_add_entry(ae, k.c_str(), v.data(), v.size());
    REQUIRE(archive_write_header(a, ae) == ARCHIVE_OK);
    if (e.type == AE_IFREG && e.hardlink.empty() && !e.data.empty())
      REQUIRE(archive_write_data(a, e.data.data(), e.data.size()) ==
              static_cast<la_ssize_t>(e.data.size()));
    archive_entry_free(ae);
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  return out;
}

std::vector<std::string> list_tar(const std::string& tar) {
  std::vector<std::string> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_all(a);
  REQUIRE(archive_read_open_memory(a, tar.data(), tar.size()) == ARCHIVE_OK);
  struct archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string line = archive_entry_pathname(e);
    const char* link = archive_entry_hardlink(e);
    const char* sym = archive_entry_symlink(e);
    if (link)
      line += " hardlink " + std::string(link);
    else if (sym)
      line += " symlink " + std::string(sym);
    else
      line += " " + std::to_string(archive_entry_filetype(e) >> 12);
    out.push_back(line);
  }
  archive_read_free(a);
  return out;
}

std::map<std::string, std::string> describe_tree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string path = it->path().string();
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    std::ostringstream d;
    d << std::oct << st.st_mode << std::dec << " " << st.st_uid << ":" << st.st_gid;
    if (S_ISREG(st.st_mode)) {
      std::ifstream in(path, std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      d << " size " << st.st_size << " " << sha256_hex(data);
    } else if (S_ISLNK(st.st_mode)) {
      d << " -> " << fs::read_symlink(path).string();
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      d << " dev " << major(st.st_rdev) << "," << minor(st.st_rdev);
    }
    if (!S_ISDIR(st.st_mode)) d << " mtime " << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;
    d << xattrs_of(path);
    out[path.substr(root.size())] = d.str();
  }
  return out;
}

std::string net_bind_capability() {
  // struct vfs_cap_data: magic_etc, then {permitted, inheritable} × 2, LE.
  uint32_t words[5] = {0x02000000u | 0x1u, 1u << 10, 0, 0, 0};
  return std::string(reinterpret_cast<const char*>(words), sizeof words);
}

}  // namespace berth::testsuite
