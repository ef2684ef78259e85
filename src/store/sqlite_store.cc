#include "store/sqlite_store.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

#include "common/clock.h"
#include "store/sqlite_util.h"

namespace souk::store {

using internal::Exec;
using internal::SqliteError;
using internal::Stmt;

namespace {

// Each entry upgrades the schema from version i to i+1. Never edit a shipped entry:
// append a new one (and bump kStoreSchemaVersion).
const char* const kMigrations[] = {
    // v0 -> v1: the initial schema.
    R"sql(
CREATE TABLE items(
  id INTEGER PRIMARY KEY,
  ext_id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  brand TEXT NOT NULL DEFAULT '',
  category TEXT NOT NULL DEFAULT '',
  price REAL,
  currency TEXT NOT NULL DEFAULT '',
  attributes TEXT NOT NULL DEFAULT '{}',
  images TEXT NOT NULL DEFAULT '[]',
  in_stock INTEGER,
  language TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0,
  is_stub INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,
  run_id INTEGER NOT NULL DEFAULT 0,
  content_hash INTEGER NOT NULL DEFAULT 0);
CREATE TABLE users(
  id INTEGER PRIMARY KEY,
  ext_id TEXT NOT NULL UNIQUE,
  attributes TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL DEFAULT 0);
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  user_id INTEGER,
  session TEXT,
  item_id INTEGER,
  type INTEGER NOT NULL,
  query TEXT,
  value REAL,
  quantity REAL,
  price REAL,
  context TEXT,
  import_key INTEGER,
  run_id INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX events_import_key ON events(import_key) WHERE import_key IS NOT NULL;
CREATE TABLE quarantine(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL,
  line INTEGER NOT NULL,
  byte_offset INTEGER NOT NULL DEFAULT -1,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  raw TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE(source, line, reason));
CREATE TABLE judgments(
  source TEXT NOT NULL,
  query TEXT NOT NULL,
  item_id INTEGER NOT NULL,
  relevance REAL NOT NULL,
  PRIMARY KEY(source, query, item_id));
CREATE TABLE import_runs(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  description TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  status TEXT NOT NULL,
  summary TEXT);
CREATE TABLE sources(
  id INTEGER PRIMARY KEY,
  format TEXT NOT NULL,
  path TEXT NOT NULL,
  UNIQUE(format, path));
)sql",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kStoreSchemaVersion);

// Secondary indexes of the events table: part of every schema version, created
// at open when missing (they are dropped during bulk loads). Only indexes that a
// query uses are kept: per-user history (recommendations, intent, forgetting a
// user). Training jobs and reports scan events in id order and need none.
constexpr const char* kSecondaryIndexes =
    "CREATE INDEX IF NOT EXISTS events_user_ts ON events(user_id, ts);";

constexpr const char* kItemColumns =
    "id, ext_id, title, description, brand, category, price, currency, attributes, images, "
    "in_stock, language, created_at, updated_at, is_stub, deleted";

StoredItem ReadItem(const Stmt& s) {
  StoredItem r;
  r.id = s.ColInt(0);
  Item& it = r.item;
  it.external_id = s.ColText(1);
  it.title = s.ColText(2);
  it.description = s.ColText(3);
  it.brand = s.ColText(4);
  it.category = s.ColText(5);
  it.price = s.ColOptDouble(6);
  it.currency = s.ColText(7);
  it.attributes_json = s.ColText(8);
  it.images_json = s.ColText(9);
  if (!s.ColIsNull(10)) it.in_stock = s.ColInt(10) != 0;
  it.language = s.ColText(11);
  it.created_at_ms = s.ColInt(12);
  it.updated_at_ms = s.ColInt(13);
  it.is_stub = s.ColInt(14) != 0;
  r.deleted = s.ColInt(15) != 0;
  return r;
}

uint64_t MergeHash(const Item& it) { return it.ContentHash(); }

StatusOr<StoreStats> ComputeStats(sqlite3* db) {
  StoreStats st;
  Stmt s;
  RETURN_IF_ERROR(s.Prepare(db,
      "SELECT (SELECT COUNT(*) FROM items WHERE deleted = 0),"
      " (SELECT COUNT(*) FROM items WHERE deleted = 0 AND is_stub = 1),"
      " (SELECT COUNT(*) FROM items WHERE deleted = 1),"
      " (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM quarantine),"
      " (SELECT COUNT(*) FROM judgments), (SELECT MIN(ts) FROM events), (SELECT MAX(ts) FROM events),"
      " (SELECT version FROM schema_version)"));
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (row) {
    st.items = s.ColInt(0);
    st.stub_items = s.ColInt(1);
    st.deleted_items = s.ColInt(2);
    st.users = s.ColInt(3);
    st.quarantined = s.ColInt(4);
    st.judgments = s.ColInt(5);
    st.min_event_ms = s.ColInt(6);
    st.max_event_ms = s.ColInt(7);
    st.schema_version = static_cast<int>(s.ColInt(8));
  }
  Stmt t;
  RETURN_IF_ERROR(t.Prepare(db, "SELECT type, COUNT(*) FROM events GROUP BY type"));
  for (;;) {
    ASSIGN_OR_RETURN(bool r, t.Step());
    if (!r) break;
    const int64_t type = t.ColInt(0);
    if (type >= 0 && type < kNumEventTypes) st.events_by_type[type] = t.ColInt(1);
    st.events += t.ColInt(1);
  }
  Stmt u;
  RETURN_IF_ERROR(u.Prepare(db, "SELECT COUNT(*) FROM (SELECT DISTINCT session FROM events WHERE session IS NOT NULL)"));
  ASSIGN_OR_RETURN(row, u.Step());
  if (row) st.sessions = u.ColInt(0);
  return st;
}

Status ApplyPragmas(sqlite3* db, const SqliteStoreOptions& o, bool writer) {
  RETURN_IF_ERROR(Exec(db, fmt::format("PRAGMA busy_timeout = {}", o.busy_timeout_ms).c_str()));
  if (writer) {
    RETURN_IF_ERROR(Exec(db, "PRAGMA journal_mode = WAL"));
    if (o.synchronous != "full" && o.synchronous != "normal") {
      return InvalidArgumentError("store.synchronous must be 'full' or 'normal', got '" +
                                  o.synchronous + "'");
    }
    RETURN_IF_ERROR(Exec(db, ("PRAGMA synchronous = " + o.synchronous).c_str()));
    RETURN_IF_ERROR(Exec(db, fmt::format("PRAGMA cache_size = -{}", o.cache_mb * 1024).c_str()));
    RETURN_IF_ERROR(Exec(db, "PRAGMA temp_store = MEMORY"));
    // Keep the WAL from growing without bound during long imports.
    RETURN_IF_ERROR(Exec(db, "PRAGMA wal_autocheckpoint = 10000"));
  }
  return OkStatus();
}

}  // namespace

// Prepared statements of the write connection.
class SqliteStore::Statements {
 public:
  Stmt insert_item, update_item, merge_item, touch_item, delete_item, insert_user, upsert_user,
      insert_event, insert_judgment, insert_quarantine, get_item;

