#pragma once
// A small SQLite wrapper for the supervisor's stores (metadata, snapshot
// state): one connection per file in WAL mode with foreign keys on,
// serialised by a mutex (gRPC calls arrive on many threads), schema
// migrations numbered from 1, and every change one transaction.
//
//   open(path, migrations)   creates the file 0600, sets journal_mode=WAL,
//                            synchronous=FULL (a commit survives power loss:
//                            "nothing a user stored is lost"), foreign_keys=ON,
//                            busy_timeout, then runs migrations[user_version..]
//                            each in its own transaction.
//   transaction(fn)          BEGIN IMMEDIATE … COMMIT, ROLLBACK when fn fails.
//   read(fn)                 the lock only, for consistent multi-statement reads.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace berth::sqlite {

class Database;

// A prepared statement: bind by 1-based index, step, read columns.
class Statement {
 public:
  Statement(Statement&&) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, int64_t value);
  Statement& bind_null(int index);
  // True while there is a row; an error for a failed step.
  Result<bool> step();
  // Runs to completion (INSERT/UPDATE/DELETE).
  Status run();
  std::string column_text(int index) const;
  int64_t column_int(int index) const;
  bool column_is_null(int index) const;

 private:
  friend class Database;
  Statement(Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Database* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  using Migration = std::string;  // SQL run in one transaction
  static Result<std::unique_ptr<Database>> open(const std::string& path,
                                                const std::vector<Migration>& migrations);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Only inside transaction()/read() (the mutex is held there).
  Result<Statement> prepare(std::string_view sql);
  Status exec(std::string_view sql);
  int64_t changes() const;

  Status transaction(const std::function<Status()>& fn);
  Status read(const std::function<Status()>& fn);
  int64_t schema_version() const { return version_; }
  const std::string& path() const { return path_; }

  // The message of the last failure, with the file named.
  Error error(std::string_view op) const;

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  int64_t version_ = 0;
  std::recursive_mutex mu_;
};

}  // namespace berth::sqlite
