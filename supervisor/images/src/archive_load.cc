// load: docker-archive (docker's legacy layout, skopeo/podman's with
// symlinked layers, docker 25's with an OCI layout inside), OCI archives
// and layouts as a tar, any compression libarchive detects. Every file of
// the archive streams into the content store as it is read (no temp copy
// of the archive); the documents are read back from there at the end.

#include <archive.h>
#include <archive_entry.h>

#include <map>
#include <set>

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "berth/core/reference.h"
#include "berth/json/json.h"
#include "internal.h"

namespace berth::images {
namespace {

struct ReadCtx {
  const ChunkReader* in;
  Status status;
};

la_ssize_t read_cb(struct archive*, void* p, const void** buf) {
  auto* ctx = static_cast<ReadCtx*>(p);
  auto chunk = (*ctx->in)();
  if (!chunk) {
    ctx->status = std::move(chunk).error();
    return -1;
  }
  *buf = chunk->data();
  return static_cast<la_ssize_t>(chunk->size());
}

// "./a/../b" → "b"; an entry escaping the archive's top is refused.
Result<std::string> clean_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    if (c == "..") {
      if (parts.empty())
        return core::invalid_argument("archive entry `" + std::string(path) +
                                      "` leaves the archive");
      parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.emplace_back(c);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

struct Blob {
  std::string digest;
  int64_t size = 0;
};

class ArchiveIndex {
 public:
  std::map<std::string, Blob> files;
  std::map<std::string, std::string> links;  // symlinks and hard links: path → target path

  Result<Blob> resolve(std::string path) const {
    for (int hops = 0; hops < 16; ++hops) {
      auto f = files.find(path);
      if (f != files.end()) return f->second;
      auto l = links.find(path);
      if (l == links.end()) return core::not_found("archive has no file `" + path + "`");
      path = l->second;
    }
    return core::invalid_argument("archive file `" + path + "`: too many levels of links");
  }
};

const json::Value* member(const json::Value& v, std::string_view key) {
  return v.is_object() ? v.get(key) : nullptr;
}

}  // namespace

Result<std::vector<std::string>> ImageService::load(std::string_view ns, const ChunkReader& in,
                                                    const ProgressSink& progress) {
  std::shared_lock gc(gc_mu_);
  auto lease = BERTH_VALUE(new_lease(ns, "load"));
  ScopeGuard drop_lease_guard([&] { drop_lease(ns, lease); });
  ArchiveIndex index;
  {
    struct archive* a = archive_read_new();
    ScopeGuard free_archive([&] { archive_read_free(a); });
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    ReadCtx ctx{&in, ok_status()};
    if (archive_read_open(a, &ctx, nullptr, read_cb, nullptr) != ARCHIVE_OK) {
      if (!ctx.status.ok()) return std::move(ctx.status).error();
      return core::invalid_argument(std::string("load: not a tar archive: ") +
                                    archive_error_string(a));
    }
    struct archive_entry* e = nullptr;
    for (;;) {
      int r = archive_read_next_header(a, &e);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        if (!ctx.status.ok()) return std::move(ctx.status).error();
        return core::invalid_argument(std::string("load: reading the archive: ") +
                                      archive_error_string(a));
      }
      auto path = BERTH_VALUE(clean_path(archive_entry_pathname(e)));
      if (const char* hard = archive_entry_hardlink(e)) {
        index.links[path] = BERTH_VALUE(clean_path(hard));
        continue;
      }
      auto type = archive_entry_filetype(e);
      if (type == AE_IFLNK) {
        std::string target = archive_entry_symlink(e);
        index.links[path] =
            BERTH_VALUE(clean_path(target[0] == '/' ? target : dir_of(path) + "/" + target));
        continue;
      }
      if (type != AE_IFREG) continue;
      core::Digester digester;
      auto writer = BERTH_VALUE(stores_.content.writer("load-" + random_hex(8), 0, {}));
      ScopeGuard abort_writer([&] { writer->abort(); });
      const void* buf;
      size_t len;
      la_int64_t off;
      for (;;) {
        int rr = archive_read_data_block(a, &buf, &len, &off);
        if (rr == ARCHIVE_EOF) break;
        if (rr != ARCHIVE_OK) {
          if (!ctx.status.ok()) return std::move(ctx.status).error();
          return core::invalid_argument("load: archive file `" + path +
                                        "`: " + archive_error_string(a));
        }
        std::string_view bytes(static_cast<const char*>(buf), len);
        digester.update(bytes);
        BERTH_TRY_CTX(writer->write(bytes), "load: archive file `" + path + "`");
      }
      Blob blob{digester.digest(), static_cast<int64_t>(digester.size())};
      BERTH_TRY_CTX(writer->commit(blob.size, blob.digest), "load: archive file `" + path + "`");
      abort_writer.dismiss();
      (void)stores_.leases.add_resource(ns, lease, {"content", blob.digest});
      // OCI layouts name blobs by digest: a file that is not what its name
      // says is a corrupt (or forged) archive.
      if (path.rfind("blobs/sha256/", 0) == 0 && "sha256:" + path.substr(13) != blob.digest)
        return core::data_loss("load: archive file `" + path +
                               "` does not match its digest (it is " + blob.digest + ")");
      index.files[path] = blob;
    }
  }
  auto read_json = [&](const std::string& path) -> Result<json::Value> {
    auto blob = BERTH_VALUE(index.resolve(path));
    auto text = BERTH_VALUE(stores_.content.read_blob(blob.digest, core::kMaxManifestSize));
    return json::parse(text, "archive file `" + path + "`");
  };