  Status Prepare(sqlite3* db) {
    RETURN_IF_ERROR(insert_item.Prepare(db,
        "INSERT INTO items(ext_id, title, description, brand, category, price, currency, attributes,"
        " images, in_stock, language, created_at, updated_at, is_stub, run_id, content_hash)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)"));
    RETURN_IF_ERROR(update_item.Prepare(db,
        "UPDATE items SET title=?2, description=?3, brand=?4, category=?5, price=?6, currency=?7,"
        " attributes=?8, images=?9, in_stock=?10, language=?11,"
        " created_at=CASE WHEN ?12 != 0 THEN ?12 ELSE created_at END, updated_at=?13, is_stub=?14,"
        " run_id=?15, content_hash=?16, deleted=0 WHERE ext_id=?1"));
    RETURN_IF_ERROR(merge_item.Prepare(db,
        "UPDATE items SET title=CASE WHEN title='' THEN ?2 ELSE title END,"
        " description=CASE WHEN description='' THEN ?3 ELSE description END,"
        " brand=CASE WHEN brand='' THEN ?4 ELSE brand END,"
        " category=CASE WHEN category='' THEN ?5 ELSE category END,"
        " price=COALESCE(?6, price), currency=CASE WHEN ?7 != '' THEN ?7 ELSE currency END,"
        " language=CASE WHEN language='' THEN ?11 ELSE language END,"
        " attributes=CASE WHEN attributes='{}' THEN ?8 ELSE attributes END,"
        " images=CASE WHEN images='[]' THEN ?9 ELSE images END,"
        " in_stock=COALESCE(?10, in_stock), updated_at=?13, is_stub=0, deleted=0, run_id=?15"
        " WHERE ext_id=?1"));
    RETURN_IF_ERROR(touch_item.Prepare(db, "UPDATE items SET run_id=?2 WHERE ext_id=?1"));
    RETURN_IF_ERROR(delete_item.Prepare(db,
        "UPDATE items SET deleted=1, updated_at=?2 WHERE ext_id=?1 AND deleted=0"));
    RETURN_IF_ERROR(insert_user.Prepare(db,
        "INSERT INTO users(ext_id, attributes, created_at) VALUES(?1, ?2, ?3)"));
    RETURN_IF_ERROR(upsert_user.Prepare(db,
        "UPDATE users SET attributes=?2, created_at=CASE WHEN ?3 != 0 THEN ?3 ELSE created_at END"
        " WHERE ext_id=?1"));
    RETURN_IF_ERROR(insert_event.Prepare(db,
        "INSERT OR IGNORE INTO events(ts, user_id, session, item_id, type, query, value, quantity,"
        " price, context, import_key, run_id) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"));
    RETURN_IF_ERROR(insert_judgment.Prepare(db,
        "INSERT OR REPLACE INTO judgments(source, query, item_id, relevance) VALUES(?1,?2,?3,?4)"));
    RETURN_IF_ERROR(insert_quarantine.Prepare(db,
        "INSERT OR IGNORE INTO quarantine(run_id, source, line, byte_offset, reason, detail, raw,"
        " created_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)"));
    RETURN_IF_ERROR(get_item.Prepare(db,
        (std::string("SELECT ") + kItemColumns + " FROM items WHERE ext_id=?1").c_str()));
    return OkStatus();
  }
};

void WriteBatch::clear() {
  items.clear();
  delete_items.clear();
  users.clear();
  events.clear();
  judgments.clear();
  quarantine.clear();
}

void WriteResult::Add(const WriteResult& o) {
  items_inserted += o.items_inserted;
  items_updated += o.items_updated;
  items_unchanged += o.items_unchanged;
  items_deleted += o.items_deleted;
  stubs_created += o.stubs_created;
  item_duplicates += o.item_duplicates;
  item_conflicts += o.item_conflicts;
  users_inserted += o.users_inserted;
  users_updated += o.users_updated;
  events_appended += o.events_appended;
  events_already_present += o.events_already_present;
  judgments_written += o.judgments_written;
  quarantined += o.quarantined;
  for (const auto& [k, v] : o.quarantine_reasons) quarantine_reasons[k] += v;
}

SqliteStore::SqliteStore(std::string path, SqliteStoreOptions options, sqlite3* db)
    : path_(std::move(path)), options_(std::move(options)), db_(db) {}

SqliteStore::~SqliteStore() {
  stmts_.reset();
  if (db_) sqlite3_close_v2(db_);
}

StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                         const SqliteStoreOptions& options) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (!exists && !options.create_if_missing) {
    return NotFoundError("no store at '" + path + "' (run `souk import` or `souk demo` first)");
  }
  if (!exists) {
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return FailedPreconditionError("cannot create folder '" + parent.string() + "': " + ec.message());
  }
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (options.create_if_missing ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc, "opening store '" + path + "'");
    sqlite3_close_v2(db);
    return s;
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, options, db));
  RETURN_IF_ERROR(store->Init());
  return store;
}

