#include "rank/intent_features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/testing.h"
#include "rank/gbdt_model.h"

namespace souk::rank {
namespace {

using online::CustomerCounters;
using online::SessionCounters;
using online::SessionEvent;
using store::EventType;

constexpr int64_t kDay = 86400000;
// 2024-01-01 00:00:00 UTC, a Monday.
constexpr int64_t kMonday = 1704067200000;
constexpr int64_t kT0 = kMonday + 10 * 3600 * 1000;  // 10:00 UTC

SessionEvent Ev(int64_t ts, EventType type, std::string item = "", std::string category = "",
                double price = std::numeric_limits<double>::quiet_NaN()) {
  SessionEvent e;
  e.ts_ms = ts;
  e.type = type;
  e.item_id = std::move(item);
  e.category = std::move(category);
  e.price = price;
  return e;
}

SessionCounters CountersOf(const std::vector<SessionEvent>& events) {
  SessionCounters c;
  for (const auto& e : events) c.Add(e);
  return c;
}

// The value of feature `name` in `row` (fails the test when the name is absent).
float Feature(const std::vector<std::string>& names, const std::vector<float>& row,
              const std::string& name) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    ADD_FAILURE() << "no feature named " << name;
    return std::numeric_limits<float>::quiet_NaN();
  }
  EXPECT_EQ(names.size(), row.size());
  return row[it - names.begin()];
}

// The reference session: views A, B, A (category X), a cart of A, a search, a
// view of C (category Y) and a cart of C; "now" is 2 minutes after the last event.
std::vector<SessionEvent> ReferenceEvents() {
  return {Ev(kT0 + 0, EventType::kView, "A", "X", 10),
          Ev(kT0 + 60000, EventType::kView, "B", "X", 30),
          Ev(kT0 + 180000, EventType::kView, "A", "X", 10),
          Ev(kT0 + 200000, EventType::kAddToCart, "A", "X", 10),
          Ev(kT0 + 500000, EventType::kSearch),
          Ev(kT0 + 560000, EventType::kView, "C", "Y", 20),
          Ev(kT0 + 600000, EventType::kAddToCart, "C", "Y", 20)};
}
constexpr int64_t kRefNow = kT0 + 720000;

// Priors with smoothing 2 from four sessions:
//   s1 views A (X), converted, bought A;  s2 views B (X), not converted;
//   s3 views D (category Z), not converted;  s4 views A (X), converted, bought nothing.
IntentPriors ReferencePriors() {
  IntentPriors p(2.0);
  p.AddSession(CountersOf({Ev(1, EventType::kView, "A", "X", 10)}), {"A"}, true);
  p.AddSession(CountersOf({Ev(1, EventType::kView, "B", "X", 30)}), {}, false);
  p.AddSession(CountersOf({Ev(1, EventType::kView, "D", "Z", 5)}), {}, false);
  p.AddSession(CountersOf({Ev(1, EventType::kView, "A", "X", 10)}), {}, true);
  return p;
}

// A customer with 3 sessions before the reference session: purchases of 20 and
// 30 in the second one (5 days before kT0), first seen 40 days before kT0.
CustomerCounters ReferenceCustomer() {
  CustomerCounters c;
  c.AddEvent(Ev(kT0 - 40 * kDay, EventType::kView, "A"), true, false);
  c.AddEvent(Ev(kT0 - 5 * kDay - 1000, EventType::kView, "B"), true, false);
  SessionEvent p1 = Ev(kT0 - 5 * kDay, EventType::kPurchase, "B", "", 20);
  p1.quantity = 1;
  c.AddEvent(p1, false, true);
  SessionEvent p2 = Ev(kT0 - 5 * kDay, EventType::kPurchase, "E", "", 30);
  c.AddEvent(p2, false, false);
  c.AddEvent(Ev(kT0 - 2 * kDay, EventType::kView, "C"), true, false);
  return c;
}

// Rows equal value by value, NaN equal to NaN.
bool SameRows(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return false;
    if (!std::isnan(a[i]) && a[i] != b[i]) return false;
  }
  return true;
}

void ExpectNoInf(const std::vector<std::string>& names, const std::vector<float>& row) {
  ASSERT_EQ(names.size(), row.size());
  for (size_t i = 0; i < row.size(); ++i) {
    EXPECT_FALSE(std::isinf(row[i])) << names[i];
  }
}

