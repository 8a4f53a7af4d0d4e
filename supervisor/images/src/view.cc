// Reading images back from their records: the platform manifest, the
// config, and docker's way of resolving user text (see service.h).

#include <algorithm>

#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "berth/core/reference.h"
#include "berth/images/service.h"
#include "internal.h"

namespace berth::images {

ImageService::ImageService(Stores stores, RegistryFactory registries, Options options)
    : stores_(stores),
      registries_(std::move(registries)),
      options_(std::move(options)),
      pulls_(std::make_unique<PullState>()) {}
ImageService::~ImageService() = default;

Result<core::Descriptor> select_manifest(core::ContentStore& content,
                                         const core::Descriptor& target,
                                         const core::Platform& platform) {
  auto kind = core::kind_of(target.media_type);
  if (kind == core::DocumentKind::kManifest) return target;
  if (kind != core::DocumentKind::kIndex)
    return core::unsupported("image target " + target.digest + ": unsupported media type " +
                             target.media_type);
  auto text = BERTH_VALUE(content.read_blob(target.digest, core::kMaxManifestSize));
  auto index = BERTH_VALUE(core::parse_index(text, target.media_type, "index " + target.digest));
  for (const auto& m : index.manifests) {
    if (core::kind_of(m.media_type) != core::DocumentKind::kManifest) continue;
    if (m.platform && !core::platform_matches(platform, *m.platform)) continue;
    // Attestation manifests (buildkit's "unknown/unknown") never match a
    // real platform, so they fall out above.
    return m;
  }
  return core::not_found("no matching manifest for " + platform.str() +
                         " in the manifest list entries");
}

namespace {

void set_size(ImageView& v) {
  v.size = 0;
  auto it = v.record.labels.find(std::string(kLabelUnpackedSize));
  if (it != v.record.labels.end()) {
    v.size = std::strtoll(it->second.c_str(), nullptr, 10);
  } else {
    for (const auto& l : v.manifest.layers) v.size += l.size;
  }
}

}  // namespace

Result<ImageView> ImageService::view_of(const core::Image& record) {
  {
    std::lock_guard lock(pulls_->views_mu);
    auto it = pulls_->views.find(record.target.digest);
    if (it != pulls_->views.end()) {
      ImageView v = *it->second;
      v.record = record;
      set_size(v);
      return v;
    }
  }
  ImageView v;
  v.record = record;
  v.manifest_desc = BERTH_VALUE(select_manifest(stores_.content, record.target, options_.platform));
  auto text =
      BERTH_VALUE(stores_.content.read_blob(v.manifest_desc.digest, core::kMaxManifestSize));
  v.manifest = BERTH_VALUE(
      core::parse_manifest(text, v.manifest_desc.media_type, "manifest " + v.manifest_desc.digest));
  v.config_desc = v.manifest.config;
  v.config_raw = BERTH_VALUE(stores_.content.read_blob(v.config_desc.digest, core::kMaxConfigSize));
  v.config = BERTH_VALUE(core::parse_config(v.config_raw, "config " + v.config_desc.digest));
  set_size(v);
  std::lock_guard lock(pulls_->views_mu);
  if (pulls_->views.size() >= 4096) pulls_->views.clear();
  pulls_->views[record.target.digest] = std::make_shared<const ImageView>(v);
  return v;
}

Result<std::vector<std::string>> ImageService::names_of(std::string_view ns,
                                                        const std::string& image_id) {
  std::vector<std::string> out;
  auto records = BERTH_VALUE(stores_.images.list(ns));
  for (const auto& r : records) {
    auto v = view_of(r);
    if (v && v->config_desc.digest == image_id) out.push_back(r.name);
  }
  return out;
}

Result<ImageView> ImageService::find(std::string_view ns, std::string_view text) {
  if (text.empty())
    return core::invalid_argument(
        "invalid reference format: repository name must have at least one component");
  // A reference first (docker's order), unless the text is a full ID
  // (docker refuses 64 hex digits as a repository name).
  bool looks_like_id = text.find_first_not_of("0123456789abcdef") == std::string_view::npos ||
                       (text.substr(0, 7) == "sha256:" && text.find('/') == std::string_view::npos);
  if (!core::is_full_image_id(text)) {
    auto ref = core::parse_reference(text);
    if (ref) {
      auto record = stores_.images.get(ns, ref->str());
      if (record) return view_of(*record);
      if (!core::is_not_found(record.error())) return std::move(record).error();
    } else if (!looks_like_id) {
      return core::invalid_argument(ref.error().message());
    }
  }
  if (looks_like_id) {
    std::string prefix(text.substr(0, 7) == "sha256:" ? text.substr(7) : text);
    auto records = BERTH_VALUE(stores_.images.list(ns));
    std::optional<ImageView> found;
    for (const auto& r : records) {
      auto v = view_of(r);
      if (!v) continue;
      if (core::digest_hex(v->config_desc.digest).substr(0, prefix.size()) != prefix) continue;
      if (found && found->config_desc.digest != v->config_desc.digest)
        return core::invalid_argument("multiple IDs found with provided prefix: " + prefix);
      if (!found) found = std::move(*v);
    }
    if (found) return std::move(*found);
  }
  return core::not_found("No such image: " + std::string(text));
}

Result<std::string> ImageService::new_lease(std::string_view ns, std::string_view why) {
  std::string id = std::string(why) + "-" + random_hex(8);
  // A lease of a killed daemon expires after a day; the GC then collects
  // what the interrupted operation left.
  BERTH_TRY(stores_.leases.create(ns, id, {}, now_seconds() + 24 * 3600));
  return id;
}

void ImageService::drop_lease(std::string_view ns, const std::string& id) {
  (void)stores_.leases.remove(ns, id);
}

}  // namespace berth::images
