#include "online/session_tracker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/testing.h"
#include "online/tracker_format_internal.h"

namespace souk::online {
namespace {

namespace fs = std::filesystem;
using store::EventType;

TrackedEvent Ev(std::string user, std::string session, int64_t ts, EventType type,
                std::string item = "", std::string category = "", double price = kNaN,
                double quantity = kNaN) {
  TrackedEvent t;
  t.user_id = std::move(user);
  t.session_id = std::move(session);
  t.event.ts_ms = ts;
  t.event.type = type;
  t.event.item_id = std::move(item);
  t.event.category = std::move(category);
  t.event.price = price;
  t.event.quantity = quantity;
  return t;
}

TrackerOptions MemoryOptions(int64_t timeout_ms = 30 * 60 * 1000) {
  TrackerOptions o;
  o.session_timeout_ms = timeout_ms;
  return o;
}

TrackerOptions DiskOptions(const fs::path& dir, int64_t timeout_ms = 30 * 60 * 1000) {
  TrackerOptions o = MemoryOptions(timeout_ms);
  o.dir = dir.string();
  return o;
}

bool SameDouble(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void ExpectSameCounters(const SessionCounters& a, const SessionCounters& b) {
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.views, b.views);
  EXPECT_EQ(a.clicks, b.clicks);
  EXPECT_EQ(a.carts, b.carts);
  EXPECT_EQ(a.removes, b.removes);
  EXPECT_EQ(a.purchases, b.purchases);
  EXPECT_EQ(a.searches, b.searches);
  EXPECT_EQ(a.impressions, b.impressions);
  EXPECT_EQ(a.other, b.other);
  EXPECT_EQ(a.first_ms, b.first_ms);
  EXPECT_EQ(a.last_ms, b.last_ms);
  EXPECT_EQ(a.gaps, b.gaps);
  EXPECT_EQ(a.gap_sum_s, b.gap_sum_s);
  EXPECT_EQ(a.gap_max_s, b.gap_max_s);
  EXPECT_EQ(a.repeat_views, b.repeat_views);
  EXPECT_EQ(a.max_item_views, b.max_item_views);
  EXPECT_EQ(a.price_n, b.price_n);
  EXPECT_EQ(a.price_sum, b.price_sum);
  EXPECT_EQ(a.price_sumsq, b.price_sumsq);
  EXPECT_TRUE(SameDouble(a.price_min, b.price_min));
  EXPECT_TRUE(SameDouble(a.price_max, b.price_max));
  EXPECT_EQ(a.cart_price_n, b.cart_price_n);
  EXPECT_EQ(a.cart_price_sum, b.cart_price_sum);
  EXPECT_EQ(a.purchase_value, b.purchase_value);
  EXPECT_EQ(a.item_views, b.item_views);
  EXPECT_EQ(a.category_views, b.category_views);
  EXPECT_EQ(a.carted, b.carted);
}

void ExpectSameSnapshot(const SessionSnapshot& a, const SessionSnapshot& b) {
  SCOPED_TRACE("session " + a.key);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.user_id, b.user_id);
  EXPECT_EQ(a.session_id, b.session_id);
  EXPECT_EQ(a.open, b.open);
  ExpectSameCounters(a.counters, b.counters);
  ASSERT_EQ(a.events.size(), b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) {
    const SessionEvent& x = a.events[i];
    const SessionEvent& y = b.events[i];
    EXPECT_EQ(x.ts_ms, y.ts_ms) << i;
    EXPECT_EQ(x.type, y.type) << i;
    EXPECT_EQ(x.item_id, y.item_id) << i;
    EXPECT_EQ(x.category, y.category) << i;
    EXPECT_EQ(x.brand, y.brand) << i;
    EXPECT_TRUE(SameDouble(x.price, y.price)) << i;
    EXPECT_TRUE(SameDouble(x.quantity, y.quantity)) << i;
  }
}

void ExpectSameCustomer(const CustomerCounters& a, const CustomerCounters& b) {
  EXPECT_EQ(a.sessions, b.sessions);
  EXPECT_EQ(a.buying_sessions, b.buying_sessions);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.views, b.views);
  EXPECT_EQ(a.carts, b.carts);
  EXPECT_EQ(a.purchases, b.purchases);
  EXPECT_EQ(a.monetary, b.monetary);
  EXPECT_EQ(a.first_ms, b.first_ms);
  EXPECT_EQ(a.last_ms, b.last_ms);
  EXPECT_EQ(a.last_purchase_ms, b.last_purchase_ms);
  EXPECT_EQ(a.purchase_days, b.purchase_days);
  EXPECT_EQ(a.session_days, b.session_days);
}

