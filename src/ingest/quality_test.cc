#include "ingest/quality.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/testing.h"
#include "ingest/quality_internal.h"
#include "store/sqlite_store.h"

namespace souk::quality {
namespace {

using store::Event;
using store::EventType;
using store::Item;
using store::ItemWrite;
using store::ItemWriteMode;
using store::SqliteStore;
using store::WriteBatch;

constexpr int64_t kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
constexpr int64_t kMin = 60'000;

Item MakeItem(const std::string& id, const std::string& title = "", std::optional<double> price = std::nullopt,
              const std::string& category = "") {
  Item it;
  it.external_id = id;
  it.title = title.empty() ? "Item " + id : title;
  it.price = price;
  it.category = category;
  return it;
}

Event MakeEvent(const std::string& user, const std::string& session, const std::string& item, EventType type,
                int64_t ts) {
  Event e;
  e.user_id = user;
  e.session_id = session;
  e.item_id = item;
  e.type = type;
  e.timestamp_ms = ts;
  if (type == EventType::kPurchase) {
    e.price = 10;
    e.quantity = 1;
  }
  return e;
}

class QualityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStore::Open((testing::TempDir("quality") / "souk.db").string());
    ASSERT_OK(s);
    store_ = std::move(s).value();
  }
  void AddItems(const std::vector<Item>& items) {
    WriteBatch b;
    for (const auto& it : items) b.items.push_back({it, ItemWriteMode::kCatalog, 0, "test", ""});
    Write(b);
  }
  void AddEvents(const std::vector<Event>& events) {
    WriteBatch b;
    b.events = events;
    Write(b);
  }
  void Write(const WriteBatch& b) {
    store::WriteResult r;
    ASSERT_OK(store_->Write(b, &r));
  }
  QualityReport Compute(const QualityOptions& o = {}) {
    auto snap = store_->OpenSnapshot();
    EXPECT_OK(snap);
    auto r = ComputeQuality(**snap, *store_, o, nullptr);
    EXPECT_OK(r);
    return r.ok() ? std::move(r).value() : QualityReport{};
  }
  const FieldQuality& Field(const std::vector<FieldQuality>& fs, const std::string& name) {
    for (const auto& f : fs) {
      if (f.name == name) return f;
    }
    ADD_FAILURE() << "no field " << name;
    return fs.front();
  }
  std::unique_ptr<SqliteStore> store_;
};

TEST(GiniTest, KnownDistributions) {
  EXPECT_NEAR(Gini({0, 0, 0, 10}), 0.75, 1e-12);
  EXPECT_NEAR(Gini({10, 0, 0, 0}), 0.75, 1e-12);  // order does not matter
  EXPECT_NEAR(Gini({5, 5, 5, 5}), 0.0, 1e-12);
  EXPECT_NEAR(Gini({0, 0, 0, 0}), 0.0, 1e-12);
  EXPECT_NEAR(Gini({1, 2, 3, 4}), 0.25, 1e-12);  // 2*(1+4+9+16)/(4*10) - 5/4
  EXPECT_EQ(Gini({}), 0.0);
}

TEST(GiniTest, HeadShares) {
  std::vector<int64_t> counts(100, 1);
  counts[7] = 101;  // total 200
  EXPECT_NEAR(TopShare(counts, 0.01), 101.0 / 200, 1e-12);  // one item
  EXPECT_NEAR(TopShare(counts, 0.20), (101.0 + 19) / 200, 1e-12);
  EXPECT_NEAR(TopShare({3, 1}, 0.01), 0.75, 1e-12);  // at least one item
  EXPECT_EQ(TopShare({0, 0}, 0.2), 0.0);
}

TEST_F(QualityTest, PopularityAndNeverInteractedFromStore) {
  AddItems({MakeItem("a"), MakeItem("b"), MakeItem("c"), MakeItem("d")});
  std::vector<Event> ev;
  for (int i = 0; i < 10; ++i) ev.push_back(MakeEvent("u" + std::to_string(i), "", "d", EventType::kView, kT0 + i * kMin));
  ev.push_back(MakeEvent("u0", "", "a", EventType::kImpression, kT0));  // impressions are not interactions
  AddEvents(ev);
  QualityReport r = Compute();
  EXPECT_EQ(r.popularity.items, 4);
  EXPECT_EQ(r.popularity.interactions, 10);
  EXPECT_NEAR(r.popularity.gini, 0.75, 1e-12);
  EXPECT_NEAR(r.popularity.top1_share, 1.0, 1e-12);
  EXPECT_NEAR(r.metrics.at("gini"), 0.75, 1e-12);
  EXPECT_EQ(r.consistency.never_interacted_items, 3);
  EXPECT_NEAR(r.metrics.at("never_interacted_item_share"), 0.75, 1e-12);
  EXPECT_NEAR(r.popularity.long_tail_item_share, 0.75, 1e-12);
}

