// Unit tests of the built-in candidate sources on small hand-made data where the
// right answer is known, plus Save/Load round trips, option errors and odd
// requests for every source.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>

#include "common/testing.h"
#include "recommend/buy_again_source.h"
#include "recommend/candidate_source.h"
#include "recommend/content_source.h"
#include "recommend/cooccurrence_source.h"
#include "recommend/ease_source.h"
#include "recommend/fbt_source.h"
#include "recommend/popular_source.h"
#include "recommend/source_io.h"

namespace souk::recommend {
namespace {

constexpr int64_t kDay = 86400000;
constexpr int64_t kT0 = 1700000000000;  // some day in 2023
const ProgressOptions kQuiet{.mode = ProgressMode::kOff};

// Builds small InteractionData by hand.
class DataBuilder {
 public:
  int32_t Item(const std::string& title, const std::string& category = "") {
    return data_.AddItem({.external_id = "i" + std::to_string(data_.num_items()),
                          .title = title,
                          .category = category});
  }
  int32_t User() { return data_.AddUser("u" + std::to_string(data_.num_users())); }
  void Event(int32_t user, int32_t item, EventType type, int64_t ts, int32_t session = -1) {
    ASSERT_OK(data_.Add(
        {.user = user, .item = item, .type = type, .timestamp_ms = ts, .session = session}));
  }
  InteractionData& data() { return data_; }
  InteractionData Finish() {
    data_.Finalize();
    return std::move(data_);
  }

 private:
  InteractionData data_;
};

std::vector<int32_t> ItemsOf(const std::vector<Candidate>& c) {
  std::vector<int32_t> out;
  for (const Candidate& x : c) out.push_back(x.item);
  return out;
}

std::vector<Candidate> Ask(const CandidateSource& source, const RecommendRequest& req, int k) {
  std::vector<Candidate> out;
  source.Candidates(req, k, &out);
  return out;
}

const Candidate* Find(const std::vector<Candidate>& c, int32_t item) {
  for (const Candidate& x : c) {
    if (x.item == item) return &x;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// popular / trending

TEST(PopularSourceTest, RecentBurstBeatsOldBurstAndCategoryRestricts) {
  DataBuilder b;
  const int32_t old_hit = b.Item("old", "Tea > Green");
  const int32_t new_hit = b.Item("new", "Tea > Black");
  const int32_t mug = b.Item("mug", "Kitchen > Mugs");
  const int32_t u = b.User();
  for (int i = 0; i < 10; ++i) b.Event(u, old_hit, EventType::kView, kT0 + i);  // 60 days ago
  for (int i = 0; i < 4; ++i) b.Event(u, new_hit, EventType::kView, kT0 + 59 * kDay + i);
  b.Event(u, mug, EventType::kView, kT0 + 60 * kDay);
  InteractionData data = b.Finish();

  PopularSource decayed({.half_life_days = 14});
  ASSERT_OK(decayed.Fit(data, kQuiet));
  RecommendRequest req;  // cold, anonymous
  std::vector<Candidate> c = Ask(decayed, req, 10);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].item, new_hit);
  EXPECT_EQ(c[0].reason.kind, "popular");
  EXPECT_EQ(c[0].reason.source, "popular");
  EXPECT_GT(c[0].score, c[1].score);

  // Without decay the old burst wins.
  PopularSource flat({.half_life_days = 1e5});
  ASSERT_OK(flat.Fit(data, kQuiet));
  EXPECT_EQ(Ask(flat, req, 1).at(0).item, old_hit);

  // Category prefix (top level and full path) restricts; context items are skipped.
  req.category = "Tea";
  EXPECT_EQ(ItemsOf(Ask(decayed, req, 10)), (std::vector<int32_t>{new_hit, old_hit}));
  req.category = "Tea > Green";
  EXPECT_EQ(ItemsOf(Ask(decayed, req, 10)), (std::vector<int32_t>{old_hit}));
  req.category = "Te";  // not a path prefix
  EXPECT_TRUE(Ask(decayed, req, 10).empty());
  req.category = "";
  req.items = {new_hit};
  EXPECT_EQ(Ask(decayed, req, 1).at(0).item, mug);
}

TEST(TrendingSourceTest, SurgingItemTrendsWithCategoryEvidence) {
  DataBuilder b;
  const int32_t steady = b.Item("steady", "Toys > Blocks");
  const int32_t surging = b.Item("surging", "Toys > Lego");
  const int32_t u = b.User();
  const int64_t end = kT0 + 40 * kDay;
  // The steady item: 2 views a day for 40 days. The surging one: nothing, then 12
  // views in the last two days.
  for (int d = 0; d < 40; ++d) {
    b.Event(u, steady, EventType::kView, kT0 + d * kDay);
    b.Event(u, steady, EventType::kView, kT0 + d * kDay + 1000);
  }
  for (int i = 0; i < 12; ++i) b.Event(u, surging, EventType::kView, end - i * 3600000);
  InteractionData data = b.Finish();

  TrendingSource trending;
  ASSERT_OK(trending.Fit(data, kQuiet));
  RecommendRequest req;
  std::vector<Candidate> c = Ask(trending, req, 10);
  ASSERT_EQ(ItemsOf(c), (std::vector<int32_t>{surging}));  // steady is not trending
  EXPECT_EQ(c[0].reason.kind, "trending");
  EXPECT_EQ(c[0].reason.evidence_text, "Toys > Lego");
  EXPECT_GT(c[0].reason.value, 1.0);
  req.category = "Toys";
  c = Ask(trending, req, 10);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].reason.evidence_text, "Toys");
  req.category = "Garden";
  EXPECT_TRUE(Ask(trending, req, 10).empty());
}