Status SqliteStore::Init() {
  Status s = ApplyPragmas(db_, options_, true);
  if (!s.ok()) return s.WithContext("opening store '" + path_ + "'");
  RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE"));
  auto fail = [&](Status st) {
    Exec(db_, "ROLLBACK").IgnoreError();
    return st;
  };
  int version = 0;
  {
    Stmt q;
    if (Status st = q.Prepare(db_, "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_version'"); !st.ok()) return fail(st);
    auto has = q.Step();
    if (!has.ok()) return fail(has.status());
    if (*has) {
      Stmt v;
      if (Status st = v.Prepare(db_, "SELECT version FROM schema_version"); !st.ok()) return fail(st);
      auto row = v.Step();
      if (!row.ok()) return fail(row.status());
      if (*row) version = static_cast<int>(v.ColInt(0));
    } else {
      Stmt t;
      if (Status st = t.Prepare(db_, "SELECT COUNT(*) FROM sqlite_master"); !st.ok()) return fail(st);
      auto row = t.Step();
      if (!row.ok()) return fail(row.status());
      if (t.ColInt(0) != 0) {
        return fail(FailedPreconditionError("'" + path_ + "' is a SQLite database but not a souk store"));
      }
      if (Status st = Exec(db_, "CREATE TABLE schema_version(version INTEGER NOT NULL); INSERT INTO schema_version VALUES(0)"); !st.ok()) return fail(st);
    }
  }
  if (version > kStoreSchemaVersion) {
    return fail(FailedPreconditionError(fmt::format(
        "store '{}' has schema version {}, newer than this souk understands ({}); upgrade souk",
        path_, version, kStoreSchemaVersion)));
  }
  for (int v = version; v < kStoreSchemaVersion; ++v) {
    if (Status st = Exec(db_, kMigrations[v]); !st.ok()) return fail(st.WithContext(fmt::format("migrating store to v{}", v + 1)));
  }
  if (version != kStoreSchemaVersion) {
    if (Status st = Exec(db_, fmt::format("UPDATE schema_version SET version = {}", kStoreSchemaVersion).c_str()); !st.ok()) return fail(st);
  }
  if (Status st = Exec(db_, kSecondaryIndexes); !st.ok()) return fail(st);
  RETURN_IF_ERROR(Exec(db_, "COMMIT"));
  stmts_ = std::make_unique<Statements>();
  RETURN_IF_ERROR(stmts_->Prepare(db_));
  return LoadCaches();
}

Status SqliteStore::LoadCaches() {
  Stmt s;
  RETURN_IF_ERROR(s.Prepare(db_, "SELECT ext_id, id, run_id, content_hash, is_stub, deleted FROM items"));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    ItemMeta m;
    m.id = s.ColInt(1);
    m.run = s.ColInt(2);
    m.hash = static_cast<uint64_t>(s.ColInt(3));
    m.stub = s.ColInt(4) != 0;
    m.deleted = s.ColInt(5) != 0;
    items_.emplace(s.ColText(0), m);
  }
  Stmt u;
  RETURN_IF_ERROR(u.Prepare(db_, "SELECT ext_id, id FROM users"));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, u.Step());
    if (!row) break;
    users_.emplace(u.ColText(0), u.ColInt(1));
  }
  return OkStatus();
}

bool SqliteStore::HasItem(std::string_view external_id) const {
  std::shared_lock<std::shared_mutex> lock(cache_mu_);
  auto it = items_.find(std::string(external_id));
  return it != items_.end() && !it->second.deleted;
}