TEST_F(QualityTest, PlantedBotUserDetectedAndNormalUserNot) {
  std::vector<Item> items;
  for (int i = 0; i < 30; ++i) items.push_back(MakeItem("i" + std::to_string(i)));
  AddItems(items);
  std::vector<Event> ev;
  // Bot: 60 views, one every 0.5 s (120 events/min), never buys.
  for (int i = 0; i < 60; ++i) {
    ev.push_back(MakeEvent("bot", "s-bot", "i" + std::to_string(i % 30), EventType::kView, kT0 + i * 500));
  }
  // Shopper: 25 events two minutes apart with a purchase at the end.
  for (int i = 0; i < 24; ++i) {
    ev.push_back(MakeEvent("human", "s-human", "i" + std::to_string(i), EventType::kView, kT0 + i * 2 * kMin));
  }
  ev.push_back(MakeEvent("human", "s-human", "i23", EventType::kPurchase, kT0 + 24 * 2 * kMin));
  AddEvents(ev);

  QualityReport r = Compute();
  const AnomalySection& an = r.anomalies;
  EXPECT_EQ(an.users, 2);
  EXPECT_EQ(an.users_judged, 2);
  ASSERT_EQ(an.bot_user_ids, std::vector<std::string>{"bot"});
  EXPECT_EQ(an.bot_users, 1);
  EXPECT_EQ(an.bot_user_events, 60);
  ASSERT_EQ(an.top_users.size(), 2u);
  EXPECT_EQ(an.top_users[0].id, "bot");
  EXPECT_TRUE(an.top_users[0].bot_like);
  EXPECT_NEAR(an.top_users[0].events_per_minute, 59 / 29.5 * 60, 1e-9);
  EXPECT_NEAR(an.top_users[0].no_dwell_share, 1.0, 1e-12);
  EXPECT_EQ(an.top_users[1].id, "human");
  EXPECT_FALSE(an.top_users[1].bot_like);
  EXPECT_LT(an.top_users[1].bot_score, an.top_users[0].bot_score);
  EXPECT_NEAR(an.top_users[1].burstiness_cv, 0.0, 1e-9);  // perfectly regular gaps
  // Sessions: the bot's session is flagged, the shopper's is not.
  ASSERT_EQ(an.bot_session_ids, std::vector<std::string>{"s-bot"});
  EXPECT_EQ(an.sessions, 2);
  EXPECT_EQ(an.views_without_dwell, 59);   // every bot view but the last is followed within 0.5 s
  EXPECT_EQ(an.views_measured, 59 + 24);
  EXPECT_NEAR(r.metrics.at("bot_user_share"), 0.5, 1e-12);
  EXPECT_NEAR(r.metrics.at("bot_user_view_share"), 60.0 / 84, 1e-12);
  bool finding = false;
  for (const auto& f : an.findings) finding |= f.message.find("1 bot-like users") != std::string::npos;
  EXPECT_TRUE(finding);
}

TEST_F(QualityTest, BotNeedsMinimumEvents) {
  AddItems({MakeItem("a")});
  std::vector<Event> ev;
  for (int i = 0; i < 5; ++i) ev.push_back(MakeEvent("fast", "s", "a", EventType::kView, kT0 + i * 100));
  AddEvents(ev);
  QualityOptions o;
  QualityReport r = Compute(o);
  EXPECT_EQ(r.anomalies.bot_users, 0);
  o.bot_min_events = 5;
  r = Compute(o);
  EXPECT_EQ(r.anomalies.bot_users, 1);
}