// A mixed workload: client sessions, derived sessions split by the timeout,
// an anonymous session, purchases on several days. Returns every key seen.
std::vector<std::string> ObserveWorkload(SessionTracker& t, int64_t base_ms, int part) {
  std::vector<std::string> keys;
  const int64_t kDay = 86400000;
  std::vector<TrackedEvent> b1 = {
      Ev("ann", "web-1", base_ms + 1000, EventType::kView, "A", "shoes", 40),
      Ev("ann", "web-1", base_ms + 5000, EventType::kAddToCart, "A", "shoes", 40, 1),
      Ev("bob", "", base_ms + 2000, EventType::kView, "B", "hats", 15),
      Ev("", "anon-9", base_ms + 3000, EventType::kSearch),
      Ev("bob", "", base_ms + 2500, EventType::kView, "C", "hats", 12),  // out of order
  };
  std::vector<TrackedEvent> b2 = {
      Ev("ann", "web-1", base_ms + 9000, EventType::kPurchase, "A", "shoes", 40, 2),
      Ev("bob", "", base_ms + 4 * 3600 * 1000, EventType::kView, "B", "hats", 15),  // new session
      Ev("cy", "", base_ms + kDay * 2 + part, EventType::kPurchase, "D", "bags", 99.5, 1),
  };
  std::vector<TrackedEvent> b3 = {
      Ev("bob", "", base_ms + 4 * 3600 * 1000 + 60000, EventType::kPurchase, "B", "hats", 15),
      Ev("ann", "", base_ms + kDay * 3, EventType::kView, "E", "shoes", kNaN),
  };
  for (auto* b : {&b1, &b2, &b3}) {
    auto r = t.Observe(*b);
    EXPECT_OK(r);
    if (r.ok()) keys.insert(keys.end(), r->begin(), r->end());
  }
  return keys;
}

struct Captured {
  std::vector<SessionSnapshot> sessions;
  std::vector<CustomerCounters> customers;
};

Captured Capture(const SessionTracker& t, const std::vector<std::string>& keys,
                 const std::vector<std::string>& users) {
  Captured c;
  for (const auto& k : keys) {
    auto s = t.Session(k);
    EXPECT_TRUE(s.has_value()) << k;
    if (s) c.sessions.push_back(*s);
  }
  for (const auto& u : users) {
    auto cc = t.Customer(u);
    EXPECT_TRUE(cc.has_value()) << u;
    if (cc) c.customers.push_back(*cc);
  }
  return c;
}

void ExpectSameCapture(const Captured& a, const Captured& b) {
  ASSERT_EQ(a.sessions.size(), b.sessions.size());
  for (size_t i = 0; i < a.sessions.size(); ++i) ExpectSameSnapshot(a.sessions[i], b.sessions[i]);
  ASSERT_EQ(a.customers.size(), b.customers.size());
  for (size_t i = 0; i < a.customers.size(); ++i)
    ExpectSameCustomer(a.customers[i], b.customers[i]);
}

int64_t FileSize(const fs::path& p) { return static_cast<int64_t>(fs::file_size(p)); }

void FlipByte(const fs::path& p, int64_t offset) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f);
  f.seekg(offset);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(offset);
  f.write(&c, 1);
}

// ------------------------------------------------------------------ assembly

TEST(SessionTrackerTest, ClientSessionIdsAreAuthoritative) {
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(MemoryOptions(1000)));
  // 10 hours apart, far beyond the timeout, but the same client session id.
  std::vector<TrackedEvent> b = {Ev("ann", "s1", 0, EventType::kView, "A"),
                                 Ev("ann", "s1", 36'000'000, EventType::kView, "B"),
                                 Ev("ann", "s2", 36'000'500, EventType::kView, "C")};
  ASSERT_OK_AND_ASSIGN(auto keys, t->Observe(b));
  EXPECT_EQ(keys, (std::vector<std::string>{"s1", "s1", "s2"}));
  auto s1 = t->Session("s1");
  ASSERT_TRUE(s1.has_value());
  EXPECT_EQ(s1->counters.events, 2);
  EXPECT_EQ(s1->session_id, "s1");
  EXPECT_EQ(s1->user_id, "ann");
  EXPECT_EQ(t->Customer("ann")->sessions, 2);
}

TEST(SessionTrackerTest, DerivedSessionsSplitAtTheTimeout) {
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(MemoryOptions(1000)));
  // Gap exactly the timeout: still the same session ("within" the timeout);
  // one millisecond more: a new session.
  std::vector<TrackedEvent> b = {
      Ev("bob", "", 0, EventType::kView, "A"), Ev("bob", "", 1000, EventType::kView, "B"),
      Ev("bob", "", 2001, EventType::kView, "C"), Ev("bob", "", 2500, EventType::kView, "D"),
      Ev("eve", "", 2500, EventType::kView, "D")};
  ASSERT_OK_AND_ASSIGN(auto keys, t->Observe(b));
  EXPECT_EQ(keys, (std::vector<std::string>{"u:bob:0", "u:bob:0", "u:bob:2001", "u:bob:2001",
                                            "u:eve:2500"}));
  EXPECT_EQ(t->Session("u:bob:0")->counters.events, 2);
  EXPECT_EQ(t->Session("u:bob:0")->session_id, "");
  EXPECT_EQ(t->Session("u:bob:2001")->counters.events, 2);
  EXPECT_EQ(t->Customer("bob")->sessions, 2);
  // A late event inside the first session's window joins it, not a new one.
  ASSERT_OK_AND_ASSIGN(
      auto late, t->Observe(std::vector<TrackedEvent>{Ev("bob", "", 500, EventType::kClick, "A")}));
  EXPECT_EQ(late, std::vector<std::string>{"u:bob:0"});
  EXPECT_EQ(t->Customer("bob")->sessions, 2);
}

