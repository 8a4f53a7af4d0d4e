// Volumes in the metadata database (see metadata.h; schema in
// metadata_db.cc). The directory itself is the container service's.

#include "berth/core/errdefs.h"
#include "berth/metadata/metadata.h"
#include "columns.h"

namespace berth::metadata {

namespace {

Error volume_not_found(std::string_view name) {
  return core::not_found("get " + std::string(name) + ": no such volume");
}

Result<core::Volume> read_row(const sqlite::Statement& st) {
  core::Volume v;
  v.name = st.column_text(0);
  v.mountpoint = st.column_text(1);
  v.labels =
      BERTH_VALUE(detail::labels_from_json(st.column_text(2), "volume `" + v.name + "` labels"));
  v.anonymous = st.column_int(3) != 0;
  v.created_at_ns = st.column_int(4);
  return v;
}

constexpr const char* kSelect =
    "SELECT name, mountpoint, labels, anonymous, created_at FROM volumes WHERE namespace = ?";

}  // namespace

Status SqlVolumeStore::create(std::string_view ns, const core::Volume& v) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  auto& db = db_->db();
  bool exists = false;
  BERTH_TRY(db.transaction([&]() -> Status {
    BERTH_TRY(db_->ensure_namespace(ns));
    auto check = BERTH_VALUE(db.prepare("SELECT 1 FROM volumes WHERE namespace = ? AND name = ?"));
    exists = BERTH_VALUE(check.bind(1, ns).bind(2, v.name).step());
    if (exists) return ok_status();
    auto st = BERTH_VALUE(db.prepare(
        "INSERT INTO volumes (namespace, name, mountpoint, labels, anonymous, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)"));
    st.bind(1, ns).bind(2, v.name).bind(3, v.mountpoint).bind(4, detail::labels_to_json(v.labels));
    return st.bind(5, int64_t(v.anonymous)).bind(6, v.created_at_ns).run();
  }));
  if (exists) return core::already_exists("volume " + v.name + " already exists");
  return ok_status();
}

Result<core::Volume> SqlVolumeStore::get(std::string_view ns, std::string_view name) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  auto& db = db_->db();
  std::optional<core::Volume> out;
  BERTH_TRY(db.read([&]() -> Status {
    auto st = BERTH_VALUE(db.prepare(std::string(kSelect) + " AND name = ?"));
    st.bind(1, ns).bind(2, name);
    if (BERTH_VALUE(st.step())) out = BERTH_VALUE(read_row(st));
    return ok_status();
  }));
  if (!out) return volume_not_found(name);
  return std::move(*out);
}

Result<std::vector<core::Volume>> SqlVolumeStore::list(std::string_view ns) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  auto& db = db_->db();
  std::vector<core::Volume> out;
  BERTH_TRY(db.read([&]() -> Status {
    auto st = BERTH_VALUE(db.prepare(std::string(kSelect) + " ORDER BY name"));
    st.bind(1, ns);
    while (BERTH_VALUE(st.step())) out.push_back(BERTH_VALUE(read_row(st)));
    return ok_status();
  }));
  return out;
}

Status SqlVolumeStore::remove(std::string_view ns, std::string_view name) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  auto& db = db_->db();
  int64_t removed = 0;
  BERTH_TRY(db.transaction([&]() -> Status {
    auto st = BERTH_VALUE(db.prepare("DELETE FROM volumes WHERE namespace = ? AND name = ?"));
    BERTH_TRY(st.bind(1, ns).bind(2, name).run());
    removed = db.changes();
    return ok_status();
  }));
  if (removed == 0) return volume_not_found(name);
  return ok_status();
}

}  // namespace berth::metadata