TEST_F(QualityTest, PriceOutlierByRobustZ) {
  std::vector<Item> items;
  const double prices[] = {50, 52, 48, 51, 49, 53, 47};
  for (int i = 0; i < 7; ++i) {
    items.push_back(MakeItem("p" + std::to_string(i), "", prices[i], "Shoes > Running"));
  }
  items.push_back(MakeItem("p-out", "", 500, "Shoes > Running"));
  // A different category where 500 is normal.
  for (int i = 0; i < 5; ++i) items.push_back(MakeItem("tv" + std::to_string(i), "", 480 + i * 10, "TV"));
  // Too few items to judge.
  items.push_back(MakeItem("lone", "", 9999, "Yachts"));
  AddItems(items);
  QualityReport r = Compute();
  EXPECT_EQ(r.consistency.categories_checked, 2);
  EXPECT_EQ(r.consistency.price_outliers, 1);
  ASSERT_EQ(r.consistency.outlier_examples.size(), 1u);
  const PriceOutlier& p = r.consistency.outlier_examples[0];
  EXPECT_EQ(p.item_id, "p-out");
  EXPECT_EQ(p.category, "Shoes > Running");
  EXPECT_NEAR(p.category_median, 50.5, 1e-12);
  EXPECT_GT(p.robust_z, 3.5);
  // 53 (the highest normal price): |z| = 0.6745 * 2.5 / 2 < 3.5, so not listed.
}

TEST_F(QualityTest, PurchaseWithoutPriorInteraction) {
  AddItems({MakeItem("a"), MakeItem("b")});
  AddEvents({
      MakeEvent("u1", "", "a", EventType::kView, kT0),
      MakeEvent("u1", "", "a", EventType::kPurchase, kT0 + kMin),      // viewed before: fine
      MakeEvent("u1", "", "b", EventType::kPurchase, kT0 + 2 * kMin),  // never viewed
      MakeEvent("u2", "", "b", EventType::kPurchase, kT0 + 3 * kMin),  // viewed only afterwards
      MakeEvent("u2", "", "b", EventType::kView, kT0 + 4 * kMin),
      MakeEvent("u3", "", "b", EventType::kAddToCart, kT0 + 5 * kMin),
      MakeEvent("u3", "", "b", EventType::kPurchase, kT0 + 6 * kMin),  // carted before: fine
      MakeEvent("u2", "", "a", EventType::kView, kT0 + 7 * kMin),      // another item: no help
  });
  QualityReport r = Compute();
  EXPECT_EQ(r.consistency.purchases, 4);
  EXPECT_EQ(r.consistency.purchases_without_prior, 2);
  EXPECT_NEAR(r.metrics.at("purchase_without_view_share"), 0.5, 1e-12);
}

TEST_F(QualityTest, CompletenessWithKnownBlanks) {
  std::vector<Item> items;
  for (int i = 0; i < 10; ++i) {
    Item it = MakeItem("c" + std::to_string(i), "", 5.0);
    it.description = i < 3 ? "" : "a fine thing";
    if (i == 3) it.attributes_json = "not json";
    if (i == 4 || i == 5) it.attributes_json = R"({"color":"red"})";
    if (i == 6) it.price = -1;
    it.currency = i < 5 ? "USD" : (i == 5 ? "dollars" : "");
    items.push_back(it);
  }
  AddItems(items);
  Event search = MakeEvent("u", "s", "", EventType::kSearch, kT0);
  Event blank_search = MakeEvent("u", "s", "", EventType::kSearch, kT0 + 1);
  search.query = "red shoes";
  Event purchase = MakeEvent("u", "s", "c1", EventType::kPurchase, kT0 + 2);
  purchase.price.reset();
  AddEvents({search, blank_search, purchase, MakeEvent("u", "s", "c1", EventType::kPurchase, kT0 + 3)});

  QualityReport r = Compute();
  EXPECT_EQ(r.completeness.catalog_items, 10);
  const auto& desc = Field(r.completeness.item_fields, "description");
  EXPECT_EQ(desc.applicable, 10);
  EXPECT_EQ(desc.present, 7);
  EXPECT_NEAR(r.metrics.at("item_description_completeness"), 0.7, 1e-12);
  EXPECT_NEAR(r.metrics.at("item_title_completeness"), 1.0, 1e-12);
  const auto& attrs = Field(r.completeness.item_fields, "attributes");
  EXPECT_EQ(attrs.present, 3);  // "{}" is empty, "not json" is present but invalid
  EXPECT_EQ(attrs.valid, 2);
  EXPECT_NEAR(r.metrics.at("item_attributes_validity"), 2.0 / 3, 1e-12);
  EXPECT_NEAR(r.metrics.at("item_price_validity"), 0.9, 1e-12);
  EXPECT_NEAR(r.metrics.at("item_currency_completeness"), 0.6, 1e-12);
  EXPECT_NEAR(r.metrics.at("item_currency_validity"), 5.0 / 6, 1e-12);
  EXPECT_NEAR(r.metrics.at("search_query_completeness"), 0.5, 1e-12);
  EXPECT_NEAR(r.metrics.at("purchase_price_completeness"), 0.5, 1e-12);
  EXPECT_NEAR(r.metrics.at("event_user_completeness"), 1.0, 1e-12);
  EXPECT_TRUE(std::isnan(r.metrics.at("rating_value_completeness")));  // no ratings at all
  bool warned = false;
  for (const auto& f : r.completeness.findings) warned |= f.message.find("description is missing") == 0;
  EXPECT_TRUE(warned);
}

