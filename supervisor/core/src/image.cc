// Parsing of image documents (see image.h). Every error reads
// "<source>: <field path>: <what>".

#include "berth/core/image.h"

#include "berth/core/reference.h"

namespace berth::core {
namespace {

using json::Value;

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  Error error(std::string_view path, std::string_view what) const {
    return make_error(source_ + ": " + std::string(path) + ": " + std::string(what));
  }

  Result<std::string> string(const Value& obj, std::string_view path, std::string_view key,
                             bool required) const {
    const Value* v = obj.get(key);
    if (!v || v->is_null()) {
      if (required) return error(join(path, key), "missing");
      return std::string();
    }
    if (!v->is_string()) return error(join(path, key), "expected a string");
    return v->as_string();
  }

  Result<std::vector<std::string>> strings(const Value& obj, std::string_view path,
                                           std::string_view key) const {
    std::vector<std::string> out;
    const Value* v = obj.get(key);
    if (!v || v->is_null()) return out;
    if (!v->is_array()) return error(join(path, key), "expected an array of strings");
    for (size_t i = 0; i < v->items().size(); ++i) {
      const Value& item = v->items()[i];
      if (!item.is_string())
        return error(std::string(join(path, key)) + "[" + std::to_string(i) + "]",
                     "expected a string");
      out.push_back(item.as_string());
    }
    return out;
  }

  Result<std::map<std::string, std::string>> string_map(const Value& obj, std::string_view path,
                                                        std::string_view key) const {
    std::map<std::string, std::string> out;
    const Value* v = obj.get(key);
    if (!v || v->is_null()) return out;
    if (!v->is_object()) return error(join(path, key), "expected an object of strings");
    for (const auto& [k, item] : v->members()) {
      if (!item.is_string()) return error(join(join(path, key), k), "expected a string");
      out[k] = item.as_string();
    }
    return out;
  }

  // An object used as a set ({"80/tcp": {}}): its keys.
  Result<std::vector<std::string>> key_set(const Value& obj, std::string_view path,
                                           std::string_view key) const {
    std::vector<std::string> out;
    const Value* v = obj.get(key);
    if (!v || v->is_null()) return out;
    if (!v->is_object()) return error(join(path, key), "expected an object");
    for (const auto& [k, _] : v->members()) out.push_back(k);
    return out;
  }

  Result<Descriptor> descriptor(const Value& v, std::string_view path) const {
    if (!v.is_object()) return error(path, "expected an object");
    Descriptor d;
    d.media_type = BERTH_VALUE(string(v, path, "mediaType", true));
    d.digest = BERTH_VALUE(string(v, path, "digest", true));
    if (!is_digest(d.digest))
      return error(join(path, "digest"), "not a valid digest: `" + d.digest + "`");
    const Value* size = v.get("size");
    if (!size) return error(join(path, "size"), "missing");
    if (!size->as_i64() || *size->as_i64() < 0)
      return error(join(path, "size"), "expected a non-negative integer");
    d.size = *size->as_i64();
    d.urls = BERTH_VALUE(strings(v, path, "urls"));
    d.annotations = BERTH_VALUE(string_map(v, path, "annotations"));
    if (const Value* p = v.get("platform"); p && !p->is_null()) {
      std::string ppath = join(path, "platform");
      if (!p->is_object()) return error(ppath, "expected an object");
      Platform plat;
      plat.os = BERTH_VALUE(string(*p, ppath, "os", true));
      plat.architecture = BERTH_VALUE(string(*p, ppath, "architecture", true));
      plat.variant = BERTH_VALUE(string(*p, ppath, "variant", false));
      d.platform = normalize(plat);
    }
    return d;
  }

  Status schema_version(const Value& doc) const {
    const Value* v = doc.get("schemaVersion");
    if (!v) return error("schemaVersion", "missing");
    if (!v->as_i64()) return error("schemaVersion", "expected an integer");
    if (*v->as_i64() == 1)
      return error("schemaVersion",
                   "Docker image manifest schema 1 is not supported (deprecated and unsigned "
                   "content cannot be verified); push the image again with a current client");
    if (*v->as_i64() != 2)
      return error("schemaVersion", "unsupported version " + std::to_string(*v->as_i64()));
    return {};
  }

  static std::string join(std::string_view path, std::string_view key) {
    if (path.empty()) return std::string(key);
    return std::string(path) + "." + std::string(key);
  }

