// Finding the cgroup hierarchies: which cgroup and cgroup2 mounts this mount
// namespace can see, which controllers each carries, and where the caller
// sits in each (so that relative cgroupsPaths nest under it).
//
// The two inputs are kernel text, parsed here without touching the file
// system so that tests feed other hosts' texts.

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/sys.h"
#include "berth/cgroups/cgroups.h"

namespace berth::cgroups {

namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// mountinfo escapes space, tab, newline and backslash in paths as \ooo.
std::string unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && field.size() - i >= 4) {
      std::string_view oct = field.substr(i + 1, 3);
      bool ok = true;
      int value = 0;
      for (char c : oct) {
        if (c < '0' || c > '7') ok = false;
        value = value * 8 + (c - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

// "/a" is a prefix of "/a" and "/a/b", not of "/ab"; "/" of everything.
bool is_path_prefix(std::string_view prefix, std::string_view path) {
  if (prefix == "/") return !path.empty() && path[0] == '/';
  if (path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

struct MountEntry {
  int id = 0;
  int parent = 0;
  std::string root;  // the directory of the file system mounted here
  std::string mount_point;
  std::string fstype;
  std::vector<std::string> super_options;
  bool top = false;  // its parent is not listed: where path lookups start
};

Result<std::vector<MountEntry>> parse_mountinfo(std::string_view text) {
  std::vector<MountEntry> mounts;
  size_t line_no = 0;
  for (std::string_view line : split(text, '\n')) {
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string_view> fields;
    for (std::string_view f : split(line, ' '))
      if (!f.empty()) fields.push_back(f);
    // id parent major:minor root mount-point options [optional...] - fstype source super
    size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    auto malformed = [&] {
      return make_error("parse mountinfo: line " + std::to_string(line_no) + ": malformed: \"" +
                        std::string(line) + "\"");
    };
    if (dash + 3 >= fields.size()) return malformed();
    MountEntry m;
    auto parse_int = [](std::string_view s, int& out) {
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      return ec == std::errc() && p == s.data() + s.size();
    };
    if (!parse_int(fields[0], m.id) || !parse_int(fields[1], m.parent)) return malformed();
    m.root = unescape(fields[3]);
    m.mount_point = unescape(fields[4]);
    m.fstype = std::string(fields[dash + 1]);
    for (std::string_view o : split(fields[dash + 3], ',')) m.super_options.emplace_back(o);
    mounts.push_back(std::move(m));
  }
  // Once, sorted: hosts with thousands of mounts (container nodes) exist.
  std::vector<int> ids;
  ids.reserve(mounts.size());
  for (const auto& m : mounts) ids.push_back(m.id);
  std::sort(ids.begin(), ids.end());
  for (auto& m : mounts)
    m.top = m.parent == m.id || !std::binary_search(ids.begin(), ids.end(), m.parent);
  return mounts;
}

// The mount a path lookup of `path` ends in: from the namespace's root mount,
// step into the child mounted at the shortest prefix of the path (a mount
// made over a directory hides every mount below it that was made earlier,
// and those earlier ones are not its children). This is how a cgroup2 tree
// covered by a tmpfs, or a hierarchy stacked over another at the same point,
// is told apart from the one that is really reachable.
const MountEntry* visible_at(const std::vector<MountEntry>& mounts, std::string_view path) {
  const MountEntry* current = nullptr;
  for (size_t step = 0; step <= mounts.size(); ++step) {
    const MountEntry* pick = nullptr;
    for (const auto& m : mounts) {
      if (&m == current) continue;
      bool child = current ? m.parent == current->id : m.top;
      if (!child || !is_path_prefix(m.mount_point, path)) continue;
      // Ties (propagated copies at one point) go to the later line.
      if (pick == nullptr || m.mount_point.size() <= pick->mount_point.size()) pick = &m;
    }
    if (pick == nullptr) return current;
    current = pick;
  }
  return current;
}

struct CgroupLine {
  std::string hierarchy_id;
  std::vector<std::string> controllers;  // name= entries removed
  std::string path;
};

Result<std::vector<CgroupLine>> parse_proc_cgroup(std::string_view text) {
  std::vector<CgroupLine> lines;
  size_t line_no = 0;
  for (std::string_view line : split(text, '\n')) {
    ++line_no;
    if (line.empty()) continue;
    // The path is everything after the second colon: it may hold colons.
    size_t a = line.find(':');
    size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos)
      return make_error("parse /proc/self/cgroup: line " + std::to_string(line_no) +
                        ": malformed: \"" + std::string(line) + "\"");
    CgroupLine l;
    l.hierarchy_id = std::string(line.substr(0, a));
    std::string_view list = line.substr(a + 1, b - a - 1);
    if (!list.empty())
      for (std::string_view c : split(list, ','))
        if (!c.empty() && c.substr(0, 5) != "name=") l.controllers.emplace_back(c);
    l.path = std::string(line.substr(b + 1));
    lines.push_back(std::move(l));
  }
  return lines;
}

bool has_option(const MountEntry& m, std::string_view option) {
  for (const auto& o : m.super_options)
    if (o == option) return true;
  return false;
}

// The caller's cgroup as seen below a mount of `root`: "" when the mount does
// not reach it (a mount of another part of the tree).
std::string relative_to_root(std::string_view path, std::string_view root) {
  if (!is_path_prefix(root, path)) return {};
  if (root == "/") return std::string(path);
  if (path.size() == root.size()) return "/";
  return std::string(path.substr(root.size()));
}

}  // namespace

Result<Layout> parse_layout(std::string_view mountinfo, std::string_view proc_self_cgroup) {
  auto mounts = BERTH_VALUE(parse_mountinfo(mountinfo));
  auto lines = BERTH_VALUE(parse_proc_cgroup(proc_self_cgroup));

  struct Choice {
    size_t mount;  // index into mounts
    std::string own_path;
    const CgroupLine* line;
  };
  std::vector<Choice> choices;
  for (const auto& line : lines) {
    bool v2 = line.hierarchy_id == "0" && line.controllers.empty();
    // A named hierarchy (name=systemd) carries no controller: systemd's
    // bookkeeping, not ours to place containers in.
    if (!v2 && line.controllers.empty()) continue;
    const MountEntry* first = nullptr;
    const MountEntry* reaching = nullptr;
    for (const auto& m : mounts) {
      if (m.fstype != (v2 ? "cgroup2" : "cgroup")) continue;
      bool matches = true;
      for (const auto& c : line.controllers)
        if (!has_option(m, c)) matches = false;
      if (!matches || visible_at(mounts, m.mount_point) != &m) continue;
      if (first == nullptr) first = &m;
      if (!relative_to_root(line.path, m.root).empty()) {
        reaching = &m;
        break;
      }
    }
    // Not mounted here (a v1-only host still lists "0::/"): nothing to place.
    if (first == nullptr) continue;
    // Prefer a mount that reaches the caller's cgroup; failing that, keep the
    // hierarchy with an unknown own path, so that absolute cgroupsPaths still
    // work and relative ones fail in plan_placement instead of guessing.
    const MountEntry* chosen = reaching ? reaching : first;
    choices.push_back({static_cast<size_t>(chosen - mounts.data()),
                       relative_to_root(line.path, chosen->root), &line});
  }
  if (choices.empty())
    return make_error(
        "find cgroup hierarchies: no cgroup or cgroup2 mount in /proc/self/mountinfo matches "
        "/proc/self/cgroup",
        ENOENT);

  // In mount order: the order the host mounted them, stable across runs.
  std::vector<bool> taken(mounts.size(), false);
  Layout layout;
  for (size_t i = 0; i < mounts.size(); ++i) {
    for (const auto& c : choices) {
      if (c.mount != i || taken[i]) continue;
      taken[i] = true;
      Hierarchy h;
      h.mount_point = mounts[i].mount_point;
      h.controllers = c.line->controllers;
      h.unified = mounts[i].fstype == "cgroup2";
      h.own_path = c.own_path;
      layout.hierarchies.push_back(std::move(h));
    }
  }
  return layout;
}

Result<Layout> detect_layout() {
  auto mountinfo = BERTH_VALUE(sys::read_file("/proc/self/mountinfo"));
  auto own = BERTH_VALUE(sys::read_file("/proc/self/cgroup"));
  return parse_layout(mountinfo, own);
}

}  // namespace berth::cgroups