TEST_F(QualityTest, ColdStartShares) {
  AddItems({MakeItem("hot"), MakeItem("warm"), MakeItem("cold")});
  WriteBatch b;
  b.users.push_back({"silent", "{}", 0});  // a user without any event
  Write(b);
  std::vector<Event> ev;
  for (int i = 0; i < 6; ++i) ev.push_back(MakeEvent("fan", "", "hot", EventType::kView, kT0 + i * kMin));
  ev.push_back(MakeEvent("once", "", "warm", EventType::kView, kT0));
  AddEvents(ev);
  QualityOptions o;
  o.cold_threshold = 5;
  QualityReport r = Compute(o);
  EXPECT_EQ(r.cold_start.items, 3);
  EXPECT_EQ(r.cold_start.cold_items, 2);  // warm (1) and cold (0)
  EXPECT_EQ(r.cold_start.users, 3);
  EXPECT_EQ(r.cold_start.cold_users, 2);  // once (1) and silent (0)
  EXPECT_NEAR(r.metrics.at("cold_item_share"), 2.0 / 3, 1e-12);
  EXPECT_NEAR(r.metrics.at("cold_user_share"), 2.0 / 3, 1e-12);
}

TEST_F(QualityTest, UniquenessStubsAndQuarantine) {
  AddItems({MakeItem("x1", "Red  Shoe!"), MakeItem("x2", "red shoe"), MakeItem("x3", "Blue shoe")});
  WriteBatch b;
  Item stub;
  stub.external_id = "ghost";
  stub.is_stub = true;
  b.items.push_back({stub, ItemWriteMode::kStub, 0, "test", ""});
  b.quarantine.push_back({"f.csv", 3, -1, "negative_price", "price -1", "raw"});
  b.quarantine.push_back({"f.csv", 4, -1, "negative_price", "price -2", "raw"});
  b.quarantine.push_back({"f.csv", 5, -1, "bad_timestamp", "ts", "raw"});
  Write(b);
  AddEvents({MakeEvent("u", "s", "ghost", EventType::kView, kT0), MakeEvent("u", "s", "x1", EventType::kView, kT0 + 1)});
  QualityReport r = Compute();
  EXPECT_EQ(r.uniqueness.duplicate_title_groups, 1);
  EXPECT_EQ(r.uniqueness.duplicate_title_items, 2);
  ASSERT_EQ(r.uniqueness.title_examples.size(), 1u);
  EXPECT_EQ(r.uniqueness.title_examples[0].normalized_title, "red shoe");
  EXPECT_EQ(r.consistency.stub_items, 1);
  EXPECT_EQ(r.consistency.stub_events, 1);
  EXPECT_EQ(r.completeness.catalog_items, 3);
  EXPECT_NEAR(r.metrics.at("event_item_validity"), 0.5, 1e-12);  // one of two names a stub
  EXPECT_EQ(r.quarantine.total, 3);
  EXPECT_EQ(r.quarantine.reasons.at("negative_price"), 2);
  EXPECT_EQ(r.quarantine.reasons.at("bad_timestamp"), 1);
  EXPECT_NEAR(r.quarantine.share, 3.0 / (3 + 2 + 3), 1e-12);
}

