// Store: the durable home of the catalog, users, events, quarantine and
// judgments. `SqliteStore` (sqlite_store.h) is the embedded implementation; a
// PostgreSQL one can implement the same interface later.
//
// Durability contract: when Write() returns OK, the whole batch is committed in
// one transaction and survives a process crash (and, with store.synchronous =
// full, a power loss). A failed Write() leaves nothing of the batch behind.
//
// Thread-safety: implementations are thread-safe; writes are serialized.
// Snapshots are independent objects, each used by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/types.h"

namespace souk::store {

// How an item upsert treats an id that already exists.
enum class ItemWriteMode {
  kCatalog,  // full record from a catalog: replaces the stored one (a stub is upgraded);
             // a second, different record for the same id in the same import run is a conflict
  kMerge,    // partial record seen in behavior data: fills empty fields, newer price wins
  kStub,     // placeholder for an unknown item: only created when the id is absent
};

struct ItemWrite {
  Item item;
  ItemWriteMode mode = ItemWriteMode::kCatalog;
  int64_t line = 0;          // where it came from (for conflict quarantine)
  std::string source;
  std::string raw;
};

// One transaction's worth of changes. Applied in this order: items, deletes,
// users, events (users named by events are created), judgments, quarantine.
struct WriteBatch {
  int64_t run_id = 0;                       // the import run (0 = none)
  std::vector<ItemWrite> items;
  std::vector<std::string> delete_items;    // external ids (soft delete: tombstone)
  std::vector<User> users;
  std::vector<Event> events;
  std::vector<Judgment> judgments;
  std::vector<QuarantineRecord> quarantine;

  size_t size() const {
    return items.size() + delete_items.size() + users.size() + events.size() + judgments.size() +
           quarantine.size();
  }
  void clear();
};

struct WriteResult {
  int64_t items_inserted = 0;
  int64_t items_updated = 0;
  int64_t items_unchanged = 0;      // identical to what was stored by an earlier run
  int64_t items_deleted = 0;
  int64_t stubs_created = 0;
  int64_t item_duplicates = 0;      // the same record twice in one run (quarantined)
  int64_t item_conflicts = 0;       // different records for one id in one run (quarantined)
  int64_t users_inserted = 0;
  int64_t users_updated = 0;
  int64_t events_appended = 0;
  int64_t events_already_present = 0;  // import_key seen before (re-import)
  int64_t judgments_written = 0;
  int64_t quarantined = 0;
  std::map<std::string, int64_t> quarantine_reasons;  // reasons added by the store itself

  void Add(const WriteResult& o);
};

struct StoreStats {
  int64_t items = 0;          // live (not deleted) items, stubs included
  int64_t stub_items = 0;
  int64_t deleted_items = 0;
  int64_t users = 0;
  int64_t events = 0;
  int64_t quarantined = 0;
  int64_t judgments = 0;
  int64_t sessions = 0;       // distinct non-empty session ids
  int64_t events_by_type[kNumEventTypes] = {};
  int64_t min_event_ms = 0, max_event_ms = 0;
  int schema_version = 0;
};

// An item as read back, with its dense id.
struct StoredItem {
  int64_t id = 0;             // dense id (1-based row id)
  Item item;
  bool deleted = false;
};

// A compact event as read back for training and reports.
struct StoredEvent {
  int64_t id = 0;             // append order
  int64_t user = 0;           // dense user id (0 = anonymous)
  int64_t item = 0;           // dense item id (0 = none)
  EventType type = EventType::kView;
  int64_t timestamp_ms = 0;
  std::optional<double> value, quantity, price;
  std::string session;
  std::string query;
  std::string context;        // JSON object or empty
};

struct EventFilter {
  std::vector<std::string> sessions;   // remove events of these session ids
  std::vector<std::string> users;      // remove events of these external user ids
  bool exact_duplicates = false;       // keep only the first of identical events
};

// The latest events of one shopper or session (live recommendations read them
// at request time, so a new event counts without retraining).
struct RecentEventsQuery {
  std::string user_id;       // external user id ("" = any user: session_id is then required)
  std::string session_id;    // only this session ("" = every session of the user)
  int64_t limit = 200;       // the newest `limit` events are returned (>= 1)
};

struct RecentEvent {
  std::string item_id;       // external item id ("" for events without an item, e.g. searches)
  EventType type = EventType::kView;
  int64_t timestamp_ms = 0;
  std::optional<double> value, quantity;
  std::string session;
  std::string query;         // search events: what was typed
};

// Shoppers for browsing (the console's shopper picker).
struct ListUsersQuery {
  std::string prefix;        // external ids starting with this ("" = all)
  bool by_events = false;    // most active first (else by external id)
  int64_t limit = 20;        // 1..1000
  int64_t offset = 0;        // >= 0
};

struct UserSummary {
  std::string external_id;
  int64_t events = 0;
  int64_t last_event_ms = 0;  // 0 when the user has no events
};

// A consistent, read-only view of the store at one moment (a read transaction).
// `watermark()` is the largest event id visible, so a training job can record
// exactly which data it saw and later continue from there.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
  virtual int64_t watermark() const = 0;
  virtual StatusOr<StoreStats> Stats() = 0;
  // Visits events with id in (after_id, watermark] in id order; stop early by returning false.
  virtual Status ForEachEvent(const std::function<bool(const StoredEvent&)>& fn,
                              int64_t after_id = 0) = 0;
  virtual Status ForEachItem(const std::function<bool(const StoredItem&)>& fn) = 0;
  // Dense user id -> external id for all users.
  virtual StatusOr<std::vector<std::string>> UserIds() = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Status Write(const WriteBatch& batch, WriteResult* result) = 0;

