// Images in the metadata database (see metadata.h; schema in metadata_db.cc).

#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "berth/metadata/metadata.h"
#include "columns.h"

namespace berth::metadata {

namespace {

constexpr size_t kMaxNameSize = 4096;
constexpr std::string_view kColumns =
    "name, media_type, digest, size, target_extra, labels, created_at, updated_at";

Result<core::Image> read_image(const sqlite::Statement& st) {
  core::Image image;
  image.name = st.column_text(0);
  std::string what = "image `" + image.name + "`";
  image.target.media_type = st.column_text(1);
  image.target.digest = st.column_text(2);
  image.target.size = st.column_int(3);
  BERTH_TRY(detail::descriptor_extra_from_json(st.column_text(4), what + " target", image.target));
  image.labels = BERTH_VALUE(detail::labels_from_json(st.column_text(5), what + " labels"));
  image.created_at = st.column_int(6);
  image.updated_at = st.column_int(7);
  return image;
}

Status validate_name(std::string_view name) {
  if (name.empty()) return core::invalid_argument("image name: empty");
  if (name.size() > kMaxNameSize)
    return core::invalid_argument("image name: longer than " + std::to_string(kMaxNameSize) +
                                  " bytes");
  return ok_status();
}

Status validate_image(const core::Image& image) {
  BERTH_TRY(validate_name(image.name));
  std::string what = "image `" + image.name + "`";
  if (image.target.media_type.empty())
    return core::invalid_argument(what + ": target media type is empty");
  BERTH_TRY_CTX(core::validate_digest(image.target.digest, "target digest"), what);
  if (image.target.size < 0) return core::invalid_argument(what + ": negative target size");
  return ok_status();
}

}  // namespace

Result<core::Image> SqlImageStore::get(std::string_view ns, std::string_view name) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  BERTH_TRY(validate_name(name));
  auto& db = db_->db();
  std::optional<core::Image> found;
  BERTH_TRY(db.read([&]() -> Status {
    auto st = BERTH_VALUE(db.prepare("SELECT " + std::string(kColumns) +
                                     " FROM images WHERE namespace = ? AND name = ?"));
    st.bind(1, ns).bind(2, name);
    if (BERTH_VALUE(st.step())) found = BERTH_VALUE(read_image(st));
    return ok_status();
  }));
  if (!found)
    return core::not_found("image `" + std::string(name) + "` in namespace `" + std::string(ns) +
                           "`: not found");
  return std::move(*found);
}

Result<std::vector<core::Image>> SqlImageStore::list(std::string_view ns) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  auto& db = db_->db();
  std::vector<core::Image> out;
  BERTH_TRY(db.read([&]() -> Status {
    auto st = BERTH_VALUE(db.prepare("SELECT " + std::string(kColumns) +
                                     " FROM images WHERE namespace = ? ORDER BY name"));
    st.bind(1, ns);
    while (BERTH_VALUE(st.step())) out.push_back(BERTH_VALUE(read_image(st)));
    return ok_status();
  }));
  return out;
}

Result<std::optional<core::Descriptor>> SqlImageStore::put(std::string_view ns,
                                                           const core::Image& image) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  BERTH_TRY(validate_image(image));
  auto& db = db_->db();
  std::optional<core::Descriptor> previous;
  // Read and replace in one transaction: two concurrent tags of one name
  // each see the target the other replaced, never a lost update.
  BERTH_TRY(db.transaction([&]() -> Status {
    BERTH_TRY(db_->ensure_namespace(ns));
    {
      auto st = BERTH_VALUE(db.prepare("SELECT " + std::string(kColumns) +
                                       " FROM images WHERE namespace = ? AND name = ?"));
      st.bind(1, ns).bind(2, image.name);
      if (BERTH_VALUE(st.step())) previous = BERTH_VALUE(read_image(st)).target;
    }
    auto st = BERTH_VALUE(db.prepare(
        "INSERT INTO images (namespace, " + std::string(kColumns) +
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (namespace, name) DO UPDATE SET media_type = excluded.media_type,"
        " digest = excluded.digest, size = excluded.size, target_extra = excluded.target_extra,"
        " labels = excluded.labels, updated_at = excluded.updated_at"));
    int64_t now = detail::now();
    st.bind(1, ns)
        .bind(2, image.name)
        .bind(3, image.target.media_type)
        .bind(4, image.target.digest);
    st.bind(5, image.target.size).bind(6, detail::descriptor_extra_to_json(image.target));
    st.bind(7, detail::labels_to_json(image.labels)).bind(8, now).bind(9, now);
    return st.run();
  }));
  return previous;
}

Status SqlImageStore::remove(std::string_view ns, std::string_view name) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  BERTH_TRY(validate_name(name));
  auto& db = db_->db();
  int64_t removed = 0;
  BERTH_TRY(db.transaction([&]() -> Status {
    auto st = BERTH_VALUE(db.prepare("DELETE FROM images WHERE namespace = ? AND name = ?"));
    BERTH_TRY(st.bind(1, ns).bind(2, name).run());
    removed = db.changes();
    return ok_status();
  }));
  if (removed == 0)
    return core::not_found("image `" + std::string(name) + "` in namespace `" + std::string(ns) +
                           "`: not found");
  return ok_status();
}

Result<std::vector<std::string>> SqlImageStore::namespaces() {
  auto& db = db_->db();
  std::vector<std::string> out;
  BERTH_TRY(db.read([&]() -> Status {
    auto st = BERTH_VALUE(db.prepare("SELECT name FROM namespaces ORDER BY name"));
    while (BERTH_VALUE(st.step())) out.push_back(st.column_text(0));
    return ok_status();
  }));
  return out;
}

}  // namespace berth::metadata
