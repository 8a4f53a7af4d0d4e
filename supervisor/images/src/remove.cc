// tag, rmi, prune and garbage collection.

#include <algorithm>
#include <set>

#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "berth/core/reference.h"
#include "internal.h"

namespace berth::images {
namespace {

std::string familiar_or_raw(const std::string& name) {
  auto ref = core::parse_reference(name, false);
  return ref ? ref->familiar() : name;
}

}  // namespace

Status ImageService::tag(std::string_view ns, std::string_view source, std::string_view target) {
  auto v = BERTH_VALUE(find(ns, source));
  auto ref = core::parse_reference(target);
  if (!ref) return core::invalid_argument(ref.error().message());
  if (!ref->digest.empty())
    return core::invalid_argument("refusing to create a tag with a digest reference");
  core::Image record;
  record.name = ref->str();
  record.target = v.record.target;
  record.labels = v.record.labels;
  record.created_at = record.updated_at = now_seconds();
  return put_record(ns, std::move(record));
}

Result<RemoveReport> ImageService::remove(std::string_view ns, std::string_view text, bool force,
                                          bool) {
  auto v = BERTH_VALUE(find(ns, text));
  auto names = BERTH_VALUE(names_of(ns, v.config_desc.digest));
  RemoveReport report;
  std::shared_lock gc(gc_mu_);
  // By name: untag only, unless it is the image's last tag.
  auto ref = core::parse_reference(text);
  bool by_name = ref && std::find(names.begin(), names.end(), ref->str()) != names.end();
  std::vector<std::string> tagged;
  for (const auto& n : names)
    if (!is_dangling(n) && n.find('@') == std::string::npos) tagged.push_back(n);
  if (by_name && (tagged.size() > 1 || ref->str().find('@') != std::string::npos)) {
    BERTH_TRY(stores_.images.remove(ns, ref->str()));
    report.untagged.push_back(familiar_or_raw(ref->str()));
    return report;
  }
  if (!by_name && tagged.size() > 1 && !force)
    return core::in_use("conflict: unable to delete " +
                        std::string(core::digest_hex(v.config_desc.digest).substr(0, 12)) +
                        " (must be forced) - image is referenced in multiple repositories");
  for (const auto& n : names) {
    BERTH_TRY(stores_.images.remove(ns, n));
    if (!is_dangling(n)) report.untagged.push_back(familiar_or_raw(n));
    core::Event ev;
    ev.ns = std::string(ns);
    ev.topic = "/images/delete";
    ev.payload_json = "{\"name\":" + json_quote(n) + "}";
    stores_.events.publish(std::move(ev));
  }
  report.deleted.push_back(v.config_desc.digest);
  gc.unlock();
  (void)garbage_collect();
  return report;
}

Result<PruneReport> ImageService::prune(std::string_view ns, bool all,
                                        const std::vector<Filter>& filters) {
  std::vector<Filter> f = filters;
  if (!all) f.push_back({"dangling", "true"});
  auto views = BERTH_VALUE(list(ns, f, true));
  PruneReport report;
  std::set<std::string> done;
  for (const auto& v : views) {
    if (!done.insert(v.config_desc.digest).second) continue;
    auto r = remove(ns, v.config_desc.digest, true, false);
    if (!r) continue;
    for (auto& u : r->untagged) report.deleted.push_back("untagged: " + u);
    for (auto& d : r->deleted) report.deleted.push_back("deleted: " + d);
  }
  auto gc = BERTH_VALUE(garbage_collect());
  report.reclaimed = gc.reclaimed;
  return report;
}

Result<PruneReport> ImageService::garbage_collect() {
  std::unique_lock lock(gc_mu_);
  {
    std::lock_guard views(pulls_->views_mu);
    pulls_->views.clear();
  }
  std::set<std::string> content_keep, snapshot_keep;
  auto mark_manifest = [&](const std::string& digest, const std::string& media_type) {
    content_keep.insert(digest);
    auto text = stores_.content.read_blob(digest, core::kMaxManifestSize);
    if (!text) return;
    auto m = core::parse_manifest(*text, media_type, "manifest " + digest);
    if (!m) return;
    content_keep.insert(m->config.digest);
    for (const auto& l : m->layers) content_keep.insert(l.digest);
    auto cfg = stores_.content.read_blob(m->config.digest, core::kMaxConfigSize);
    if (!cfg) return;
    auto c = core::parse_config(*cfg, "config");
    if (!c) return;
    for (const auto& id : core::chain_ids(c->diff_ids)) snapshot_keep.insert(id);
  };
  auto namespaces = BERTH_VALUE(stores_.images.namespaces());
  for (const auto& ns : namespaces) {
    auto records = BERTH_VALUE(stores_.images.list(ns));
    for (const auto& r : records) {
      auto kind = core::kind_of(r.target.media_type);
      if (kind == core::DocumentKind::kManifest) {
        mark_manifest(r.target.digest, r.target.media_type);
      } else if (kind == core::DocumentKind::kIndex) {
        content_keep.insert(r.target.digest);
        auto text = stores_.content.read_blob(r.target.digest, core::kMaxManifestSize);
        if (!text) continue;
        auto index = core::parse_index(*text, r.target.media_type, "index " + r.target.digest);
        if (!index) continue;
        for (const auto& m : index->manifests)
          if (stores_.content.info(m.digest)) mark_manifest(m.digest, m.media_type);
      }
    }
    auto leases = stores_.leases.list(ns);
    if (!leases) continue;
    for (const auto& l : *leases)
      for (const auto& res : l.resources)
        (res.type == "content" ? content_keep : snapshot_keep).insert(res.id);
  }
  PruneReport report;
  auto blobs = BERTH_VALUE(stores_.content.list());
  for (const auto& b : blobs) {
    if (content_keep.count(b.digest)) continue;
    if (stores_.content.remove(b.digest)) report.reclaimed += b.size;
  }
  // Snapshots: unreferenced committed layers, leaves first (a parent with
  // children cannot go), and extraction leftovers of a killed unpack.
  for (bool removed = true; removed;) {
    removed = false;
    auto snaps = BERTH_VALUE(stores_.snapshotter.list());
    std::set<std::string> parents;
    for (const auto& s : snaps)
      if (!s.parent.empty()) parents.insert(s.parent);
    for (const auto& s : snaps) {
      if (parents.count(s.key) || snapshot_keep.count(s.key)) continue;
      bool leftover = s.kind != core::SnapshotKind::kCommitted && s.key.rfind("extract-", 0) == 0;
      if (s.kind != core::SnapshotKind::kCommitted && !leftover) continue;
      auto usage = stores_.snapshotter.usage(s.key);
      if (stores_.snapshotter.remove(s.key)) {
        removed = true;
        if (usage) report.reclaimed += usage->size;
        report.deleted.push_back("deleted: " + s.key);
      }
    }
  }
  return report;
}

Result<ImageService::DiskUsage> ImageService::disk_usage(std::string_view ns) {
  auto views = BERTH_VALUE(list(ns, {}, true));
  DiskUsage du;
  std::set<std::string> ids;
  for (const auto& v : views) {
    if (!ids.insert(v.config_desc.digest).second) continue;
    ++du.images;
    du.size += v.size;
    if (is_dangling(v.record.name)) du.reclaimable += v.size;
  }
  du.reclaimable = du.size;  // no container uses an image yet (containers come with part 2)
  return du;
}

Status ImageService::put_record(std::string_view ns, core::Image record) {
  auto previous = BERTH_VALUE(stores_.images.put(ns, record));
  core::Event ev;
  ev.ns = std::string(ns);
  ev.topic = previous ? "/images/update" : "/images/create";
  ev.payload_json = "{\"name\":" + json_quote(record.name) + "}";
  stores_.events.publish(std::move(ev));
  // A named image is no longer dangling.
  if (!is_dangling(record.name))
    (void)stores_.images.remove(ns, std::string(kDanglingPrefix) + record.target.digest);
  // The image the name pointed at before keeps a dangling record when no
  // other name points at it (docker shows it as <none>:<none>).
  if (previous && previous->digest != record.target.digest && !is_dangling(record.name)) {
    auto records = BERTH_VALUE(stores_.images.list(ns));
    bool named = std::any_of(records.begin(), records.end(), [&](const core::Image& r) {
      return r.target.digest == previous->digest;
    });
    if (!named) {
      core::Image dangling;
      dangling.name = std::string(kDanglingPrefix) + previous->digest;
      dangling.target = *previous;
      dangling.created_at = dangling.updated_at = now_seconds();
      (void)stores_.images.put(ns, dangling);
    }
  }
  return ok_status();
}

}  // namespace berth::images
