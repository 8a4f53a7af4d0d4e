#pragma once
// berthd's metadata in SQLite (<root>/meta.db, supervisor/sqlite): images
// and leases per namespace, core::ImageStore and core::LeaseStore. The
// schema is the table at the top of src/metadata_db.cc. One MetadataDb is
// shared by the stores: by reference when its owner outlives them (berthd's
// plugin list), or owned jointly (shared_ptr). Each change is one
// transaction.

#include <memory>
#include <string>
#include <string_view>

#include "berth/core/container.h"
#include "berth/core/metadata.h"
#include "berth/sqlite/database.h"

namespace berth::metadata {

// containerd's identifier rule, for namespaces and lease IDs: alphanumerics
// separated by single '.', '_' or '-', at most 76 characters. They appear in
// paths and labels elsewhere, so nothing else gets in.
Status validate_identifier(std::string_view id, std::string_view what);

class MetadataDb {
 public:
  // Opens (creating) <root>/meta.db and runs the schema migrations.
  static Result<std::unique_ptr<MetadataDb>> open(const std::string& root);
  sqlite::Database& db() { return *db_; }
  // Inside a transaction: the namespace's row, created when missing.
  Status ensure_namespace(std::string_view ns);

 private:
  explicit MetadataDb(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}
  std::unique_ptr<sqlite::Database> db_;
};

class SqlImageStore final : public core::ImageStore {
 public:
  explicit SqlImageStore(MetadataDb& db) : db_(&db) {}
  explicit SqlImageStore(std::shared_ptr<MetadataDb> db)
      : owned_(std::move(db)), db_(owned_.get()) {}
  Result<core::Image> get(std::string_view ns, std::string_view name) override;
  Result<std::vector<core::Image>> list(std::string_view ns) override;
  // created_at is kept from the record it replaces; both times are set here.
  Result<std::optional<core::Descriptor>> put(std::string_view ns,
                                              const core::Image& image) override;
  Status remove(std::string_view ns, std::string_view name) override;
  Result<std::vector<std::string>> namespaces() override;

 private:
  Status change_resource(std::string_view ns, std::string_view id, const core::LeaseResource& r,
                         std::string_view sql);
  std::shared_ptr<MetadataDb> owned_;  // null when borrowed
  MetadataDb* db_;
};

class SqlLeaseStore final : public core::LeaseStore {
 public:
  explicit SqlLeaseStore(MetadataDb& db) : db_(&db) {}
  explicit SqlLeaseStore(std::shared_ptr<MetadataDb> db)
      : owned_(std::move(db)), db_(owned_.get()) {}
  // EEXIST when the ID is taken in the namespace.
  Result<core::Lease> create(std::string_view ns, std::string_view id, const core::Labels& labels,
                             int64_t expires_at) override;
  // ENOENT when absent; its resources go with it.
  Status remove(std::string_view ns, std::string_view id) override;
  // Expired leases too: deciding what expiry means is the GC's job.
  Result<std::vector<core::Lease>> list(std::string_view ns) override;
  // ENOENT when the lease is absent; adding a resource twice keeps one.
  Status add_resource(std::string_view ns, std::string_view id,
                      const core::LeaseResource& r) override;
  Status remove_resource(std::string_view ns, std::string_view id,
                         const core::LeaseResource& r) override;

 private:
  Status change_resource(std::string_view ns, std::string_view id, const core::LeaseResource& r,
                         std::string_view sql);
  std::shared_ptr<MetadataDb> owned_;  // null when borrowed
  MetadataDb* db_;
};

class SqlContainerStore final : public core::ContainerStore {
 public:
  explicit SqlContainerStore(MetadataDb& db) : db_(&db) {}
  explicit SqlContainerStore(std::shared_ptr<MetadataDb> db)
      : owned_(std::move(db)), db_(owned_.get()) {}
  Status create(std::string_view ns, const core::Container& c) override;
  Result<core::Container> get(std::string_view ns, std::string_view id) override;
  Result<std::vector<core::Container>> list(std::string_view ns) override;
  Status update_state(std::string_view ns, std::string_view id,
                      const core::ContainerState& state) override;
  Status update(std::string_view ns, const core::Container& c) override;
  Status remove(std::string_view ns, std::string_view id) override;

 private:
  std::shared_ptr<MetadataDb> owned_;  // null when borrowed
  MetadataDb* db_;
};

class SqlVolumeStore final : public core::VolumeStore {
 public:
  explicit SqlVolumeStore(MetadataDb& db) : db_(&db) {}
  explicit SqlVolumeStore(std::shared_ptr<MetadataDb> db)
      : owned_(std::move(db)), db_(owned_.get()) {}
  Status create(std::string_view ns, const core::Volume& v) override;
  Result<core::Volume> get(std::string_view ns, std::string_view name) override;
  Result<std::vector<core::Volume>> list(std::string_view ns) override;
  Status remove(std::string_view ns, std::string_view name) override;

 private:
  std::shared_ptr<MetadataDb> owned_;  // null when borrowed
  MetadataDb* db_;
};

}  // namespace berth::metadata
