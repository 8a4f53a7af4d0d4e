// `-u` and `--group-add` resolved in the image's own /etc/passwd and
// /etc/group, with the semantics (and error words) of runc's
// libcontainer/user GetExecUser and GetAdditionalGroup, which docker's
// getUser calls.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <string>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "rules.h"

namespace berth::oci {

namespace {

constexpr int64_t kMaxId = 2147483647;  // runc's maxID: ids are int32 in the kernel ABI
constexpr size_t kMaxIdFile = 4 << 20;

struct PasswdEntry {
  std::string name;
  int64_t uid = 0, gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  int64_t gid = 0;
  std::vector<std::string> members;
};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Go's strconv.Atoi: an optional sign and decimal digits, nothing else.
std::optional<int64_t> parse_int(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// A field that is not a number counts as 0, as runc's parseLine does.
int64_t id_field(std::string_view s) { return parse_int(s).value_or(0); }

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  for (auto line : split(text, '\n')) {
    line = trim(line);
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> out;
  for (auto line : lines_of(text)) {
    auto f = split(line, ':');
    f.resize(7);
    out.push_back({std::string(f[0]), id_field(f[2]), id_field(f[3]), std::string(f[5])});
  }
  return out;
}

std::vector<GroupEntry> parse_group(std::string_view text) {
  std::vector<GroupEntry> out;
  for (auto line : lines_of(text)) {
    auto f = split(line, ':');
    f.resize(4);
    GroupEntry g{std::string(f[0]), id_field(f[2]), {}};
    if (!f[3].empty())
      for (auto m : split(f[3], ',')) g.members.emplace_back(m);
    out.push_back(std::move(g));
  }
  return out;
}

Error range_error() {
  return core::invalid_argument("uids and gids must be in range 0-2147483647");
}

// The image's file, or nullopt when it has none. Read through a descriptor
// resolved in-root: an image whose /etc/passwd is a symlink to
// ../../../etc/shadow reads its own rootfs, not the host's. Anything but a
// regular file (a FIFO would block berthd forever) is refused.
Result<std::optional<std::string>> read_in_root(BorrowedFd root, std::string_view path) {
  auto fd = sys::open_in_root(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd.ok()) {
    if (fd.error().code() == ENOENT) return std::optional<std::string>();
    return fd.error();
  }
  auto st = BERTH_VALUE(sys::fstat(*fd, path));
  if (!S_ISREG(st.st_mode))
    return core::invalid_argument("read `" + std::string(path) +
                                  "` in the image: not a regular file");
  return std::optional<std::string>(BERTH_VALUE(sys::read_all(*fd, kMaxIdFile, path)));
}

}  // namespace

Result<User> resolve_user_in(std::optional<std::string_view> passwd,
                             std::optional<std::string_view> group, std::string_view spec,
                             const std::vector<std::string>& group_add) {
  auto parts = split(spec, ':');
  std::string_view user_arg = parts[0];
  std::string_view group_arg = parts.size() > 1 ? parts[1] : std::string_view();
  auto uid_arg = parse_int(user_arg);
  auto gid_arg = parse_int(group_arg);

  User user;
  std::string matched_name;
  bool matched = false;
  if (passwd) {
    for (const auto& e : parse_passwd(*passwd)) {
      bool hit = user_arg.empty() ? e.uid == 0 : uid_arg ? e.uid == *uid_arg : e.name == user_arg;
      if (!hit) continue;  // the first match wins
      matched = true;
      matched_name = e.name;
      user.uid = static_cast<uint32_t>(e.uid);
      user.gid = static_cast<uint32_t>(e.gid);
      user.home = e.home;
      break;
    }
  }
  if (!matched && !user_arg.empty()) {
    // Only a number may name a user the image does not list.
    if (!uid_arg)
      return core::invalid_argument("unable to find user " + std::string(user_arg) +
                                    ": no matching entries in passwd file");
    if (*uid_arg < 0 || *uid_arg > kMaxId) return range_error();
    user.uid = static_cast<uint32_t>(*uid_arg);
  }

  std::vector<uint32_t> sgids;
  std::vector<GroupEntry> groups = group ? parse_group(*group) : std::vector<GroupEntry>();
  if (!group_arg.empty()) {
    const GroupEntry* hit = nullptr;
    for (const auto& g : groups)
      if (gid_arg ? g.gid == *gid_arg : g.name == group_arg) {
        hit = &g;
        break;
      }
    if (hit) {
      user.gid = static_cast<uint32_t>(hit->gid);
    } else {
      if (!gid_arg)
        return core::invalid_argument("unable to find group " + std::string(group_arg) +
                                      ": no matching entries in group file");
      if (*gid_arg < 0 || *gid_arg > kMaxId) return range_error();
      user.gid = static_cast<uint32_t>(*gid_arg);
    }
  } else if (matched) {
    // Supplementary groups only in the implicit form (`-u name`), from the
    // member lists of /etc/group.
    for (const auto& g : groups)
      for (const auto& m : g.members)
        if (m == matched_name) {
          sgids.push_back(static_cast<uint32_t>(g.gid));
          break;
        }
  }

  user.additional_gids.push_back(user.gid);
  user.additional_gids.insert(user.additional_gids.end(), sgids.begin(), sgids.end());
  std::vector<uint32_t> added;
  for (const auto& ag : group_add) {
    const GroupEntry* hit = nullptr;
    for (const auto& g : groups)
      if (g.name == ag || std::to_string(g.gid) == ag) {
        hit = &g;
        break;
      }
    int64_t gid = 0;
    if (hit) {
      gid = hit->gid;
    } else {
      auto n = parse_int(ag);
      if (!n) return core::invalid_argument("unable to find group " + ag);
      if (*n < 0 || *n > kMaxId) return range_error();
      gid = *n;
    }
    if (std::find(added.begin(), added.end(), gid) == added.end())
      added.push_back(static_cast<uint32_t>(gid));
  }
  user.additional_gids.insert(user.additional_gids.end(), added.begin(), added.end());
  return user;
}

Result<User> resolve_user(std::string_view rootfs, std::string_view spec,
                          const std::vector<std::string>& group_add) {
  auto root = BERTH_VALUE(sys::open(rootfs, O_PATH | O_DIRECTORY));
  auto passwd = BERTH_VALUE(read_in_root(root, "/etc/passwd"));
  auto group = BERTH_VALUE(read_in_root(root, "/etc/group"));
  auto as_view = [](const std::optional<std::string>& s) {
    return s ? std::optional<std::string_view>(*s) : std::nullopt;
  };
  return resolve_user_in(as_view(passwd), as_view(group), spec, group_add);
}

}  // namespace berth::oci