TEST(SessionTrackerTest, AnonymousWithoutSessionRejectsTheWholeBatch) {
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(MemoryOptions()));
  std::vector<TrackedEvent> b = {Ev("ann", "s1", 1000, EventType::kView, "A"),
                                 Ev("ann", "", 2000, EventType::kView, "B"),
                                 Ev("", "", 3000, EventType::kView, "C")};
  auto r = t->Observe(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("event 2"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("session_id"), std::string::npos);
  EXPECT_FALSE(t->Session("s1").has_value());
  EXPECT_FALSE(t->Customer("ann").has_value());
  EXPECT_FALSE(t->LatestSessionOf("ann").has_value());
  EXPECT_EQ(t->Stats().events_observed, 0);
  EXPECT_EQ(t->Stats().sessions_kept, 0);
}

TEST(SessionTrackerTest, ValidationNamesTheEventAndField) {
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(MemoryOptions()));
  auto expect_bad = [&](TrackedEvent bad, const std::string& field) {
    std::vector<TrackedEvent> b = {Ev("ann", "", 1000, EventType::kView, "A"), std::move(bad)};
    auto r = t->Observe(b);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("event 1: "), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status().message();
  };
  expect_bad(Ev("ann", "", -1, EventType::kView), "ts_ms");
  expect_bad(Ev("ann", "", 7258118400001LL, EventType::kView), "ts_ms");
  expect_bad(
      Ev("ann", "", 1000, EventType::kView, "A", "", std::numeric_limits<double>::infinity()),
      "price");
  expect_bad(Ev("ann", "", 1000, EventType::kView, "A", "", -0.5), "price");
  expect_bad(Ev("ann", "", 1000, EventType::kPurchase, "A", "", 1.0,
                std::numeric_limits<double>::infinity()),
             "quantity");
  expect_bad(Ev("ann", "", 1000, EventType::kView, std::string(513, 'x')), "item_id");
  expect_bad(Ev(std::string(513, 'u'), "", 1000, EventType::kView), "user_id");
  expect_bad(Ev("ann", std::string(513, 's'), 1000, EventType::kView), "session_id");
  TrackedEvent bad_type = Ev("ann", "", 1000, EventType::kView);
  bad_type.event.type = static_cast<EventType>(42);
  expect_bad(bad_type, "type");
  EXPECT_EQ(t->Stats().events_observed, 0);
  // Unknown price (NaN), 512-byte ids and year-2199 timestamps are fine.
  std::vector<TrackedEvent> ok = {
      Ev(std::string(512, 'u'), "", 7'000'000'000'000LL, EventType::kView, std::string(512, 'i'))};
  EXPECT_OK(t->Observe(ok));
}

TEST(SessionTrackerTest, CountersMatchAHandComputedSession) {
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(MemoryOptions()));
  std::vector<TrackedEvent> b = {
      Ev("ann", "s", 1000, EventType::kView, "A", "X", 10),
      Ev("ann", "s", 3000, EventType::kView, "B", "Y", 30),
      Ev("ann", "s", 4000, EventType::kView, "A", "X", 10),  // repeat view
      Ev("ann", "s", 9000, EventType::kAddToCart, "A", "X", 10, 1),
      Ev("ann", "s", 10000, EventType::kRemoveFromCart, "A", "X"),
      Ev("ann", "s", 12000, EventType::kView, "C", "X", 5),
      Ev("ann", "s", 12500, EventType::kSearch),
  };
  ASSERT_OK(t->Observe(b));
  auto s = t->Session("s");
  ASSERT_TRUE(s.has_value());
  const SessionCounters& c = s->counters;
  EXPECT_EQ(c.events, 7);
  EXPECT_EQ(c.views, 4);
  EXPECT_EQ(c.carts, 1);
  EXPECT_EQ(c.removes, 1);
  EXPECT_EQ(c.searches, 1);
  EXPECT_EQ(c.purchases, 0);
  EXPECT_EQ(c.repeat_views, 1);
  EXPECT_EQ(c.max_item_views, 2);
  EXPECT_EQ(c.distinct_items(), 3);       // A, B, C
  EXPECT_EQ(c.distinct_categories(), 2);  // X, Y
  EXPECT_EQ(c.price_n, 5);                // 4 views + 1 cart with a price
  EXPECT_DOUBLE_EQ(c.price_sum, 65);
  EXPECT_DOUBLE_EQ(c.price_min, 5);
  EXPECT_DOUBLE_EQ(c.price_max, 30);
  EXPECT_EQ(c.gaps, 6);
  EXPECT_DOUBLE_EQ(c.gap_sum_s, 11.5);  // 12.5 s - 1 s
  EXPECT_DOUBLE_EQ(c.gap_max_s, 5.0);   // 4 s -> 9 s
  EXPECT_DOUBLE_EQ(c.duration_s(), 11.5);
  EXPECT_TRUE(c.carted.empty());  // added then removed
  EXPECT_DOUBLE_EQ(c.cart_price_sum, 10);
  EXPECT_EQ(s->events.size(), 7u);
  EXPECT_TRUE(s->open);
}

