#pragma once
// What every snapshotter over the record store (storage.h) shares: a new
// snapshot is staged, filled by the snapshotter (populate), and made
// visible by one transaction; commit caches its usage; committed
// snapshots are read-only for good. A snapshotter adds only how a
// snapshot's directory is filled and how it is mounted.

#include <memory>
#include <string>

#include "berth/core/snapshots.h"

namespace berth::snapshots {

class Storage;
struct Record;

class StoredSnapshotter : public core::Snapshotter {
 public:
  ~StoredSnapshotter() override;

  Result<core::SnapshotInfo> stat(std::string_view key) override;
  Result<std::vector<core::SnapshotInfo>> list() override;
  Result<std::vector<core::Mount>> prepare(std::string_view key, std::string_view parent,
                                           const core::Labels& labels = {}) override;
  Result<std::vector<core::Mount>> view(std::string_view key, std::string_view parent,
                                        const core::Labels& labels = {}) override;
  Status commit(std::string_view name, std::string_view key,
                const core::Labels& labels = {}) override;
  Status remove(std::string_view key) override;
  Result<core::SnapshotUsage> usage(std::string_view key) override;
  Result<core::LayerDirs> layer_dirs(std::string_view key) override;

 protected:
  StoredSnapshotter(std::unique_ptr<Storage> storage, core::WhiteoutStyle whiteouts);
  // Fills `staged` (a new snapshot's directory, not yet visible) for a
  // snapshot of `parent` (null for a base snapshot); `staged`/fs is what
  // fs(id) names once it is visible.
  virtual Status populate(const std::string& staged, const Record* parent) = 0;
  std::string fs(int64_t id) const;
  Storage& storage() { return *storage_; }

 private:
  Result<std::vector<core::Mount>> create(std::string_view key, std::string_view parent,
                                          core::SnapshotKind kind, const core::Labels& labels);
  std::unique_ptr<Storage> storage_;
  core::WhiteoutStyle whiteouts_;
};

}  // namespace berth::snapshots
