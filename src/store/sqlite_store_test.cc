#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <thread>

#include "common/testing.h"

namespace souk::store {
namespace {

Item MakeItem(const std::string& id, const std::string& title, double price) {
  Item it;
  it.external_id = id;
  it.title = title;
  it.price = price;
  it.category = "Home > Kitchen";
  return it;
}

Event MakeEvent(const std::string& user, const std::string& item, EventType t, int64_t ts,
                int64_t key = 0) {
  Event e;
  e.user_id = user;
  e.item_id = item;
  e.type = t;
  e.timestamp_ms = ts;
  e.session_id = "s-" + user;
  e.import_key = key;
  return e;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = (testing::TempDir("store") / "souk.db").string(); }
  std::unique_ptr<SqliteStore> OpenStore() {
    auto s = SqliteStore::Open(path_);
    EXPECT_OK(s);
    return std::move(s).value();
  }
  std::string path_;
};

TEST_F(SqliteStoreTest, CreatesSchemaAndReopens) {
  {
    auto s = OpenStore();
    auto st = s->Stats();
    ASSERT_OK(st);
    EXPECT_EQ(st->schema_version, kStoreSchemaVersion);
    EXPECT_EQ(st->items, 0);
  }
  auto s = OpenStore();
  EXPECT_EQ(s->Stats()->schema_version, kStoreSchemaVersion);
}

TEST_F(SqliteStoreTest, UpsertItemsAndEvents) {
  auto s = OpenStore();
  WriteBatch b;
  b.run_id = 1;
  b.items.push_back({MakeItem("A", "Kettle", 20)});
  b.items.push_back({MakeItem("B", "Toaster", 35)});
  b.events.push_back(MakeEvent("u1", "A", EventType::kView, 1000, 11));
  b.events.push_back(MakeEvent("u1", "A", EventType::kPurchase, 2000, 12));
  b.events.push_back(MakeEvent("u2", "B", EventType::kView, 3000, 13));
  WriteResult r;
  ASSERT_OK(s->Write(b, &r));
  EXPECT_EQ(r.items_inserted, 2);
  EXPECT_EQ(r.events_appended, 3);
  EXPECT_EQ(r.users_inserted, 2);
  auto st = s->Stats();
  ASSERT_OK(st);
  EXPECT_EQ(st->items, 2);
  EXPECT_EQ(st->events, 3);
  EXPECT_EQ(st->users, 2);
  EXPECT_EQ(st->sessions, 2);
  EXPECT_EQ(st->events_by_type[static_cast<int>(EventType::kPurchase)], 1);

  // Same batch again in a later run: items unchanged, events already present (idempotent).
  b.run_id = 2;
  WriteResult r2;
  ASSERT_OK(s->Write(b, &r2));
  EXPECT_EQ(r2.items_unchanged, 2);
  EXPECT_EQ(r2.events_appended, 0);
  EXPECT_EQ(r2.events_already_present, 3);
  EXPECT_EQ(s->Stats()->events, 3);

  // A changed item in a later run is an update.
  WriteBatch u;
  u.run_id = 3;
  u.items.push_back({MakeItem("A", "Electric Kettle", 22)});
  WriteResult r3;
  ASSERT_OK(s->Write(u, &r3));
  EXPECT_EQ(r3.items_updated, 1);
  auto a = s->GetItem("A");
  ASSERT_OK(a);
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->item.title, "Electric Kettle");
  EXPECT_EQ((*a)->item.price, 22);
}

TEST_F(SqliteStoreTest, ConflictsAndDuplicatesWithinOneRunAreQuarantined) {
  auto s = OpenStore();
  WriteBatch b;
  b.run_id = 7;
  b.items.push_back({MakeItem("A", "Kettle", 20), ItemWriteMode::kCatalog, 2, "items.csv", "A,Kettle,20"});
  b.items.push_back({MakeItem("A", "Kettle", 20), ItemWriteMode::kCatalog, 3, "items.csv", "A,Kettle,20"});
  b.items.push_back({MakeItem("A", "Kettle XL", 25), ItemWriteMode::kCatalog, 4, "items.csv", "A,Kettle XL,25"});
  WriteResult r;
  ASSERT_OK(s->Write(b, &r));
  EXPECT_EQ(r.items_inserted, 1);
  EXPECT_EQ(r.item_duplicates, 1);
  EXPECT_EQ(r.item_conflicts, 1);
  auto reasons = s->QuarantineReasons();
  ASSERT_OK(reasons);
  EXPECT_EQ((*reasons)["duplicate_item"], 1);
  EXPECT_EQ((*reasons)["conflicting_item"], 1);
  auto q = s->ListQuarantine(10, 0, "conflicting_item");
  ASSERT_OK(q);
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].line, 4);
  EXPECT_EQ((*q)[0].raw, "A,Kettle XL,25");
  EXPECT_EQ((*s->GetItem("A"))->item.title, "Kettle");  // first kept
}