// ---------------------------------------------------------------------------
// co-occurrence

TEST(CooccurrenceSourceTest, FindsSessionNeighbourAndLiftDiffersFromCosine) {
  DataBuilder b;
  const int32_t a = b.Item("a");
  const int32_t popular = b.Item("popular");
  const int32_t rare = b.Item("rare");
  const int32_t other = b.Item("other");
  int session = 0;
  // 20 sessions a + popular; 3 sessions a + rare; popular also appears with `other`
  // in 80 more sessions (it is popular everywhere).
  auto two = [&](int32_t x, int32_t y) {
    const int32_t u = b.User();
    b.Event(u, x, EventType::kView, kT0 + session * 1000, session);
    b.Event(u, y, EventType::kView, kT0 + session * 1000 + 1, session);
    ++session;
  };
  for (int i = 0; i < 20; ++i) two(a, popular);
  for (int i = 0; i < 3; ++i) two(a, rare);
  for (int i = 0; i < 80; ++i) two(other, popular);
  InteractionData data = b.Finish();

  ASSERT_OK_AND_ASSIGN(CooccurrenceOptions cos_opts,
                       CooccurrenceOptions::FromJson({{"user_weight", 0}, {"min_count", 1}}));
  CooccurrenceSource cosine(cos_opts);
  ASSERT_OK(cosine.Fit(data, kQuiet));
  ASSERT_OK_AND_ASSIGN(CooccurrenceOptions lift_opts,
                       CooccurrenceOptions::FromJson(
                           {{"user_weight", 0}, {"min_count", 1}, {"normalization", "lift"}}));
  CooccurrenceSource lift(lift_opts);
  ASSERT_OK(lift.Fit(data, kQuiet));

  RecommendRequest req;
  req.items = {a};
  std::vector<Candidate> c = Ask(cosine, req, 10);
  ASSERT_EQ(ItemsOf(c), (std::vector<int32_t>{popular, rare}));
  EXPECT_EQ(c[0].reason.kind, "viewed_with");
  EXPECT_EQ(c[0].reason.evidence_item, a);
  // Lift favours the rare item that appears almost only with `a`.
  EXPECT_EQ(ItemsOf(Ask(lift, req, 10)), (std::vector<int32_t>{rare, popular}));
  // Neighbours are symmetric in what they count.
  ASSERT_FALSE(cosine.Neighbors(rare).empty());
  EXPECT_EQ(cosine.Neighbors(rare)[0].item, a);
}

TEST(CooccurrenceSourceTest, CoPurchaseGivesBoughtWithAndCanBeSwitchedOff) {
  DataBuilder b;
  const int32_t phone = b.Item("phone");
  const int32_t charger = b.Item("charger");
  const int32_t poster = b.Item("poster");
  for (int i = 0; i < 5; ++i) {
    const int32_t u = b.User();
    b.Event(u, phone, EventType::kPurchase, kT0 + i * kDay);
    b.Event(u, charger, EventType::kPurchase, kT0 + i * kDay + 5);
    b.Event(u, poster, EventType::kView, kT0 + i * kDay + 10);
  }
  InteractionData data = b.Finish();
  CooccurrenceSource both;
  ASSERT_OK(both.Fit(data, kQuiet));
  RecommendRequest req;
  req.history = {{.item = phone, .type = EventType::kPurchase, .timestamp_ms = kT0}};
  std::vector<Candidate> c = Ask(both, req, 10);
  const Candidate* charger_c = Find(c, charger);
  const Candidate* poster_c = Find(c, poster);
  ASSERT_NE(charger_c, nullptr);
  ASSERT_NE(poster_c, nullptr);
  EXPECT_EQ(charger_c->reason.kind, "bought_with");
  EXPECT_EQ(poster_c->reason.kind, "viewed_with");
  EXPECT_EQ(charger_c->reason.evidence_item, phone);
  EXPECT_EQ(Find(c, phone), nullptr);  // the history item itself is excluded

  ASSERT_OK_AND_ASSIGN(CooccurrenceOptions only_buy,
                       CooccurrenceOptions::FromJson({{"co_view", false}}));
  CooccurrenceSource purchases(only_buy);
  ASSERT_OK(purchases.Fit(data, kQuiet));
  EXPECT_EQ(ItemsOf(Ask(purchases, req, 10)), (std::vector<int32_t>{charger}));
}

