#include "store/sqlite_util.h"

#include <fmt/format.h>

namespace souk::store::internal {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string m = fmt::format("{}: {} (sqlite code {})", what, msg, rc);
  switch (rc & 0xff) {
    case SQLITE_FULL: return ResourceExhaustedError(m);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return UnavailableError(m);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return DataLossError(m);
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY: return FailedPreconditionError(m);
    case SQLITE_CONSTRAINT: return InvalidArgumentError(m);
    default: return InternalError(m);
  }
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string e = err ? err : "";
    sqlite3_free(err);
    return SqliteError(db, rc, std::string("executing `") + std::string(sql).substr(0, 80) + "`");
  }
  return OkStatus();
}

Status Stmt::Prepare(sqlite3* db, const char* sql) {
  db_ = db;
  sqlite3_finalize(stmt_);
  stmt_ = nullptr;
  int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, std::string("preparing `") + sql + "`");
  return OkStatus();
}

StatusOr<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, std::string("running `") + sqlite3_sql(stmt_) + "`");
}

Status Stmt::StepDone() {
  ASSIGN_OR_RETURN(bool row, Step());
  (void)row;
  return OkStatus();
}

}  // namespace souk::store::internal