TEST(SessionTrackerTest, OutOfOrderEventsEndUpSortedWithNonNegativeGaps) {
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(MemoryOptions()));
  std::vector<TrackedEvent> b = {
      Ev("ann", "", 5000, EventType::kView, "e"),  Ev("ann", "", 1000, EventType::kView, "a"),
      Ev("ann", "", 3000, EventType::kView, "c1"), Ev("ann", "", 3000, EventType::kView, "c2"),
      Ev("ann", "", 2000, EventType::kView, "b"),  Ev("ann", "", 3000, EventType::kView, "c3")};
  ASSERT_OK_AND_ASSIGN(auto keys, t->Observe(b));
  for (const auto& k : keys) EXPECT_EQ(k, "u:ann:5000");
  auto s = t->Session("u:ann:5000");
  ASSERT_TRUE(s.has_value());
  std::vector<std::string> items;
  for (const auto& e : s->events) items.push_back(e.item_id);
  EXPECT_EQ(items, (std::vector<std::string>{"a", "b", "c1", "c2", "c3", "e"}));
  EXPECT_GE(s->counters.gap_sum_s, 0);
  EXPECT_GE(s->counters.gap_max_s, 0);
  EXPECT_EQ(s->counters.first_ms, 1000);
  EXPECT_EQ(s->counters.last_ms, 5000);
  // The session started (first_ms) moved back; a later event near the new start
  // still finds it.
  ASSERT_OK_AND_ASSIGN(
      auto k2, t->Observe(std::vector<TrackedEvent>{Ev("ann", "", 500, EventType::kClick, "z")}));
  EXPECT_EQ(k2, std::vector<std::string>{"u:ann:5000"});
}

TEST(SessionTrackerTest, MaxEventsKeepsTheNewestWhileCountersCountAll) {
  TrackerOptions o = MemoryOptions();
  o.max_events = 3;
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(o));
  std::vector<TrackedEvent> b;
  for (int64_t ts : {4, 9, 0, 7, 1, 8, 3, 2, 6, 5}) {
    b.push_back(Ev("ann", "s", ts * 1000, EventType::kView, "i" + std::to_string(ts)));
  }
  ASSERT_OK(t->Observe(b));
  auto s = t->Session("s");
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->events.size(), 3u);
  EXPECT_EQ(s->events[0].ts_ms, 7000);
  EXPECT_EQ(s->events[1].ts_ms, 8000);
  EXPECT_EQ(s->events[2].ts_ms, 9000);
  EXPECT_EQ(s->counters.events, 10);
  EXPECT_EQ(s->counters.views, 10);
  EXPECT_EQ(s->counters.distinct_items(), 10);
  // An event older than everything kept is counted but not kept.
  ASSERT_OK(t->Observe(std::vector<TrackedEvent>{Ev("ann", "s", 100, EventType::kView, "old")}));
  s = t->Session("s");
  EXPECT_EQ(s->events.front().ts_ms, 7000);
  EXPECT_EQ(s->counters.events, 11);
}

TEST(SessionTrackerTest, AUserWithOneHundredThousandEvents) {
  const fs::path dir = testing::TempDir("online_100k");
  TrackerOptions o = DiskOptions(dir);
  o.sync = false;
  o.checkpoint_every = 30000;  // exercises automatic checkpoints
  const auto start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(o));
  constexpr int kEvents = 100000;
  std::vector<TrackedEvent> batch;
  for (int i = 0; i < kEvents; ++i) {
    // One event a second: a single derived session; 200 distinct items.
    const EventType type = i % 50 == 49 ? EventType::kAddToCart : EventType::kView;
    batch.push_back(Ev("heavy", "", 1'700'000'000'000LL + i * 1000LL, type,
                       "item" + std::to_string(i % 200), "cat" + std::to_string(i % 7),
                       1.0 + i % 13));
    if (batch.size() == 1000) {
      ASSERT_OK(t->Observe(batch));
      batch.clear();
    }
  }
  auto s = t->LatestSessionOf("heavy");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->counters.events, kEvents);
  EXPECT_EQ(s->counters.carts, kEvents / 50);
  // Items 49, 99, 149, 199 (mod 200) only ever get carts: 196 distinct viewed items.
  EXPECT_EQ(s->counters.distinct_items(), 196);
  ASSERT_EQ(s->events.size(), o.max_events);
  EXPECT_EQ(s->events.back().ts_ms, 1'700'000'000'000LL + (kEvents - 1) * 1000LL);
  EXPECT_EQ(s->events.front().ts_ms,
            1'700'000'000'000LL + static_cast<int64_t>(kEvents - o.max_events) * 1000LL);
  EXPECT_EQ(t->Customer("heavy")->events, kEvents);
  EXPECT_EQ(t->Customer("heavy")->sessions, 1);
  // Automatic checkpoints at 30000, 60000 and 90000 events left 10000 in the journal.
  EXPECT_TRUE(fs::exists(dir / internal::kSnapshotFile));
  t.reset();
  ASSERT_OK_AND_ASSIGN(t, SessionTracker::Open(o));
  EXPECT_EQ(t->Stats().replayed_events, 10000);
  auto again = t->LatestSessionOf("heavy");
  ASSERT_TRUE(again.has_value());
  ExpectSameSnapshot(*s, *again);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(secs, 60.0);  // generous: runs under ASan/UBSan on a shared 2-core machine
}