// ---------------------------------------------------------------------------
// EASE

TEST(EaseSourceTest, BlockStructureAndZeroDiagonal) {
  DataBuilder b;
  for (int i = 0; i < 10; ++i) b.Item("item" + std::to_string(i));
  std::mt19937 rng(7);
  // Block 1: items 0-4, block 2: items 5-9; each user takes 3 random items of one block.
  for (int u = 0; u < 60; ++u) {
    const int32_t user = b.User();
    const int base = (u % 2) * 5;
    std::vector<int> items = {0, 1, 2, 3, 4};
    std::shuffle(items.begin(), items.end(), rng);
    for (int j = 0; j < 3; ++j) {
      b.Event(user, base + items[j], EventType::kPurchase, kT0 + u * 100 + j);
    }
  }
  InteractionData data = b.Finish();
  EaseSource ease({.lambda = 5});
  ASSERT_OK(ease.Fit(data, kQuiet));
  EXPECT_EQ(ease.num_model_items(), 10);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(ease.Weight(i, i), 0.0f) << i;

  RecommendRequest req;
  req.history = {{.item = 0, .type = EventType::kView}, {.item = 1, .type = EventType::kView}};
  std::vector<float> scores(10);
  ease.ScoreAll(req, scores);
  for (int in_block : {2, 3, 4}) {
    for (int out_block = 5; out_block < 10; ++out_block) {
      EXPECT_GT(scores[in_block], scores[out_block]) << in_block << " vs " << out_block;
    }
  }
  std::vector<Candidate> c = Ask(ease, req, 3);
  ASSERT_EQ(c.size(), 3u);
  for (const Candidate& x : c) {
    EXPECT_GE(x.item, 2);
    EXPECT_LE(x.item, 4);
    EXPECT_EQ(x.reason.kind, "because_you");
    EXPECT_TRUE(x.reason.evidence_item == 0 || x.reason.evidence_item == 1);
  }
  // Without excluding seen items, an item is still not recommended because of itself.
  EaseSource keep_seen({.lambda = 5, .exclude_seen = false});
  ASSERT_OK(keep_seen.Fit(data, kQuiet));
  RecommendRequest single;
  single.history = {{.item = 0, .type = EventType::kView}};
  for (const Candidate& x : Ask(keep_seen, single, 10)) EXPECT_NE(x.item, 0);
}

TEST(EaseSourceTest, MaxItemsKeepsTheMostPopular) {
  DataBuilder b;
  for (int i = 0; i < 6; ++i) b.Item("item" + std::to_string(i));
  // Item i is bought by (i + 1) * 2 users, together with item (i + 1) % 6.
  for (int i = 0; i < 6; ++i) {
    for (int k = 0; k < (i + 1) * 2; ++k) {
      const int32_t u = b.User();
      b.Event(u, i, EventType::kPurchase, kT0 + k);
      b.Event(u, (i + 1) % 6, EventType::kPurchase, kT0 + k + 1);
    }
  }
  InteractionData data = b.Finish();
  EaseSource ease({.lambda = 1, .max_items = 3});
  ASSERT_OK(ease.Fit(data, kQuiet));
  EXPECT_EQ(ease.num_model_items(), 3);
  RecommendRequest req;
  req.history = {{.item = 5, .type = EventType::kView}};
  std::vector<float> scores(6);
  ease.ScoreAll(req, scores);
  int unscored = 0;
  for (float s : scores) unscored += std::isinf(s) && s < 0;
  EXPECT_EQ(unscored, 3);
  // Items 3, 4, 5 are the most bought (counting the partner purchases too).
  EXPECT_FALSE(std::isinf(scores[5]));
  EXPECT_FALSE(std::isinf(scores[4]));
}

// ---------------------------------------------------------------------------
// content

InteractionData CatalogData() {
  DataBuilder b;
  b.Item("organic green tea sencha loose leaf 100 g", "Tea > Green");         // 0
  b.Item("organic green tea sencha loose leaf 250 g", "Tea > Green");         // 1
  b.Item("black tea assam breakfast blend tea bags", "Tea > Black");          // 2
  b.Item("stainless steel electric kettle 1.7 litre", "Kitchen > Kettles");   // 3
  b.Item("ceramic coffee mug white 350 ml", "Kitchen > Mugs");                // 4
  b.Item("cast iron teapot with infuser", "Kitchen > Teapots");               // 5
  b.Item("earl grey black tea bergamot loose leaf", "Tea > Black");           // 6
  b.Item("glass kettle with temperature control", "Kitchen > Kettles");       // 7
  b.Item("matcha green tea powder ceremonial grade", "Tea > Green");          // 8
  b.Item("porcelain espresso cup set of six", "Kitchen > Mugs");              // 9
  const int32_t u = b.User();
  b.Event(u, 3, EventType::kView, kT0);
  return b.Finish();
}