 private:
  std::string source_;
};

Result<Value> parse_document(std::string_view text, std::string_view source, size_t limit) {
  if (text.size() > limit)
    return make_error(std::string(source) + ": document of " + std::to_string(text.size()) +
                      " bytes exceeds the limit of " + std::to_string(limit));
  auto v = json::parse(text, source, 64, limit);
  if (!v) return std::move(v).error();
  if (!v->is_object()) return make_error(std::string(source) + ": expected a JSON object");
  return std::move(*v);
}

// The media type the document declares must agree with what it was served
// as; an absent one takes the served type.
Result<std::string> media_type_of(const Reader& r, const Value& doc, std::string_view served_as,
                                  DocumentKind want) {
  std::string mt = BERTH_VALUE(r.string(doc, "", "mediaType", false));
  if (mt.empty()) mt = std::string(served_as);
  DocumentKind k = kind_of(mt);
  if (k == DocumentKind::kSchema1)
    return r.error("mediaType", "Docker image manifest schema 1 is not supported (`" + mt + "`)");
  if (!mt.empty() && k != want) return r.error("mediaType", "unexpected media type `" + mt + "`");
  if (!served_as.empty() && kind_of(served_as) != DocumentKind::kUnknown && kind_of(served_as) != k)
    return r.error("mediaType",
                   "document says `" + mt + "` but was served as `" + std::string(served_as) + "`");
  return mt;
}

}  // namespace

DocumentKind kind_of(std::string_view mt) {
  if (mt == media::kOciIndex || mt == media::kDockerManifestList) return DocumentKind::kIndex;
  if (mt == media::kOciManifest || mt == media::kDockerManifest) return DocumentKind::kManifest;
  if (mt == media::kDockerSchema1 || mt == media::kDockerSchema1Signed)
    return DocumentKind::kSchema1;
  if (mt == media::kOciConfig || mt == media::kDockerConfig) return DocumentKind::kConfig;
  if (layer_compression(mt).ok()) return DocumentKind::kLayer;
  return DocumentKind::kUnknown;
}

