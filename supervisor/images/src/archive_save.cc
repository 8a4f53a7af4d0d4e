// save: one tar that every peer reads, docker 25's layout:
//   oci-layout, index.json, blobs/sha256/<hex>   an OCI image layout (umoci,
//                                                skopeo oci-archive:, podman)
//   manifest.json, repositories                  docker-archive (docker load,
//                                                podman/skopeo docker-archive:)
// manifest.json's Config and Layers name files inside blobs/, so no byte
// is stored twice. Streamed to the client as it is written.

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

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

struct WriteCtx {
  const ChunkWriter* out;
  Status status;
};

la_ssize_t write_cb(struct archive*, void* p, const void* buf, size_t len) {
  auto* ctx = static_cast<WriteCtx*>(p);
  auto st = (*ctx->out)(std::string_view(static_cast<const char*>(buf), len));
  if (!st.ok()) {
    ctx->status = std::move(st);
    return -1;
  }
  return static_cast<la_ssize_t>(len);
}

class TarOut {
 public:
  explicit TarOut(const ChunkWriter& out) : ctx_{&out, ok_status()} {
    a_ = archive_write_new();
    archive_write_set_format_pax_restricted(a_);
    archive_write_set_bytes_per_block(a_, 0);  // no padding to 10 KiB blocks: a stream
    archive_write_open(a_, &ctx_, nullptr, write_cb, nullptr);
  }
  ~TarOut() { archive_write_free(a_); }

  Status add_dir(const std::string& path) { return header(path, AE_IFDIR, 0755, 0); }
  Status add_bytes(const std::string& path, std::string_view bytes) {
    BERTH_TRY(header(path, AE_IFREG, 0644, static_cast<int64_t>(bytes.size())));
    return data(bytes);
  }
  Status add_fd(const std::string& path, int fd, int64_t size) {
    BERTH_TRY(header(path, AE_IFREG, 0644, size));
    std::string buf(1 << 20, '\0');
    int64_t left = size;
    while (left > 0) {
      ssize_t n =
          sys::read(fd, buf.data(), static_cast<size_t>(std::min<int64_t>(left, buf.size())));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return make_error("save: blob `" + path + "` is shorter than its size", EIO);
      BERTH_TRY(data(std::string_view(buf.data(), static_cast<size_t>(n))));
      left -= n;
    }
    return ok_status();
  }
  Status close() {
    if (archive_write_close(a_) != ARCHIVE_OK) return failure();
    return ok_status();
  }

 private:
  Status header(const std::string& path, unsigned type, int mode, int64_t size) {
    struct archive_entry* e = archive_entry_new();
    ScopeGuard free_entry([&] { archive_entry_free(e); });
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, size);
    archive_entry_set_mtime(e, 0, 0);
    if (archive_write_header(a_, e) != ARCHIVE_OK) return failure();
    return ok_status();
  }
  Status data(std::string_view bytes) {
    if (archive_write_data(a_, bytes.data(), bytes.size()) < 0) return failure();
    return ok_status();
  }
  Status failure() {
    if (!ctx_.status.ok()) return ctx_.status;
    return make_error(std::string("save: ") + archive_error_string(a_), EIO);
  }
  WriteCtx ctx_;
  struct archive* a_;
};

}  // namespace