// ------------------------------------------------------------------ customers

TEST(SessionTrackerTest, CustomerCountersAcrossSessions) {
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(MemoryOptions(30 * 60 * 1000)));
  const int64_t kDay = 86400000;
  const int64_t d0 = 20000 * kDay;  // a UTC midnight
  std::vector<TrackedEvent> b = {
      // Session 1 (day 0): two purchases -> one buying session.
      Ev("cy", "", d0 + 1000, EventType::kView, "A", "x", 10),
      Ev("cy", "", d0 + 2000, EventType::kPurchase, "A", "x", 10, 2),
      Ev("cy", "", d0 + 3000, EventType::kPurchase, "B", "x", 5),
      // Session 2 (day 0, 2 hours later): a view and a cart, no purchase.
      Ev("cy", "", d0 + 2 * 3600 * 1000, EventType::kView, "C", "y", 3),
      Ev("cy", "", d0 + 2 * 3600 * 1000 + 10, EventType::kAddToCart, "C", "y", 3),
      // Session 3 (day 2, client id): one purchase.
      Ev("cy", "app-7", d0 + 2 * kDay + 500, EventType::kPurchase, "D", "z", 7),
  };
  ASSERT_OK(t->Observe(b));
  auto c = t->Customer("cy");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->sessions, 3);
  EXPECT_EQ(c->buying_sessions, 2);
  EXPECT_EQ(c->purchases, 3);
  EXPECT_EQ(c->events, 6);
  EXPECT_EQ(c->views, 2);
  EXPECT_EQ(c->carts, 1);
  EXPECT_DOUBLE_EQ(c->monetary, 10 * 2 + 5 + 7);
  EXPECT_EQ(c->purchase_days, (std::vector<int32_t>{20000, 20002}));
  EXPECT_EQ(c->session_days, (std::vector<int32_t>{20000, 20000, 20002}));
  EXPECT_EQ(c->first_ms, d0 + 1000);
  EXPECT_EQ(c->last_purchase_ms, d0 + 2 * kDay + 500);
  EXPECT_FALSE(t->Customer("nobody").has_value());
  // Anonymous client sessions touch no customer.
  ASSERT_OK(t->Observe(std::vector<TrackedEvent>{Ev("", "anon", d0, EventType::kView, "A")}));
  EXPECT_EQ(t->Stats().users, 1);
  // A user logging into an anonymous session: the session counts for them.
  ASSERT_OK(t->Observe(std::vector<TrackedEvent>{Ev("dee", "anon", d0 + 10, EventType::kView)}));
  EXPECT_EQ(t->Customer("dee")->sessions, 1);
  EXPECT_EQ(t->Session("anon")->user_id, "dee");
}

// ------------------------------------------------------------------ persistence

std::vector<std::string> WorkloadUsers() { return {"ann", "bob", "cy"}; }

TEST(SessionTrackerPersistenceTest, ReopenWithoutCheckpointRestoresEverything) {
  const fs::path dir = testing::TempDir("online_reopen");
  std::vector<std::string> keys;
  Captured before;
  {
    ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
    keys = ObserveWorkload(*t, 1'700'000'000'000LL, 0);
    before = Capture(*t, keys, WorkloadUsers());
    EXPECT_GT(t->Stats().journal_bytes, static_cast<int64_t>(internal::kFileHeaderBytes));
  }
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
  ExpectSameCapture(before, Capture(*t, keys, WorkloadUsers()));
  EXPECT_EQ(t->Stats().replayed_events, 10);
  EXPECT_EQ(t->Stats().events_observed, 10);
  EXPECT_FALSE(t->Stats().dropped_torn_tail);
  // Assembly continues where it stopped: bob's second derived session is still open.
  ASSERT_OK_AND_ASSIGN(
      auto k,
      t->Observe(std::vector<TrackedEvent>{
          Ev("bob", "", 1'700'000'000'000LL + 4 * 3600 * 1000 + 120000, EventType::kView, "B")}));
  EXPECT_EQ(k[0], "u:bob:" + std::to_string(1'700'000'000'000LL + 4 * 3600 * 1000));
}

