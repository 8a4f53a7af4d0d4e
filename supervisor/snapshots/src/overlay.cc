// The overlayfs snapshotter (see overlay.h).

#include "berth/snapshots/overlay.h"

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/snapshots/mount.h"
#include "berth/snapshots/storage.h"

namespace berth::snapshots {
namespace {

bool index_on_by_default() {
  auto v = sys::read_file("/sys/module/overlay/parameters/index", 16);
  return v && !v->empty() && (*v)[0] == 'Y';
}

}  // namespace

OverlaySnapshotter::OverlaySnapshotter(std::unique_ptr<Storage> storage)
    : StoredSnapshotter(std::move(storage), core::WhiteoutStyle::kOverlay),
      index_off_(index_on_by_default()) {}
OverlaySnapshotter::~OverlaySnapshotter() = default;

Result<std::unique_ptr<OverlaySnapshotter>> OverlaySnapshotter::open(const std::string& root) {
  auto storage = BERTH_VALUE(Storage::open(root));
  return std::unique_ptr<OverlaySnapshotter>(new OverlaySnapshotter(std::move(storage)));
}

Result<std::vector<core::Mount>> OverlaySnapshotter::mounts(std::string_view key) {
  Record r = BERTH_VALUE(storage().get(key));
  using K = core::SnapshotKind;
  if (r.info.kind == K::kCommitted)
    return core::invalid_argument("mounts of snapshot `" + r.info.key +
                                  "`: committed snapshots are not mounted");
  if (r.info.kind == K::kView) {
    if (r.parent_ids.empty()) return std::vector<core::Mount>{{"bind", fs(r.id), {"ro", "rbind"}}};
    if (r.parent_ids.size() == 1)
      return std::vector<core::Mount>{{"bind", fs(r.parent_ids[0]), {"ro", "rbind"}}};
  } else if (r.parent_ids.empty()) {
    return std::vector<core::Mount>{{"bind", fs(r.id), {"rw", "rbind"}}};
  }
  std::string lower = "lowerdir=";
  for (size_t i = 0; i < r.parent_ids.size(); ++i) lower += (i ? ":" : "") + fs(r.parent_ids[i]);
  std::vector<std::string> options;
  if (index_off_) options.push_back("index=off");
  if (r.info.kind == K::kView) {
    options.push_back("ro");
  } else {
    options.push_back("upperdir=" + fs(r.id));
    options.push_back("workdir=" + storage().dir(r.id) + "/work");
  }
  options.push_back(std::move(lower));
  return std::vector<core::Mount>{{"overlay", "overlay", std::move(options)}};
}

Status OverlaySnapshotter::populate(const std::string& staged, const Record*) {
  BERTH_TRY(sys::mkdir(staged + "/fs", 0755));
  return sys::mkdir(staged + "/work", 0700);
}

bool overlay_supported(const std::string& root) {
  if (!sys::mkdir_p(root, 0700)) return false;
  std::string tmpl = root + "/overlay-probe-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return false;
  ScopeGuard cleanup([&] { (void)sys::remove_all(tmpl); });
  for (const char* d : {"/lower", "/upper", "/work", "/merged"})
    if (!sys::mkdir(tmpl + d, 0700)) return false;
  core::Mount m{
      "overlay",
      "overlay",
      {"lowerdir=" + tmpl + "/lower", "upperdir=" + tmpl + "/upper", "workdir=" + tmpl + "/work"}};
  if (!mount_all({m}, tmpl + "/merged")) return false;
  return unmount_all(tmpl + "/merged").ok();
}

}  // namespace berth::snapshots