Status SqliteStore::Write(const WriteBatch& batch, WriteResult* result) {
  std::lock_guard<std::mutex> lock(mu_);
  item_undo_.clear();
  user_undo_.clear();
  WriteResult r;
  RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE"));
  Status s = WriteLocked(batch, &r);
  if (s.ok()) s = Exec(db_, "COMMIT");
  if (!s.ok()) {
    Exec(db_, "ROLLBACK").IgnoreError();
    // Undo cache changes in reverse order.
    std::unique_lock<std::shared_mutex> cache_lock(cache_mu_);
    for (auto it = item_undo_.rbegin(); it != item_undo_.rend(); ++it) {
      if (it->second) items_[it->first] = *it->second;
      else items_.erase(it->first);
    }
    for (const auto& u : user_undo_) users_.erase(u);
    return s;
  }
  if (result) result->Add(r);
  return OkStatus();
}

namespace {
void BindItem(Stmt& s, const Item& it, int64_t now_ms, int64_t run_id) {
  s.BindText(1, it.external_id);
  s.BindText(2, it.title);
  s.BindText(3, it.description);
  s.BindText(4, it.brand);
  s.BindText(5, it.category);
  s.BindOptDouble(6, it.price);
  s.BindText(7, it.currency);
  s.BindText(8, it.attributes_json.empty() ? std::string_view("{}") : std::string_view(it.attributes_json));
  s.BindText(9, it.images_json.empty() ? std::string_view("[]") : std::string_view(it.images_json));
  if (it.in_stock) s.BindInt(10, *it.in_stock ? 1 : 0);
  else s.BindNull(10);
  s.BindText(11, it.language);
  s.BindInt(12, it.created_at_ms);
  s.BindInt(13, it.updated_at_ms ? it.updated_at_ms : now_ms);
  s.BindInt(14, it.is_stub ? 1 : 0);
  s.BindInt(15, run_id);
  s.BindInt(16, static_cast<int64_t>(it.ContentHash()));
}
}  // namespace

Status SqliteStore::WriteItem(const ItemWrite& w, int64_t run_id, int64_t now_ms, WriteResult* r,
                              std::vector<QuarantineRecord>* extra_q) {
  const Item& it = w.item;
  auto found = items_.find(it.external_id);
  auto remember = [&](const std::string& key) {
    auto f = items_.find(key);
    item_undo_.emplace_back(key, f == items_.end() ? std::nullopt : std::optional<ItemMeta>(f->second));
  };
  if (found == items_.end()) {
    Item copy;
    const Item* src = &it;
    if (w.mode == ItemWriteMode::kStub && !it.is_stub) {
      copy = it;
      copy.is_stub = true;
      src = &copy;
    }
    Stmt& s = stmts_->insert_item;
    s.Reset();
    BindItem(s, *src, now_ms, run_id);
    RETURN_IF_ERROR(s.StepDone());
    remember(it.external_id);
    ItemMeta m;
    m.id = sqlite3_last_insert_rowid(db_);
    m.run = run_id;
    m.hash = src->ContentHash();
    m.stub = src->is_stub;
    m.stub_this_run = src->is_stub;
    if (w.mode == ItemWriteMode::kMerge) m.merge_hash = MergeHash(it);
    items_.emplace(it.external_id, m);
    if (src->is_stub) ++r->stubs_created;
    else ++r->items_inserted;
    return OkStatus();
  }
  ItemMeta& m = found->second;
  switch (w.mode) {
    case ItemWriteMode::kStub:
      if (m.deleted) {
        // A deleted item named again by behavior data stays deleted; events may still refer to it.
      }
      return OkStatus();
    case ItemWriteMode::kMerge: {
      const uint64_t mh = MergeHash(it);
      if (mh == m.merge_hash && !m.deleted) return OkStatus();
      Stmt& s = stmts_->merge_item;
      s.Reset();
      BindItem(s, it, now_ms, run_id);
      RETURN_IF_ERROR(s.StepDone());
      remember(it.external_id);
      m.merge_hash = mh;
      m.run = run_id;
      if (m.stub) ++r->items_updated;
      m.stub = false;
      m.deleted = false;
      return OkStatus();
    }
    case ItemWriteMode::kCatalog: {
      const uint64_t h = it.ContentHash();
      if (run_id != 0 && m.run == run_id && !m.stub && !m.deleted && !m.stub_this_run) {
        QuarantineRecord q;
        q.source = w.source;
        q.line = w.line;
        q.raw = w.raw;
        if (h == m.hash) {
          q.reason = "duplicate_item";
          q.detail = "item '" + it.external_id + "' appears again with identical content";
          ++r->item_duplicates;
        } else {
          q.reason = "conflicting_item";
          q.detail = "item '" + it.external_id +
                     "' appears again in this import with different content; the first record was kept";
          ++r->item_conflicts;
        }
        extra_q->push_back(std::move(q));
        return OkStatus();
      }
      remember(it.external_id);
      if (h == m.hash && !m.deleted && !m.stub) {
        Stmt& s = stmts_->touch_item;
        s.Reset();
        s.BindText(1, it.external_id);
        s.BindInt(2, run_id);
        RETURN_IF_ERROR(s.StepDone());
        m.run = run_id;
        ++r->items_unchanged;
        return OkStatus();
      }
      Stmt& s = stmts_->update_item;
      s.Reset();
      BindItem(s, it, now_ms, run_id);
      RETURN_IF_ERROR(s.StepDone());
      m.hash = h;
      m.run = run_id;
      m.stub = it.is_stub;
      m.stub_this_run = false;
      m.deleted = false;
      ++r->items_updated;
      return OkStatus();
    }
  }
  return OkStatus();
}