TEST(ContentSourceTest, NearDuplicatesAreNeighboursAndNewItemsAreCandidates) {
  InteractionData data = CatalogData();
  ContentSource content(nullptr, {.encoder_dim = 32, .encoder_epochs = 3, .threads = 1});
  ASSERT_OK(content.Fit(data, kQuiet));
  ASSERT_NE(content.encoder(), nullptr);
  ASSERT_NE(content.ItemEmbedding(0), nullptr);
  EXPECT_EQ(content.ItemEmbedding(99), nullptr);

  RecommendRequest req;
  req.items = {0};  // never interacted with: still a valid query and candidate
  std::vector<Candidate> c = Ask(content, req, 3);
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].item, 1);
  EXPECT_EQ(c[0].reason.kind, "similar_to");
  EXPECT_EQ(c[0].reason.evidence_item, 0);
  // value = cosine of the two items, higher than to an unrelated item (the mug).
  auto cosine = [&](int32_t x, int32_t y) {
    float dot = 0;
    for (int d = 0; d < content.dim(); ++d) {
      dot += content.ItemEmbedding(x)[d] * content.ItemEmbedding(y)[d];
    }
    return dot;
  };
  EXPECT_NEAR(c[0].reason.value, cosine(0, 1), 1e-5);
  EXPECT_GT(c[0].reason.value, cosine(0, 4) + 0.1);
  EXPECT_EQ(Find(c, 0), nullptr);  // the query item itself is excluded

  // A new catalog item, never seen in any event, is returned right after it is added.
  const int32_t fresh = data.num_items();
  ASSERT_OK(content.AddOrUpdateItem(fresh, "organic green tea sencha loose leaf 500 g",
                                    "Tea > Green"));
  c = Ask(content, req, 3);
  ASSERT_NE(Find(c, fresh), nullptr);
  EXPECT_NE(content.ItemEmbedding(fresh), nullptr);
  // Category filters apply to added items too.
  req.category = "Kitchen";
  EXPECT_EQ(Find(Ask(content, req, 10), fresh), nullptr);

  EXPECT_EQ(content.AddOrUpdateItem(-1, "tea").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(content.AddOrUpdateItem(fresh + 1, "").code(), StatusCode::kInvalidArgument);
}

TEST(ContentSourceTest, SimilarToTextFindsNeighboursOfAnUnseenItemWithoutChangingTheSource) {
  InteractionData data = CatalogData();
  ContentSource content(nullptr, {.encoder_dim = 32, .encoder_epochs = 3, .threads = 1});
  ASSERT_OK(content.Fit(data, kQuiet));
  // The text of item 0 finds item 0 (cosine ~1) and its near duplicate 1 first.
  std::vector<Candidate> c;
  ASSERT_OK(content.SimilarToText(data.item(0).text.empty() ? data.item(0).title : data.item(0).text,
                                  "new thing", 3, &c));
  ASSERT_GE(c.size(), 2u);
  EXPECT_NEAR(c[0].score, 1.0f, 1e-4);
  EXPECT_TRUE((c[0].item == 0 && c[1].item == 1) || (c[0].item == 1 && c[1].item == 0));
  EXPECT_GE(c[0].score, c[1].score);
  EXPECT_GT(c[1].score, c.back().score - 1e-6f);
  EXPECT_EQ(c[1].reason.kind, "similar_to_text");
  EXPECT_EQ(c[1].reason.evidence_text, "new thing");
  // Nothing was added: a fresh id still has no embedding.
  EXPECT_EQ(content.ItemEmbedding(data.num_items()), nullptr);
  std::vector<Candidate> none;
  EXPECT_EQ(content.SimilarToText("", "x", 3, &none).code(), StatusCode::kInvalidArgument);
  ContentSource unfitted(nullptr, {});
  EXPECT_EQ(unfitted.SimilarToText("tea", "x", 3, &none).code(), StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------
// FBT

TEST(FbtSourceTest, ComplementRuleFoundSameCategorySubstituteDropped) {
  DataBuilder b;
  const int32_t phone = b.Item("phone x", "Electronics > Phones");
  const int32_t phone2 = b.Item("phone y", "Electronics > Phones");
  const int32_t cover = b.Item("cover", "Accessories > Covers");
  const int32_t socks = b.Item("socks", "Clothing > Socks");
  for (int i = 0; i < 6; ++i) {  // phone + cover on the same day
    const int32_t u = b.User();
    b.Event(u, phone, EventType::kPurchase, kT0 + i * kDay);
    b.Event(u, cover, EventType::kPurchase, kT0 + i * kDay + 60000);
    b.Event(u, phone2, EventType::kPurchase, kT0 + i * kDay + 120000);  // a substitute
  }
  for (int i = 0; i < 10; ++i) {  // baskets without a phone
    const int32_t u = b.User();
    b.Event(u, socks, EventType::kPurchase, kT0 + i * kDay);
  }
  // A phone view in another basket does not count (not a purchase).
  const int32_t viewer = b.User();
  b.Event(viewer, phone, EventType::kView, kT0);
  b.Event(viewer, socks, EventType::kView, kT0 + 1);
  InteractionData data = b.Finish();

  FbtSource fbt;
  ASSERT_OK(fbt.Fit(data, kQuiet));
  EXPECT_EQ(fbt.num_baskets(), 16);
  std::vector<FbtSource::Rule> rules = fbt.Rules(phone);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].consequent, cover);
  EXPECT_EQ(rules[0].support, 6);
  EXPECT_FLOAT_EQ(rules[0].confidence, 1.0f);
  EXPECT_NEAR(rules[0].lift, 16.0 / 6.0, 1e-4);

  RecommendRequest req;
  req.scenario = "fbt";
  req.items = {phone};
  std::vector<Candidate> c = Ask(fbt, req, 10);
  ASSERT_EQ(ItemsOf(c), (std::vector<int32_t>{cover}));
  EXPECT_EQ(c[0].reason.kind, "bought_with");
  EXPECT_EQ(c[0].reason.evidence_item, phone);
  EXPECT_NEAR(c[0].reason.value, 16.0 / 6.0, 1e-4);

  // Allowing substitutes brings phone y back.
  FbtSource all({.allow_same_category = true});
  ASSERT_OK(all.Fit(data, kQuiet));
  std::vector<int32_t> items = ItemsOf(Ask(all, req, 10));
  EXPECT_NE(std::find(items.begin(), items.end(), phone2), items.end());

  // Without context items the last purchases are the anchors.
  RecommendRequest from_history;
  from_history.history = {{.item = phone, .type = EventType::kPurchase, .timestamp_ms = kT0}};
  EXPECT_EQ(ItemsOf(Ask(fbt, from_history, 10)), (std::vector<int32_t>{cover}));
}

