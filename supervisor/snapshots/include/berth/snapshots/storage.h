#pragma once
// Snapshot state shared by the overlay and native snapshotters, after
// containerd's snapshots/storage: one SQLite file (<root>/metadata.db) maps
// each key to a numeric id, its parent, kind, labels and times; every
// change is one transaction. The snapshot's directory is <root>/snapshots/<id>.
//
// Record and directory stay consistent across a crash at any point:
//   create   the snapshotter stages the directory under <root>/staging/, the
//            transaction inserts the record and renames the staged dir to
//            snapshots/<id> before COMMIT; a crash leaves at worst a
//            directory without a record.
//   remove   the transaction deletes the record; only after COMMIT is the
//            dir renamed to trash/<id> and deleted; a crash leaves at worst
//            a directory without a record.
//   open     deletes every directory without a record (staging/, trash/
//            and orphans in snapshots/), so nothing leaks; a record without
//            its directory is never produced.
// Ids are AUTOINCREMENT and never reused by a committed record.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/snapshots.h"

namespace berth::sqlite {
class Database;
}

namespace berth::snapshots {

struct Record {
  int64_t id = 0;
  core::SnapshotInfo info;
  std::vector<int64_t> parent_ids;  // the parent chain, nearest first
  core::SnapshotUsage usage;        // cached at commit; zero before
};

// Test seam: called with a step's name ("create:renamed", "remove:committed",
// ...) at each point where a crash could fall; a crash test forks, sets a
// hook that _exits at one step, then reopens the store in the parent.
using StepHook = void (*)(std::string_view step);
void set_step_hook(StepHook hook);
void step(std::string_view name);

// Bytes (allocated blocks) and inodes under `dir`, each hard-linked inode
// once, as containerd's fs.DiskUsage counts them.
Result<core::SnapshotUsage> disk_usage(const std::string& dir);

class Storage {
 public:
  // Creates <root>/{snapshots,staging,trash} (0700) and the database, and
  // removes directories left without a record by a crash.
  static Result<std::unique_ptr<Storage>> open(const std::string& root);
  ~Storage();

  const std::string& root() const { return root_; }
  std::string dir(int64_t id) const;  // <root>/snapshots/<id>
  // A fresh empty directory under staging/ for a snapshot being made.
  Result<std::string> stage();

  Result<Record> get(std::string_view key);
  Result<std::vector<core::SnapshotInfo>> list();

  // Inserts an active or view snapshot of `parent` (empty: none; ENOENT when
  // absent, EINVAL when not committed; EEXIST when `key` is taken) and
  // renames `staged` to its directory, in one transaction.
  Result<Record> create(std::string_view key, std::string_view parent, core::SnapshotKind kind,
                        const core::Labels& labels, const std::string& staged);
  // Active `key` becomes committed `name` with `usage` cached; same id and dir.
  Status commit(std::string_view name, std::string_view key, const core::Labels& labels,
                const core::SnapshotUsage& usage);
  // Deletes the record (EBUSY with children), then its directory.
  Status remove(std::string_view key);

 private:
  Storage(std::string root, std::unique_ptr<sqlite::Database> db);
  Status collect_garbage();
  Result<Record> get_locked(std::string_view key);

  std::string root_;
  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace berth::snapshots