TEST_F(QualityTest, TimelinessGapsEmptyDaysAndFuture) {
  AddItems({MakeItem("a")});
  const int64_t day = 86'400'000;
  const int64_t d0 = 19'700 * day;  // midnight UTC
  AddEvents({
      MakeEvent("u", "", "a", EventType::kView, d0 + 1000),
      MakeEvent("u", "", "a", EventType::kView, d0 + 3'600'000),
      MakeEvent("u", "", "a", EventType::kView, d0 + day + 5000),
      MakeEvent("u", "", "a", EventType::kView, d0 + 4 * day + 7000),  // days 2 and 3 are empty
  });
  QualityOptions o;
  o.now_ms = d0 + 2 * day;  // the last event is in the future
  QualityReport r = Compute(o);
  const TimelinessSection& tl = r.timeliness;
  EXPECT_EQ(tl.days_in_range, 5);
  EXPECT_EQ(tl.days_with_events, 3);
  EXPECT_EQ(tl.empty_days, 2);
  EXPECT_NEAR(tl.events_per_day_mean, 4.0 / 5, 1e-12);
  EXPECT_EQ(tl.future_events, 1);
  EXPECT_EQ(tl.very_old_events, 0);
  ASSERT_EQ(tl.largest_gaps.size(), 3u);
  // Longest gap: from the third event to the fourth (at 1 s resolution).
  EXPECT_EQ(tl.largest_gaps[0].start_ms, d0 + day + 6000);
  EXPECT_EQ(tl.largest_gaps[0].end_ms, d0 + 4 * day + 7000);
  EXPECT_GE(tl.largest_gaps[0].end_ms - tl.largest_gaps[0].start_ms,
            tl.largest_gaps[1].end_ms - tl.largest_gaps[1].start_ms);
  EXPECT_EQ(tl.event_delay, "n/a");
  EXPECT_FALSE(tl.event_delay_reason.empty());
  // Sessions without ids are cut by 30 minutes of inactivity: 4 sessions here.
  EXPECT_EQ(r.anomalies.sessions_cut_by_gap, 4);
  bool error = false;
  for (const auto& f : tl.findings) error |= f.severity == Severity::kError;
  EXPECT_TRUE(error);
}

TEST(FailOnTest, ParsesConditions) {
  auto c = ParseFailOn("bot_user_share>0.01, gini >= 0.95,item_title_completeness<0.9,quarantine_share!=0");
  ASSERT_OK(c);
  ASSERT_EQ(c->size(), 4u);
  EXPECT_EQ((*c)[0].metric, "bot_user_share");
  EXPECT_EQ((*c)[0].op, CompareOp::kGreater);
  EXPECT_DOUBLE_EQ((*c)[0].threshold, 0.01);
  EXPECT_EQ((*c)[1].metric, "gini");
  EXPECT_EQ((*c)[1].op, CompareOp::kGreaterEqual);
  EXPECT_EQ((*c)[2].op, CompareOp::kLess);
  EXPECT_EQ((*c)[3].op, CompareOp::kNotEqual);
  EXPECT_OK(ParseFailOn(""));
}

TEST(FailOnTest, RejectsUnknownAndMalformed) {
  auto unknown = ParseFailOn("gini>0.9,bogus_metric<3");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("bogus_metric"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("quarantine_share"), std::string::npos);  // lists valid names
  EXPECT_FALSE(ParseFailOn("gini").ok());
  EXPECT_FALSE(ParseFailOn("gini>abc").ok());
  EXPECT_FALSE(ParseFailOn("gini>0.5x").ok());
  EXPECT_FALSE(ParseFailOn(">0.5").ok());
}

TEST(FailOnTest, EvaluatesPassAndFail) {
  auto c = ParseFailOn("gini>0.95,bot_user_share>0.01,item_title_completeness<0.9");
  ASSERT_OK(c);
  std::map<std::string, double> metrics = {{"gini", 0.97},
                                           {"bot_user_share", 0.0},
                                           {"item_title_completeness", std::nan("")}};
  auto res = EvaluateConditions(*c, metrics);
  ASSERT_EQ(res.size(), 3u);
  EXPECT_TRUE(res[0].violated);
  EXPECT_NE(res[0].message.find("gini = 0.97 > 0.95"), std::string::npos) << res[0].message;
  EXPECT_FALSE(res[1].violated);
  EXPECT_FALSE(res[2].violated);
  EXPECT_TRUE(res[2].not_available);
  metrics["gini"] = 0.95;  // the boundary is not a violation of '>'
  EXPECT_FALSE(EvaluateConditions(*c, metrics)[0].violated);
}