  struct Loaded {
    core::Descriptor target;
    std::vector<std::string> names;
  };
  std::vector<Loaded> images;
  std::map<std::string, std::vector<std::string>> tags_by_config;  // manifest.json's RepoTags
  if (index.files.count("manifest.json") || index.links.count("manifest.json")) {
    auto m = BERTH_VALUE(read_json("manifest.json"));
    if (!m.is_array()) return core::invalid_argument("load: manifest.json: expected an array");
    for (const auto& item : m.items()) {
      const auto* cfg = member(item, "Config");
      const auto* layers = member(item, "Layers");
      if (!cfg || !cfg->is_string() || !layers || !layers->is_array())
        return core::invalid_argument("load: manifest.json: an entry lacks Config or Layers");
      auto cfg_blob = BERTH_VALUE(index.resolve(BERTH_VALUE(clean_path(cfg->as_string()))));
      std::vector<std::string> names;
      if (const auto* tags = member(item, "RepoTags"); tags && tags->is_array())
        for (const auto& t : tags->items())
          if (t.is_string()) {
            auto ref = core::parse_reference(t.as_string());
            if (!ref)
              return core::invalid_argument("load: manifest.json: RepoTags `" + t.as_string() +
                                            "`: " + ref.error().message());
            names.push_back(ref->str());
          }
      tags_by_config[cfg_blob.digest] = names;
      if (index.files.count("index.json")) continue;  // the OCI index has the original manifests
      // Legacy docker-archive: a manifest is made from the files.
      json::Writer w;
      w.begin_object()
          .key("schemaVersion")
          .integer(2)
          .key("mediaType")
          .string(core::media::kOciManifest);
      w.key("config").begin_object().key("mediaType").string(core::media::kOciConfig);
      w.key("digest").string(cfg_blob.digest).key("size").integer(cfg_blob.size).end_object();
      w.key("layers").begin_array();
      for (const auto& l : layers->items()) {
        if (!l.is_string())
          return core::invalid_argument("load: manifest.json: Layers: expected strings");
        auto lb = BERTH_VALUE(index.resolve(BERTH_VALUE(clean_path(l.as_string()))));
        w.begin_object()
            .key("mediaType")
            .string(BERTH_VALUE(sniff_layer_media_type(stores_.content, lb.digest)));
        w.key("digest").string(lb.digest).key("size").integer(lb.size).end_object();
      }
      w.end_array().end_object();
      auto desc = BERTH_VALUE(store_blob(stores_.content, core::media::kOciManifest, w.str()));
      (void)stores_.leases.add_resource(ns, lease, {"content", desc.digest});
      images.push_back({desc, names});
    }
  }
  if (index.files.count("index.json")) {
    auto idx_blob = BERTH_VALUE(index.resolve("index.json"));
    auto text = BERTH_VALUE(stores_.content.read_blob(idx_blob.digest, core::kMaxManifestSize));
    auto idx =
        BERTH_VALUE(core::parse_index(text, core::media::kOciIndex, "archive file `index.json`"));
    for (const auto& d : idx.manifests) {
      Loaded l{d, {}};
      auto name = d.annotations.find("io.containerd.image.name");
      auto ref_name = d.annotations.find("org.opencontainers.image.ref.name");
      if (name != d.annotations.end()) {
        auto ref = core::parse_reference(name->second);
        if (ref) l.names.push_back(ref->str());
      } else if (ref_name != d.annotations.end()) {
        // A full reference, or just a tag (skopeo's oci-archive:x:tag).
        auto ref = core::parse_reference(ref_name->second);
        if (ref && ref_name->second.find_first_of("/:") != std::string::npos)
          l.names.push_back(ref->str());
      }
      l.target.annotations.clear();
      l.target.platform.reset();
      images.push_back(std::move(l));
    }
  }
  if (images.empty())
    return core::invalid_argument("load: the archive has neither manifest.json nor index.json");

  std::vector<std::string> loaded;
  for (auto& img : images) {
    core::Image probe;
    probe.target = img.target;
    auto v = view_of(probe);
    if (!v) return std::move(v).error().wrap("load");
    if (img.names.empty()) {
      auto tags = tags_by_config.find(v->config_desc.digest);
      if (tags != tags_by_config.end()) img.names = tags->second;
    }
    auto size = BERTH_VALUE(unpack_from_content(v->manifest, v->config, progress));
    if (img.names.empty()) img.names.push_back(std::string(kDanglingPrefix) + img.target.digest);
    for (const auto& n : img.names) {
      core::Image record;
      record.name = n;
      record.target = img.target;
      record.labels[std::string(kLabelUnpackedSize)] = std::to_string(size);
      record.created_at = record.updated_at = now_seconds();
      BERTH_TRY(put_record(ns, record));
      auto ref = core::parse_reference(n, false);
      bool named = ref && !is_dangling(n);
      std::string shown =
          named ? "Loaded image: " + ref->familiar() : "Loaded image ID: " + v->config_desc.digest;
      loaded.push_back(shown);
      if (progress) progress({{}, shown, 0, 0, {}});
    }
  }
  return loaded;
}

}  // namespace berth::images