StatusOr<int64_t> SqliteStore::UserIdFor(const std::string& external, WriteResult* r) {
  if (external.empty()) return int64_t{0};
  if (auto it = users_.find(external); it != users_.end()) return it->second;
  Stmt& s = stmts_->insert_user;
  s.Reset();
  s.BindText(1, external);
  s.BindText(2, "{}");
  s.BindInt(3, 0);
  RETURN_IF_ERROR(s.StepDone());
  const int64_t id = sqlite3_last_insert_rowid(db_);
  users_.emplace(external, id);
  user_undo_.push_back(external);
  ++r->users_inserted;
  return id;
}

Status SqliteStore::WriteLocked(const WriteBatch& b, WriteResult* r) {
  const int64_t now_ms = RealClock().NowMillis();
  std::vector<QuarantineRecord> extra_q;
  if (!b.items.empty() || !b.delete_items.empty()) {
    std::unique_lock<std::shared_mutex> cache_lock(cache_mu_);
    for (const auto& w : b.items) RETURN_IF_ERROR(WriteItem(w, b.run_id, now_ms, r, &extra_q));
  }
  std::unique_lock<std::shared_mutex> delete_lock(cache_mu_, std::defer_lock);
  if (!b.delete_items.empty()) delete_lock.lock();
  for (const auto& ext : b.delete_items) {
    auto it = items_.find(ext);
    if (it == items_.end() || it->second.deleted) continue;
    Stmt& s = stmts_->delete_item;
    s.Reset();
    s.BindText(1, ext);
    s.BindInt(2, now_ms);
    RETURN_IF_ERROR(s.StepDone());
    item_undo_.emplace_back(ext, it->second);
    it->second.deleted = true;
    ++r->items_deleted;
  }
  if (delete_lock.owns_lock()) delete_lock.unlock();
  for (const auto& u : b.users) {
    if (users_.count(u.external_id)) {
      Stmt& s = stmts_->upsert_user;
      s.Reset();
      s.BindText(1, u.external_id);
      s.BindText(2, u.attributes_json.empty() ? std::string_view("{}") : std::string_view(u.attributes_json));
      s.BindInt(3, u.created_at_ms);
      RETURN_IF_ERROR(s.StepDone());
      ++r->users_updated;
    } else {
      Stmt& s = stmts_->insert_user;
      s.Reset();
      s.BindText(1, u.external_id);
      s.BindText(2, u.attributes_json.empty() ? std::string_view("{}") : std::string_view(u.attributes_json));
      s.BindInt(3, u.created_at_ms);
      RETURN_IF_ERROR(s.StepDone());
      users_.emplace(u.external_id, sqlite3_last_insert_rowid(db_));
      user_undo_.push_back(u.external_id);
      ++r->users_inserted;
    }
  }
  Stmt& ev = stmts_->insert_event;
  for (const auto& e : b.events) {
    int64_t item = 0;
    if (!e.item_id.empty()) {
      auto it = items_.find(e.item_id);
      if (it == items_.end()) {
        QuarantineRecord q;
        q.source = "store";
        q.reason = "unknown_item";
        q.detail = "event names item '" + e.item_id + "' which is not in the catalog";
        q.raw = e.item_id;
        extra_q.push_back(std::move(q));
        continue;
      }
      item = it->second.id;
    }
    ASSIGN_OR_RETURN(int64_t user, UserIdFor(e.user_id, r));
    ev.Reset();
    ev.BindInt(1, e.timestamp_ms);
    ev.BindIntOrNull(2, user);
    ev.BindTextOrNull(3, e.session_id);
    ev.BindIntOrNull(4, item);
    ev.BindInt(5, static_cast<int64_t>(e.type));
    ev.BindTextOrNull(6, e.query);
    ev.BindOptDouble(7, e.value);
    ev.BindOptDouble(8, e.quantity);
    ev.BindOptDouble(9, e.price);
    ev.BindTextOrNull(10, e.context_json);
    ev.BindIntOrNull(11, e.import_key);
    ev.BindInt(12, b.run_id);
    RETURN_IF_ERROR(ev.StepDone());
    if (sqlite3_changes(db_) == 1) ++r->events_appended;
    else ++r->events_already_present;
  }
  for (const auto& j : b.judgments) {
    auto it = items_.find(j.item_id);
    if (it == items_.end()) {
      QuarantineRecord q;
      q.source = j.source;
      q.reason = "unknown_item";
      q.detail = "judgment names item '" + j.item_id + "' which is not in the catalog";
      q.raw = j.query + "," + j.item_id;
      extra_q.push_back(std::move(q));
      continue;
    }
    Stmt& s = stmts_->insert_judgment;
    s.Reset();
    s.BindText(1, j.source);
    s.BindText(2, j.query);
    s.BindInt(3, it->second.id);
    s.BindDouble(4, j.relevance);
    RETURN_IF_ERROR(s.StepDone());
    ++r->judgments_written;
  }
  auto write_q = [&](const QuarantineRecord& q) -> Status {
    Stmt& s = stmts_->insert_quarantine;
    s.Reset();
    s.BindInt(1, b.run_id);
    s.BindText(2, q.source);
    s.BindInt(3, q.line);
    s.BindInt(4, q.byte_offset);
    s.BindText(5, q.reason);
    s.BindText(6, q.detail);
    s.BindText(7, q.raw);
    s.BindInt(8, now_ms);
    RETURN_IF_ERROR(s.StepDone());
    ++r->quarantined;
    return OkStatus();
  };
  for (const auto& q : b.quarantine) RETURN_IF_ERROR(write_q(q));
  for (const auto& q : extra_q) {
    RETURN_IF_ERROR(write_q(q));
    ++r->quarantine_reasons[q.reason];
  }
  return OkStatus();
}

