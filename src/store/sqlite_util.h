// Small RAII helpers around the SQLite C API (private to store/).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace souk::store::internal {

// Maps a SQLite result code to a Status naming the operation.
Status SqliteError(sqlite3* db, int rc, std::string_view what);
Status Exec(sqlite3* db, const char* sql);

class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }

  Status Prepare(sqlite3* db, const char* sql);
  sqlite3_stmt* get() const { return stmt_; }

  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  void BindText(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  }
  void BindTextOrNull(int i, std::string_view s) {
    if (s.empty()) sqlite3_bind_null(stmt_, i);
    else BindText(i, s);
  }
  void BindInt(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindIntOrNull(int i, int64_t v) {
    if (v == 0) sqlite3_bind_null(stmt_, i);
    else sqlite3_bind_int64(stmt_, i, v);
  }
  void BindDouble(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void BindOptDouble(int i, const std::optional<double>& v) {
    if (v) sqlite3_bind_double(stmt_, i, *v);
    else sqlite3_bind_null(stmt_, i);
  }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }

  // SQLITE_ROW -> true, SQLITE_DONE -> false, otherwise an error.
  StatusOr<bool> Step();
  Status StepDone();

  int64_t ColInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  double ColDouble(int i) const { return sqlite3_column_double(stmt_, i); }
  bool ColIsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::optional<double> ColOptDouble(int i) const {
    if (ColIsNull(i)) return std::nullopt;
    return ColDouble(i);
  }
  std::string ColText(int i) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, i)) : std::string();
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

}  // namespace souk::store::internal