  // Import runs: a record of every import with its summary.
  virtual StatusOr<int64_t> BeginRun(const std::string& kind, const std::string& description) = 0;
  virtual Status FinishRun(int64_t run_id, const std::string& status,
                           const std::string& summary_json) = 0;
  // A stable small id for a data source (format + path); the same source keeps its id.
  virtual StatusOr<int64_t> SourceId(const std::string& format, const std::string& path) = 0;

  virtual bool HasItem(std::string_view external_id) const = 0;
  virtual StatusOr<std::optional<StoredItem>> GetItem(std::string_view external_id) = 0;

  virtual StatusOr<StoreStats> Stats() = 0;
  virtual StatusOr<std::vector<QuarantineRecord>> ListQuarantine(int64_t limit, int64_t offset,
                                                                 const std::string& reason) = 0;
  // Count of quarantined records per reason.
  virtual StatusOr<std::map<std::string, int64_t>> QuarantineReasons() = 0;

  // Removes events (explicit cleaning); returns how many were removed.
  virtual StatusOr<int64_t> RemoveEvents(const EventFilter& filter) = 0;
  // Forgets a user (privacy): deletes the user's events, the user's row and
  // attributes, and quarantined records whose raw text contains the id, in one
  // transaction. The dense id is not reused. Returns the events removed (0 for
  // an unknown user). Default: Unimplemented.
  virtual StatusOr<int64_t> ForgetUser(const std::string& external_id);

  virtual StatusOr<std::unique_ptr<Snapshot>> OpenSnapshot() = 0;

  // Bulk loading: drop the secondary event indexes before a large import and
  // build them again (sorted, much faster than row by row) afterwards. If the
  // process dies in between, the next Open() rebuilds them.
  virtual Status DeferSecondaryIndexes() = 0;
  virtual Status RestoreSecondaryIndexes() = 0;
  // Largest event id (a cheap upper bound of the event count).
  virtual StatusOr<int64_t> MaxEventId() = 0;

  // The newest query.limit events of a user and/or session, returned oldest
  // first (by timestamp, then append order). An unknown user or session gives an
  // empty list. InvalidArgument when neither is given or limit < 1. Cost: a
  // range scan of the events_user_ts index for a user; a session alone scans
  // the events table. Default: Unimplemented.
  virtual StatusOr<std::vector<RecentEvent>> RecentEvents(const RecentEventsQuery& query);

  // A page of users with their event counts. InvalidArgument for a limit outside
  // 1..1000 or a negative offset. Cost: by external id, a range scan of the users'
  // unique index plus one index lookup per returned user; by_events, one pass over
  // the events of the matching users (a full events scan without a prefix).
  // Default: Unimplemented.
  virtual StatusOr<std::vector<UserSummary>> ListUsers(const ListUsersQuery& query);
};

}  // namespace souk::store