Status ImageService::save(std::string_view ns, const std::vector<std::string>& refs,
                          const ChunkWriter& out) {
  if (refs.empty()) return core::invalid_argument("save: no image named");
  struct Entry {
    ImageView view;
    std::vector<std::string> tags;  // fully qualified names with a tag
  };
  std::vector<Entry> entries;
  std::map<std::string, size_t> by_id;
  for (const auto& text : refs) {
    auto v = BERTH_VALUE(find(ns, text));
    auto ref = core::parse_reference(text);
    std::string tag;
    if (ref && ref->digest.empty() && v.record.name == ref->str()) tag = ref->str();
    auto it = by_id.find(v.config_desc.digest);
    if (it == by_id.end()) {
      by_id[v.config_desc.digest] = entries.size();
      entries.push_back({std::move(v), {}});
      it = by_id.find(entries.back().view.config_desc.digest);
    }
    if (!tag.empty())
      entries[it->second].tags.push_back(tag);
    else if (!ref || !ref->digest.empty() || v.record.name != ref->str()) {
      // Saved by ID: docker keeps every tag of the image.
      auto names = BERTH_VALUE(names_of(ns, entries[it->second].view.config_desc.digest));
      for (const auto& n : names)
        if (n.find('@') == std::string::npos && !is_dangling(n))
          entries[it->second].tags.push_back(n);
    }
  }
  std::shared_lock gc(gc_mu_);
  TarOut tar(out);
  BERTH_TRY(tar.add_dir("blobs"));
  BERTH_TRY(tar.add_dir("blobs/sha256"));
  std::set<std::string> written;
  auto put_blob = [&](const std::string& digest) -> Status {
    if (!written.insert(digest).second) return ok_status();
    auto info = BERTH_VALUE(stores_.content.info(digest));
    auto fd = BERTH_VALUE(stores_.content.open_blob(digest));
    return tar.add_fd("blobs/sha256/" + std::string(core::digest_hex(digest)), fd.get(), info.size);
  };
  json::Writer index;
  index.begin_object()
      .key("schemaVersion")
      .integer(2)
      .key("mediaType")
      .string(core::media::kOciIndex);
  index.key("manifests").begin_array();
  json::Writer manifest_json;
  manifest_json.begin_array();
  std::map<std::string, std::map<std::string, std::string>> repositories;
  for (auto& e : entries) {
    const auto& v = e.view;
    // The platform manifest, so docker-archive readers and the OCI index
    // agree on one image per entry.
    BERTH_TRY(put_blob(v.config_desc.digest));
    for (const auto& l : v.manifest.layers) BERTH_TRY(put_blob(l.digest));
    BERTH_TRY(put_blob(v.manifest_desc.digest));
    std::vector<std::string> names = e.tags;
    if (names.empty()) names.push_back({});
    for (const auto& n : names) {
      index.begin_object().key("mediaType").string(v.manifest_desc.media_type);
      index.key("digest").string(v.manifest_desc.digest).key("size").integer(v.manifest_desc.size);
      if (!n.empty()) {
        auto ref = core::parse_reference(n);
        index.key("annotations").begin_object();
        index.key("io.containerd.image.name").string(n);
        if (ref) index.key("org.opencontainers.image.ref.name").string(ref->tag);
        index.end_object();
        if (ref)
          repositories[ref->familiar_name()][ref->tag] =
              std::string(core::digest_hex(v.config_desc.digest));
      }
      index.end_object();
    }
    manifest_json.begin_object();
    manifest_json.key("Config").string("blobs/sha256/" +
                                       std::string(core::digest_hex(v.config_desc.digest)));
    manifest_json.key("RepoTags").begin_array();
    for (const auto& n : e.tags) {
      auto ref = core::parse_reference(n);
      manifest_json.string(ref ? ref->familiar() : n);
    }
    manifest_json.end_array();
    manifest_json.key("Layers").begin_array();
    for (const auto& l : v.manifest.layers)
      manifest_json.string("blobs/sha256/" + std::string(core::digest_hex(l.digest)));
    manifest_json.end_array();
    manifest_json.end_object();
  }
  index.end_array().end_object();
  manifest_json.end_array();
  json::Writer repos;
  repos.begin_object();
  for (const auto& [repo, tags] : repositories) {
    repos.key(repo).begin_object();
    for (const auto& [tag, id] : tags) repos.key(tag).string(id);
    repos.end_object();
  }
  repos.end_object();
  BERTH_TRY(tar.add_bytes("index.json", index.str()));
  BERTH_TRY(tar.add_bytes("manifest.json", manifest_json.str()));
  BERTH_TRY(tar.add_bytes("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"));
  if (!repositories.empty()) BERTH_TRY(tar.add_bytes("repositories", repos.str()));
  return tar.close();
}

}  // namespace berth::images
