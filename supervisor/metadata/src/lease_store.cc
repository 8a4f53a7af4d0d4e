// Leases in the metadata database (see metadata.h; schema in metadata_db.cc).

#include <map>

#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "berth/metadata/metadata.h"
#include "columns.h"

namespace berth::metadata {

namespace {

constexpr size_t kMaxResourceId = 1024;

// The resource types the GC knows; anything else would be kept alive by no
// one's rules, so it is refused here.
Status validate_resource(const core::LeaseResource& r) {
  std::string what = "lease resource `" + r.type + "` `" + r.id + "`";
  if (r.id.empty()) return core::invalid_argument(what + ": empty id");
  if (r.id.size() > kMaxResourceId) return core::invalid_argument(what + ": id too long");
  if (r.type == "content") return core::validate_digest(r.id, "lease content digest");
  if (r.type == "ingests") return ok_status();
  constexpr std::string_view kSnapshots = "snapshots/";
  if (r.type.starts_with(kSnapshots) && r.type.size() > kSnapshots.size()) return ok_status();
  return core::invalid_argument(
      what + ": unknown type (want content, ingests or snapshots/<snapshotter>)");
}

Error lease_not_found(std::string_view ns, std::string_view id) {
  return core::not_found("lease `" + std::string(id) + "` in namespace `" + std::string(ns) +
                         "`: not found");
}

}  // namespace

Result<core::Lease> SqlLeaseStore::create(std::string_view ns, std::string_view id,
                                          const core::Labels& labels, int64_t expires_at) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  BERTH_TRY(validate_identifier(id, "lease id"));
  if (expires_at < 0)
    return core::invalid_argument("lease `" + std::string(id) + "`: negative expiry");
  auto& db = db_->db();
  core::Lease lease{std::string(id), labels, detail::now(), expires_at, {}};
  bool exists = false;
  BERTH_TRY(db.transaction([&]() -> Status {
    BERTH_TRY(db_->ensure_namespace(ns));
    auto check = BERTH_VALUE(db.prepare("SELECT 1 FROM leases WHERE namespace = ? AND id = ?"));
    exists = BERTH_VALUE(check.bind(1, ns).bind(2, id).step());
    if (exists) return ok_status();
    auto st =
        BERTH_VALUE(db.prepare("INSERT INTO leases (namespace, id, labels, created_at, expires_at) "
                               "VALUES (?, ?, ?, ?, ?)"));
    st.bind(1, ns).bind(2, id).bind(3, detail::labels_to_json(labels));
    return st.bind(4, lease.created_at).bind(5, expires_at).run();
  }));
  if (exists)
    return core::already_exists("lease `" + std::string(id) + "` in namespace `" + std::string(ns) +
                                "`: already exists");
  return lease;
}

Status SqlLeaseStore::remove(std::string_view ns, std::string_view id) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  BERTH_TRY(validate_identifier(id, "lease id"));
  auto& db = db_->db();
  int64_t removed = 0;
  BERTH_TRY(db.transaction([&]() -> Status {
    auto st = BERTH_VALUE(db.prepare("DELETE FROM leases WHERE namespace = ? AND id = ?"));
    BERTH_TRY(st.bind(1, ns).bind(2, id).run());
    removed = db.changes();
    return ok_status();
  }));
  if (removed == 0) return lease_not_found(ns, id);
  return ok_status();
}

Result<std::vector<core::Lease>> SqlLeaseStore::list(std::string_view ns) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  auto& db = db_->db();
  std::vector<core::Lease> out;
  BERTH_TRY(db.read([&]() -> Status {
    std::map<std::string, size_t> index;
    auto st = BERTH_VALUE(db.prepare(
        "SELECT id, labels, created_at, expires_at FROM leases WHERE namespace = ? ORDER BY id"));
    st.bind(1, ns);
    while (BERTH_VALUE(st.step())) {
      core::Lease lease;
      lease.id = st.column_text(0);
      lease.labels = BERTH_VALUE(
          detail::labels_from_json(st.column_text(1), "lease `" + lease.id + "` labels"));
      lease.created_at = st.column_int(2);
      lease.expires_at = st.column_int(3);
      index.emplace(lease.id, out.size());
      out.push_back(std::move(lease));
    }
    auto res =
        BERTH_VALUE(db.prepare("SELECT lease, type, id FROM lease_resources WHERE namespace = ? "
                               "ORDER BY lease, type, id"));
    res.bind(1, ns);
    while (BERTH_VALUE(res.step())) {
      auto it = index.find(res.column_text(0));
      if (it != index.end())
        out[it->second].resources.push_back({res.column_text(1), res.column_text(2)});
    }
    return ok_status();
  }));
  return out;
}

// Runs `sql` (namespace, lease, type, id) in the transaction that checks
// the lease exists, so a resource never outlives or precedes its lease.
Status SqlLeaseStore::change_resource(std::string_view ns, std::string_view id,
                                      const core::LeaseResource& r, std::string_view sql) {
  BERTH_TRY(validate_identifier(ns, "namespace"));
  BERTH_TRY(validate_identifier(id, "lease id"));
  auto& db = db_->db();
  bool found = false;
  BERTH_TRY(db.transaction([&]() -> Status {
    auto check = BERTH_VALUE(db.prepare("SELECT 1 FROM leases WHERE namespace = ? AND id = ?"));
    found = BERTH_VALUE(check.bind(1, ns).bind(2, id).step());
    if (!found) return ok_status();
    auto st = BERTH_VALUE(db.prepare(sql));
    return st.bind(1, ns).bind(2, id).bind(3, r.type).bind(4, r.id).run();
  }));
  if (!found) return lease_not_found(ns, id);
  return ok_status();
}

Status SqlLeaseStore::add_resource(std::string_view ns, std::string_view id,
                                   const core::LeaseResource& r) {
  BERTH_TRY(validate_resource(r));
  return change_resource(
      ns, id, r,
      "INSERT OR IGNORE INTO lease_resources (namespace, lease, type, id) VALUES (?, ?, ?, ?)");
}

Status SqlLeaseStore::remove_resource(std::string_view ns, std::string_view id,
                                      const core::LeaseResource& r) {
  return change_resource(
      ns, id, r,
      "DELETE FROM lease_resources WHERE namespace = ? AND lease = ? AND type = ? AND id = ?");
}

}  // namespace berth::metadata