TEST_F(SqliteStoreTest, StubsMergeAndDelete) {
  auto s = OpenStore();
  WriteBatch b;
  b.run_id = 1;
  Item stub;
  stub.external_id = "X";
  b.items.push_back({stub, ItemWriteMode::kStub});
  b.events.push_back(MakeEvent("u", "X", EventType::kView, 10));
  WriteResult r;
  ASSERT_OK(s->Write(b, &r));
  EXPECT_EQ(r.stubs_created, 1);
  EXPECT_EQ(s->Stats()->stub_items, 1);
  // A catalog record in the same run upgrades the stub (not a conflict).
  WriteBatch c;
  c.run_id = 1;
  c.items.push_back({MakeItem("X", "Real title", 5)});
  WriteResult r2;
  ASSERT_OK(s->Write(c, &r2));
  EXPECT_EQ(r2.items_updated, 1);
  EXPECT_EQ(r2.item_conflicts, 0);
  EXPECT_EQ(s->Stats()->stub_items, 0);
  // Merge fills empty fields only, and a newer price wins.
  Item partial;
  partial.external_id = "X";
  partial.brand = "Acme";
  partial.title = "Other title";
  partial.price = 6;
  WriteBatch m;
  m.items.push_back({partial, ItemWriteMode::kMerge});
  ASSERT_OK(s->Write(m, nullptr));
  auto x = *s->GetItem("X");
  EXPECT_EQ(x->item.title, "Real title");
  EXPECT_EQ(x->item.brand, "Acme");
  EXPECT_EQ(x->item.price, 6);
  // Delete is a tombstone: the id stays reserved.
  WriteBatch d;
  d.delete_items.push_back("X");
  WriteResult r3;
  ASSERT_OK(s->Write(d, &r3));
  EXPECT_EQ(r3.items_deleted, 1);
  EXPECT_FALSE(s->HasItem("X"));
  EXPECT_EQ(s->Stats()->deleted_items, 1);
  EXPECT_TRUE((*s->GetItem("X"))->deleted);
}

TEST_F(SqliteStoreTest, FailedBatchLeavesNothingBehind) {
  auto s = OpenStore();
  WriteBatch b;
  b.items.push_back({MakeItem("A", "Kettle", 20)});
  ASSERT_OK(s->Write(b, nullptr));
  // Hold a write lock from another connection so the next batch fails at BEGIN/COMMIT.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "PRAGMA busy_timeout=0; BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  SqliteStoreOptions fast;
  fast.busy_timeout_ms = 50;
  auto s2 = SqliteStore::Open(path_, fast);
  // Opening needs the write lock for migrations: it must fail cleanly, not hang.
  EXPECT_FALSE(s2.ok());
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);

  // An event naming an unknown item is quarantined by the store, never half-written.
  WriteBatch e;
  e.events.push_back(MakeEvent("u", "NOPE", EventType::kView, 1));
  WriteResult r;
  ASSERT_OK(s->Write(e, &r));
  EXPECT_EQ(r.events_appended, 0);
  EXPECT_EQ(r.quarantine_reasons["unknown_item"], 1);
}

TEST_F(SqliteStoreTest, MidBatchFailureRollsBackEverythingAndTheCaches) {
  auto s = OpenStore();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER fail_on_marker BEFORE INSERT ON events WHEN NEW.ts = -666 "
                         "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  WriteBatch b;
  b.run_id = 1;
  b.items.push_back({MakeItem("NEW", "Lamp", 9)});
  b.events.push_back(MakeEvent("newuser", "NEW", EventType::kView, 5));
  b.events.push_back(MakeEvent("newuser", "NEW", EventType::kView, -666));
  WriteResult r;
  Status st = s->Write(b, &r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("injected failure"), std::string::npos) << st.ToString();
  EXPECT_EQ(r.items_inserted, 0);  // result untouched on failure
  EXPECT_FALSE(s->HasItem("NEW"));
  auto stats = s->Stats();
  EXPECT_EQ(stats->items, 0);
  EXPECT_EQ(stats->events, 0);
  EXPECT_EQ(stats->users, 0);
  // The same batch without the poison row then succeeds and gets fresh ids.
  b.events.pop_back();
  ASSERT_OK(s->Write(b, &r));
  EXPECT_EQ(r.items_inserted, 1);
  EXPECT_EQ(r.users_inserted, 1);
  EXPECT_EQ((*s->GetItem("NEW"))->id, 1);
}