// ---------------------------------------------------------------------------
// buy again

TEST(BuyAgainSourceTest, DueEveryTenDaysNotRightAfterBuying) {
  DataBuilder b;
  const int32_t coffee = b.Item("coffee beans", "Grocery > Coffee");
  const int32_t grinder = b.Item("grinder", "Kitchen");
  // Other shoppers buy coffee every ~10 days too, the grinder once.
  for (int u = 0; u < 5; ++u) {
    const int32_t user = b.User();
    for (int k = 0; k < 4; ++k) b.Event(user, coffee, EventType::kPurchase, kT0 + k * 10 * kDay);
    b.Event(user, grinder, EventType::kPurchase, kT0 + kDay / 2);
  }
  InteractionData data = b.Finish();
  BuyAgainSource again;
  ASSERT_OK(again.Fit(data, kQuiet));
  EXPECT_NEAR(again.PriorCycleDays(coffee), 10.0, 1e-3);
  EXPECT_EQ(again.PriorCycleDays(grinder), 0.0f);
  EXPECT_FLOAT_EQ(again.RepeatRate(coffee), 1.0f);

  // A live shopper (unknown to the data) bought coffee on days 0, 10, 20, 30 and a grinder.
  const int64_t start = kT0 + 100 * kDay;
  RecommendRequest req;
  req.scenario = "buy-again";
  for (int k = 0; k < 4; ++k) {
    req.history.push_back(
        {.item = coffee, .type = EventType::kPurchase, .timestamp_ms = start + k * 10 * kDay});
  }
  req.history.push_back({.item = grinder, .type = EventType::kPurchase, .timestamp_ms = start});
  req.now_ms = start + 40 * kDay;  // due
  std::vector<Candidate> c = Ask(again, req, 10);
  ASSERT_EQ(ItemsOf(c), (std::vector<int32_t>{coffee}));
  EXPECT_EQ(c[0].reason.kind, "buy_again");
  EXPECT_EQ(c[0].reason.evidence_item, coffee);
  EXPECT_NEAR(c[0].reason.value, 10.0, 0.5);
  req.now_ms = start + 31 * kDay;  // one day after buying
  EXPECT_TRUE(Ask(again, req, 10).empty());
  req.now_ms = start + 43 * kDay;  // a bit overdue: still proposed
  EXPECT_EQ(ItemsOf(Ask(again, req, 10)), (std::vector<int32_t>{coffee}));

  // One purchase only: the item's prior cycle (10 days) applies.
  RecommendRequest once;
  once.history = {{.item = coffee, .type = EventType::kPurchase, .timestamp_ms = start}};
  once.now_ms = start + 10 * kDay;
  c = Ask(again, once, 10);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_NEAR(c[0].reason.value, 10.0, 1e-3);
}