TEST(IntentFeaturesTest, FeatureNamesAreFixedUniqueAndComplete) {
  const auto names = SessionFeatureNames();
  EXPECT_GE(names.size(), 35u);
  EXPECT_LE(names.size(), 45u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const char* required : {"n_events",
                               "n_views",
                               "n_carts",
                               "n_removes",
                               "n_searches",
                               "n_purchases",
                               "has_cart",
                               "net_cart",
                               "n_distinct_items",
                               "n_distinct_categories",
                               "repeat_view_share",
                               "max_item_views",
                               "duration_s",
                               "mean_gap_s",
                               "max_gap_s",
                               "secs_since_last_event",
                               "last_gap_s",
                               "cart_per_view",
                               "price_mean",
                               "price_cv",
                               "price_spread",
                               "cart_price_rel",
                               "top_category_share",
                               "hour_of_day",
                               "day_of_week",
                               "events_last_5min",
                               "category_conv",
                               "item_conv_max",
                               "item_conv_mean",
                               "cart_item_buy_max",
                               "text_similarity",
                               "is_returning",
                               "prior_sessions",
                               "prior_buying_sessions",
                               "prior_purchases",
                               "prior_conv_rate",
                               "days_since_last_purchase",
                               "days_since_first_seen",
                               "monetary_log"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  }
  const auto with_seq = SessionFeatureNames(3);
  ASSERT_EQ(with_seq.size(), names.size() + 3);
  EXPECT_EQ(with_seq[names.size()], "seq_0");
  EXPECT_EQ(with_seq.back(), "seq_2");
  EXPECT_EQ(SessionFeatureNames(), SessionFeatureNames());  // stable order

  const auto item = ItemFeatureNames();
  EXPECT_EQ(std::set<std::string>(item.begin(), item.end()).size(), item.size());
  for (const char* required :
       {"item_views", "item_carted", "item_cart_adds", "item_removed", "item_is_last_viewed",
        "item_first_view_pos", "secs_since_item_last", "item_price_rel", "item_buy_rate",
        "item_session_rate", "item_category_conv", "item_category_share", "n_views", "n_carts",
        "n_distinct_items", "duration_s", "is_returning", "prior_purchases"}) {
    EXPECT_NE(std::find(item.begin(), item.end(), required), item.end()) << required;
  }
  const auto cust = CustomerFeatureNames();
  EXPECT_EQ(std::set<std::string>(cust.begin(), cust.end()).size(), cust.size());
  for (const char* required :
       {"recency_days", "frequency", "purchases", "monetary_log", "tenure_days", "sessions",
        "buying_sessions", "conv_rate", "purchase_days_30d", "purchase_days_90d", "sessions_30d",
        "sessions_90d", "mean_purchase_gap_days", "recency_over_gap", "days_since_last_seen"}) {
    EXPECT_NE(std::find(cust.begin(), cust.end(), required), cust.end()) << required;
  }
}

TEST(IntentFeaturesTest, HandBuiltSessionGivesExpectedValues) {
  const auto events = ReferenceEvents();
  const SessionCounters c = CountersOf(events);
  const IntentPriors priors = ReferencePriors();
  const CustomerCounters customer = ReferenceCustomer();
  const IntentSignals signals;
  const auto names = SessionFeatureNames();
  const auto row = SessionFeatures(c, events, &customer, priors, signals, kRefNow);
  ExpectNoInf(names, row);
  const auto f = [&](const std::string& n) { return Feature(names, row, n); };

  EXPECT_EQ(f("n_events"), 7);
  EXPECT_EQ(f("n_views"), 4);
  EXPECT_EQ(f("n_carts"), 2);
  EXPECT_EQ(f("n_removes"), 0);
  EXPECT_EQ(f("n_searches"), 1);
  EXPECT_EQ(f("n_purchases"), 0);
  EXPECT_EQ(f("has_cart"), 1);
  EXPECT_EQ(f("net_cart"), 2);
  EXPECT_EQ(f("n_distinct_items"), 3);
  EXPECT_EQ(f("n_distinct_categories"), 2);
  EXPECT_FLOAT_EQ(f("repeat_view_share"), 0.25f);
  EXPECT_EQ(f("max_item_views"), 2);
  EXPECT_FLOAT_EQ(f("duration_s"), 600);
  EXPECT_FLOAT_EQ(f("mean_gap_s"), 100);  // 600 s over 6 gaps
  EXPECT_FLOAT_EQ(f("max_gap_s"), 300);
  EXPECT_FLOAT_EQ(f("secs_since_last_event"), 120);
  EXPECT_FLOAT_EQ(f("last_gap_s"), 40);
  EXPECT_FLOAT_EQ(f("cart_per_view"), 0.5f);
  const double mean_price = 100.0 / 6.0;  // 10, 30, 10, 10 (cart), 20, 20 (cart)
  EXPECT_NEAR(f("price_mean"), std::log1p(mean_price), 1e-5);
  const double var = (100 + 900 + 100 + 100 + 400 + 400) / 6.0 - mean_price * mean_price;
  EXPECT_NEAR(f("price_cv"), std::sqrt(var) / mean_price, 1e-5);
  EXPECT_NEAR(f("price_spread"), std::log1p(30.0) - std::log1p(10.0), 1e-5);
  EXPECT_NEAR(f("cart_price_rel"), 15.0 / mean_price, 1e-5);
  EXPECT_FLOAT_EQ(f("top_category_share"), 0.75f);
  EXPECT_EQ(f("hour_of_day"), 10);
  EXPECT_EQ(f("day_of_week"), 0);       // Monday
  EXPECT_EQ(f("events_last_5min"), 3);  // search, view C, cart C

  // Priors: base 0.5, smoothing 2. Category X: 2 of 3 -> (2 + 1) / 5.
  EXPECT_NEAR(f("category_conv"), 0.6, 1e-6);
  // A: 2 of 2 -> 3/4; B: 0 of 1 -> 1/3; C unknown -> 0.5.
  EXPECT_NEAR(f("item_conv_max"), 0.75, 1e-6);
  EXPECT_NEAR(f("item_conv_mean"), (0.75 + 1.0 / 3.0 + 0.5) / 3.0, 1e-6);
  // Global item rate 1/4; A bought 1 of 2 -> (1 + 0.5) / 4; C unknown -> 0.25.
  EXPECT_NEAR(f("cart_item_buy_max"), 0.375, 1e-6);
  EXPECT_TRUE(std::isnan(f("text_similarity")));

  EXPECT_EQ(f("is_returning"), 1);
  EXPECT_EQ(f("prior_sessions"), 3);
  EXPECT_EQ(f("prior_buying_sessions"), 1);
  EXPECT_EQ(f("prior_purchases"), 2);
  EXPECT_NEAR(f("prior_conv_rate"), 1.0 / 3.0, 1e-6);
  EXPECT_NEAR(f("days_since_last_purchase"), 5.0 + 720.0 / 86400.0, 1e-4);
  EXPECT_NEAR(f("days_since_first_seen"), 40.0 + 720.0 / 86400.0, 1e-4);
  EXPECT_NEAR(f("monetary_log"), std::log1p(50.0), 1e-5);

  // Anonymous: no history.
  const auto anon = SessionFeatures(c, events, nullptr, priors, signals, kRefNow);
  EXPECT_EQ(Feature(names, anon, "is_returning"), 0);
  EXPECT_EQ(Feature(names, anon, "prior_sessions"), 0);
  EXPECT_TRUE(std::isnan(Feature(names, anon, "prior_conv_rate")));
  EXPECT_TRUE(std::isnan(Feature(names, anon, "days_since_last_purchase")));
}

// Live customer counters (session tracker) already include the current
// session: its own events must not count as history.
TEST(IntentFeaturesTest, LiveCustomerCountersExcludeTheCurrentSession) {
  auto events = ReferenceEvents();
  SessionEvent buy = Ev(kT0 + 650000, EventType::kPurchase, "C", "Y", 20);
  events.push_back(buy);
  const SessionCounters c = CountersOf(events);
  CustomerCounters live = ReferenceCustomer();
  bool first_purchase = true;
  for (size_t i = 0; i < events.size(); ++i) {
    const bool is_purchase = events[i].type == EventType::kPurchase;
    live.AddEvent(events[i], i == 0, is_purchase && first_purchase);
    if (is_purchase) first_purchase = false;
  }
  ASSERT_EQ(live.sessions, 4);
  ASSERT_EQ(live.purchases, 3);
  const auto names = SessionFeatureNames();
  const auto row = SessionFeatures(c, events, &live, ReferencePriors(), IntentSignals(), kRefNow);
  const auto f = [&](const std::string& n) { return Feature(names, row, n); };
  EXPECT_EQ(f("n_purchases"), 1);
  EXPECT_EQ(f("prior_sessions"), 3);
  EXPECT_EQ(f("prior_buying_sessions"), 1);
  EXPECT_EQ(f("prior_purchases"), 2);
  EXPECT_NEAR(f("monetary_log"), std::log1p(50.0), 1e-5);
  // The newest purchase is this session's: the previous one was 5 days earlier
  // (day resolution: the end of that day).
  EXPECT_GT(f("days_since_last_purchase"), 4.0);
  EXPECT_LT(f("days_since_last_purchase"), 5.5);

  // A brand-new customer whose only session is this one is not returning.
  CustomerCounters fresh;
  for (size_t i = 0; i < events.size(); ++i) fresh.AddEvent(events[i], i == 0, false);
  const auto row2 = SessionFeatures(c, events, &fresh, IntentPriors(), IntentSignals(), kRefNow);
  EXPECT_EQ(Feature(names, row2, "is_returning"), 0);
  EXPECT_EQ(Feature(names, row2, "prior_sessions"), 0);
  EXPECT_EQ(Feature(names, row2, "prior_purchases"), 0);
}

TEST(IntentFeaturesTest, EmptySessionGivesAValidRow) {
  const SessionCounters empty;
  const CustomerCounters no_history;
  const auto names = SessionFeatureNames();
  for (const CustomerCounters* customer :
       {static_cast<const CustomerCounters*>(nullptr), &no_history}) {
    for (int64_t now : {int64_t{0}, kT0, int64_t{-5}}) {
      const auto row = SessionFeatures(empty, {}, customer, IntentPriors(), IntentSignals(), now);
      ASSERT_EQ(row.size(), names.size());
      ExpectNoInf(names, row);
      EXPECT_EQ(Feature(names, row, "n_events"), 0);
      EXPECT_EQ(Feature(names, row, "has_cart"), 0);
      EXPECT_EQ(Feature(names, row, "duration_s"), 0);
      EXPECT_TRUE(std::isnan(Feature(names, row, "secs_since_last_event")));
      EXPECT_TRUE(std::isnan(Feature(names, row, "last_gap_s")));
      EXPECT_TRUE(std::isnan(Feature(names, row, "price_mean")));
      EXPECT_TRUE(std::isnan(Feature(names, row, "category_conv")));
      EXPECT_TRUE(std::isnan(Feature(names, row, "item_conv_max")));
      EXPECT_EQ(Feature(names, row, "is_returning"), 0);
      const float dow = Feature(names, row, "day_of_week");
      EXPECT_GE(dow, 0);
      EXPECT_LE(dow, 6);
      const float hour = Feature(names, row, "hour_of_day");
      EXPECT_GE(hour, 0);
      EXPECT_LE(hour, 23);
    }
  }
  const auto item_names = ItemFeatureNames();
  const auto item = ItemFeatures(empty, {}, "A", nullptr, IntentPriors(), kT0);
  ASSERT_EQ(item.size(), item_names.size());
  ExpectNoInf(item_names, item);
  EXPECT_EQ(Feature(item_names, item, "item_views"), 0);
  const auto cust_names = CustomerFeatureNames();
  const auto cust = CustomerFeatures(no_history, kT0);
  ASSERT_EQ(cust.size(), cust_names.size());
  ExpectNoInf(cust_names, cust);
  EXPECT_TRUE(std::isnan(Feature(cust_names, cust, "recency_days")));
  EXPECT_EQ(Feature(cust_names, cust, "frequency"), 0);
}

TEST(IntentFeaturesTest, OutOfOrderEventsGiveTheSameOrderDependentFeatures) {
  const auto sorted = ReferenceEvents();
  std::vector<SessionEvent> shuffled = {sorted[3], sorted[6], sorted[0], sorted[5],
                                        sorted[1], sorted[4], sorted[2]};
  const SessionCounters by_arrival = CountersOf(shuffled);
  const SessionCounters in_order = CountersOf(sorted);
  const auto names = SessionFeatureNames();
  const auto a =
      SessionFeatures(by_arrival, shuffled, nullptr, IntentPriors(), IntentSignals(), kRefNow);
  const auto b =
      SessionFeatures(in_order, sorted, nullptr, IntentPriors(), IntentSignals(), kRefNow);
  ExpectNoInf(names, a);
  for (const char* n :
       {"n_events", "n_views", "n_carts", "duration_s", "secs_since_last_event", "last_gap_s",
        "events_last_5min", "price_mean", "top_category_share", "net_cart", "n_distinct_items"}) {
    EXPECT_EQ(Feature(names, a, n), Feature(names, b, n)) << n;
  }
  // Gaps measured on arrival are never negative.
  EXPECT_GE(Feature(names, a, "mean_gap_s"), 0);
  EXPECT_GE(Feature(names, a, "max_gap_s"), 0);

  const auto item_names = ItemFeatureNames();
  for (const std::string item : {"A", "C"}) {
    const auto ia = ItemFeatures(by_arrival, shuffled, item, nullptr, IntentPriors(), kRefNow);
    const auto ib = ItemFeatures(in_order, sorted, item, nullptr, IntentPriors(), kRefNow);
    for (const char* n :
         {"item_is_last_viewed", "item_first_view_pos", "secs_since_item_last", "item_cart_adds"}) {
      EXPECT_EQ(Feature(item_names, ia, n), Feature(item_names, ib, n)) << item << " " << n;
    }
  }
  // Events later than "now" (clock skew): secs since last event stays >= 0.
  const auto skew =
      SessionFeatures(in_order, sorted, nullptr, IntentPriors(), IntentSignals(), kT0 + 100000);
  EXPECT_EQ(Feature(names, skew, "secs_since_last_event"), 0);
}

TEST(IntentPriorsTest, SmoothingMath) {
  IntentPriors none;
  EXPECT_EQ(none.base_rate(), 0.5);
  EXPECT_EQ(none.CategoryRate("X"), 0.5);
  EXPECT_EQ(none.ItemBuyRate("A"), 0.5);

  const IntentPriors p = ReferencePriors();
  EXPECT_EQ(p.sessions(), 4);
  EXPECT_DOUBLE_EQ(p.base_rate(), 0.5);
  EXPECT_DOUBLE_EQ(p.CategoryRate("X"), (2 + 2 * 0.5) / (3 + 2.0));
  EXPECT_DOUBLE_EQ(p.CategoryRate("Z"), (0 + 2 * 0.5) / (1 + 2.0));
  EXPECT_DOUBLE_EQ(p.CategoryRate("unknown"), 0.5);
  EXPECT_DOUBLE_EQ(p.ItemSessionRate("A"), (2 + 1.0) / 4.0);
  EXPECT_DOUBLE_EQ(p.ItemSessionRate("B"), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(p.ItemSessionRate("zz"), 0.5);
  EXPECT_DOUBLE_EQ(p.ItemBuyRate("A"), (1 + 2 * 0.25) / 4.0);
  EXPECT_DOUBLE_EQ(p.ItemBuyRate("B"), (0 + 2 * 0.25) / 3.0);
  EXPECT_DOUBLE_EQ(p.ItemBuyRate("zz"), 0.25);

  // No smoothing: raw rates; a carted (not viewed) item counts as viewed.
  IntentPriors raw(0.0);
  raw.AddSession(CountersOf({Ev(1, EventType::kAddToCart, "K", "", 5)}), {"K"}, true);
  raw.AddSession(CountersOf({Ev(1, EventType::kView, "K", "Q", 5)}), {}, false);
  raw.AddSession(CountersOf({Ev(1, EventType::kView, "L", "Q", 5)}), {}, false);
  EXPECT_DOUBLE_EQ(raw.base_rate(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(raw.ItemSessionRate("K"), 0.5);
  EXPECT_DOUBLE_EQ(raw.ItemBuyRate("K"), 0.5);
  EXPECT_DOUBLE_EQ(raw.ItemBuyRate("L"), 0.0);
  EXPECT_DOUBLE_EQ(raw.CategoryRate("Q"), 0.0);
}

TEST(IntentPriorsTest, JsonRoundTripAndErrors) {
  const IntentPriors p = ReferencePriors();
  const nlohmann::json j = p.ToJson();
  const auto back = IntentPriors::FromJson(nlohmann::json::parse(j.dump()));
  ASSERT_OK(back);
  EXPECT_EQ(back->sessions(), p.sessions());
  EXPECT_DOUBLE_EQ(back->base_rate(), p.base_rate());
  for (const char* key : {"A", "B", "D", "zz"}) {
    EXPECT_DOUBLE_EQ(back->ItemSessionRate(key), p.ItemSessionRate(key)) << key;
    EXPECT_DOUBLE_EQ(back->ItemBuyRate(key), p.ItemBuyRate(key)) << key;
  }
  for (const char* key : {"X", "Z", "none"}) {
    EXPECT_DOUBLE_EQ(back->CategoryRate(key), p.CategoryRate(key)) << key;
  }
  EXPECT_EQ(back->ToJson(), j);

  for (const char* field : {"sessions", "smoothing", "item_buy", "category"}) {
    nlohmann::json bad = j;
    bad.erase(field);
    const auto r = IntentPriors::FromJson(bad);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status().message();
  }
  nlohmann::json bad = j;
  bad["item_session"]["A"] = "oops";
  auto r = IntentPriors::FromJson(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("item_session"), std::string::npos);
  bad = j;
  bad["category"]["X"] = nlohmann::json::array({1, 5});  // pos > n
  r = IntentPriors::FromJson(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("category"), std::string::npos);
  EXPECT_FALSE(IntentPriors::FromJson(nlohmann::json::array()).ok());
  bad = j;
  bad["converted"] = 99;
  EXPECT_FALSE(IntentPriors::FromJson(bad).ok());
}

// Sessions whose items and categories appear in that session only.
std::vector<LabeledSession> UniqueItemSessions(int n) {
  std::vector<LabeledSession> out;
  for (int i = 0; i < n; ++i) {
    LabeledSession s;
    const std::string item = "item" + std::to_string(i);
    s.events = {
        Ev(kT0 + i * 1000, EventType::kView, item, "cat" + std::to_string(i), 10 + i),
        Ev(kT0 + i * 1000 + 500, EventType::kView, item, "cat" + std::to_string(i), 10 + i)};
    s.counters = CountersOf(s.events);
    s.converted = i % 3 == 0;
    if (s.converted) s.bought = {item};
    s.cut_ms = s.events.back().ts_ms;
    s.group = 100 + i / 2;
    out.push_back(std::move(s));
  }
  return out;
}

TEST(IntentTrainingSetTest, OutOfFoldPriorsDoNotLeakTheRowsOwnLabel) {
  auto sessions = UniqueItemSessions(60);
  const IntentSignals signals;
  IntentPriors fitted;
  std::vector<int64_t> groups;
  const TrainingSet oof = BuildSessionTrainingSet(sessions, signals, 5, &fitted, &groups);
  ASSERT_OK(oof.Validate());
  ASSERT_EQ(oof.rows(), 60u);
  ASSERT_EQ(groups.size(), 60u);
  EXPECT_EQ(fitted.sessions(), 60);
  const auto& names = oof.feature_names;
  const size_t cols = oof.cols();
  const auto row = [&](const TrainingSet& t, size_t i) {
    return std::vector<float>(t.x.begin() + i * cols, t.x.begin() + (i + 1) * cols);
  };
  for (size_t i = 0; i < 60; ++i) {
    EXPECT_EQ(groups[i], sessions[i].group);
    EXPECT_EQ(oof.label[i], sessions[i].converted ? 1.0f : 0.0f);
    const auto r = row(oof, i);
    // The item and the category are unknown to the other folds: both priors
    // fall back to the (out-of-fold) base rate, whatever the row's label.
    const float item_conv = Feature(names, r, "item_conv_max");
    EXPECT_FLOAT_EQ(item_conv, Feature(names, r, "category_conv"));
    EXPECT_GT(item_conv, 0.15f);
    EXPECT_LT(item_conv, 0.55f);
  }
  // Flipping a session's own label does not change its own row.
  for (size_t i : {0u, 7u, 31u}) {
    auto flipped = sessions;
    flipped[i].converted = !flipped[i].converted;
    const TrainingSet t = BuildSessionTrainingSet(flipped, signals, 5, nullptr, nullptr);
    EXPECT_TRUE(SameRows(row(t, i), row(oof, i))) << i;
  }
  // Deterministic.
  EXPECT_TRUE(SameRows(BuildSessionTrainingSet(sessions, signals, 5, nullptr, nullptr).x, oof.x));

  // In-sample (prior_folds < 2): the prior shows the row's own label.
  const TrainingSet in = BuildSessionTrainingSet(sessions, signals, 1, nullptr, nullptr);
  const double base = 20.0 / 60.0;
  for (size_t i = 0; i < 60; ++i) {
    const double label = sessions[i].converted ? 1.0 : 0.0;
    EXPECT_NEAR(Feature(names, row(in, i), "item_conv_max"), (label + 20 * base) / 21.0, 1e-6);
  }

  // Items: the same holds for the item model's priors.
  IntentPriors item_fitted;
  std::vector<int64_t> item_groups;
  const TrainingSet items = BuildItemTrainingSet(sessions, 5, &item_fitted, &item_groups);
  ASSERT_EQ(items.rows(), 60u);
  const auto& inames = items.feature_names;
  for (size_t i = 0; i < 60; ++i) {
    const auto r = std::vector<float>(items.x.begin() + i * items.cols(),
                                      items.x.begin() + (i + 1) * items.cols());
    EXPECT_FLOAT_EQ(Feature(inames, r, "item_session_rate"),
                    Feature(inames, r, "item_category_conv"));
    EXPECT_EQ(items.label[i], sessions[i].converted ? 1.0f : 0.0f);
  }
  EXPECT_NEAR(item_fitted.ItemBuyRate("item0"), (1 + 20 * (20.0 / 60.0)) / 21.0, 1e-9);
}

TEST(IntentTrainingSetTest, ItemRowsOnePerDistinctViewedOrCartedItem) {
  LabeledSession s;
  s.events = {Ev(kT0, EventType::kView, "A", "X", 10),
              Ev(kT0 + 1000, EventType::kView, "A", "X", 10),
              Ev(kT0 + 2000, EventType::kView, "B", "X", 20),
              Ev(kT0 + 3000, EventType::kAddToCart, "C", "Y", 30),  // carted, never viewed
              Ev(kT0 + 4000, EventType::kAddToCart, "D", "Y", 40),
              Ev(kT0 + 5000, EventType::kRemoveFromCart, "D", "Y", 40),
              Ev(kT0 + 6000, EventType::kSearch)};
  s.counters = CountersOf(s.events);
  s.bought = {"C", "B"};
  s.converted = true;
  s.cut_ms = kT0 + 6000;
  s.group = 42;
  LabeledSession other;
  other.events = {Ev(kT0, EventType::kView, "E", "X", 10)};
  other.counters = CountersOf(other.events);
  other.cut_ms = kT0;
  other.group = 7;
  const std::vector<LabeledSession> sessions = {s, other};
  std::vector<int64_t> groups;
  const TrainingSet t = BuildItemTrainingSet(sessions, 1, nullptr, &groups);
  ASSERT_OK(t.Validate());
  ASSERT_EQ(t.rows(), 5u);  // A, B, C, D from the first session; E from the second
  EXPECT_EQ(groups, (std::vector<int64_t>{42, 42, 42, 42, 7}));
  // Rows are in item order within a session: A, B, C, D.
  EXPECT_EQ(t.label, (std::vector<float>{0, 1, 1, 0, 0}));
  const auto& names = t.feature_names;
  const auto row = [&](size_t i) {
    return std::vector<float>(t.x.begin() + i * t.cols(), t.x.begin() + (i + 1) * t.cols());
  };
  EXPECT_EQ(Feature(names, row(0), "item_views"), 2);
  EXPECT_EQ(Feature(names, row(2), "item_carted"), 1);
  EXPECT_EQ(Feature(names, row(3), "item_carted"), 0);
  EXPECT_EQ(Feature(names, row(3), "item_removed"), 1);
  EXPECT_EQ(Feature(names, row(3), "item_cart_adds"), 1);
}

TEST(IntentFeaturesTest, ItemFeaturesOfTheReferenceSession) {
  const auto events = ReferenceEvents();
  const SessionCounters c = CountersOf(events);
  const IntentPriors priors = ReferencePriors();
  const CustomerCounters customer = ReferenceCustomer();
  const auto names = ItemFeatureNames();
  const double mean_price = 100.0 / 6.0;

  const auto a = ItemFeatures(c, events, "A", &customer, priors, kRefNow);
  ExpectNoInf(names, a);
  const auto fa = [&](const std::string& n) { return Feature(names, a, n); };
  EXPECT_EQ(fa("item_views"), 2);
  EXPECT_EQ(fa("item_carted"), 1);
  EXPECT_EQ(fa("item_cart_adds"), 1);
  EXPECT_EQ(fa("item_removed"), 0);
  EXPECT_EQ(fa("item_is_last_viewed"), 0);
  EXPECT_EQ(fa("item_first_view_pos"), 0);
  EXPECT_FLOAT_EQ(fa("secs_since_item_last"), 520);
  EXPECT_NEAR(fa("item_price_rel"), 10.0 / mean_price, 1e-5);
  EXPECT_NEAR(fa("item_buy_rate"), 0.375, 1e-6);
  EXPECT_NEAR(fa("item_session_rate"), 0.75, 1e-6);
  EXPECT_NEAR(fa("item_category_conv"), 0.6, 1e-6);
  EXPECT_FLOAT_EQ(fa("item_category_share"), 0.75f);
  EXPECT_EQ(fa("n_views"), 4);
  EXPECT_EQ(fa("n_carts"), 2);
  EXPECT_EQ(fa("n_distinct_items"), 3);
  EXPECT_FLOAT_EQ(fa("duration_s"), 600);
  EXPECT_EQ(fa("is_returning"), 1);
  EXPECT_EQ(fa("prior_purchases"), 2);

  const auto cr = ItemFeatures(c, events, "C", nullptr, priors, kRefNow);
  EXPECT_EQ(Feature(names, cr, "item_is_last_viewed"), 1);
  EXPECT_NEAR(Feature(names, cr, "item_first_view_pos"), 5.0 / 6.0, 1e-6);
  EXPECT_FLOAT_EQ(Feature(names, cr, "item_category_share"), 0.25f);
  EXPECT_NEAR(Feature(names, cr, "item_session_rate"), 0.5, 1e-6);  // unknown to the priors
  EXPECT_EQ(Feature(names, cr, "is_returning"), 0);

  // An item the session never touched: a valid row.
  const auto z = ItemFeatures(c, events, "not-in-session", nullptr, priors, kRefNow);
  ExpectNoInf(names, z);
  EXPECT_EQ(Feature(names, z, "item_views"), 0);
  EXPECT_EQ(Feature(names, z, "item_carted"), 0);
  EXPECT_EQ(Feature(names, z, "item_is_last_viewed"), 0);
  EXPECT_TRUE(std::isnan(Feature(names, z, "item_first_view_pos")));
  EXPECT_TRUE(std::isnan(Feature(names, z, "secs_since_item_last")));
  EXPECT_NEAR(Feature(names, z, "item_buy_rate"), 0.25, 1e-6);
  EXPECT_EQ(Feature(names, z, "n_views"), 4);
  // The empty item id matches no search event.
  const auto empty_id = ItemFeatures(c, events, "", nullptr, priors, kRefNow);
  EXPECT_TRUE(std::isnan(Feature(names, empty_id, "secs_since_item_last")));
}

TEST(IntentFeaturesTest, CustomerWindowedCounts) {
  const int64_t at = 100 * kDay + kDay / 2;  // noon of day 100
  CustomerCounters c;
  // Purchases on days 60, 71, 85, 99, 100 (before noon) and 101 (after `at`).
  for (int64_t day : {60, 71, 85, 99, 100, 101}) {
    c.AddEvent(Ev(day * kDay + 3600 * 1000, EventType::kPurchase, "A", "", 10), true, true);
  }
  // Extra sessions without purchases on days 10 and 95.
  c.AddEvent(Ev(10 * kDay, EventType::kView, "A"), true, false);
  c.AddEvent(Ev(95 * kDay, EventType::kView, "A"), true, false);
  const auto names = CustomerFeatureNames();
  const auto row = CustomerFeatures(c, at);
  ExpectNoInf(names, row);
  const auto f = [&](const std::string& n) { return Feature(names, row, n); };
  EXPECT_EQ(f("frequency"), 5);          // day 101 is after `at`
  EXPECT_EQ(f("purchase_days_30d"), 4);  // 71, 85, 99, 100
  EXPECT_EQ(f("purchase_days_90d"), 5);  // + 60
  EXPECT_EQ(f("sessions_30d"), 5);       // 71, 85, 95, 99, 100
  EXPECT_EQ(f("sessions_90d"), 6);       // + 60 (day 10 is older)
  EXPECT_EQ(f("sessions"), 8);
  EXPECT_EQ(f("buying_sessions"), 6);
  EXPECT_NEAR(f("conv_rate"), 6.0 / 8.0, 1e-6);
  EXPECT_EQ(f("purchases"), 6);
  EXPECT_NEAR(f("monetary_log"), std::log1p(60.0), 1e-5);
  EXPECT_NEAR(f("mean_purchase_gap_days"), (100.0 - 60.0) / 4.0, 1e-6);
  // The counters' last purchase (day 101) lies after `at`: recency clamps to 0.
  EXPECT_EQ(f("recency_days"), 0);
  EXPECT_NEAR(f("tenure_days"), 90.5, 1e-4);

  // A customer built only from events before `at`.
  CustomerCounters before;
  before.AddEvent(Ev(10 * kDay, EventType::kView, "A"), true, false);
  before.AddEvent(Ev(80 * kDay, EventType::kPurchase, "A", "", 5), true, true);
  before.AddEvent(Ev(90 * kDay, EventType::kPurchase, "A", "", 5), true, true);
  const auto r2 = CustomerFeatures(before, at);
  EXPECT_NEAR(Feature(names, r2, "recency_days"), 10.5, 1e-4);
  EXPECT_NEAR(Feature(names, r2, "mean_purchase_gap_days"), 10.0, 1e-6);
  EXPECT_NEAR(Feature(names, r2, "recency_over_gap"), 1.05, 1e-4);
  EXPECT_NEAR(Feature(names, r2, "days_since_last_seen"), 10.5, 1e-4);
  EXPECT_EQ(Feature(names, r2, "purchase_days_30d"), 2);

  // One purchase day: no gap.
  CustomerCounters one;
  one.AddEvent(Ev(50 * kDay, EventType::kPurchase, "A", "", 5), true, true);
  const auto r3 = CustomerFeatures(one, at);
  EXPECT_TRUE(std::isnan(Feature(names, r3, "mean_purchase_gap_days")));
  EXPECT_TRUE(std::isnan(Feature(names, r3, "recency_over_gap")));
  EXPECT_EQ(Feature(names, r3, "purchase_days_30d"), 0);
  EXPECT_EQ(Feature(names, r3, "purchase_days_90d"), 1);
}

TEST(EmbeddingIntentSignalsTest, MeanCosineOfConsecutiveDistinctItems) {
  // a = (1,0), b = (0.6,0.8), c = (0,1): cos(a,b) = 0.6, cos(b,c) = 0.8.
  const std::map<std::string, std::vector<float>> vectors = {
      {"a", {1, 0}}, {"b", {0.6f, 0.8f}}, {"c", {0, 1}}};
  EmbeddingIntentSignals signals([&](const std::string& id) -> std::span<const float> {
    auto it = vectors.find(id);
    return it == vectors.end() ? std::span<const float>() : std::span<const float>(it->second);
  });
  std::vector<SessionEvent> ev = {Ev(kT0, EventType::kView, "a"),
                                  Ev(kT0 + 1000, EventType::kView, "a"),  // repeat: no pair
                                  Ev(kT0 + 2000, EventType::kSearch),     // no item
                                  Ev(kT0 + 3000, EventType::kView, "b"),
                                  Ev(kT0 + 4000, EventType::kView, "unknown"),  // no vector
                                  Ev(kT0 + 5000, EventType::kAddToCart, "c")};
  EXPECT_NEAR(signals.TextSimilarity(ev), (0.6 + 0.8) / 2, 1e-6);
  // Fewer than two items with vectors: NaN.
  EXPECT_TRUE(std::isnan(signals.TextSimilarity(std::span(ev).first(2))));
  EXPECT_TRUE(std::isnan(signals.TextSimilarity({})));
  // The session features carry it.
  const SessionCounters c = CountersOf(ev);
  IntentPriors priors;
  const auto names = SessionFeatureNames();
  const auto row = SessionFeatures(c, ev, nullptr, priors, signals, kT0 + 6000);
  EXPECT_NEAR(Feature(names, row, "text_similarity"), 0.7f, 1e-5);
}

TEST(DescribeDriverTest, EnglishAndChinese) {
  const auto en = [](const std::string& f, float v, double c = 1.0) {
    return DescribeDriver(Driver{f, v, c}, "en");
  };
  const auto zh = [](const std::string& f, float v, double c = 1.0) {
    return DescribeDriver(Driver{f, v, c}, "zh");
  };
  EXPECT_EQ(en("n_carts", 3), "3 add-to-carts");
  EXPECT_EQ(en("n_carts", 1), "1 add-to-cart");
  EXPECT_EQ(en("n_carts", 0, -0.4), "no add-to-cart yet");
  EXPECT_EQ(en("n_carts", 0, +0.4), "0 add-to-carts");
  EXPECT_EQ(zh("n_carts", 3), "3 次加购");
  EXPECT_EQ(zh("n_carts", 0, -0.4), "尚未加购");
  EXPECT_EQ(en("is_returning", 1), "returning customer");
  EXPECT_EQ(en("is_returning", 0, -0.2), "new visitor");
  EXPECT_EQ(zh("is_returning", 1), "老客户");
  EXPECT_EQ(zh("is_returning", 0), "新访客");
  EXPECT_EQ(en("duration_s", 720), "12 min in session");
  EXPECT_EQ(en("duration_s", 45), "45 s in session");
  EXPECT_EQ(zh("duration_s", 720), "会话已持续 12 分钟");
  EXPECT_EQ(en("days_since_last_purchase", 5.2f), "last purchase 5 days ago");
  EXPECT_EQ(en("days_since_last_purchase", 1.1f), "last purchase 1 day ago");
  EXPECT_EQ(en("days_since_last_purchase", std::numeric_limits<float>::quiet_NaN()),
            "never purchased before");
  EXPECT_EQ(zh("days_since_last_purchase", 5), "上次购买在 5 天前");
  EXPECT_EQ(en("n_views", 5), "5 product views");
  EXPECT_EQ(en("n_distinct_categories", 2), "browsed 2 categories");
  EXPECT_EQ(en("n_distinct_categories", 1), "browsed 1 category");
  EXPECT_EQ(en("n_searches", 2), "2 searches");
  EXPECT_EQ(en("category_conv", 0.125f), "browsed category converts at 12.5%");
  EXPECT_EQ(en("item_carted", 1), "in the cart");
  EXPECT_EQ(en("day_of_week", 0), "on a Monday");
  EXPECT_EQ(zh("day_of_week", 6), "星期日");
  EXPECT_EQ(en("hour_of_day", 9), "at 09:00 UTC");
  EXPECT_EQ(en("monetary_log", static_cast<float>(std::log1p(120.0))), "spent 120 so far");
  EXPECT_EQ(en("cart_price_rel", 1.5f), "carted items cost 1.5x the viewed average");
  // seq_* and the fallback for unknown names; numbers without trailing zeros.
  EXPECT_EQ(en("seq_7", 0.3f), "browsing sequence pattern");
  EXPECT_EQ(zh("seq_0", 0.3f), "浏览序列模式");
  EXPECT_EQ(en("mystery_feature", 3.0f), "mystery_feature = 3");
  EXPECT_EQ(en("mystery_feature", 2.5f), "mystery_feature = 2.5");
  EXPECT_EQ(zh("mystery_feature", 0.126f), "mystery_feature = 0.13");
  EXPECT_EQ(en("mystery_feature", std::numeric_limits<float>::quiet_NaN()),
            "mystery_feature unknown");
  // Default language is English; "zh-CN" counts as Chinese.
  EXPECT_EQ(DescribeDriver(Driver{"n_carts", 2, 1}, ""), "2 add-to-carts");
  EXPECT_EQ(DescribeDriver(Driver{"n_carts", 2, 1}, "zh-CN"), "2 次加购");
}

TEST(DescribeDriverTest, EveryFeatureNameHasAPhrase) {
  std::vector<std::string> all = SessionFeatureNames(2);
  for (const auto& n : ItemFeatureNames()) all.push_back(n);
  for (const auto& n : CustomerFeatureNames()) all.push_back(n);
  for (const auto& name : all) {
    for (float v : {0.0f, 1.0f, 3.0f, 0.4f, 250.0f}) {
      for (const char* lang : {"en", "zh"}) {
        const std::string s = DescribeDriver(Driver{name, v, -1.0}, lang);
        EXPECT_FALSE(s.empty()) << name;
        EXPECT_EQ(s.find(" = "), std::string::npos) << name << " has no phrase: " << s;
        EXPECT_EQ(s.find("000000"), std::string::npos) << s;
      }
    }
  }
}

// Random sessions, including hostile values: features are finite or NaN, the
// count columns are always finite, and nothing crashes.
TEST(IntentFeaturesTest, RandomInputsGiveFiniteOrNanValues) {
  std::mt19937_64 rng(12345);
  const double kPrices[] = {0.0,
                            1.0,
                            19.99,
                            1e300,
                            -5.0,
                            std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::quiet_NaN(),
                            1e-300};
  const int64_t kTimes[] = {0, -1000, kT0, std::numeric_limits<int64_t>::max() / 4,
                            -std::numeric_limits<int64_t>::max() / 4};
  const auto names = SessionFeatureNames();
  const auto item_names = ItemFeatureNames();
  const auto cust_names = CustomerFeatureNames();
  IntentPriors priors;
  for (int iter = 0; iter < 300; ++iter) {
    const int n = static_cast<int>(rng() % 40);
    const int64_t base = kTimes[rng() % 5];
    std::vector<SessionEvent> events;
    for (int i = 0; i < n; ++i) {
      SessionEvent e =
          Ev(base + static_cast<int64_t>(rng() % 4000000) - 1000000,
             static_cast<EventType>(rng() % store::kNumEventTypes),
             rng() % 5 == 0 ? "" : "i" + std::to_string(rng() % 8),
             rng() % 4 == 0 ? "" : "c" + std::to_string(rng() % 3), kPrices[rng() % 8]);
      e.quantity = rng() % 2 ? 1.0 : kPrices[rng() % 8];
      events.push_back(std::move(e));
    }
    const SessionCounters c = CountersOf(events);
    CustomerCounters customer;
    for (size_t i = 0; i < events.size(); ++i) {
      customer.AddEvent(events[i], i % 7 == 0, events[i].type == EventType::kPurchase);
    }
    std::unordered_set<std::string> bought;
    if (rng() % 2) bought.insert("i1");
    priors.AddSession(c, bought, rng() % 2 == 0);
    const int64_t now = base + static_cast<int64_t>(rng() % 8000000) - 4000000;
    const auto row =
        SessionFeatures(c, events, rng() % 2 ? &customer : nullptr, priors, IntentSignals(), now);
    ExpectNoInf(names, row);
    for (const char* finite :
         {"n_events", "n_views", "n_carts", "has_cart", "net_cart", "n_distinct_items",
          "duration_s", "hour_of_day", "day_of_week", "events_last_5min", "is_returning",
          "prior_sessions", "repeat_view_share", "cart_per_view"}) {
      EXPECT_TRUE(std::isfinite(Feature(names, row, finite))) << finite << " iter " << iter;
    }
    const float secs = Feature(names, row, "secs_since_last_event");
    EXPECT_TRUE(std::isnan(secs) || secs >= 0);
    const auto item =
        ItemFeatures(c, events, "i" + std::to_string(rng() % 10), &customer, priors, now);
    ExpectNoInf(item_names, item);
    const auto cust = CustomerFeatures(customer, now);
    ExpectNoInf(cust_names, cust);
    for (const auto& v : row) {
      (void)DescribeDriver(Driver{names[&v - row.data()], v, -0.5}, iter % 2 ? "zh" : "en");
    }
  }
  const auto json = priors.ToJson();
  ASSERT_OK(IntentPriors::FromJson(nlohmann::json::parse(json.dump())));
}

// A fake signals provider: a fixed embedding and a (bad) infinite similarity.
class FakeSignals : public IntentSignals {
 public:
  double TextSimilarity(std::span<const SessionEvent> events) const override {
    return std::numeric_limits<double>::infinity();
  }
  int SequenceDims() const override { return 3; }
  void SequenceEmbedding(std::span<const SessionEvent> events, float* out) const override {
    out[0] = static_cast<float>(events.size());
    out[1] = -1.0f;
    out[2] = std::numeric_limits<float>::infinity();
  }
};

TEST(IntentFeaturesTest, SignalsFillSequenceColumnsAndAreSanitized) {
  const auto events = ReferenceEvents();
  const SessionCounters c = CountersOf(events);
  const FakeSignals signals;
  const auto names = SessionFeatureNames(signals.SequenceDims());
  const auto row = SessionFeatures(c, events, nullptr, IntentPriors(), signals, kRefNow);
  ASSERT_EQ(row.size(), names.size());
  ExpectNoInf(names, row);
  EXPECT_EQ(Feature(names, row, "seq_0"), 7);
  EXPECT_EQ(Feature(names, row, "seq_1"), -1);
  EXPECT_TRUE(std::isnan(Feature(names, row, "seq_2")));
  EXPECT_TRUE(std::isnan(Feature(names, row, "text_similarity")));
  const TrainingSet t =
      BuildSessionTrainingSet(UniqueItemSessions(4), signals, 2, nullptr, nullptr);
  EXPECT_EQ(t.cols(), names.size());
  ASSERT_OK(t.Validate());
}

// A user with 100,000 events: counters stay exact, features stay fast and valid.
TEST(IntentFeaturesTest, VeryLongSession) {
  SessionCounters c;
  std::vector<SessionEvent> kept;
  for (int i = 0; i < 100000; ++i) {
    SessionEvent e = Ev(kT0 + i * 100, i % 10 == 0 ? EventType::kAddToCart : EventType::kView,
                        "i" + std::to_string(i % 1000), "c" + std::to_string(i % 50), 1 + i % 97);
    c.Add(e);
    if (i >= 100000 - 500) kept.push_back(std::move(e));
  }
  const auto names = SessionFeatureNames();
  const auto row =
      SessionFeatures(c, kept, nullptr, IntentPriors(), IntentSignals(), kT0 + 100000 * 100);
  ExpectNoInf(names, row);
  EXPECT_EQ(Feature(names, row, "n_events"), 100000);
  EXPECT_EQ(Feature(names, row, "n_carts"), 10000);
  EXPECT_EQ(Feature(names, row, "n_distinct_items"), 900);  // items of every 10th event only carted
  EXPECT_EQ(Feature(names, row, "events_last_5min"), 500);  // all kept events are recent
}

// End to end: the features carry the signal (carts drive conversion) and the
// drivers of a trained booster read as phrases.
TEST(IntentTrainingSetTest, GbdtLearnsFromSessionFeatures) {
  std::mt19937_64 rng(99);
  std::vector<LabeledSession> sessions;
  for (int i = 0; i < 400; ++i) {
    LabeledSession s;
    const int views = 1 + static_cast<int>(rng() % 6);
    const bool carts = rng() % 2 == 0;
    int64_t t = kT0 + i * 3600000LL;
    for (int v = 0; v < views; ++v) {
      s.events.push_back(Ev(t, EventType::kView, "i" + std::to_string(rng() % 50), "c", 10));
      t += 30000;
    }
    if (carts) s.events.push_back(Ev(t, EventType::kAddToCart, s.events[0].item_id, "c", 10));
    s.counters = CountersOf(s.events);
    const double p = carts ? 0.8 : 0.1;
    s.converted = std::uniform_real_distribution<double>(0, 1)(rng) < p;
    s.cut_ms = t;
    s.group = i;
    sessions.push_back(std::move(s));
  }
  const TrainingSet train =
      BuildSessionTrainingSet(std::span<const LabeledSession>(sessions).subspan(0, 300),
                              IntentSignals(), 5, nullptr, nullptr);
  GbdtOptions o;
  o.objective = "binary:logistic";
  o.eval_metric = "logloss";
  o.rounds = 40;
  o.early_stopping_rounds = 0;
  o.max_depth = 3;
  o.threads = 1;
  auto model = GbdtModel::Train(train, nullptr, o);
  ASSERT_OK(model);
  IntentPriors priors;
  (void)BuildSessionTrainingSet(std::span<const LabeledSession>(sessions).subspan(0, 300),
                                IntentSignals(), 5, &priors, nullptr);
  double with_cart = 0, without_cart = 0;
  int n_with = 0, n_without = 0;
  for (size_t i = 300; i < sessions.size(); ++i) {
    const auto& s = sessions[i];
    const auto row =
        SessionFeatures(s.counters, s.events, nullptr, priors, IntentSignals(), s.cut_ms);
    float p = 0;
    ASSERT_OK((*model)->Predict(row.data(), 1, &p));
    (s.counters.carts > 0 ? with_cart : without_cart) += p;
    (s.counters.carts > 0 ? n_with : n_without) += 1;
    if (i == 300) {
      auto contrib = (*model)->Contributions(row.data(), 1);
      ASSERT_OK(contrib);
      size_t best = 0;
      for (size_t j = 0; j < row.size(); ++j) {
        if (std::fabs((*contrib)[j]) > std::fabs((*contrib)[best])) best = j;
      }
      const std::string phrase =
          DescribeDriver(Driver{train.feature_names[best], row[best], (*contrib)[best]}, "en");
      EXPECT_FALSE(phrase.empty());
      EXPECT_EQ(phrase.find(" = "), std::string::npos) << phrase;
    }
  }
  ASSERT_GT(n_with, 0);
  ASSERT_GT(n_without, 0);
  EXPECT_GT(with_cart / n_with, without_cart / n_without + 0.3);
}

}  // namespace
}  // namespace souk::rank