TEST(SessionTrackerPersistenceTest, CheckpointTruncatesTheJournalAndReopens) {
  const fs::path dir = testing::TempDir("online_ckpt");
  std::vector<std::string> keys;
  Captured before;
  {
    ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
    keys = ObserveWorkload(*t, 1'700'000'000'000LL, 0);
    ASSERT_OK(t->Checkpoint());
    EXPECT_EQ(t->Stats().journal_bytes, static_cast<int64_t>(internal::kFileHeaderBytes));
    EXPECT_EQ(FileSize(dir / internal::kJournalFile),
              static_cast<int64_t>(internal::kFileHeaderBytes));
    EXPECT_TRUE(fs::exists(dir / internal::kSnapshotFile));
    // More events after the checkpoint (journal only).
    auto more = ObserveWorkload(*t, 1'700'100'000'000LL, 1);
    keys.insert(keys.end(), more.begin(), more.end());
    before = Capture(*t, keys, WorkloadUsers());
  }
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
  EXPECT_EQ(t->Stats().replayed_events, 10);  // only the post-checkpoint part
  EXPECT_EQ(t->Stats().sessions_kept,
            static_cast<int64_t>(std::set<std::string>(keys.begin(), keys.end()).size()));
  ExpectSameCapture(before, Capture(*t, keys, WorkloadUsers()));
  // Checkpoint again and reopen from the snapshot alone.
  ASSERT_OK(t->Checkpoint());
  t.reset();
  ASSERT_OK_AND_ASSIGN(t, SessionTracker::Open(DiskOptions(dir)));
  EXPECT_EQ(t->Stats().replayed_events, 0);
  ExpectSameCapture(before, Capture(*t, keys, WorkloadUsers()));
}

TEST(SessionTrackerPersistenceTest, ASnapshotWithAnUntruncatedJournalIsNotAppliedTwice) {
  // A crash between the snapshot rename and the journal truncation leaves both.
  const fs::path dir = testing::TempDir("online_double");
  std::vector<std::string> keys;
  Captured before;
  std::string journal_copy;
  {
    ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
    keys = ObserveWorkload(*t, 1'700'000'000'000LL, 0);
    std::ifstream f(dir / internal::kJournalFile, std::ios::binary);
    journal_copy.assign(std::istreambuf_iterator<char>(f), {});
    ASSERT_OK(t->Checkpoint());
    before = Capture(*t, keys, WorkloadUsers());
  }
  {
    std::ofstream f(dir / internal::kJournalFile, std::ios::binary | std::ios::trunc);
    f << journal_copy;
  }
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
  EXPECT_EQ(t->Stats().replayed_events, 0);
  ExpectSameCapture(before, Capture(*t, keys, WorkloadUsers()));
}

TEST(SessionTrackerPersistenceTest, TornTailIsDroppedAndCompleteBatchesKept) {
  const fs::path dir = testing::TempDir("online_torn");
  const fs::path journal = dir / internal::kJournalFile;
  int64_t after_two = 0;
  Captured two;
  const std::vector<std::string> keys = {"s1", "s2"};
  {
    ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
    ASSERT_OK(t->Observe(std::vector<TrackedEvent>{Ev("ann", "s1", 1000, EventType::kView, "A")}));
    ASSERT_OK(t->Observe(std::vector<TrackedEvent>{Ev("ann", "s2", 2000, EventType::kView, "B"),
                                                   Ev("ann", "s2", 2500, EventType::kView, "C")}));
    two = Capture(*t, keys, {"ann"});
    after_two = FileSize(journal);
    ASSERT_OK(t->Observe(
        std::vector<TrackedEvent>{Ev("ann", "s1", 3000, EventType::kPurchase, "A", "", 9)}));
  }
  // Crash in the middle of the third append: a few bytes of it are missing.
  fs::resize_file(journal, FileSize(journal) - 3);
  {
    ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
    EXPECT_TRUE(t->Stats().dropped_torn_tail);
    EXPECT_EQ(t->Stats().replayed_events, 3);
    EXPECT_EQ(t->Stats().journal_bytes, after_two);
    EXPECT_EQ(FileSize(journal), after_two);  // cut back so new records follow good ones
    ExpectSameCapture(two, Capture(*t, keys, {"ann"}));
    ASSERT_OK(t->Observe(std::vector<TrackedEvent>{Ev("ann", "s1", 4000, EventType::kView, "D")}));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
    EXPECT_FALSE(t->Stats().dropped_torn_tail);
    EXPECT_EQ(t->Stats().replayed_events, 4);
    EXPECT_EQ(t->Session("s1")->counters.events, 2);
  }
  // A complete last record with a bad checksum is a torn tail too.
  FlipByte(journal, FileSize(journal) - 2);
  {
    ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
    EXPECT_TRUE(t->Stats().dropped_torn_tail);
    EXPECT_EQ(t->Stats().replayed_events, 3);
  }
}

