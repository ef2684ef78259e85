#include "eval/intent_protocols.h"

#include <filesystem>
#include <fstream>

#include "common/testing.h"

namespace souk::eval {
namespace {

using store::EventType;

RawIntentEvent Ev(const std::string& session, const std::string& user, int64_t ts_s,
                  EventType type, const std::string& item, double price = 10) {
  RawIntentEvent e;
  e.session = session;
  e.user = user;
  e.event.ts_ms = ts_s * 1000;
  e.event.type = type;
  e.event.item_id = item;
  e.event.category = "c-" + item.substr(0, 1);
  e.event.price = price;
  return e;
}

TEST(BuildIntentSessionsTest, CutsAtTheFirstPurchaseDropsPurchaseFirstAndOrdersByStart) {
  std::vector<RawIntentEvent> ev = {
      // s2 starts later but comes first in the input, its events out of order.
      Ev("s2", "u1", 1010, EventType::kAddToCart, "a1"),
      Ev("s2", "u1", 1000, EventType::kView, "a1"),
      Ev("s2", "u1", 1020, EventType::kPurchase, "a1", 12),
      Ev("s2", "u1", 1030, EventType::kView, "b7"),  // after the purchase: hidden
      Ev("s1", "u1", 100, EventType::kView, "a1"),
      Ev("s1", "u1", 130, EventType::kView, "a2"),
      Ev("s1", "u1", 160, EventType::kPurchase, "a2", 20),
      Ev("s0", "u2", 50, EventType::kPurchase, "z"),  // first event is a purchase: dropped
      Ev("s0", "u2", 60, EventType::kView, "z"),
      Ev("s3", "", 2000, EventType::kView, "q1"),  // anonymous, never buys
  };
  IntentSessionData d = BuildIntentSessions(ev, nullptr);
  ASSERT_EQ(d.sessions.size(), 3u);
  EXPECT_EQ(d.dropped_first_purchase, 1);
  EXPECT_EQ(d.ids, (std::vector<std::string>{"s1", "s2", "s3"}));

  const auto& s1 = d.sessions[0];
  EXPECT_TRUE(s1.converted);
  EXPECT_EQ(s1.events.size(), 2u);
  EXPECT_EQ(s1.counters.views, 2);
  EXPECT_EQ(s1.counters.purchases, 0);  // the purchase itself is not a feature
  EXPECT_TRUE(s1.bought.count("a2"));
  EXPECT_FALSE(s1.has_customer);  // u1 has no events before s1
  EXPECT_EQ(s1.cut_ms, 130000);

  const auto& s2 = d.sessions[1];
  EXPECT_TRUE(s2.converted);
  ASSERT_EQ(s2.events.size(), 2u);
  EXPECT_EQ(s2.events[0].type, EventType::kView);  // sorted by time
  EXPECT_EQ(s2.events[1].type, EventType::kAddToCart);
  ASSERT_TRUE(s2.has_customer);  // s1 happened before: one session, one purchase
  EXPECT_EQ(s2.customer.sessions, 1);
  EXPECT_EQ(s2.customer.purchases, 1);
  EXPECT_EQ(s2.customer.buying_sessions, 1);
  EXPECT_DOUBLE_EQ(s2.customer.monetary, 20);
  EXPECT_EQ(s1.group, s2.group);  // same user, same fold group

  const auto& s3 = d.sessions[2];
  EXPECT_FALSE(s3.converted);
  EXPECT_FALSE(s3.has_customer);
  EXPECT_NE(s3.group, s1.group);

  // Ground truth overrides the label; sessions without a row are dropped.
  std::unordered_map<std::string, bool> truth = {{"s1", false}, {"s3", true}};
  IntentSessionData o = BuildIntentSessions(ev, &truth);
  ASSERT_EQ(o.sessions.size(), 2u);
  EXPECT_EQ(o.unlabeled, 1);
  EXPECT_FALSE(o.sessions[0].converted);
  EXPECT_TRUE(o.sessions[1].converted);
}

TEST(ReadRees46SessionsTest, NamesMissingFilesAndColumns) {
  auto missing = ReadRees46Sessions("/nonexistent/rees46.csv");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  const std::string dir = souk::testing::TempDir("intent_rees");
  const std::string path = dir + "/bad.csv";
  std::ofstream(path) << "event_time,event_type,product_id\n2019-10-01 00:00:00 UTC,view,1\n";
  auto bad = ReadRees46Sessions(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("category_id"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("bad.csv"), std::string::npos);
}

TEST(ReadRees46SessionsTest, SkipsMalformedRowsAndCountsThem) {
  const std::string dir = souk::testing::TempDir("intent_rees2");
  const std::string path = dir + "/ev.csv";
  std::ofstream(path)
      << "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,"
         "user_session\n"
      << "2019-10-01 00:00:00 UTC,view,1,10,,b,5.0,7,s1\n"
      << "not a time,view,1,10,,b,5.0,7,s1\n"
      << "2019-10-01 00:00:05 UTC,teleport,1,10,,b,5.0,7,s1\n"
      << "2019-10-01 00:00:09 UTC,cart,1,10,,b,-3,7,s1\n"
      << "2019-10-01 00:01:00 UTC,purchase,1,10,,b,5.0,7,s1\n";
  auto d = ReadRees46Sessions(path);
  ASSERT_OK(d.status());
  EXPECT_EQ(d->rows, 5);
  EXPECT_EQ(d->bad_rows, 2);
  ASSERT_EQ(d->sessions.size(), 1u);
  EXPECT_TRUE(d->sessions[0].converted);
  EXPECT_EQ(d->sessions[0].counters.carts, 1);
  EXPECT_TRUE(std::isnan(d->sessions[0].events[1].price));  // negative price dropped
}

TEST(IntentProtocolsTest, Rees46EngineBeatsChanceAndReportsTheContractKeys) {
  SOUK_REQUIRE_DATA(path, "rees46/2019-Oct.sample.csv");
  ProtocolRegistry registry;
  ASSERT_OK(AddIntentProtocols(registry));
  auto p = registry.Find("intent", "rees46");
  ASSERT_OK(p.status());
  EvalContext ctx;
  ctx.task = "intent";
  ctx.inputs.events = path;
  ctx.progress.mode = ProgressMode::kOff;
  auto r = RunProtocol(**p, ctx);
  ASSERT_OK(r.status());
  for (const char* key : {"roc_auc", "pr_auc", "log_loss", "base_rate", "n_test", "n_pos"}) {
    EXPECT_TRUE(r->metrics.count(key)) << key;
  }
  // EVAL.md D on this sample: ~1,500 test sessions, a few dozen positives.
  EXPECT_GT(r->metrics["n_test"], 1000);
  EXPECT_GT(r->metrics["n_pos"], 10);
  EXPECT_GT(r->metrics["roc_auc"], 0.7);
  EXPECT_LE(r->metrics["roc_auc_ci_low"], r->metrics["roc_auc"]);
  EXPECT_GE(r->metrics["roc_auc_ci_high"], r->metrics["roc_auc"]);
  for (const char* ab : {"logistic_regression", "logistic_counts", "has_add_to_cart"}) {
    ASSERT_TRUE(r->ablations.count(ab)) << ab;
    EXPECT_GT(r->ablations[ab]["roc_auc"], 0.5) << ab;
  }
  EXPECT_EQ(r->extra["reliability"].size(), 10u);
}

TEST(IntentProtocolsTest, OnlineShoppersEngineAndBaselines) {
  SOUK_REQUIRE_DATA(path, "online-shoppers/online_shoppers_intention.csv");
  ProgressOptions quiet;
  quiet.mode = ProgressMode::kOff;
  auto r = EvaluateOnlineShoppers(path, {}, quiet);
  ASSERT_OK(r.status());
  EXPECT_EQ(r->metrics["n_test"], 3699);  // last 30% of 12,330 rows
  EXPECT_GT(r->metrics["roc_auc"], 0.85);
  EXPECT_GT(r->ablations["logistic_regression"]["roc_auc"], 0.8);
  EXPECT_GT(r->ablations["xgboost_default"]["roc_auc"], 0.8);
  EXPECT_LT(r->metrics["log_loss"], 0.6);
}

TEST(IntentProtocolsTest, MissingFlagsAreNamed) {
  ProtocolRegistry registry;
  ASSERT_OK(AddIntentProtocols(registry));
  EvalContext ctx;
  ctx.task = "intent";
  for (const auto& [name, flag] : std::vector<std::pair<std::string, std::string>>{
           {"rees46", "--events"}, {"online-shoppers", "--data"}, {"synthetic", "--dir"}}) {
    auto p = registry.Find("intent", name);
    ASSERT_OK(p.status());
    auto r = RunProtocol(**p, ctx);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.status().message().find(flag), std::string::npos) << r.status().ToString();
  }
}

}  // namespace
}  // namespace souk::eval