StatusOr<int64_t> SqliteStore::BeginRun(const std::string& kind, const std::string& description) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s;
  RETURN_IF_ERROR(s.Prepare(db_, "INSERT INTO import_runs(kind, description, started_at, status) VALUES(?1,?2,?3,'running')"));
  s.BindText(1, kind);
  s.BindText(2, description);
  s.BindInt(3, RealClock().NowMillis());
  RETURN_IF_ERROR(s.StepDone());
  return sqlite3_last_insert_rowid(db_);
}

Status SqliteStore::FinishRun(int64_t run_id, const std::string& status, const std::string& summary_json) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s;
  RETURN_IF_ERROR(s.Prepare(db_, "UPDATE import_runs SET finished_at=?2, status=?3, summary=?4 WHERE id=?1"));
  s.BindInt(1, run_id);
  s.BindInt(2, RealClock().NowMillis());
  s.BindText(3, status);
  s.BindText(4, summary_json);
  return s.StepDone();
}

StatusOr<int64_t> SqliteStore::SourceId(const std::string& format, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt ins;
  RETURN_IF_ERROR(ins.Prepare(db_, "INSERT OR IGNORE INTO sources(format, path) VALUES(?1, ?2)"));
  ins.BindText(1, format);
  ins.BindText(2, path);
  RETURN_IF_ERROR(ins.StepDone());
  Stmt q;
  RETURN_IF_ERROR(q.Prepare(db_, "SELECT id FROM sources WHERE format=?1 AND path=?2"));
  q.BindText(1, format);
  q.BindText(2, path);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return InternalError("source id vanished");
  return q.ColInt(0);
}

StatusOr<std::optional<StoredItem>> SqliteStore::GetItem(std::string_view external_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt& s = stmts_->get_item;
  s.Reset();
  s.BindText(1, external_id);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<StoredItem>();
  StoredItem it = ReadItem(s);
  s.Reset();
  return std::optional<StoredItem>(std::move(it));
}

StatusOr<StoreStats> SqliteStore::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return ComputeStats(db_);
}

StatusOr<std::vector<QuarantineRecord>> SqliteStore::ListQuarantine(int64_t limit, int64_t offset,
                                                                    const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s;
  RETURN_IF_ERROR(s.Prepare(db_,
      "SELECT source, line, byte_offset, reason, detail, raw FROM quarantine"
      " WHERE (?3 = '' OR reason = ?3) ORDER BY id LIMIT ?1 OFFSET ?2"));
  s.BindInt(1, limit);
  s.BindInt(2, offset);
  s.BindText(3, reason);
  std::vector<QuarantineRecord> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    QuarantineRecord q;
    q.source = s.ColText(0);
    q.line = s.ColInt(1);
    q.byte_offset = s.ColInt(2);
    q.reason = s.ColText(3);
    q.detail = s.ColText(4);
    q.raw = s.ColText(5);
    out.push_back(std::move(q));
  }
  return out;
}

StatusOr<std::map<std::string, int64_t>> SqliteStore::QuarantineReasons() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s;
  RETURN_IF_ERROR(s.Prepare(db_, "SELECT reason, COUNT(*) FROM quarantine GROUP BY reason"));
  std::map<std::string, int64_t> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out[s.ColText(0)] = s.ColInt(1);
  }
  return out;
}

StatusOr<int64_t> SqliteStore::InWriteTransaction(const std::function<StatusOr<int64_t>()>& body) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE"));
  auto r = body();
  if (!r.ok()) {
    Exec(db_, "ROLLBACK").IgnoreError();
    return r;
  }
  RETURN_IF_ERROR(Exec(db_, "COMMIT"));
  return r;
}

StatusOr<int64_t> SqliteStore::ExecWithText(const char* sql, std::string_view text) {
  Stmt s;
  RETURN_IF_ERROR(s.Prepare(db_, sql));
  s.BindText(1, text);
  RETURN_IF_ERROR(s.StepDone());
  return static_cast<int64_t>(sqlite3_changes(db_));
}

namespace {
constexpr const char* kDeleteUserEvents =
    "DELETE FROM events WHERE user_id = (SELECT id FROM users WHERE ext_id = ?1)";
}  // namespace

