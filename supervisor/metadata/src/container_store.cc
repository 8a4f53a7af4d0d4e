// Containers in the metadata database (see metadata.h; schema in
// metadata_db.cc). Config and state are JSON columns (core/container.h's
// codec); the name is unique per namespace by the schema itself, so two
// concurrent creates with one name cannot both succeed.

#include "berth/core/errdefs.h"
#include "berth/metadata/metadata.h"

namespace berth::metadata {

namespace {

constexpr const char* kColumns =
    "id, name, image_name, image_id, snapshotter, snapshot_key, config, state, created_at";

Error container_not_found(std::string_view id) {
  return core::not_found("No such container: " + std::string(id));
}

Result<core::Container> read_row(const sqlite::Statement& st) {
  core::Container c;
  c.id = st.column_text(0);
  c.name = st.column_text(1);
  c.image_name = st.column_text(2);
  c.image_id = st.column_text(3);
  c.snapshotter = st.column_text(4);
  c.snapshot_key = st.column_text(5);
  c.config = BERTH_VALUE(
      core::container_config_from_json(st.column_text(6), "container `" + c.id + "` config"));
  c.state = BERTH_VALUE(
      core::container_state_from_json(st.column_text(7), "container `" + c.id + "` state"));
  c.created_at_ns = st.column_int(8);
  return c;
}

}  // namespace

Status SqlContainerStore::create(std::string_view ns, const core::Container& c) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  if (c.id.empty() || c.name.empty())
    return core::invalid_argument("container record: empty id or name");
  auto& db = db_->db();
  std::string taken;
  BERTH_TRY(db.transaction([&]() -> Status {
    BERTH_TRY(db_->ensure_namespace(ns));
    auto check = BERTH_VALUE(
        db.prepare("SELECT id, name FROM containers WHERE namespace = ? AND (id = ? OR name = ?)"));
    check.bind(1, ns).bind(2, c.id).bind(3, c.name);
    if (BERTH_VALUE(check.step())) {
      taken = check.column_text(0) == c.id ? "id" : check.column_text(0);
      return ok_status();
    }
    auto st = BERTH_VALUE(db.prepare(std::string("INSERT INTO containers (") + kColumns +
                                     ", namespace) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    st.bind(1, c.id).bind(2, c.name).bind(3, c.image_name).bind(4, c.image_id);
    st.bind(5, c.snapshotter).bind(6, c.snapshot_key).bind(7, core::to_json(c.config));
    st.bind(8, core::to_json(c.state)).bind(9, c.created_at_ns).bind(10, ns);
    return st.run();
  }));
  if (taken == "id") return core::already_exists("container id `" + c.id + "`: already exists");
  if (!taken.empty())
    return core::already_exists("Conflict. The container name \"/" + c.name +
                                "\" is already in use by container \"" + taken +
                                "\". You have to remove (or rename) that container to be able to "
                                "reuse that name.");
  return ok_status();
}

Result<core::Container> SqlContainerStore::get(std::string_view ns, std::string_view id) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  auto& db = db_->db();
  std::optional<core::Container> out;
  BERTH_TRY(db.read([&]() -> Status {
    auto st = BERTH_VALUE(db.prepare(std::string("SELECT ") + kColumns +
                                     " FROM containers WHERE namespace = ? AND id = ?"));
    st.bind(1, ns).bind(2, id);
    if (BERTH_VALUE(st.step())) out = BERTH_VALUE(read_row(st));
    return ok_status();
  }));
  if (!out) return container_not_found(id);
  return std::move(*out);
}

Result<std::vector<core::Container>> SqlContainerStore::list(std::string_view ns) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  auto& db = db_->db();
  std::vector<core::Container> out;
  BERTH_TRY(db.read([&]() -> Status {
    auto st = BERTH_VALUE(db.prepare(std::string("SELECT ") + kColumns +
                                     " FROM containers WHERE namespace = ? ORDER BY created_at "
                                     "DESC, id"));
    st.bind(1, ns);
    while (BERTH_VALUE(st.step())) out.push_back(BERTH_VALUE(read_row(st)));
    return ok_status();
  }));
  return out;
}

Status SqlContainerStore::update_state(std::string_view ns, std::string_view id,
                                       const core::ContainerState& state) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  auto& db = db_->db();
  int64_t changed = 0;
  BERTH_TRY(db.transaction([&]() -> Status {
    auto st =
        BERTH_VALUE(db.prepare("UPDATE containers SET state = ? WHERE namespace = ? AND id = ?"));
    BERTH_TRY(st.bind(1, core::to_json(state)).bind(2, ns).bind(3, id).run());
    changed = db.changes();
    return ok_status();
  }));
  if (changed == 0) return container_not_found(id);
  return ok_status();
}

Status SqlContainerStore::update(std::string_view ns, const core::Container& c) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  auto& db = db_->db();
  int64_t changed = 0;
  std::string taken;
  BERTH_TRY(db.transaction([&]() -> Status {
    auto check = BERTH_VALUE(
        db.prepare("SELECT id FROM containers WHERE namespace = ? AND name = ? AND id != ?"));
    check.bind(1, ns).bind(2, c.name).bind(3, c.id);
    if (BERTH_VALUE(check.step())) {
      taken = check.column_text(0);
      return ok_status();
    }
    auto st = BERTH_VALUE(
        db.prepare("UPDATE containers SET name = ?, image_name = ?, image_id = ?, snapshotter = ?, "
                   "snapshot_key = ?, config = ?, state = ? WHERE namespace = ? AND id = ?"));
    st.bind(1, c.name).bind(2, c.image_name).bind(3, c.image_id).bind(4, c.snapshotter);
    st.bind(5, c.snapshot_key).bind(6, core::to_json(c.config)).bind(7, core::to_json(c.state));
    BERTH_TRY(st.bind(8, ns).bind(9, c.id).run());
    changed = db.changes();
    return ok_status();
  }));
  if (!taken.empty())
    return core::already_exists("Conflict. The container name \"/" + c.name +
                                "\" is already in use by container \"" + taken + "\"");
  if (changed == 0) return container_not_found(c.id);
  return ok_status();
}

Status SqlContainerStore::remove(std::string_view ns, std::string_view id) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  auto& db = db_->db();
  int64_t removed = 0;
  BERTH_TRY(db.transaction([&]() -> Status {
    auto st = BERTH_VALUE(db.prepare("DELETE FROM containers WHERE namespace = ? AND id = ?"));
    BERTH_TRY(st.bind(1, ns).bind(2, id).run());
    removed = db.changes();
    return ok_status();
  }));
  if (removed == 0) return container_not_found(id);
  return ok_status();
}

}  // namespace berth::metadata
