// The metadata database (see metadata.h): its schema and the rules shared by
// the stores over it.

#include "berth/metadata/metadata.h"

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "columns.h"

namespace berth::metadata {

namespace {

// The schema: the table of truth. A change is a new migration appended
// below, never an edit of a shipped one (a daemon upgraded in place runs
// only the migrations past its file's user_version).
//
//   namespaces       one row per namespace any record was ever made in
//   images           name → target descriptor; target_extra holds the
//                    descriptor's urls, annotations and platform as JSON,
//                    labels a JSON object; images_by_digest serves the GC
//   leases           id, labels (JSON), expiry (0: never)
//   lease_resources  what a lease keeps alive: (type, id), removed with
//                    its lease (ON DELETE CASCADE)
//   containers       (2) id → name (unique per namespace), image, snapshot,
//                    config and state as JSON (core/container.h's codec);
//                    the state is rewritten on every start and exit
//   volumes          (3) name → mountpoint, labels (JSON), anonymous flag
const std::vector<sqlite::Database::Migration> kMigrations = {
    R"sql(
CREATE TABLE namespaces (
  name        TEXT PRIMARY KEY NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE TABLE images (
  namespace     TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  media_type    TEXT NOT NULL,
  digest        TEXT NOT NULL,
  size          INTEGER NOT NULL CHECK (size >= 0),
  target_extra  TEXT NOT NULL DEFAULT '{}',
  labels        TEXT NOT NULL DEFAULT '{}',
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (namespace, name)
);
CREATE INDEX images_by_digest ON images(digest);
CREATE TABLE leases (
  namespace   TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  id          TEXT NOT NULL,
  labels      TEXT NOT NULL DEFAULT '{}',
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (namespace, id)
);
CREATE TABLE lease_resources (
  namespace  TEXT NOT NULL,
  lease      TEXT NOT NULL,
  type       TEXT NOT NULL,
  id         TEXT NOT NULL,
  PRIMARY KEY (namespace, lease, type, id),
  FOREIGN KEY (namespace, lease) REFERENCES leases(namespace, id) ON DELETE CASCADE
);
)sql",
    R"sql(
CREATE TABLE containers (
  namespace     TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  id            TEXT NOT NULL,
  name          TEXT NOT NULL,
  image_name    TEXT NOT NULL,
  image_id      TEXT NOT NULL,
  snapshotter   TEXT NOT NULL,
  snapshot_key  TEXT NOT NULL,
  config        TEXT NOT NULL,
  state         TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (namespace, id),
  UNIQUE (namespace, name)
);
)sql",
    R"sql(
CREATE TABLE volumes (
  namespace   TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  mountpoint  TEXT NOT NULL,
  labels      TEXT NOT NULL DEFAULT '{}',
  anonymous   INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (namespace, name)
);
)sql",
};

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

Status validate_identifier(std::string_view id, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return core::invalid_argument(std::string(what) + " `" + std::string(id) +
                                  "`: " + std::string(why));
  };
  if (id.empty()) return core::invalid_argument(std::string(what) + ": empty");
  if (id.size() > 76) return bad("longer than 76 characters");
  if (!is_alnum(id.front()) || !is_alnum(id.back()))
    return bad("must start and end with a letter or digit");
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    if (is_alnum(c)) continue;
    if (c != '.' && c != '_' && c != '-')
      return bad("only letters, digits, '.', '_' and '-' are allowed");
    if (!is_alnum(id[i + 1])) return bad("separators must be single");
  }
  return ok_status();
}

Result<std::unique_ptr<MetadataDb>> MetadataDb::open(const std::string& root) {
  BERTH_TRY(sys::mkdir_p(root, 0700));
  auto db = BERTH_VALUE(sqlite::Database::open(root + "/meta.db", kMigrations));
  return std::unique_ptr<MetadataDb>(new MetadataDb(std::move(db)));
}

Status MetadataDb::ensure_namespace(std::string_view ns) {
  auto st = BERTH_VALUE(
      db_->prepare("INSERT OR IGNORE INTO namespaces (name, created_at) VALUES (?, ?)"));
  return st.bind(1, ns).bind(2, detail::now()).run();
}

}  // namespace berth::metadata
