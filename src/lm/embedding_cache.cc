#include "lm/embedding_cache.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <unordered_map>

#include "common/sha256.h"

namespace souk::lm {
namespace {

static_assert(std::endian::native == std::endian::little,
              "rows are stored as little-endian float32");

constexpr char kFormatVersion[] = "1";

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

Status SqlError(sqlite3* db, std::string_view what) {
  const int rc = sqlite3_errcode(db);
  std::string msg = fmt::format("embedding cache {} ({}): {}", what,
                                sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
  if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) return DataLossError(std::move(msg));
  if (rc == SQLITE_FULL) return ResourceExhaustedError(std::move(msg));
  return UnavailableError(std::move(msg));
}

Status Exec(sqlite3* db, const char* sql, std::string_view what) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return SqlError(db, what);
  return OkStatus();
}

// Rolls back an open transaction unless Commit() succeeded.
class Transaction {
 public:
  Transaction(sqlite3* db, bool write) : db_(db) {
    status_ = Exec(db, write ? "BEGIN IMMEDIATE" : "BEGIN", "begin transaction");
    open_ = status_.ok();
  }
  ~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  const Status& status() const { return status_; }
  Status Commit() {
    RETURN_IF_ERROR(Exec(db_, "COMMIT", "commit"));
    open_ = false;
    return OkStatus();
  }

 private:
  sqlite3* db_;
  Status status_;
  bool open_ = false;
};

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

EmbeddingCache::EmbeddingCache(sqlite3* db) : db_(db) {}

EmbeddingCache::~EmbeddingCache() { sqlite3_close_v2(db_); }

StatusOr<std::unique_ptr<EmbeddingCache>> EmbeddingCache::Open(const std::filesystem::path& file) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  if (ec)
    return UnavailableError(
        fmt::format("cannot create {}: {}", file.parent_path().string(), ec.message()));
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<EmbeddingCache> cache(new EmbeddingCache(db));  // closes db on every return path
  if (rc != SQLITE_OK) {
    return UnavailableError(fmt::format("cannot open embedding cache {}: {}", file.string(),
                                        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db, 10000);
  RETURN_IF_ERROR(Exec(db, "PRAGMA journal_mode=WAL", "set WAL mode"));
  RETURN_IF_ERROR(Exec(db, "PRAGMA synchronous=NORMAL", "set synchronous"));
  RETURN_IF_ERROR(Exec(
      db,
      "CREATE TABLE IF NOT EXISTS cache_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS encoders(encoder_key TEXT PRIMARY KEY, dim INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS embeddings(encoder_key TEXT NOT NULL, text_hash TEXT NOT NULL,"
      " vec BLOB NOT NULL, PRIMARY KEY(encoder_key, text_hash)) WITHOUT ROWID;"
      "INSERT OR IGNORE INTO cache_meta(key, value) VALUES('format_version', '1');",
      "create tables"));
  Stmt q(db, "SELECT value FROM cache_meta WHERE key = 'format_version'");
  if (!q.ok() || sqlite3_step(q.get()) != SQLITE_ROW) return SqlError(db, "read format version");
  const std::string version = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0));
  if (version != kFormatVersion) {
    return FailedPreconditionError(
        fmt::format("embedding cache {}: format_version {} (this build reads {})", file.string(),
                    version, kFormatVersion));
  }
  return cache;
}

std::string EmbeddingCache::TextHash(std::string_view text) {
  std::string norm;
  norm.reserve(text.size());
  bool pending_space = false;
  for (char c : text) {
    if (IsSpace(c)) {
      pending_space = !norm.empty();
      continue;
    }
    if (pending_space) norm.push_back(' ');
    pending_space = false;
    norm.push_back(c);
  }
  return Sha256Hex(norm);
}

StatusOr<int> EmbeddingCache::StoredDimLocked(std::string_view encoder_key) {
  Stmt q(db_, "SELECT dim FROM encoders WHERE encoder_key = ?");
  if (!q.ok()) return SqlError(db_, "prepare");
  sqlite3_bind_text(q.get(), 1, encoder_key.data(), static_cast<int>(encoder_key.size()),
                    SQLITE_STATIC);
  const int rc = sqlite3_step(q.get());
  if (rc == SQLITE_ROW) return sqlite3_column_int(q.get(), 0);
  if (rc == SQLITE_DONE) return 0;
  return SqlError(db_, "read encoder dim");
}