StatusOr<int64_t> SqliteStore::RemoveEvents(const EventFilter& f) {
  return InWriteTransaction([&]() -> StatusOr<int64_t> {
    int64_t removed = 0;
    if (!f.sessions.empty()) {
      // One pass over the events (sessions have no index) through a temporary set.
      RETURN_IF_ERROR(Exec(db_, "CREATE TEMP TABLE IF NOT EXISTS remove_sessions(s TEXT PRIMARY KEY); DELETE FROM temp.remove_sessions"));
      Stmt ins;
      RETURN_IF_ERROR(ins.Prepare(db_, "INSERT OR IGNORE INTO temp.remove_sessions VALUES(?1)"));
      for (const auto& sess : f.sessions) {
        ins.Reset();
        ins.BindText(1, sess);
        RETURN_IF_ERROR(ins.StepDone());
      }
      RETURN_IF_ERROR(Exec(db_, "DELETE FROM events WHERE session IN (SELECT s FROM temp.remove_sessions)"));
      removed += sqlite3_changes(db_);
      RETURN_IF_ERROR(Exec(db_, "DELETE FROM temp.remove_sessions"));
    }
    for (const auto& u : f.users) {
      ASSIGN_OR_RETURN(int64_t n, ExecWithText(kDeleteUserEvents, u));
      removed += n;
    }
    if (f.exact_duplicates) {
      RETURN_IF_ERROR(Exec(db_,
          "DELETE FROM events WHERE id NOT IN (SELECT MIN(id) FROM events GROUP BY ts, user_id,"
          " session, item_id, type, query, value, quantity, price, context)"));
      removed += sqlite3_changes(db_);
    }
    return removed;
  });
}

StatusOr<int64_t> SqliteStore::ForgetUser(const std::string& external_id) {
  if (external_id.empty()) return InvalidArgumentError("ForgetUser: empty user id");
  return InWriteTransaction([&]() -> StatusOr<int64_t> {
    ASSIGN_OR_RETURN(const int64_t removed, ExecWithText(kDeleteUserEvents, external_id));
    RETURN_IF_ERROR(ExecWithText("DELETE FROM users WHERE ext_id = ?1", external_id).status());
    RETURN_IF_ERROR(
        ExecWithText("DELETE FROM quarantine WHERE instr(raw, ?1) > 0 OR instr(detail, ?1) > 0", external_id)
            .status());
    return removed;
  });
}

namespace {

class SqliteSnapshot final : public Snapshot {
 public:
  static StatusOr<std::unique_ptr<Snapshot>> Open(const std::string& path, int busy_ms) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      Status s = SqliteError(db, rc, "opening snapshot of '" + path + "'");
      sqlite3_close_v2(db);
      return s;
    }
    std::unique_ptr<SqliteSnapshot> snap(new SqliteSnapshot(db));
    RETURN_IF_ERROR(Exec(db, fmt::format("PRAGMA busy_timeout = {}", busy_ms).c_str()));
    RETURN_IF_ERROR(Exec(db, "PRAGMA cache_size = -65536"));
    RETURN_IF_ERROR(Exec(db, "BEGIN"));
    Stmt s;
    // The first read starts the read transaction: everything after sees this moment.
    RETURN_IF_ERROR(s.Prepare(db, "SELECT COALESCE(MAX(id), 0) FROM events"));
    ASSIGN_OR_RETURN(bool row, s.Step());
    snap->watermark_ = row ? s.ColInt(0) : 0;
    return std::unique_ptr<Snapshot>(std::move(snap));
  }
  ~SqliteSnapshot() override {
    Exec(db_, "COMMIT").IgnoreError();
    sqlite3_close_v2(db_);
  }
  int64_t watermark() const override { return watermark_; }
  StatusOr<StoreStats> Stats() override { return ComputeStats(db_); }

  Status ForEachEvent(const std::function<bool(const StoredEvent&)>& fn, int64_t after_id) override {
    Stmt s;
    RETURN_IF_ERROR(s.Prepare(db_,
        "SELECT id, COALESCE(user_id, 0), COALESCE(item_id, 0), type, ts, value, quantity, price,"
        " COALESCE(session, ''), COALESCE(query, ''), COALESCE(context, '') FROM events"
        " WHERE id > ?1 AND id <= ?2 ORDER BY id"));
    s.BindInt(1, after_id);
    s.BindInt(2, watermark_);
    StoredEvent e;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      e.id = s.ColInt(0);
      e.user = s.ColInt(1);
      e.item = s.ColInt(2);
      e.type = static_cast<EventType>(s.ColInt(3));
      e.timestamp_ms = s.ColInt(4);
      e.value = s.ColOptDouble(5);
      e.quantity = s.ColOptDouble(6);
      e.price = s.ColOptDouble(7);
      e.session = s.ColText(8);
      e.query = s.ColText(9);
      e.context = s.ColText(10);
      if (!fn(e)) break;
    }
    return OkStatus();
  }

  Status ForEachItem(const std::function<bool(const StoredItem&)>& fn) override {
    Stmt s;
    RETURN_IF_ERROR(s.Prepare(db_, (std::string("SELECT ") + kItemColumns + " FROM items ORDER BY id").c_str()));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      if (!fn(ReadItem(s))) break;
    }
    return OkStatus();
  }

  StatusOr<std::vector<std::string>> UserIds() override {
    Stmt s;
    RETURN_IF_ERROR(s.Prepare(db_, "SELECT id, ext_id FROM users ORDER BY id"));
    std::vector<std::string> out(1);  // dense id 0 = anonymous
    for (;;) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      const int64_t id = s.ColInt(0);
      if (id >= static_cast<int64_t>(out.size())) out.resize(id + 1);
      out[id] = s.ColText(1);
    }
    return out;
  }

 private:
  explicit SqliteSnapshot(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  int64_t watermark_ = 0;
};

}  // namespace

