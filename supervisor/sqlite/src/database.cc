// SQLite wrapper (see database.h).

#include "berth/sqlite/database.h"

#include <fcntl.h>
#include <sqlite3.h>

#include "berth/base/sys.h"

namespace berth::sqlite {

Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->error("step `" + std::string(sqlite3_sql(stmt_)) + "`");
}

Status Statement::run() {
  for (;;) {
    auto more = step();
    if (!more) return std::move(more).error();
    if (!*more) return ok_status();
  }
}

std::string Statement::column_text(int index) const {
  auto* p = sqlite3_column_text(stmt_, index);
  int n = sqlite3_column_bytes(stmt_, index);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}
int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }
bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

Error Database::error(std::string_view op) const {
  int code = sqlite3_errcode(db_);
  // A full disk is the one SQLite failure a user can act on; keep its errno
  // so the gRPC edge says "no space left on device".
  int err = (code == SQLITE_FULL) ? ENOSPC : (code == SQLITE_BUSY ? EBUSY : EIO);
  return make_error("database `" + path_ + "`: " + std::string(op) + ": " + sqlite3_errmsg(db_),
                    err);
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path,
                                                 const std::vector<Migration>& migrations) {
  // Create it 0600 ourselves: sqlite would use 0644 and the umask, and the
  // metadata names every image a user has.
  {
    auto fd = sys::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (!fd) return std::move(fd).error();
  }
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
  std::unique_ptr<Database> db(new Database(raw, path));
  if (rc != SQLITE_OK) return db->error("open");
  sqlite3_busy_timeout(raw, 5000);
  std::lock_guard lock(db->mu_);
  BERTH_TRY(db->exec("PRAGMA journal_mode=WAL"));
  BERTH_TRY(db->exec("PRAGMA synchronous=FULL"));
  BERTH_TRY(db->exec("PRAGMA foreign_keys=ON"));
  auto st = BERTH_VALUE(db->prepare("PRAGMA user_version"));
  BERTH_TRY(st.step());
  db->version_ = st.column_int(0);
  if (db->version_ > static_cast<int64_t>(migrations.size()))
    return make_error("database `" + path + "`: schema version " + std::to_string(db->version_) +
                      " is newer than this berthd knows (" + std::to_string(migrations.size()) +
                      ")");
  for (size_t i = static_cast<size_t>(db->version_); i < migrations.size(); ++i) {
    auto next = static_cast<int64_t>(i + 1);
    BERTH_TRY_CTX(db->transaction([&]() -> Status {
      BERTH_TRY(db->exec(migrations[i]));
      return db->exec("PRAGMA user_version=" + std::to_string(next));
    }),
                  "migration " + std::to_string(next));
    db->version_ = next;
  }
  return db;
}

Database::~Database() { sqlite3_close_v2(db_); }

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK)
    return error("prepare `" + std::string(sql) + "`");
  return Statement(this, stmt);
}

Status Database::exec(std::string_view sql) {
  std::string text(sql);
  char* msg = nullptr;
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    sqlite3_free(msg);
    return error("exec `" + text.substr(0, 60) + "`");
  }
  return ok_status();
}

int64_t Database::changes() const { return sqlite3_changes64(db_); }

Status Database::transaction(const std::function<Status()>& fn) {
  std::lock_guard lock(mu_);
  BERTH_TRY(exec("BEGIN IMMEDIATE"));
  Status st = fn();
  if (!st.ok()) {
    (void)exec("ROLLBACK");
    return st;
  }
  auto commit = exec("COMMIT");
  if (!commit.ok()) (void)exec("ROLLBACK");
  return commit;
}

Status Database::read(const std::function<Status()>& fn) {
  std::lock_guard lock(mu_);
  return fn();
}

}  // namespace berth::sqlite