TEST_F(QualityTest, JsonAndTextContainEverySection) {
  AddItems({MakeItem("a", "", 3.0, "cat")});
  AddEvents({MakeEvent("u", "s", "a", EventType::kView, kT0), MakeEvent("u", "s", "a", EventType::kPurchase, kT0 + kMin)});
  QualityReport r = Compute();
  nlohmann::json j = QualityReportToJson(r);
  for (const char* section : {"completeness", "uniqueness", "consistency", "timeliness", "anomalies", "popularity",
                              "cold_start", "quarantine"}) {
    ASSERT_TRUE(j.contains(section)) << section;
    EXPECT_TRUE(j[section].contains("findings")) << section;
  }
  ASSERT_TRUE(j.contains("metrics"));
  std::set<std::string> keys;
  for (const auto& [k, v] : j["metrics"].items()) keys.insert(k);
  const auto& names = QualityMetricNames();
  EXPECT_EQ(keys, std::set<std::string>(names.begin(), names.end()));
  EXPECT_EQ(r.metrics.size(), names.size());
  EXPECT_EQ(j["consistency"]["purchases"], 1);
  EXPECT_EQ(j["timeliness"]["event_delay"], "n/a");
  // NaN figures become null, so the JSON stays valid.
  EXPECT_TRUE(j["metrics"]["rating_value_completeness"].is_null());
  const std::string text = QualityReportToText(r);
  for (const char* heading : {"Completeness", "Uniqueness", "Consistency", "Timeliness", "Anomalies",
                              "Popularity", "Cold start", "Quarantine"}) {
    EXPECT_NE(text.find(std::string("== ") + heading), std::string::npos) << heading;
  }
}

TEST_F(QualityTest, CleanDedupeRemovesExactlyTheDuplicates) {
  AddItems({MakeItem("a"), MakeItem("b")});
  std::vector<Event> ev;
  for (int i = 0; i < 10; ++i) ev.push_back(MakeEvent("u", "s", i % 2 ? "a" : "b", EventType::kView, kT0 + i * kMin));
  ev.push_back(ev[3]);
  ev.push_back(ev[3]);
  ev.push_back(ev[7]);
  Event near = ev[5];
  near.timestamp_ms += 1;  // not a duplicate: a different time
  ev.push_back(near);
  AddEvents(ev);
  EXPECT_EQ(Compute().uniqueness.duplicate_events, 3);

  CleanOptions dry;
  dry.dedupe = true;
  dry.dry_run = true;
  auto d = Clean(*store_, QualityOptions{}, dry, nullptr);
  ASSERT_OK(d);
  EXPECT_EQ(d->events_before, 14);
  EXPECT_EQ(d->predicted_removed, 3);
  EXPECT_EQ(d->removed, 0);
  EXPECT_EQ(store_->Stats()->events, 14);  // the dry run changed nothing

  CleanOptions real;
  real.dedupe = true;
  auto c = Clean(*store_, QualityOptions{}, real, nullptr);
  ASSERT_OK(c);
  EXPECT_EQ(c->removed, 3);
  EXPECT_EQ(c->predicted_removed, 3);
  EXPECT_EQ(c->events_after, 11);
  QualityReport after = Compute();
  EXPECT_EQ(after.uniqueness.duplicate_events, 0);
  EXPECT_EQ(after.events, 11);
}

