// push: blobs first (HEAD, then a cross-repository mount from another
// repository of the same registry this image came from or was pushed to,
// then an upload), then the manifest, then, for an index, the index.

#include <unistd.h>

#include "berth/base/sys.h"
#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "berth/core/reference.h"
#include "internal.h"

namespace berth::images {
Status ImageService::push(std::string_view ns, std::string_view text, bool all_tags,
                          const std::optional<core::Credentials>& credentials,
                          const ProgressSink& progress, const std::atomic<bool>& cancel) {
  auto ref = core::parse_reference(text, !all_tags);
  if (!ref) return core::invalid_argument(ref.error().message());
  std::vector<core::Image> records;
  auto all = BERTH_VALUE(stores_.images.list(ns));
  for (const auto& r : all) {
    auto rr = core::parse_reference(r.name, false);
    if (!rr || rr->name() != ref->name() || rr->tag.empty()) continue;
    if (all_tags || r.name == ref->str()) records.push_back(r);
  }
  if (records.empty()) {
    if (all_tags)
      return core::not_found("An image does not exist locally with the tag: " +
                             ref->familiar_name());
    return core::not_found("An image does not exist locally with the tag: " + ref->familiar());
  }
  // Repositories on the same registry that hold these blobs already.
  std::vector<core::Reference> siblings;
  for (const auto& r : all) {
    auto rr = core::parse_reference(r.name, false);
    if (rr && rr->domain == ref->domain && rr->path != ref->path) siblings.push_back(*rr);
  }
  auto registry = registries_(credentials);
  std::shared_lock gc(gc_mu_);
  if (progress) progress({{}, "The push refers to repository [" + ref->name() + "]", 0, 0, {}});
  auto push_blob = [&](const core::Descriptor& d) -> Status {
    std::string id = short_id(d.digest);
    if (cancel.load()) return core::canceled("push canceled");
    if (BERTH_VALUE(registry->blob_exists(*ref, d))) {
      if (progress) progress({id, "Layer already exists", 0, 0, {}});
      return ok_status();
    }
    for (const auto& s : siblings) {
      auto mounted = registry->mount_blob(*ref, d, s);
      if (mounted && *mounted) {
        if (progress) progress({id, "Mounted from " + s.familiar_name(), 0, 0, {}});
        return ok_status();
      }
    }
    if (progress) progress({id, "Preparing", 0, 0, {}});
    auto fd = BERTH_VALUE(stores_.content.open_blob(d.digest));
    std::string buf;
    BERTH_TRY_CTX(registry->push_blob(
                      *ref, d,
                      [&](int64_t offset, size_t max) -> Result<std::string_view> {
                        if (cancel.load()) return core::canceled("push canceled");
                        buf.resize(max);
                        ssize_t n;
                        do n = sys::pread(fd.get(), buf.data(), max, offset);
                        while (n < 0 && errno == EINTR);
                        if (n < 0) return sys_error("read blob", d.digest);
                        return std::string_view(buf.data(), static_cast<size_t>(n));
                      },
                      [&](int64_t sent) {
                        if (progress) progress({id, "Pushing", sent, d.size, {}});
                      }),
                  "blob " + d.digest);
    if (progress) progress({id, "Pushed", 0, 0, {}});
    return ok_status();
  };
  auto push_manifest = [&](const core::Descriptor& d, std::string_view tag) -> Status {
    auto body = BERTH_VALUE(stores_.content.read_blob(d.digest, core::kMaxManifestSize));
    auto m = BERTH_VALUE(core::parse_manifest(body, d.media_type, "manifest " + d.digest));
    for (const auto& l : m.layers) BERTH_TRY(push_blob(l));
    BERTH_TRY(push_blob(m.config));
    return registry->push_manifest(*ref, tag, d.media_type, body);
  };
  for (const auto& r : records) {
    auto rr = BERTH_VALUE(core::parse_reference(r.name, false));
    if (core::kind_of(r.target.media_type) == core::DocumentKind::kIndex) {
      auto body = BERTH_VALUE(stores_.content.read_blob(r.target.digest, core::kMaxManifestSize));
      auto index =
          BERTH_VALUE(core::parse_index(body, r.target.media_type, "index " + r.target.digest));
      for (const auto& m : index.manifests) {
        // Only the platforms that were pulled are here; a registry refuses
        // an index whose children it lacks, which is the right error.
        if (!stores_.content.info(m.digest)) continue;
        BERTH_TRY(push_manifest(m, {}));
      }
      BERTH_TRY(registry->push_manifest(*ref, rr.tag, r.target.media_type, body));
    } else {
      BERTH_TRY(push_manifest(r.target, rr.tag));
    }
    if (progress)
      progress({{},
                rr.tag + ": digest: " + r.target.digest + " size: " + std::to_string(r.target.size),
                0,
                0,
                rr.str()});
  }
  return ok_status();
}

}  // namespace berth::images