TEST(SessionTrackerPersistenceTest, CorruptByteInTheMiddleIsDataLossWithOffset) {
  const fs::path dir = testing::TempDir("online_corrupt");
  const fs::path journal = dir / internal::kJournalFile;
  {
    ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
    for (int i = 0; i < 3; ++i) {
      ASSERT_OK(t->Observe(
          std::vector<TrackedEvent>{Ev("ann", "s", 1000 + i, EventType::kView, "item")}));
    }
  }
  const int64_t size = FileSize(journal);
  const int64_t record = (size - static_cast<int64_t>(internal::kFileHeaderBytes)) / 3;
  // A byte inside the payload of the second record.
  const int64_t second = static_cast<int64_t>(internal::kFileHeaderBytes) + record;
  FlipByte(journal, second + static_cast<int64_t>(internal::kRecordHeaderBytes) + 10);
  auto r = SessionTracker::Open(DiskOptions(dir));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find(journal.string()), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("byte offset " + std::to_string(second)), std::string::npos)
      << r.status().message();
  // Undo, then break the length field of the first record instead.
  FlipByte(journal, second + static_cast<int64_t>(internal::kRecordHeaderBytes) + 10);
  EXPECT_OK(SessionTracker::Open(DiskOptions(dir)));
  FlipByte(journal, static_cast<int64_t>(internal::kFileHeaderBytes) + 1);
  r = SessionTracker::Open(DiskOptions(dir));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("byte offset 16"), std::string::npos) << r.status().message();
}

TEST(SessionTrackerPersistenceTest, CorruptSnapshotIsDataLoss) {
  const fs::path dir = testing::TempDir("online_badsnap");
  const fs::path snap = dir / internal::kSnapshotFile;
  {
    ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
    ObserveWorkload(*t, 1'700'000'000'000LL, 0);
    ASSERT_OK(t->Checkpoint());
  }
  FlipByte(snap, FileSize(snap) / 2 + 20);
  auto r = SessionTracker::Open(DiskOptions(dir));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find(snap.string()), std::string::npos) << r.status().message();
  FlipByte(snap, FileSize(snap) / 2 + 20);
  EXPECT_OK(SessionTracker::Open(DiskOptions(dir)));
  // Wrong magic, and a truncated file.
  FlipByte(snap, 0);
  r = SessionTracker::Open(DiskOptions(dir));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("magic"), std::string::npos);
  FlipByte(snap, 0);
  fs::resize_file(snap, FileSize(snap) - 1);
  r = SessionTracker::Open(DiskOptions(dir));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
}

TEST(SessionTrackerPersistenceTest, OneTrackerPerFolderAndBadOptions) {
  const fs::path dir = testing::TempDir("online_lock");
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(DiskOptions(dir)));
  auto second = SessionTracker::Open(DiskOptions(dir));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  t.reset();
  EXPECT_OK(SessionTracker::Open(DiskOptions(dir)));

  TrackerOptions o = MemoryOptions();
  o.max_events = 0;
  EXPECT_EQ(SessionTracker::Open(o).status().code(), StatusCode::kInvalidArgument);
  o = MemoryOptions(0);
  EXPECT_EQ(SessionTracker::Open(o).status().code(), StatusCode::kInvalidArgument);
  o = MemoryOptions();
  o.retain_closed_ms = -1;
  EXPECT_EQ(SessionTracker::Open(o).status().code(), StatusCode::kInvalidArgument);
  o = MemoryOptions();
  o.checkpoint_every = -5;
  EXPECT_EQ(SessionTracker::Open(o).status().code(), StatusCode::kInvalidArgument);
  // Memory-only: Checkpoint has nothing to write.
  ASSERT_OK_AND_ASSIGN(auto m, SessionTracker::Open(MemoryOptions()));
  EXPECT_OK(m->Checkpoint());
}

// ------------------------------------------------------------------ expiry, latest

