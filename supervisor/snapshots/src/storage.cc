// Snapshot records in SQLite and their directories (see storage.h).

#include "berth/snapshots/storage.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <optional>
#include <set>
#include <ctime>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/sqlite/database.h"

namespace berth::snapshots {
namespace {

// parent_id RESTRICT: the database itself refuses to drop a parent, so a
// bug in the EBUSY check cannot orphan a child.
const std::vector<sqlite::Database::Migration> kMigrations = {
    R"(CREATE TABLE snapshots (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         key TEXT NOT NULL UNIQUE,
         parent_id INTEGER REFERENCES snapshots(id) ON DELETE RESTRICT,
         kind INTEGER NOT NULL,
         created_at INTEGER NOT NULL,
         updated_at INTEGER NOT NULL,
         size INTEGER NOT NULL DEFAULT 0,
         inodes INTEGER NOT NULL DEFAULT 0);
       CREATE INDEX snapshots_parent ON snapshots(parent_id);
       CREATE TABLE labels (
         snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
         name TEXT NOT NULL,
         value TEXT NOT NULL,
         PRIMARY KEY (snapshot_id, name));)",
};

std::atomic<StepHook> g_hook{nullptr};

int64_t now() { return static_cast<int64_t>(::time(nullptr)); }

std::string quoted(std::string_view key) { return "snapshot `" + std::string(key) + "`"; }

Status walk_usage(int dir, const std::string& shown, std::set<std::pair<dev_t, ino_t>>& seen,
                  core::SnapshotUsage& u) {
  for (const auto& name : BERTH_VALUE(sys::list_dir(sys::fd_path(BorrowedFd(dir))))) {
    struct stat st {};
    if (sys::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return sys_error("stat", shown + "/" + name);
    if (!seen.emplace(st.st_dev, st.st_ino).second) continue;
    u.inodes++;
    u.size += static_cast<int64_t>(st.st_blocks) * 512;
    if (!S_ISDIR(st.st_mode)) continue;
    int fd = sys::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) return sys_error("open", shown + "/" + name);
    UniqueFd child(fd);
    BERTH_TRY(walk_usage(child.get(), shown + "/" + name, seen, u));
  }
  return {};
}

}  // namespace