Result<Compression> layer_compression(std::string_view mt) {
  std::string t(mt);
  // Non-distributable OCI layers and Docker's foreign layers unpack the same.
  for (std::string_view infix : {".nondistributable", ""}) {
    std::string base = "application/vnd.oci.image.layer" + std::string(infix) + ".v1.tar";
    if (t == base) return Compression::kNone;
    if (t == base + "+gzip") return Compression::kGzip;
    if (t == base + "+zstd") return Compression::kZstd;
  }
  if (t == media::kDockerLayerGzip ||
      t == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")
    return Compression::kGzip;
  if (t == "application/vnd.docker.image.rootfs.diff.tar") return Compression::kNone;
  return make_error("`" + t + "` is not a layer media type");
}

DocumentKind sniff_document(std::string_view text, std::string_view served_as) {
  auto v = json::parse(text, "document", 64, kMaxManifestSize);
  if (!v || !v->is_object()) return kind_of(served_as);
  if (const Value* mt = v->get("mediaType"); mt && mt->is_string()) return kind_of(mt->as_string());
  if (v->get("manifests")) return DocumentKind::kIndex;
  if (v->get("layers")) return DocumentKind::kManifest;
  if (v->get("fsLayers") || v->get("signatures")) return DocumentKind::kSchema1;
  return kind_of(served_as);
}

Result<Manifest> parse_manifest(std::string_view text, std::string_view served_as,
                                std::string_view source) {
  Value doc = BERTH_VALUE(parse_document(text, source, kMaxManifestSize));
  Reader r(source);
  if (doc.get("fsLayers") || doc.get("signatures"))
    return r.error("schemaVersion", "Docker image manifest schema 1 is not supported");
  BERTH_TRY(r.schema_version(doc));
  Manifest m;
  m.media_type = BERTH_VALUE(media_type_of(r, doc, served_as, DocumentKind::kManifest));
  if (m.media_type.empty()) m.media_type = std::string(media::kOciManifest);
  const Value* config = doc.get("config");
  if (!config) return r.error("config", "missing");
  m.config = BERTH_VALUE(r.descriptor(*config, "config"));
  const Value* layers = doc.get("layers");
  if (!layers || !layers->is_array())
    return r.error("layers", layers ? "expected an array" : "missing");
  for (size_t i = 0; i < layers->items().size(); ++i) {
    std::string path = "layers[" + std::to_string(i) + "]";
    Descriptor d = BERTH_VALUE(r.descriptor(layers->items()[i], path));
    if (kind_of(d.media_type) != DocumentKind::kLayer)
      return r.error(path + ".mediaType", "unsupported layer media type `" + d.media_type + "`");
    m.layers.push_back(std::move(d));
  }
  m.annotations = BERTH_VALUE(r.string_map(doc, "", "annotations"));
  return m;
}

Result<Index> parse_index(std::string_view text, std::string_view served_as,
                          std::string_view source) {
  Value doc = BERTH_VALUE(parse_document(text, source, kMaxManifestSize));
  Reader r(source);
  BERTH_TRY(r.schema_version(doc));
  Index idx;
  idx.media_type = BERTH_VALUE(media_type_of(r, doc, served_as, DocumentKind::kIndex));
  if (idx.media_type.empty()) idx.media_type = std::string(media::kOciIndex);
  const Value* list = doc.get("manifests");
  if (!list || !list->is_array())
    return r.error("manifests", list ? "expected an array" : "missing");
  for (size_t i = 0; i < list->items().size(); ++i)
    idx.manifests.push_back(
        BERTH_VALUE(r.descriptor(list->items()[i], "manifests[" + std::to_string(i) + "]")));
  idx.annotations = BERTH_VALUE(r.string_map(doc, "", "annotations"));
  return idx;
}

Result<ImageConfig> parse_config(std::string_view text, std::string_view source) {
  Value doc = BERTH_VALUE(parse_document(text, source, kMaxConfigSize));
  Reader r(source);
  ImageConfig c;
  c.architecture = BERTH_VALUE(r.string(doc, "", "architecture", false));
  c.os = BERTH_VALUE(r.string(doc, "", "os", false));
  c.variant = BERTH_VALUE(r.string(doc, "", "variant", false));
  c.created = BERTH_VALUE(r.string(doc, "", "created", false));
  c.author = BERTH_VALUE(r.string(doc, "", "author", false));
  if (const Value* cfg = doc.get("config"); cfg && !cfg->is_null()) {
    if (!cfg->is_object()) return r.error("config", "expected an object");
    c.user = BERTH_VALUE(r.string(*cfg, "config", "User", false));
    c.working_dir = BERTH_VALUE(r.string(*cfg, "config", "WorkingDir", false));
    c.stop_signal = BERTH_VALUE(r.string(*cfg, "config", "StopSignal", false));
    c.env = BERTH_VALUE(r.strings(*cfg, "config", "Env"));
    c.cmd = BERTH_VALUE(r.strings(*cfg, "config", "Cmd"));
    c.entrypoint = BERTH_VALUE(r.strings(*cfg, "config", "Entrypoint"));
    c.shell = BERTH_VALUE(r.strings(*cfg, "config", "Shell"));
    c.on_build = BERTH_VALUE(r.strings(*cfg, "config", "OnBuild"));
    c.labels = BERTH_VALUE(r.string_map(*cfg, "config", "Labels"));
    c.exposed_ports = BERTH_VALUE(r.key_set(*cfg, "config", "ExposedPorts"));
    c.volumes = BERTH_VALUE(r.key_set(*cfg, "config", "Volumes"));
    if (const Value* e = cfg->get("ArgsEscaped"); e && e->is_bool()) c.args_escaped = e->as_bool();
  }
  const Value* rootfs = doc.get("rootfs");
  if (!rootfs || !rootfs->is_object())
    return r.error("rootfs", rootfs ? "expected an object" : "missing");
  std::string type = BERTH_VALUE(r.string(*rootfs, "rootfs", "type", true));
  if (type != "layers") return r.error("rootfs.type", "expected \"layers\", got \"" + type + "\"");
  c.diff_ids = BERTH_VALUE(r.strings(*rootfs, "rootfs", "diff_ids"));
  for (size_t i = 0; i < c.diff_ids.size(); ++i)
    if (!is_digest(c.diff_ids[i]))
      return r.error("rootfs.diff_ids[" + std::to_string(i) + "]",
                     "not a valid digest: `" + c.diff_ids[i] + "`");
  if (const Value* h = doc.get("history"); h && !h->is_null()) {
    if (!h->is_array()) return r.error("history", "expected an array");
    size_t non_empty = 0;
    for (size_t i = 0; i < h->items().size(); ++i) {
      const Value& e = h->items()[i];
      std::string path = "history[" + std::to_string(i) + "]";
      if (!e.is_object()) return r.error(path, "expected an object");
      HistoryEntry entry;
      entry.created = BERTH_VALUE(r.string(e, path, "created", false));
      entry.created_by = BERTH_VALUE(r.string(e, path, "created_by", false));
      entry.author = BERTH_VALUE(r.string(e, path, "author", false));
      entry.comment = BERTH_VALUE(r.string(e, path, "comment", false));
      if (const Value* el = e.get("empty_layer"); el && el->is_bool())
        entry.empty_layer = el->as_bool();
      if (!entry.empty_layer) ++non_empty;
      c.history.push_back(std::move(entry));
    }
    // The spec: history entries that are not empty_layer line up with the
    // layers; more of them than layers means the document is inconsistent.
    if (non_empty > c.diff_ids.size())
      return r.error("history", std::to_string(non_empty) +
                                    " entries with a layer, but rootfs has " +
                                    std::to_string(c.diff_ids.size()) + " layers");
  }
  c.raw = std::move(doc);
  return c;
}

}  // namespace berth::core