// ---------------------------------------------------------------------------
// Every source: round trips, options, odd requests.

// A synthetic shop: 4 categories x 10 items, 80 users with sessions, views,
// carts and purchases over 60 days, repeat purchases of tea.
InteractionData ShopData() {
  DataBuilder b;
  const char* kCats[] = {"Tea > Green", "Tea > Black", "Kitchen > Mugs", "Kitchen > Kettles"};
  const char* kWords[] = {"green tea", "black tea", "mug", "kettle"};
  for (int c = 0; c < 4; ++c) {
    for (int i = 0; i < 10; ++i) {
      b.Item(std::string(kWords[c]) + " model " + std::to_string(i) + " variant " +
                 std::string(1, static_cast<char>('a' + i)),
             kCats[c]);
    }
  }
  std::mt19937 rng(42);
  int32_t session = 0;
  for (int u = 0; u < 80; ++u) {
    const int32_t user = b.User();
    const int cat = u % 4, other = (u + 1) % 4;
    for (int s = 0; s < 6; ++s) {
      const int64_t t = kT0 + (u % 7) * kDay + s * 9 * kDay + static_cast<int64_t>(rng() % 3600000);
      const int32_t sid = (u % 3 == 0) ? -1 : session++;
      for (int e = 0; e < 4; ++e) {
        const int c = (rng() % 4 == 0) ? other : cat;
        const int32_t item = c * 10 + static_cast<int32_t>(rng() % 5) + (u % 2) * 5;
        const EventType type = e == 3 ? EventType::kPurchase
                               : e == 2 ? EventType::kAddToCart
                                        : EventType::kView;
        b.Event(user, item, type, t + e * 60000, sid);
      }
      b.Event(user, cat * 10, EventType::kPurchase, t + 300000, sid);  // the staple, again
    }
  }
  return b.Finish();
}

struct SourceCase {
  std::string name;
  nlohmann::json options;
};

std::vector<SourceCase> AllSources() {
  return {{"popular", {}},
          {"trending", {{"window_days", 10}, {"min_ratio", 0.0}}},
          {"cooccurrence", {}},
          {"ease", {{"lambda", 10}}},
          {"content", {{"encoder_dim", 16}, {"encoder_epochs", 2}, {"threads", 1}}},
          {"fbt", {{"min_support", 1}, {"min_lift", 1.0}}},
          {"buy_again", {}}};
}

std::vector<RecommendRequest> SampleRequests(const InteractionData& data) {
  std::vector<RecommendRequest> out;
  for (int32_t u : {0, 5, 17, 42}) {
    RecommendRequest req;
    req.user = u;
    req.history = HistoryOf(data, u);
    req.history.resize(req.history.size() - 2);  // so buy_again sees a due staple
    req.now_ms = data.max_timestamp_ms() + 5 * kDay;
    out.push_back(req);
  }
  RecommendRequest page;
  page.items = {3, 14};
  out.push_back(page);
  RecommendRequest category = out[0];
  category.category = "Kitchen";
  out.push_back(category);
  return out;
}

class EverySourceTest : public ::testing::TestWithParam<SourceCase> {
 protected:
  void SetUp() override {
    ASSERT_OK(RegisterBuiltinSources(registry_));
    data_ = ShopData();
  }
  std::unique_ptr<CandidateSource> Fitted() {
    auto made = registry_.Create(GetParam().name, GetParam().options);
    EXPECT_OK(made);
    if (!made.ok()) return nullptr;
    std::unique_ptr<CandidateSource> source = std::move(made).value();
    EXPECT_EQ(source->Name(), GetParam().name);
    Status fit = source->Fit(data_, kQuiet);
    EXPECT_OK(fit);
    return fit.ok() ? std::move(source) : nullptr;
  }
  SourceRegistry registry_;
  InteractionData data_;
};

TEST_P(EverySourceTest, ProducesCandidatesWithReasons) {
  std::unique_ptr<CandidateSource> source = Fitted();
  ASSERT_NE(source, nullptr);
  size_t total = 0;
  for (const RecommendRequest& req : SampleRequests(data_)) {
    std::vector<Candidate> c = Ask(*source, req, 10);
    total += c.size();
    EXPECT_LE(c.size(), 10u);
    std::set<int32_t> seen;
    for (size_t i = 0; i < c.size(); ++i) {
      EXPECT_GE(c[i].item, 0);
      EXPECT_LT(c[i].item, data_.num_items());
      EXPECT_TRUE(seen.insert(c[i].item).second) << "duplicate item " << c[i].item;
      EXPECT_EQ(c[i].reason.source, GetParam().name);
      EXPECT_FALSE(c[i].reason.kind.empty());
      if (i > 0) {
        EXPECT_GE(c[i - 1].score, c[i].score);
      }
      if (!req.category.empty()) {
        EXPECT_TRUE(data_.item(c[i].item).category.starts_with(req.category + " > "));
      }
      for (int32_t ctx : req.items) EXPECT_NE(c[i].item, ctx);
    }
  }
  EXPECT_GT(total, 0u) << GetParam().name << " proposed nothing for any request";
}