Result<core::SnapshotUsage> disk_usage(const std::string& dir) {
  UniqueFd fd = BERTH_VALUE(sys::open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  core::SnapshotUsage u;
  std::set<std::pair<dev_t, ino_t>> seen;
  BERTH_TRY(walk_usage(fd.get(), dir, seen, u));
  return u;
}

void set_step_hook(StepHook hook) { g_hook.store(hook); }
void step(std::string_view name) {
  if (auto hook = g_hook.load()) hook(name);
}

Storage::Storage(std::string root, std::unique_ptr<sqlite::Database> db)
    : root_(std::move(root)), db_(std::move(db)) {}
Storage::~Storage() = default;

Result<std::unique_ptr<Storage>> Storage::open(const std::string& root) {
  BERTH_TRY(sys::mkdir_p(root, 0700));
  for (const char* sub : {"/snapshots", "/staging", "/trash"}) {
    auto st = sys::mkdir(root + sub, 0700);
    if (!st && st.error().code() != EEXIST) return std::move(st).error();
  }
  auto db = BERTH_VALUE(sqlite::Database::open(root + "/metadata.db", kMigrations));
  std::unique_ptr<Storage> s(new Storage(root, std::move(db)));
  BERTH_TRY(s->collect_garbage());
  return s;
}

std::string Storage::dir(int64_t id) const { return root_ + "/snapshots/" + std::to_string(id); }

Result<std::string> Storage::stage() {
  std::string tmpl = root_ + "/staging/new-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return sys_error("mkdtemp", tmpl);
  return tmpl;
}

Status Storage::collect_garbage() {
  std::vector<std::string> known;
  BERTH_TRY(db_->read([&]() -> Status {
    auto q = BERTH_VALUE(db_->prepare("SELECT id FROM snapshots"));
    while (BERTH_VALUE(q.step())) known.push_back(std::to_string(q.column_int(0)));
    return {};
  }));
  for (const char* sub : {"/staging", "/trash"}) {
    for (const auto& name : BERTH_VALUE(sys::list_dir(root_ + sub)))
      BERTH_TRY(sys::remove_all(root_ + sub + "/" + name));
  }
  std::sort(known.begin(), known.end());
  for (const auto& name : BERTH_VALUE(sys::list_dir(root_ + "/snapshots"))) {
    if (std::binary_search(known.begin(), known.end(), name)) continue;
    BERTH_TRY(sys::remove_all(root_ + "/snapshots/" + name));
  }
  return {};
}

Result<Record> Storage::get_locked(std::string_view key) {
  auto q =
      BERTH_VALUE(db_->prepare("SELECT id, parent_id, kind, created_at, updated_at, size, inodes "
                               "FROM snapshots WHERE key = ?"));
  q.bind(1, key);
  if (!BERTH_VALUE(q.step())) return core::not_found(quoted(key) + ": not found");
  Record r;
  r.id = q.column_int(0);
  r.info.key = std::string(key);
  int64_t parent = q.column_is_null(1) ? 0 : q.column_int(1);
  r.info.kind = static_cast<core::SnapshotKind>(q.column_int(2));
  r.info.created_at = q.column_int(3);
  r.info.updated_at = q.column_int(4);
  r.usage = {q.column_int(5), q.column_int(6)};

  auto l = BERTH_VALUE(db_->prepare("SELECT name, value FROM labels WHERE snapshot_id = ?"));
  l.bind(1, r.id);
  while (BERTH_VALUE(l.step())) r.info.labels[l.column_text(0)] = l.column_text(1);

  for (int64_t id = parent; id != 0;) {
    auto q2 = BERTH_VALUE(db_->prepare("SELECT key, parent_id FROM snapshots WHERE id = ?"));
    q2.bind(1, id);
    if (!BERTH_VALUE(q2.step()))
      return make_error(quoted(key) + ": parent id " + std::to_string(id) + " missing", EIO);
    if (r.parent_ids.empty()) r.info.parent = q2.column_text(0);
    r.parent_ids.push_back(id);
    id = q2.column_is_null(1) ? 0 : q2.column_int(1);
  }
  return r;
}

Result<Record> Storage::get(std::string_view key) {
  std::optional<Result<Record>> out;
  BERTH_TRY(db_->read([&]() -> Status {
    out.emplace(get_locked(key));
    return {};
  }));
  return std::move(*out);
}

Result<std::vector<core::SnapshotInfo>> Storage::list() {
  std::vector<core::SnapshotInfo> out;
  BERTH_TRY(db_->read([&]() -> Status {
    std::vector<std::string> keys;
    auto q = BERTH_VALUE(db_->prepare("SELECT key FROM snapshots ORDER BY key"));
    while (BERTH_VALUE(q.step())) keys.push_back(q.column_text(0));
    for (const auto& k : keys) out.push_back(BERTH_VALUE(get_locked(k)).info);
    return {};
  }));
  return out;
}

Result<Record> Storage::create(std::string_view key, std::string_view parent,
                               core::SnapshotKind kind, const core::Labels& labels,
                               const std::string& staged) {
  if (key.empty()) return core::invalid_argument("snapshot key: empty");
  if (kind == core::SnapshotKind::kCommitted)
    return core::invalid_argument(quoted(key) + ": create of a committed snapshot");
  int64_t id = 0;
  bool renamed = false;
  auto done = db_->transaction([&]() -> Status {
    int64_t parent_id = 0;
    if (!parent.empty()) {
      auto p = get_locked(parent);
      if (!p) return std::move(p).error().wrap("parent of " + quoted(key));
      if (p->info.kind != core::SnapshotKind::kCommitted)
        return core::invalid_argument("parent " + quoted(parent) + " of " + quoted(key) +
                                      ": not committed");
      parent_id = p->id;
    }
    auto taken = BERTH_VALUE(db_->prepare("SELECT 1 FROM snapshots WHERE key = ?"));
    taken.bind(1, key);
    if (BERTH_VALUE(taken.step())) return core::already_exists(quoted(key) + ": already exists");
    auto ins =
        BERTH_VALUE(db_->prepare("INSERT INTO snapshots (key, parent_id, kind, created_at, "
                                 "updated_at) VALUES (?, ?, ?, ?, ?)"));
    ins.bind(1, key);
    if (parent_id)
      ins.bind(2, parent_id);
    else
      ins.bind_null(2);
    int64_t t = now();
    ins.bind(3, static_cast<int64_t>(kind)).bind(4, t).bind(5, t);
    BERTH_TRY(ins.run());
    auto last = BERTH_VALUE(db_->prepare("SELECT last_insert_rowid()"));
    BERTH_TRY(last.step());
    id = last.column_int(0);
    for (const auto& [k, v] : labels) {
      auto l = BERTH_VALUE(
          db_->prepare("INSERT INTO labels (snapshot_id, name, value) VALUES (?, ?, ?)"));
      l.bind(1, id).bind(2, k).bind(3, v);
      BERTH_TRY(l.run());
    }
    // The directory takes its final name before COMMIT: once the record is
    // visible its directory is there.
    if (sys::renameat(AT_FDCWD, staged.c_str(), AT_FDCWD, dir(id).c_str()) != 0)
      return sys_error("rename", staged);
    renamed = true;
    step("create:renamed");
    return {};
  });
  if (!done) {
    // A failed COMMIT rolled the id back: the next create would get it
    // again and find its directory taken. Give the dir back to the caller,
    // who deletes what it staged.
    if (renamed) (void)sys::renameat(AT_FDCWD, dir(id).c_str(), AT_FDCWD, staged.c_str());
    return std::move(done).error();
  }
  step("create:committed");
  return get(key);
}

Status Storage::commit(std::string_view name, std::string_view key, const core::Labels& labels,
                       const core::SnapshotUsage& usage) {
  if (name.empty()) return core::invalid_argument("commit of " + quoted(key) + ": empty name");
  return db_->transaction([&]() -> Status {
    Record r = BERTH_VALUE(get_locked(key));
    if (r.info.kind != core::SnapshotKind::kActive)
      return core::invalid_argument("commit of " + quoted(key) + ": " +
                                    std::string(core::to_string(r.info.kind)) + ", not active");
    auto taken = BERTH_VALUE(db_->prepare("SELECT 1 FROM snapshots WHERE key = ?"));
    taken.bind(1, name);
    if (BERTH_VALUE(taken.step()))
      return core::already_exists("commit of " + quoted(key) + ": " + quoted(name) +
                                  " already exists");
    auto up =
        BERTH_VALUE(db_->prepare("UPDATE snapshots SET key = ?, kind = ?, updated_at = ?, size = "
                                 "?, inodes = ? WHERE id = ?"));
    up.bind(1, name).bind(2, static_cast<int64_t>(core::SnapshotKind::kCommitted)).bind(3, now());
    up.bind(4, usage.size).bind(5, usage.inodes).bind(6, r.id);
    BERTH_TRY(up.run());
    // containerd's commit replaces the labels with the ones given.
    auto del = BERTH_VALUE(db_->prepare("DELETE FROM labels WHERE snapshot_id = ?"));
    del.bind(1, r.id);
    BERTH_TRY(del.run());
    for (const auto& [k, v] : labels) {
      auto l = BERTH_VALUE(
          db_->prepare("INSERT INTO labels (snapshot_id, name, value) VALUES (?, ?, ?)"));
      l.bind(1, r.id).bind(2, k).bind(3, v);
      BERTH_TRY(l.run());
    }
    step("commit:updated");
    return {};
  });
}

Status Storage::remove(std::string_view key) {
  int64_t id = 0;
  BERTH_TRY(db_->transaction([&]() -> Status {
    Record r = BERTH_VALUE(get_locked(key));
    auto kids = BERTH_VALUE(
        db_->prepare("SELECT key FROM snapshots WHERE parent_id = ? ORDER BY key LIMIT 1"));
    kids.bind(1, r.id);
    if (BERTH_VALUE(kids.step()))
      return core::in_use("remove " + quoted(key) + ": has children (" +
                          quoted(kids.column_text(0)) + ")");
    auto del = BERTH_VALUE(db_->prepare("DELETE FROM snapshots WHERE id = ?"));
    del.bind(1, r.id);
    BERTH_TRY(del.run());
    id = r.id;
    step("remove:deleted");
    return {};
  }));
  step("remove:committed");
  // The rename makes the whole tree vanish at once; a crash in the slow
  // delete below leaves only trash/, which open() clears.
  std::string trash = root_ + "/trash/" + std::to_string(id);
  if (sys::renameat(AT_FDCWD, dir(id).c_str(), AT_FDCWD, trash.c_str()) != 0)
    return sys_error("rename", dir(id)).wrap("remove " + quoted(key));
  step("remove:renamed");
  return sys::remove_all(trash);
}

}  // namespace berth::snapshots