Status SqliteStore::DeferSecondaryIndexes() {
  std::lock_guard<std::mutex> lock(mu_);
  return Exec(db_, "DROP INDEX IF EXISTS events_user_ts;");
}

Status SqliteStore::RestoreSecondaryIndexes() {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE"));
  Status s = Exec(db_, kSecondaryIndexes);
  if (s.ok()) s = Exec(db_, "COMMIT");
  if (!s.ok()) Exec(db_, "ROLLBACK").IgnoreError();
  return s;
}

StatusOr<int64_t> SqliteStore::MaxEventId() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s;
  RETURN_IF_ERROR(s.Prepare(db_, "SELECT COALESCE(MAX(id), 0) FROM events"));
  ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.ColInt(0) : int64_t{0};
}

StatusOr<int64_t> Store::ForgetUser(const std::string&) {
  return UnimplementedError("this store cannot forget users");
}

StatusOr<std::vector<RecentEvent>> Store::RecentEvents(const RecentEventsQuery&) {
  return UnimplementedError("this store does not answer recent-event queries");
}

StatusOr<std::vector<RecentEvent>> SqliteStore::RecentEvents(const RecentEventsQuery& q) {
  if (q.user_id.empty() && q.session_id.empty()) {
    return InvalidArgumentError("a recent-events query needs a user id or a session id");
  }
  if (q.limit < 1) return InvalidArgumentError(fmt::format("recent-events limit must be >= 1, got {}", q.limit));
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s;
  const char* kSelect =
      "SELECT COALESCE(i.ext_id, ''), e.type, e.ts, e.value, e.quantity, COALESCE(e.session, ''),"
      " COALESCE(e.query, '') FROM events e LEFT JOIN items i ON i.id = e.item_id";
  if (!q.user_id.empty()) {
    RETURN_IF_ERROR(s.Prepare(db_, (std::string(kSelect) +
        " WHERE e.user_id = (SELECT id FROM users WHERE ext_id = ?1)"
        " AND (?2 = '' OR e.session = ?2) ORDER BY e.ts DESC, e.id DESC LIMIT ?3").c_str()));
  } else {
    RETURN_IF_ERROR(s.Prepare(db_, (std::string(kSelect) +
        " WHERE ?1 = '' AND e.session = ?2 ORDER BY e.ts DESC, e.id DESC LIMIT ?3").c_str()));
  }
  s.BindText(1, q.user_id);
  s.BindText(2, q.session_id);
  s.BindInt(3, q.limit);
  std::vector<RecentEvent> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    RecentEvent e;
    e.item_id = s.ColText(0);
    e.type = static_cast<EventType>(s.ColInt(1));
    e.timestamp_ms = s.ColInt(2);
    e.value = s.ColOptDouble(3);
    e.quantity = s.ColOptDouble(4);
    e.session = s.ColText(5);
    e.query = s.ColText(6);
    out.push_back(std::move(e));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

StatusOr<std::vector<UserSummary>> Store::ListUsers(const ListUsersQuery&) {
  return UnimplementedError("this store does not list users");
}

StatusOr<std::vector<UserSummary>> SqliteStore::ListUsers(const ListUsersQuery& q) {
  if (q.limit < 1 || q.limit > 1000) {
    return InvalidArgumentError(fmt::format("limit: must be between 1 and 1000, got {}", q.limit));
  }
  if (q.offset < 0) return InvalidArgumentError(fmt::format("offset: must be >= 0, got {}", q.offset));
  // Byte-wise range [prefix, prefix + 0xFF): 0xFF never occurs in UTF-8.
  const std::string upper = q.prefix + '\xff';
  const char* kWhere = " WHERE (?1 = '' OR (u.ext_id >= ?1 AND u.ext_id < ?2))";
  std::string sql;
  if (q.by_events) {
    sql = std::string("SELECT u.ext_id, COUNT(e.id) AS n, COALESCE(MAX(e.ts), 0) FROM users u"
                      " JOIN events e ON e.user_id = u.id") +
          kWhere + " GROUP BY u.id ORDER BY n DESC, u.ext_id LIMIT ?3 OFFSET ?4";
  } else {
    sql = std::string("SELECT u.ext_id, (SELECT COUNT(*) FROM events WHERE user_id = u.id),"
                      " COALESCE((SELECT MAX(ts) FROM events WHERE user_id = u.id), 0) FROM users u") +
          kWhere + " ORDER BY u.ext_id LIMIT ?3 OFFSET ?4";
  }
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s;
  RETURN_IF_ERROR(s.Prepare(db_, sql.c_str()));
  s.BindText(1, q.prefix);
  s.BindText(2, upper);
  s.BindInt(3, q.limit);
  s.BindInt(4, q.offset);
  std::vector<UserSummary> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.ColText(0), s.ColInt(1), s.ColInt(2)});
  }
  return out;
}

StatusOr<std::unique_ptr<Snapshot>> SqliteStore::OpenSnapshot() {
  return SqliteSnapshot::Open(path_, options_.busy_timeout_ms);
}

}  // namespace souk::store