TEST_P(EverySourceTest, SaveLoadRoundTripGivesIdenticalCandidates) {
  std::unique_ptr<CandidateSource> source = Fitted();
  ASSERT_NE(source, nullptr);
  const std::string dir = (testing::TempDir("rec_sources") / GetParam().name).string();
  ASSERT_OK(source->Save(dir));
  // A fresh source with other (default) options: Load restores the saved ones.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<CandidateSource> loaded, registry_.Create(GetParam().name));
  ASSERT_OK(loaded->Load(dir, data_));
  for (const RecommendRequest& req : SampleRequests(data_)) {
    std::vector<Candidate> a = Ask(*source, req, 20), b = Ask(*loaded, req, 20);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].item, b[i].item);
      EXPECT_EQ(a[i].score, b[i].score);
      EXPECT_EQ(a[i].reason.kind, b[i].reason.kind);
      EXPECT_EQ(a[i].reason.evidence_item, b[i].reason.evidence_item);
      EXPECT_EQ(a[i].reason.evidence_text, b[i].reason.evidence_text);
      EXPECT_EQ(a[i].reason.value, b[i].reason.value);
    }
    std::vector<float> sa(data_.num_items()), sb(data_.num_items());
    source->ScoreAll(req, sa);
    loaded->ScoreAll(req, sb);
    EXPECT_EQ(sa, sb);
  }
}

TEST_P(EverySourceTest, LoadRejectsOtherDataKindAndCorruption) {
  std::unique_ptr<CandidateSource> source = Fitted();
  ASSERT_NE(source, nullptr);
  const std::string dir = (testing::TempDir("rec_sources_bad") / GetParam().name).string();
  ASSERT_OK(source->Save(dir));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<CandidateSource> fresh, registry_.Create(GetParam().name));
  // Other data (one item more).
  DataBuilder other;
  for (int i = 0; i <= data_.num_items(); ++i) other.Item("x" + std::to_string(i));
  InteractionData bigger = other.Finish();
  Status s = fresh->Load(dir, bigger);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("items"), std::string::npos) << s.ToString();
  // Another kind's folder.
  const std::string other_kind = GetParam().name == "popular" ? "fbt" : "popular";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<CandidateSource> wrong, registry_.Create(other_kind));
  s = wrong->Load(dir, data_);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  // Flip one byte in the middle of every .bin file: DataLoss.
  bool corrupted = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".bin" || entry.file_size() < 40) continue;
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(entry.file_size() / 2));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(entry.file_size() / 2));
    f.write(&c, 1);
    corrupted = true;
  }
  if (corrupted) {
    s = fresh->Load(dir, data_);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  }
}

TEST_P(EverySourceTest, OddRequestsBehave) {
  std::unique_ptr<CandidateSource> source = Fitted();
  ASSERT_NE(source, nullptr);
  const int32_t n = data_.num_items();
  RecommendRequest base = SampleRequests(data_)[0];

  // k <= 0: nothing.
  EXPECT_TRUE(Ask(*source, base, 0).empty());
  EXPECT_TRUE(Ask(*source, base, -5).empty());
  // Huge k: clamped, still unique and in range.
  std::vector<Candidate> all = Ask(*source, base, 1000000);
  EXPECT_LE(all.size(), static_cast<size_t>(n));
  std::set<int32_t> unique;
  for (const Candidate& c : all) unique.insert(c.item);
  EXPECT_EQ(unique.size(), all.size());

  // Unknown ids are ignored (same answer as without them).
  RecommendRequest noisy = base;
  noisy.user = 1 << 30;
  noisy.items = {-7, n, n + 100000};
  noisy.history.insert(noisy.history.begin(), {.item = -1, .type = EventType::kPurchase});
  noisy.history.insert(noisy.history.begin(), {.item = n + 5, .type = EventType::kView});
  RecommendRequest clean = base;
  clean.user = 1 << 30;
  std::vector<Candidate> a = Ask(*source, noisy, 10), b = Ask(*source, clean, 10);
  EXPECT_EQ(ItemsOf(a), ItemsOf(b));

  // Empty request: no crash; cold-start sources still answer.
  RecommendRequest empty;
  std::vector<Candidate> cold = Ask(*source, empty, 10);
  if (GetParam().name == "popular") {
    EXPECT_FALSE(cold.empty());
  }

  // 10,000-event history: bounded cost, sane output.
  RecommendRequest long_history;
  for (int i = 0; i < 10000; ++i) {
    long_history.history.push_back({.item = static_cast<int32_t>(i % n),
                                    .type = i % 5 == 0 ? EventType::kPurchase : EventType::kView,
                                    .timestamp_ms = kT0 + i * 3600000LL});
  }
  std::vector<Candidate> c = Ask(*source, long_history, 50);
  EXPECT_LE(c.size(), 50u);
  std::vector<float> scores(n);
  source->ScoreAll(long_history, scores);
  for (float s : scores) EXPECT_FALSE(std::isnan(s));
}