StatusOr<size_t> EmbeddingCache::Lookup(std::string_view encoder_key,
                                        std::span<const std::string> texts, int dim, float* out,
                                        std::vector<uint8_t>* found) {
  if (dim <= 0)
    return InvalidArgumentError(
        fmt::format("embedding cache lookup: dim {} must be positive", dim));
  if (found == nullptr || (out == nullptr && !texts.empty())) {
    return InvalidArgumentError("embedding cache lookup: null out or found");
  }
  found->assign(texts.size(), 0);
  if (texts.empty()) return size_t{0};
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(db_, false);
  RETURN_IF_ERROR(txn.status());
  ASSIGN_OR_RETURN(const int stored, StoredDimLocked(encoder_key));
  if (stored == 0) return size_t{0};
  if (stored != dim) {
    return InvalidArgumentError(
        fmt::format("embedding cache: encoder '{}' has dim {} in the cache, asked for {}",
                    encoder_key, stored, dim));
  }
  Stmt q(db_, "SELECT vec FROM embeddings WHERE encoder_key = ? AND text_hash = ?");
  if (!q.ok()) return SqlError(db_, "prepare lookup");
  const size_t row_bytes = static_cast<size_t>(dim) * sizeof(float);
  size_t n = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string hash = TextHash(texts[i]);
    sqlite3_reset(q.get());
    sqlite3_bind_text(q.get(), 1, encoder_key.data(), static_cast<int>(encoder_key.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(q.get(), 2, hash.data(), static_cast<int>(hash.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(q.get());
    if (rc == SQLITE_DONE) continue;
    if (rc != SQLITE_ROW) return SqlError(db_, "lookup");
    const int bytes = sqlite3_column_bytes(q.get(), 0);
    if (static_cast<size_t>(bytes) != row_bytes) {
      return DataLossError(fmt::format(
          "embedding cache: row for encoder '{}' text hash {} has {} bytes, expected {}",
          encoder_key, hash, bytes, row_bytes));
    }
    std::memcpy(out + i * static_cast<size_t>(dim), sqlite3_column_blob(q.get(), 0), row_bytes);
    (*found)[i] = 1;
    ++n;
  }
  return n;
}

Status EmbeddingCache::Put(std::string_view encoder_key, std::span<const std::string> texts,
                           int dim, const float* rows) {
  if (dim <= 0)
    return InvalidArgumentError(fmt::format("embedding cache put: dim {} must be positive", dim));
  if (encoder_key.empty()) return InvalidArgumentError("embedding cache put: empty encoder key");
  if (texts.empty()) return OkStatus();
  if (rows == nullptr) return InvalidArgumentError("embedding cache put: null rows");
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(db_, true);
  RETURN_IF_ERROR(txn.status());
  ASSIGN_OR_RETURN(const int stored, StoredDimLocked(encoder_key));
  if (stored != 0 && stored != dim) {
    return InvalidArgumentError(
        fmt::format("embedding cache: encoder '{}' has dim {} in the cache, got rows of {}",
                    encoder_key, stored, dim));
  }
  if (stored == 0) {
    Stmt ins(db_, "INSERT INTO encoders(encoder_key, dim) VALUES(?, ?)");
    if (!ins.ok()) return SqlError(db_, "prepare");
    sqlite3_bind_text(ins.get(), 1, encoder_key.data(), static_cast<int>(encoder_key.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int(ins.get(), 2, dim);
    if (sqlite3_step(ins.get()) != SQLITE_DONE) return SqlError(db_, "register encoder");
  }
  Stmt put(db_, "INSERT OR REPLACE INTO embeddings(encoder_key, text_hash, vec) VALUES(?, ?, ?)");
  if (!put.ok()) return SqlError(db_, "prepare put");
  const size_t row_bytes = static_cast<size_t>(dim) * sizeof(float);
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string hash = TextHash(texts[i]);
    sqlite3_reset(put.get());
    sqlite3_bind_text(put.get(), 1, encoder_key.data(), static_cast<int>(encoder_key.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(put.get(), 2, hash.data(), static_cast<int>(hash.size()), SQLITE_STATIC);
    sqlite3_bind_blob(put.get(), 3, rows + i * static_cast<size_t>(dim),
                      static_cast<int>(row_bytes), SQLITE_STATIC);
    if (sqlite3_step(put.get()) != SQLITE_DONE) return SqlError(db_, "put");
  }
  return txn.Commit();
}

StatusOr<size_t> EmbeddingCache::Prune(std::string_view keep_encoder_key) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(db_, true);
  RETURN_IF_ERROR(txn.status());
  Stmt del(db_, "DELETE FROM embeddings WHERE encoder_key <> ?");
  if (!del.ok()) return SqlError(db_, "prepare prune");
  sqlite3_bind_text(del.get(), 1, keep_encoder_key.data(),
                    static_cast<int>(keep_encoder_key.size()), SQLITE_STATIC);
  if (sqlite3_step(del.get()) != SQLITE_DONE) return SqlError(db_, "prune");
  const size_t n = static_cast<size_t>(sqlite3_changes(db_));
  Stmt del_enc(db_, "DELETE FROM encoders WHERE encoder_key <> ?");
  if (!del_enc.ok()) return SqlError(db_, "prepare prune");
  sqlite3_bind_text(del_enc.get(), 1, keep_encoder_key.data(),
                    static_cast<int>(keep_encoder_key.size()), SQLITE_STATIC);
  if (sqlite3_step(del_enc.get()) != SQLITE_DONE) return SqlError(db_, "prune");
  RETURN_IF_ERROR(txn.Commit());
  return n;
}

StatusOr<size_t> EmbeddingCache::Count(std::string_view encoder_key) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "SELECT COUNT(*) FROM embeddings WHERE encoder_key = ?");
  if (!q.ok()) return SqlError(db_, "prepare count");
  sqlite3_bind_text(q.get(), 1, encoder_key.data(), static_cast<int>(encoder_key.size()),
                    SQLITE_STATIC);
  if (sqlite3_step(q.get()) != SQLITE_ROW) return SqlError(db_, "count");
  return static_cast<size_t>(sqlite3_column_int64(q.get(), 0));
}

StatusOr<CachedEmbedStats> EmbedWithCache(EmbeddingCache* cache, std::string_view encoder_key,
                                          int dim, std::span<const std::string> texts,
                                          const EmbedFn& embed, int batch_size, float* out,
                                          const ProgressOptions* progress) {
  if (cache == nullptr) return InvalidArgumentError("EmbedWithCache: null cache");
  if (dim <= 0)
    return InvalidArgumentError(fmt::format("EmbedWithCache: dim {} must be positive", dim));
  if (batch_size <= 0) {
    return InvalidArgumentError(
        fmt::format("EmbedWithCache: batch_size {} must be positive", batch_size));
  }
  if (out == nullptr && !texts.empty()) return InvalidArgumentError("EmbedWithCache: null out");
  if (!embed) return InvalidArgumentError("EmbedWithCache: no embed function");
  CachedEmbedStats stats;
  stats.total = texts.size();
  std::vector<uint8_t> found;
  ASSIGN_OR_RETURN(stats.from_cache, cache->Lookup(encoder_key, texts, dim, out, &found));

  // Distinct missing texts (by TextHash), each with the positions that need its row.
  std::vector<size_t> first_of;                // index into texts of each distinct missing text
  std::vector<std::vector<size_t>> copies_of;  // further positions with the same hash
  std::unordered_map<std::string, size_t> slot;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (found[i]) continue;
    auto [it, inserted] = slot.emplace(EmbeddingCache::TextHash(texts[i]), first_of.size());
    if (inserted) {
      first_of.push_back(i);
      copies_of.emplace_back();
    } else {
      copies_of[it->second].push_back(i);
      ++stats.duplicates;
    }
  }
  if (first_of.empty()) return stats;

  std::unique_ptr<Progress> bar;
  if (progress != nullptr) {
    ProgressOptions po = *progress;
    if (po.unit.empty()) po.unit = "texts";
    bar = std::make_unique<Progress>("embed (cache miss)", first_of.size(), po);
  }
  const size_t d = static_cast<size_t>(dim);
  std::vector<std::string> batch;
  std::vector<float> rows;
  for (size_t start = 0; start < first_of.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(first_of.size(), start + static_cast<size_t>(batch_size));
    batch.clear();
    for (size_t k = start; k < end; ++k) batch.push_back(texts[first_of[k]]);
    rows.assign(batch.size() * d, 0.0f);
    RETURN_IF_ERROR(embed(std::span<const std::string>(batch), rows.data()));
    RETURN_IF_ERROR(cache->Put(encoder_key, batch, dim, rows.data()));
    for (size_t k = start; k < end; ++k) {
      const float* row = rows.data() + (k - start) * d;
      std::memcpy(out + first_of[k] * d, row, d * sizeof(float));
      for (size_t pos : copies_of[k]) std::memcpy(out + pos * d, row, d * sizeof(float));
    }
    stats.embedded += batch.size();
    if (bar) bar->Add(batch.size());
  }
  if (bar) bar->Finish();
  return stats;
}

}  // namespace souk::lm
