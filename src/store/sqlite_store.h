// SqliteStore: the embedded Store on one SQLite database file in WAL mode.
// On-disk format: docs/formats/store.md. Schema changes are numbered migrations
// applied at open; a database written by a newer souk fails to open with a
// clear message instead of being misread.
//
// Thread-safety: all methods are thread-safe (one mutex serializes the write
// connection). Snapshots use their own read-only connections.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "store/store.h"

struct sqlite3;

namespace souk::store {

struct SqliteStoreOptions {
  // Behavior
  bool create_if_missing = true;       // create the file (and its folder) when absent
  std::string synchronous = "full";    // "full": a returned Write survives power loss; "normal": survives a crash
  // Performance
  int cache_mb = 256;                  // page cache of the write connection
  int busy_timeout_ms = 10000;         // wait for locks held by other processes
};

inline constexpr int kStoreSchemaVersion = 1;

class SqliteStore final : public Store {
 public:
  static StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                     const SqliteStoreOptions& options = {});
  ~SqliteStore() override;

  Status Write(const WriteBatch& batch, WriteResult* result) override;
  StatusOr<int64_t> BeginRun(const std::string& kind, const std::string& description) override;
  Status FinishRun(int64_t run_id, const std::string& status, const std::string& summary_json) override;
  StatusOr<int64_t> SourceId(const std::string& format, const std::string& path) override;
  bool HasItem(std::string_view external_id) const override;
  StatusOr<std::optional<StoredItem>> GetItem(std::string_view external_id) override;
  StatusOr<StoreStats> Stats() override;
  StatusOr<std::vector<QuarantineRecord>> ListQuarantine(int64_t limit, int64_t offset,
                                                         const std::string& reason) override;
  StatusOr<std::map<std::string, int64_t>> QuarantineReasons() override;
  StatusOr<int64_t> RemoveEvents(const EventFilter& filter) override;
  StatusOr<int64_t> ForgetUser(const std::string& external_id) override;
  StatusOr<std::unique_ptr<Snapshot>> OpenSnapshot() override;
  Status DeferSecondaryIndexes() override;
  Status RestoreSecondaryIndexes() override;
  StatusOr<int64_t> MaxEventId() override;
  StatusOr<std::vector<RecentEvent>> RecentEvents(const RecentEventsQuery& query) override;
  StatusOr<std::vector<UserSummary>> ListUsers(const ListUsersQuery& query) override;

  const std::string& path() const { return path_; }

 private:
  struct ItemMeta {
    int64_t id = 0;
    int64_t run = 0;          // last import run that wrote it
    uint64_t hash = 0;        // content hash of the stored record
    uint64_t merge_hash = 0;  // hash of the last partial record merged into it
    bool stub = false;
    bool deleted = false;
    bool stub_this_run = false;
  };
  class Statements;

  // Runs `body` in one BEGIN IMMEDIATE transaction under mu_ (rolled back when it fails).
  StatusOr<int64_t> InWriteTransaction(const std::function<StatusOr<int64_t>()>& body);
  // Runs `sql` with ?1 bound to `text`; returns the rows changed.
  StatusOr<int64_t> ExecWithText(const char* sql, std::string_view text);

  SqliteStore(std::string path, SqliteStoreOptions options, sqlite3* db);
  Status Init();
  Status LoadCaches();
  Status WriteLocked(const WriteBatch& batch, WriteResult* result);
  Status WriteItem(const ItemWrite& w, int64_t run_id, int64_t now_ms, WriteResult* r,
                   std::vector<QuarantineRecord>* extra_quarantine);
  StatusOr<int64_t> UserIdFor(const std::string& external, WriteResult* r);

  std::string path_;
  SqliteStoreOptions options_;
  mutable std::mutex mu_;
  sqlite3* db_ = nullptr;                                   // GUARDED_BY(mu_)
  std::unique_ptr<Statements> stmts_;                       // GUARDED_BY(mu_)
  // items_ is written only by the writer (holding mu_ and cache_mu_ exclusively);
  // HasItem() reads it under a shared cache_mu_, so it never waits for a batch.
  mutable std::shared_mutex cache_mu_;
  std::unordered_map<std::string, ItemMeta> items_;         // GUARDED_BY(cache_mu_) for writes
  std::unordered_map<std::string, int64_t> users_;          // GUARDED_BY(mu_)
  // Undo log for the caches, so a failed batch leaves them as they were.
  std::vector<std::pair<std::string, std::optional<ItemMeta>>> item_undo_;
  std::vector<std::string> user_undo_;
};

}  // namespace souk::store