TEST_F(QualityTest, CleanDropsBotUsersAndSessions) {
  AddItems({MakeItem("a")});
  std::vector<Event> ev;
  for (int i = 0; i < 30; ++i) ev.push_back(MakeEvent("bot", "sb", "a", EventType::kView, kT0 + i * 100));
  for (int i = 0; i < 5; ++i) ev.push_back(MakeEvent("bot", "", "a", EventType::kView, kT0 + 10'000 + i * 100));
  for (int i = 0; i < 3; ++i) ev.push_back(MakeEvent("ok", "so", "a", EventType::kView, kT0 + i * kMin));
  AddEvents(ev);
  CleanOptions none;
  EXPECT_EQ(Clean(*store_, QualityOptions{}, none, nullptr).status().code(), StatusCode::kInvalidArgument);

  CleanOptions sessions;
  sessions.drop_bot_sessions = true;
  sessions.dry_run = true;
  auto s = Clean(*store_, QualityOptions{}, sessions, nullptr);
  ASSERT_OK(s);
  EXPECT_EQ(s->sessions, std::vector<std::string>{"sb"});
  EXPECT_EQ(s->predicted_removed, 30);

  CleanOptions users;
  users.drop_bot_users = true;
  auto u = Clean(*store_, QualityOptions{}, users, nullptr);
  ASSERT_OK(u);
  EXPECT_EQ(u->users, std::vector<std::string>{"bot"});
  EXPECT_EQ(u->predicted_removed, 35);
  EXPECT_EQ(u->removed, 35);
  EXPECT_EQ(u->events_after, 3);
}

// A store built straight from the REES46 sample (import is written elsewhere).
TEST_F(QualityTest, Rees46SampleHasPlausibleFigures) {
  SOUK_REQUIRE_DATA(csv_path, "rees46/2019-Oct.sample.csv");
  std::ifstream in(csv_path);
  ASSERT_TRUE(in.good());
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  ASSERT_EQ(line, "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session");
  std::map<std::string, Item> items;
  std::vector<Event> events;
  int64_t purchases = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    if (!line.empty() && line.back() == ',') f.push_back("");
    ASSERT_EQ(f.size(), 9u) << line;
    auto ts = store::ParseTimestampMs(f[0]);
    ASSERT_TRUE(ts.has_value()) << f[0];
    auto type = store::ParseEventType(f[1]);
    ASSERT_TRUE(type.has_value()) << f[1];
    const double price = std::stod(f[6]);
    Item& it = items[f[2]];
    it.external_id = f[2];
    it.category = f[4];
    it.brand = f[5];
    it.price = price;
    Event e = MakeEvent(f[7], f[8], f[2], *type, *ts);
    e.price = price;
    if (*type == EventType::kPurchase) {
      e.quantity = 1;
      ++purchases;
    }
    events.push_back(e);
  }
  EXPECT_EQ(events.size(), 17434u);
  std::vector<Item> item_list;
  for (auto& [id, it] : items) item_list.push_back(it);
  AddItems(item_list);
  AddEvents(events);

  QualityOptions o;
  o.now_ms = kT0;  // 2023: the data is from 2019
  QualityReport r = Compute(o);
  EXPECT_EQ(r.events, 17434);
  EXPECT_EQ(purchases, 214);
  EXPECT_EQ(r.consistency.purchases, 214);
  EXPECT_EQ(r.items, static_cast<int64_t>(items.size()));
  EXPECT_GT(r.popularity.gini, 0.3);
  EXPECT_LT(r.popularity.gini, 0.99);
  EXPECT_GT(r.popularity.top20_share, r.popularity.top1_share);
  EXPECT_EQ(r.timeliness.future_events, 0);
  EXPECT_EQ(r.timeliness.very_old_events, 0);
  EXPECT_EQ(store::FormatTimestampMs(r.timeliness.min_ms).substr(0, 7), "2019-10");
  EXPECT_EQ(r.completeness.catalog_items, static_cast<int64_t>(items.size()));
  EXPECT_NEAR(r.metrics.at("event_session_completeness"), 1.0, 1e-3);
  EXPECT_GT(r.anomalies.sessions_from_ids, 1000);
  const double pwv = r.metrics.at("purchase_without_view_share");
  EXPECT_GE(pwv, 0.0);
  EXPECT_LE(pwv, 1.0);
  EXPECT_GT(r.metrics.at("cold_item_share"), 0.5);  // a 17k-event sample spread over many products
  EXPECT_LT(r.metrics.at("bot_user_share"), 0.05);
  // The sample has no descriptions.
  EXPECT_NEAR(r.metrics.at("item_description_completeness"), 0.0, 1e-12);
  std::cerr << QualityReportToText(r);
}

TEST(QualityInternalTest, FlatMapKeepsMinimum) {
  internal::FlatU64Map m;
  for (uint64_t k = 1; k <= 5000; ++k) m.InsertMin(k, static_cast<int64_t>(k) * 10);
  m.InsertMin(7, 3);
  m.InsertMin(7, 99);
  EXPECT_EQ(m.size(), 5000u);
  ASSERT_NE(m.Find(7), nullptr);
  EXPECT_EQ(*m.Find(7), 3);
  EXPECT_EQ(*m.Find(4321), 43210);
  EXPECT_EQ(m.Find(5001), nullptr);
  EXPECT_EQ(internal::NormalizeTitle("  Red, SHOE!! 42 "), "red shoe 42");
}

}  // namespace
}  // namespace souk::quality