TEST_F(SqliteStoreTest, SnapshotIsConsistentWhileWriting) {
  auto s = OpenStore();
  WriteBatch b;
  b.items.push_back({MakeItem("A", "Kettle", 20)});
  for (int i = 0; i < 100; ++i) b.events.push_back(MakeEvent("u", "A", EventType::kView, i));
  ASSERT_OK(s->Write(b, nullptr));
  auto snap = s->OpenSnapshot();
  ASSERT_OK(snap);
  EXPECT_EQ((*snap)->watermark(), 100);
  // Writes after the snapshot are invisible to it.
  WriteBatch more;
  for (int i = 0; i < 50; ++i) more.events.push_back(MakeEvent("v", "A", EventType::kClick, 1000 + i));
  ASSERT_OK(s->Write(more, nullptr));
  int64_t n = 0, last = 0;
  ASSERT_OK((*snap)->ForEachEvent([&](const StoredEvent& e) {
    ++n;
    EXPECT_GT(e.id, last);
    last = e.id;
    EXPECT_EQ(e.type, EventType::kView);
    return true;
  }));
  EXPECT_EQ(n, 100);
  EXPECT_EQ((*snap)->Stats()->events, 100);
  EXPECT_EQ(s->Stats()->events, 150);
  // Continue from the watermark in a new snapshot.
  auto snap2 = s->OpenSnapshot();
  ASSERT_OK(snap2);
  int64_t n2 = 0;
  ASSERT_OK((*snap2)->ForEachEvent([&](const StoredEvent&) { return ++n2, true; }, (*snap)->watermark()));
  EXPECT_EQ(n2, 50);
  auto users = (*snap2)->UserIds();
  ASSERT_OK(users);
  EXPECT_EQ(users->size(), 3u);  // anonymous slot + u + v
}