TEST(SessionTrackerTest, ExpireIdleClosesThenDropsByRetention) {
  const fs::path dir = testing::TempDir("online_expire");
  TrackerOptions o = DiskOptions(dir, 1000);
  o.retain_closed_ms = 5000;
  {
    ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(o));
    ASSERT_OK(
        t->Observe(std::vector<TrackedEvent>{Ev("ann", "A", 0, EventType::kPurchase, "x", "", 3),
                                             Ev("ann", "B", 4000, EventType::kView, "y")}));
    // The newest event time (4000) already makes A idle: closed but kept.
    EXPECT_FALSE(t->Session("A")->open);
    EXPECT_TRUE(t->Session("B")->open);
    EXPECT_EQ(t->Stats().sessions_open, 1);
    EXPECT_EQ(t->ExpireIdle(3000), 0);
    EXPECT_EQ(t->ExpireIdle(5000), 0);   // A idle exactly the retention: kept
    EXPECT_TRUE(t->Session("B")->open);  // B idle exactly the timeout: still open
    EXPECT_EQ(t->ExpireIdle(5001), 1);
    EXPECT_FALSE(t->Session("B")->open);
    EXPECT_EQ(t->Stats().sessions_open, 0);
    EXPECT_FALSE(t->Session("A").has_value());
    EXPECT_TRUE(t->Session("B").has_value());
    EXPECT_EQ(t->Stats().sessions_kept, 1);
    // The customer keeps what A contributed.
    EXPECT_EQ(t->Customer("ann")->purchases, 1);
    EXPECT_EQ(t->Customer("ann")->sessions, 2);
    EXPECT_EQ(t->LatestSessionOf("ann")->key, "B");
  }
  {
    // The expiry was journaled: A stays dropped after a restart.
    ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(o));
    EXPECT_FALSE(t->Session("A").has_value());
    EXPECT_FALSE(t->Session("B")->open);
    EXPECT_EQ(t->ExpireIdle(10000), 1);
    EXPECT_FALSE(t->LatestSessionOf("ann").has_value());
    EXPECT_EQ(t->Customer("ann")->sessions, 2);
    // A new derived session for the user after everything was dropped.
    ASSERT_OK_AND_ASSIGN(
        auto k, t->Observe(std::vector<TrackedEvent>{Ev("ann", "", 20000, EventType::kView, "z")}));
    EXPECT_EQ(k[0], "u:ann:20000");
    EXPECT_EQ(t->Customer("ann")->sessions, 3);
  }
}

TEST(SessionTrackerTest, LatestSessionOfReturnsTheNewest) {
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(MemoryOptions(1000)));
  std::vector<TrackedEvent> b = {
      Ev("ann", "", 0, EventType::kView, "a"), Ev("ann", "", 10000, EventType::kView, "c"),
      Ev("ann", "web", 5000, EventType::kView, "b"), Ev("bob", "", 20000, EventType::kView, "q")};
  ASSERT_OK(t->Observe(b));
  auto latest = t->LatestSessionOf("ann");
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->key, "u:ann:10000");
  EXPECT_FALSE(latest->open);  // bob's event at 20000 moved the clock on
  ASSERT_OK(t->Observe(std::vector<TrackedEvent>{Ev("ann", "web", 15000, EventType::kView, "d")}));
  EXPECT_EQ(t->LatestSessionOf("ann")->key, "web");
  EXPECT_FALSE(t->LatestSessionOf("nobody").has_value());
}

// ------------------------------------------------------------------ concurrency

TEST(SessionTrackerTest, OneWriterManyReaders) {
  const fs::path dir = testing::TempDir("online_threads");
  TrackerOptions o = DiskOptions(dir, 60000);
  o.sync = false;
  o.checkpoint_every = 500;
  o.max_events = 20;
  ASSERT_OK_AND_ASSIGN(auto t, SessionTracker::Open(o));
  constexpr int kBatches = 200, kPerBatch = 10, kUsers = 7;
  std::atomic<bool> done{false};
  std::atomic<int64_t> reads{0};
  auto reader = [&](int id) {
    while (!done.load()) {
      const std::string user = "u" + std::to_string(id % kUsers);
      if (auto s = t->LatestSessionOf(user)) {
        EXPECT_LE(s->events.size(), 20u);
        EXPECT_GE(s->counters.events, static_cast<int64_t>(s->events.size()));
        for (size_t i = 1; i < s->events.size(); ++i) {
          EXPECT_LE(s->events[i - 1].ts_ms, s->events[i].ts_ms);
        }
        auto again = t->Session(s->key);
        EXPECT_TRUE(again.has_value());
      }
      if (auto c = t->Customer(user)) {
        EXPECT_GE(c->events, c->views);
      }
      (void)t->Stats();
      ++reads;
      ++id;
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) readers.emplace_back(reader, r);
  int64_t ts = 1'700'000'000'000LL;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<TrackedEvent> batch;
    for (int i = 0; i < kPerBatch; ++i) {
      ts += 997 + (i * 7919) % 3000;
      batch.push_back(Ev("u" + std::to_string((b + i) % kUsers), "", ts - (i % 3) * 500,
                         i % 4 == 0 ? EventType::kAddToCart : EventType::kView,
                         "it" + std::to_string(i)));
    }
    EXPECT_OK(t->Observe(batch));
    if (b % 50 == 49) t->ExpireIdle(ts - 120000);
  }
  done = true;
  for (auto& th : readers) th.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(t->Stats().events_observed, kBatches * kPerBatch);
  int64_t total = 0;
  for (int u = 0; u < kUsers; ++u) total += t->Customer("u" + std::to_string(u))->events;
  EXPECT_EQ(total, kBatches * kPerBatch);
}

}  // namespace
}  // namespace souk::online
