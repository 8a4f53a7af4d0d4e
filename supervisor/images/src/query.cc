// list, inspect and history in docker's shapes.

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "berth/core/reference.h"
#include "berth/json/json.h"
#include "internal.h"

namespace berth::images {
namespace {

// "docker.io/library/busybox:latest" → tag part and familiar forms.
struct NameParts {
  std::string familiar;       // busybox:latest, or busybox@sha256:… for digest records
  std::string familiar_repo;  // busybox
  bool tagged = false;
};

std::optional<NameParts> name_parts(const std::string& name) {
  if (is_dangling(name)) return std::nullopt;
  auto ref = core::parse_reference(name, false);
  if (!ref) return std::nullopt;
  NameParts p;
  p.familiar = ref->familiar();
  p.familiar_repo = ref->familiar_name();
  p.tagged = !ref->tag.empty();
  return p;
}

bool matches_reference(const std::string& pattern, const ImageView& v) {
  auto parts = name_parts(v.record.name);
  if (!parts) return false;
  // docker matches the pattern against the familiar name with and without the tag.
  return fnmatch(pattern.c_str(), parts->familiar.c_str(), 0) == 0 ||
         fnmatch(pattern.c_str(), parts->familiar_repo.c_str(), 0) == 0;
}

bool matches_label(const std::string& want, const ImageView& v) {
  auto eq = want.find('=');
  std::string key = want.substr(0, eq);
  auto it = v.config.labels.find(key);
  if (it == v.config.labels.end()) return false;
  return eq == std::string::npos || it->second == want.substr(eq + 1);
}

}  // namespace

Result<std::vector<ImageView>> ImageService::list(std::string_view ns,
                                                  const std::vector<Filter>& filters, bool) {
  auto records = BERTH_VALUE(stores_.images.list(ns));
  std::vector<ImageView> views;
  for (const auto& r : records) {
    auto v = view_of(r);
    if (v)
      views.push_back(std::move(*v));  // a record whose content is gone is skipped, not an error
  }
  std::optional<int64_t> before, since;
  for (const auto& f : filters) {
    if (f.key == "before" || f.key == "since") {
      auto ref = find(ns, f.value);
      if (!ref)
        return core::invalid_argument("Error response from daemon: No such image: " + f.value);
      (f.key == "before" ? before : since) = parse_time(ref->config.created);
    } else if (f.key != "dangling" && f.key != "reference" && f.key != "label") {
      return core::invalid_argument("invalid filter '" + f.key + "'");
    } else if (f.key == "dangling" && f.value != "true" && f.value != "false" && f.value != "1" &&
               f.value != "0") {
      return core::invalid_argument("invalid filter 'dangling=" + f.value + "'");
    }
  }
  std::vector<ImageView> out;
  for (auto& v : views) {
    bool dangling = is_dangling(v.record.name);
    bool keep = true;
    std::vector<bool> ref_matches;
    for (const auto& f : filters) {
      if (f.key == "dangling") keep = keep && ((f.value == "true" || f.value == "1") == dangling);
      if (f.key == "label") keep = keep && matches_label(f.value, v);
    }
    bool any_ref_filter = false, ref_ok = false;
    for (const auto& f : filters) {
      if (f.key != "reference") continue;
      any_ref_filter = true;
      ref_ok = ref_ok || matches_reference(f.value, v);
    }
    if (any_ref_filter && !ref_ok) keep = false;
    int64_t created = parse_time(v.config.created);
    if (before && created >= *before) keep = false;
    if (since && created <= *since) keep = false;
    if (keep) out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<ImageService::HistoryItem>> ImageService::history(std::string_view ns,
                                                                     std::string_view text) {
  auto v = BERTH_VALUE(find(ns, text));
  auto chains = core::chain_ids(v.config.diff_ids);
  std::vector<HistoryItem> items;
  size_t layer = 0;
  for (const auto& h : v.config.history) {
    HistoryItem item;
    item.id = "<missing>";
    item.created = parse_time(h.created);
    item.created_by = h.created_by;
    item.comment = h.comment;
    if (!h.empty_layer && layer < v.manifest.layers.size()) {
      auto usage = layer < chains.size() ? stores_.snapshotter.usage(chains[layer])
                                         : Result<core::SnapshotUsage>(core::not_found(""));
      item.size = usage ? usage->size : v.manifest.layers[layer].size;
      ++layer;
    }
    items.push_back(std::move(item));
  }
  if (items.empty()) {
    HistoryItem item;
    item.created = parse_time(v.config.created);
    items.push_back(item);
  }
  std::reverse(items.begin(), items.end());
  items.front().id = v.config_desc.digest;
  auto names = BERTH_VALUE(names_of(ns, v.config_desc.digest));
  for (const auto& n : names) {
    auto p = name_parts(n);
    if (p && p->tagged) items.front().tags.push_back(p->familiar);
  }
  return items;
}

Result<std::string> ImageService::inspect_json(std::string_view ns, const ImageView& v) {
  auto names = BERTH_VALUE(names_of(ns, v.config_desc.digest));
  std::set<std::string> tags, digests;
  for (const auto& n : names) {
    auto p = name_parts(n);
    if (!p) continue;
    if (p->tagged) tags.insert(p->familiar);
    auto rec = stores_.images.get(ns, n);
    if (rec) digests.insert(p->familiar_repo + "@" + rec->target.digest);
  }
  auto raw = BERTH_VALUE(json::parse(v.config_raw, "config " + v.config_desc.digest));
  const json::Value* cfg = raw.get("config");
  json::Writer w;
  w.begin_object();
  w.key("Id").string(v.config_desc.digest);
  w.key("RepoTags").begin_array();
  for (const auto& t : tags) w.string(t);
  w.end_array();
  w.key("RepoDigests").begin_array();
  for (const auto& d : digests) w.string(d);
  w.end_array();
  w.key("Parent").string("");
  w.key("Comment").string(v.config.history.empty() ? "" : v.config.history.back().comment);
  w.key("Created").string(v.config.created);
  w.key("DockerVersion").string("");
  w.key("Author").string(v.config.author);
  // docker's container-config keys, in its order; absent ones get its zero values.
  static const std::pair<const char*, const char*> kConfigKeys[] = {
      {"Hostname", "\"\""},      {"Domainname", "\"\""},    {"User", "\"\""},
      {"AttachStdin", "false"},  {"AttachStdout", "false"}, {"AttachStderr", "false"},
      {"ExposedPorts", nullptr}, {"Tty", "false"},          {"OpenStdin", "false"},
      {"StdinOnce", "false"},    {"Env", "null"},           {"Cmd", "null"},
      {"Healthcheck", nullptr},  {"ArgsEscaped", nullptr},  {"Image", "\"\""},
      {"Volumes", "null"},       {"WorkingDir", "\"\""},    {"Entrypoint", "null"},
      {"OnBuild", "null"},       {"Labels", "null"},        {"StopSignal", nullptr},
      {"Shell", nullptr}};
  w.key("Config").begin_object();
  for (const auto& [key, zero] : kConfigKeys) {
    const json::Value* val = (cfg && cfg->is_object()) ? cfg->get(key) : nullptr;
    if (val) {
      w.key(key).value(*val);
    } else if (zero) {
      w.key(key).value(*json::parse(zero, "zero"));
    }
  }
  w.end_object();
  w.key("Architecture").string(v.config.architecture);
  if (!v.config.variant.empty()) w.key("Variant").string(v.config.variant);
  w.key("Os").string(v.config.os);
  w.key("Size").integer(v.size);
  w.key("VirtualSize").integer(v.size);
  w.key("GraphDriver").begin_object();
  w.key("Data").null();
  w.key("Name").string(std::string(stores_.snapshotter.name()));
  w.end_object();
  w.key("RootFS").begin_object();
  w.key("Type").string("layers");
  w.key("Layers").begin_array();
  for (const auto& d : v.config.diff_ids) w.string(d);
  w.end_array();
  w.end_object();
  w.key("Metadata").begin_object();
  w.key("LastTagTime").string("0001-01-01T00:00:00Z");
  w.end_object();
  w.key("Descriptor").begin_object();
  w.key("mediaType").string(v.record.target.media_type);
  w.key("digest").string(v.record.target.digest);
  w.key("size").integer(v.record.target.size);
  w.end_object();
  w.end_object();
  if (!w.ok()) return make_error("inspect " + v.record.name + ": could not encode the image");
  return w.str();
}

}  // namespace berth::images