TEST_F(SqliteStoreTest, RefusesNewerSchemaAndForeignDatabases) {
  { auto s = OpenStore(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = SqliteStore::Open(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("schema version 99"), std::string::npos) << s.status().message();

  auto other = (testing::TempDir("store") / "other.db").string();
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto o = SqliteStore::Open(other);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("not a souk store"), std::string::npos);

  auto missing = SqliteStore::Open("/nonexistent-dir/x.db", {.create_if_missing = false});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, RemoveEventsIsExplicit) {
  auto s = OpenStore();
  WriteBatch b;
  b.items.push_back({MakeItem("A", "Kettle", 20)});
  b.events.push_back(MakeEvent("bot", "A", EventType::kView, 1));
  b.events.push_back(MakeEvent("bot", "A", EventType::kView, 2));
  b.events.push_back(MakeEvent("human", "A", EventType::kView, 3));
  b.events.push_back(MakeEvent("human", "A", EventType::kView, 3));  // exact duplicate
  ASSERT_OK(s->Write(b, nullptr));
  EXPECT_EQ(*s->RemoveEvents({.sessions = {"s-bot"}}), 2);
  EXPECT_EQ(*s->RemoveEvents({.exact_duplicates = true}), 1);
  EXPECT_EQ(s->Stats()->events, 1);
}

TEST_F(SqliteStoreTest, ListUsersByIdAndByActivity) {
  auto s = OpenStore();
  WriteBatch b;
  b.items.push_back({MakeItem("A", "Kettle", 20)});
  for (int i = 0; i < 3; ++i) b.events.push_back(MakeEvent("ub", "A", EventType::kView, 10 + i));
  b.events.push_back(MakeEvent("ua", "A", EventType::kView, 5));
  for (int i = 0; i < 2; ++i) b.events.push_back(MakeEvent("x1", "A", EventType::kView, 20 + i));
  ASSERT_OK(s->Write(b, nullptr));
  ASSERT_OK_AND_ASSIGN(auto by_id, s->ListUsers({.limit = 10}));
  ASSERT_EQ(by_id.size(), 3u);
  EXPECT_EQ(by_id[0].external_id, "ua");
  EXPECT_EQ(by_id[0].events, 1);
  EXPECT_EQ(by_id[0].last_event_ms, 5);
  EXPECT_EQ(by_id[2].external_id, "x1");
  ASSERT_OK_AND_ASSIGN(auto active, s->ListUsers({.by_events = true, .limit = 2}));
  ASSERT_EQ(active.size(), 2u);
  EXPECT_EQ(active[0].external_id, "ub");
  EXPECT_EQ(active[0].events, 3);
  EXPECT_EQ(active[0].last_event_ms, 12);
  EXPECT_EQ(active[1].external_id, "x1");
  ASSERT_OK_AND_ASSIGN(auto pre, s->ListUsers({.prefix = "u", .limit = 10}));
  ASSERT_EQ(pre.size(), 2u);
  EXPECT_EQ(pre[1].external_id, "ub");
  ASSERT_OK_AND_ASSIGN(auto page2, s->ListUsers({.prefix = "u", .by_events = true, .limit = 1, .offset = 1}));
  ASSERT_EQ(page2.size(), 1u);
  EXPECT_EQ(page2[0].external_id, "ua");
  ASSERT_OK_AND_ASSIGN(auto none, s->ListUsers({.prefix = "zz"}));
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(s->ListUsers({.limit = 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->ListUsers({.offset = -1}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, RecentEventsOfAUserOrSession) {
  auto s = OpenStore();
  WriteBatch b;
  b.items.push_back({MakeItem("A", "Kettle", 20)});
  b.items.push_back({MakeItem("B", "Toaster", 30)});
  for (int i = 0; i < 5; ++i) {
    b.events.push_back(MakeEvent("u1", i % 2 ? "A" : "B", EventType::kView, 100 + i));
  }
  b.events.push_back(MakeEvent("u2", "A", EventType::kPurchase, 50));
  Event search = MakeEvent("u1", "", EventType::kSearch, 90);
  search.query = "kettle";
  b.events.push_back(search);
  Event other = MakeEvent("u1", "A", EventType::kAddToCart, 104);
  other.session_id = "s-other";
  other.quantity = 2;
  b.events.push_back(other);
  WriteResult r;
  ASSERT_OK(s->Write(b, &r));
  ASSERT_OK_AND_ASSIGN(auto last3, s->RecentEvents({.user_id = "u1", .limit = 3}));
  ASSERT_EQ(last3.size(), 3u);
  // Oldest first; equal timestamps keep the append order.
  EXPECT_EQ(last3[0].timestamp_ms, 103);
  EXPECT_EQ(last3[1].timestamp_ms, 104);
  EXPECT_EQ(last3[1].type, EventType::kView);
  EXPECT_EQ(last3[2].type, EventType::kAddToCart);
  EXPECT_EQ(last3[2].item_id, "A");
  EXPECT_EQ(*last3[2].quantity, 2);
  EXPECT_EQ(last3[2].session, "s-other");
  ASSERT_OK_AND_ASSIGN(auto all, s->RecentEvents({.user_id = "u1", .limit = 100}));
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all[0].type, EventType::kSearch);
  EXPECT_EQ(all[0].item_id, "");
  EXPECT_EQ(all[0].query, "kettle");
  ASSERT_OK_AND_ASSIGN(auto sess, s->RecentEvents({.session_id = "s-other"}));
  ASSERT_EQ(sess.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto both, s->RecentEvents({.user_id = "u1", .session_id = "s-u1", .limit = 100}));
  EXPECT_EQ(both.size(), 6u);
  ASSERT_OK_AND_ASSIGN(auto none, s->RecentEvents({.user_id = "nobody"}));
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(s->RecentEvents({}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->RecentEvents({.user_id = "u1", .limit = 0}).status().code(), StatusCode::kInvalidArgument);
  // A new event is visible to the next query.
  WriteBatch more;
  more.events.push_back(MakeEvent("u1", "B", EventType::kPurchase, 200));
  ASSERT_OK(s->Write(more, &r));
  ASSERT_OK_AND_ASSIGN(auto latest, s->RecentEvents({.user_id = "u1", .limit = 1}));
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].item_id, "B");
  EXPECT_EQ(latest[0].type, EventType::kPurchase);
}

}  // namespace
}  // namespace souk::store