INSTANTIATE_TEST_SUITE_P(Builtin, EverySourceTest, ::testing::ValuesIn(AllSources()),
                         [](const ::testing::TestParamInfo<SourceCase>& info) {
                           return info.param.name;
                         });

TEST(SourceRegistryTest, RegistersAllBuiltinNames) {
  SourceRegistry registry;
  ASSERT_OK(RegisterBuiltinSources(registry));
  EXPECT_EQ(registry.Names(),
            (std::vector<std::string>{"buy_again", "content", "cooccurrence", "ease", "fbt",
                                      "popular", "trending"}));
  EXPECT_EQ(RegisterBuiltinSources(registry).code(), StatusCode::kAlreadyExists);
}

TEST(SourceRegistryTest, BadOptionsNameTheKey) {
  SourceRegistry registry;
  ASSERT_OK(RegisterBuiltinSources(registry));
  struct Bad {
    std::string source;
    nlohmann::json options;
    std::string key;
  };
  const std::vector<Bad> cases = {
      {"popular", {{"half_life_days", 0}}, "half_life_days"},
      {"popular", {{"halflife", 3}}, "halflife"},
      {"trending", {{"window_days", "3"}}, "window_days"},
      {"cooccurrence", {{"normalization", "jaccard"}}, "normalization"},
      {"cooccurrence", {{"neighbors", 0}}, "neighbors"},
      {"cooccurrence", {{"co_view", false}, {"co_purchase", false}}, "co_view"},
      {"ease", {{"lambda", -1}}, "lambda"},
      {"ease", {{"max_items", 2.5}}, "max_items"},
      {"content", {{"encoder_dim", 4}}, "encoder_dim"},
      {"content", {{"recency_decay", 0}}, "recency_decay"},
      {"fbt", {{"min_lift", 0.5}}, "min_lift"},
      {"fbt", {{"min_confidence", 2}}, "min_confidence"},
      {"buy_again", {{"late_width", 0}}, "late_width"},
      {"buy_again", {{"unknown_key", true}}, "unknown_key"},
  };
  for (const Bad& bad : cases) {
    auto made = registry.Create(bad.source, bad.options);
    ASSERT_FALSE(made.ok()) << bad.source << " " << bad.options.dump();
    EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(made.status().message().find(bad.key), std::string::npos)
        << made.status().message();
  }
  EXPECT_EQ(registry.Create("popular", nlohmann::json::array()).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SourceFitTest, NoEventsIsFailedPrecondition) {
  DataBuilder b;
  b.Item("lonely", "A");
  b.User();
  InteractionData data = b.Finish();
  PopularSource popular;
  EXPECT_EQ(popular.Fit(data, kQuiet).code(), StatusCode::kFailedPrecondition);
  TrendingSource trending;
  EXPECT_EQ(trending.Fit(data, kQuiet).code(), StatusCode::kFailedPrecondition);
  CooccurrenceSource co;
  EXPECT_EQ(co.Fit(data, kQuiet).code(), StatusCode::kFailedPrecondition);
  EaseSource ease;
  EXPECT_EQ(ease.Fit(data, kQuiet).code(), StatusCode::kFailedPrecondition);
  FbtSource fbt;
  EXPECT_EQ(fbt.Fit(data, kQuiet).code(), StatusCode::kFailedPrecondition);
  BuyAgainSource again;
  EXPECT_OK(again.Fit(data, kQuiet));  // nothing to learn, but nothing wrong either
}

TEST(SourceIoTest, ArraysRoundTripAndDetectTruncation) {
  const std::string dir = testing::TempDir("source_io").string();
  const std::string path = dir + "/a.bin";
  const std::vector<float> values = {1.5f, -2.0f, 3.25f};
  ASSERT_OK(internal::WriteFloatArray(path, values));
  ASSERT_OK_AND_ASSIGN(std::vector<float> back, internal::ReadFloatArray(path));
  EXPECT_EQ(back, values);
  // Wrong type.
  EXPECT_EQ(internal::ReadInt32Array(path).status().code(), StatusCode::kDataLoss);
  // Truncated.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  Status s = internal::ReadFloatArray(path).status();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("a.bin"), std::string::npos);
  EXPECT_EQ(internal::ReadFloatArray(dir + "/missing.bin").status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(internal::InCategory("Tea > Green", "Tea"));
  EXPECT_TRUE(internal::InCategory("Tea", "Tea"));
  EXPECT_FALSE(internal::InCategory("Teapots", "Tea"));
}

}  // namespace
}  // namespace souk::recommend
