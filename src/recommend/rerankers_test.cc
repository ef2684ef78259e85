#include "recommend/rerankers.h"

#include <random>
#include <set>

#include "common/testing.h"

namespace souk::recommend {
namespace {

// 40 items: category "C<i % 4>", brand "B<i % 2>"; items 0..3 are very popular.
InteractionData Data() {
  InteractionData d;
  for (int i = 0; i < 40; ++i) {
    d.AddItem({.external_id = "i" + std::to_string(i), .title = "Item " + std::to_string(i),
               .brand = "B" + std::to_string(i % 2), .category = "C" + std::to_string(i % 4)});
  }
  d.AddUser("u");
  int64_t t = 0;
  for (int i = 0; i < 40; ++i) {
    const int times = i < 4 ? 100 : 1;
    for (int k = 0; k < times; ++k) EXPECT_OK(d.Add({.user = 0, .item = i, .timestamp_ms = ++t}));
  }
  d.Finalize();
  return d;
}

std::vector<RankedCandidate> List(std::vector<int32_t> items) {
  std::vector<RankedCandidate> out;
  double s = 100;
  for (int32_t i : items) out.push_back({.item = i, .score = s--});
  return out;
}

std::vector<int32_t> Items(const std::vector<RankedCandidate>& l) {
  std::vector<int32_t> out;
  for (const auto& c : l) out.push_back(c.item);
  return out;
}

struct Ctx {
  InteractionData data = Data();
  RecommendRequest req;
  std::vector<HistoryEvent> history;
  RerankContext Make(int n) {
    return {.data = &data, .request = &req, .history = history, .scenario = "home", .n = n};
  }
};

std::unique_ptr<Reranker> Create(const char* name, const nlohmann::json& options,
                                 const InteractionData& data) {
  RerankerRegistry r;
  EXPECT_OK(RegisterBuiltinRerankers(r));
  auto made = r.Create(name, options);
  EXPECT_OK(made);
  EXPECT_OK((*made)->Prepare(data));
  return std::move(*made);
}

TEST(RerankersTest, SeenFilterOptions) {
  Ctx c;
  c.req.items = {9};
  c.history = {{.item = 5, .type = EventType::kPurchase}, {.item = 6, .type = EventType::kView}};
  auto list = List({5, 6, 7, 9});
  Create("seen_filter", {}, c.data)->Rerank(c.Make(10), &list);
  EXPECT_EQ(Items(list), (std::vector<int32_t>{6, 7}));
  list = List({5, 6, 7, 9});
  Create("seen_filter", {{"remove_viewed", true}, {"remove_purchased", false}, {"remove_context", false}},
         c.data)->Rerank(c.Make(10), &list);
  EXPECT_EQ(Items(list), (std::vector<int32_t>{5, 7, 9}));
  // A purchase proposed as due again stays when asked.
  list = List({5, 6, 7});
  list[0].hits.push_back({.source = "buy_again", .rank = 1, .reason = {.kind = "buy_again"}});
  auto keep = list;
  Create("seen_filter", {{"keep_due_repurchases", true}}, c.data)->Rerank(c.Make(10), &keep);
  EXPECT_EQ(Items(keep), (std::vector<int32_t>{5, 6, 7}));
  Create("seen_filter", {}, c.data)->Rerank(c.Make(10), &list);
  EXPECT_EQ(Items(list), (std::vector<int32_t>{6, 7}));
}

TEST(RerankersTest, StockFilter) {
  Ctx c;
  c.data.mutable_item(7).in_stock = false;
  auto list = List({5, 6, 7, 8});
  Create("stock_filter", {}, c.data)->Rerank(c.Make(10), &list);
  EXPECT_EQ(Items(list), (std::vector<int32_t>{5, 6, 8}));
}

TEST(RerankersTest, MmrIncreasesCategoryDiversity) {
  Ctx c;
  // The top of the list is all category C0 (items 0, 4, 8, ...), then others.
  auto list = List({4, 8, 12, 16, 20, 24, 5, 6, 7, 9, 10, 11});
  auto distinct = [&](const std::vector<RankedCandidate>& l, size_t n) {
    std::set<std::string> cats;
    for (size_t i = 0; i < n && i < l.size(); ++i) cats.insert(c.data.item(l[i].item).category);
    return cats.size();
  };
  EXPECT_EQ(distinct(list, 5), 1u);
  Create("mmr", {{"lambda", 0.5}}, c.data)->Rerank(c.Make(5), &list);
  EXPECT_GE(distinct(list, 5), 3u);
  EXPECT_EQ(list[0].item, 4);  // the most relevant stays first
  EXPECT_EQ(list.size(), 12u);
  // lambda = 1 keeps the relevance order.
  auto same = List({4, 8, 12, 16, 20, 24, 5, 6, 7, 9, 10, 11});
  Create("mmr", {{"lambda", 1.0}}, c.data)->Rerank(c.Make(5), &same);
  EXPECT_EQ(Items(same), (std::vector<int32_t>{4, 8, 12, 16, 20, 24, 5, 6, 7, 9, 10, 11}));
}

TEST(RerankersTest, LongTailReachesTheShareWithinTheLossBound) {
  Ctx c;
  const std::vector<bool> tail = TailItems(c.data, 0.8);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(tail[i]) << i;
  for (int i = 4; i < 40; ++i) EXPECT_TRUE(tail[i]) << i;
  // Head items on top, tail below with close scores.
  std::vector<RankedCandidate> list;
  for (int i = 0; i < 4; ++i) list.push_back({.item = i, .score = 10.0 - 0.1 * i});
  for (int i = 4; i < 20; ++i) list.push_back({.item = i, .score = 9.0 - 0.1 * i});
  auto copy = list;
  const double loss = ApplyLongTail(tail, {.min_share = 0.5, .max_loss = 0.5}, 4, &copy);
  int tails = 0;
  for (int i = 0; i < 4; ++i) tails += tail[copy[i].item] ? 1 : 0;
  EXPECT_GE(tails, 2);
  EXPECT_LE(loss, 0.5);
  EXPECT_GT(loss, 0);
  EXPECT_EQ(copy.size(), list.size());
  EXPECT_EQ(copy[0].item, 0);  // the best head item stays
  // A tight bound allows no swap.
  copy = list;
  EXPECT_EQ(ApplyLongTail(tail, {.min_share = 0.5, .max_loss = 0.001}, 4, &copy), 0);
  EXPECT_EQ(Items(copy), Items(list));
  // Random lists: the loss never exceeds max_loss.
  std::mt19937 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<RankedCandidate> l;
    for (int i = 0; i < 40; ++i) l.push_back({.item = i, .score = std::uniform_real_distribution<double>(-3, 3)(rng)});
    std::sort(l.begin(), l.end(), [](auto& a, auto& b) { return a.score > b.score; });
    const double max_loss = std::uniform_real_distribution<double>(0, 0.3)(rng);
    const double got = ApplyLongTail(tail, {.min_share = 0.9, .max_loss = max_loss}, 10, &l);
    EXPECT_LE(got, max_loss + 1e-9);
    EXPECT_EQ(l.size(), 40u);
  }
  // The trade-off curve: more tail exposure, recall of head-only relevance drops.
  std::vector<std::vector<RankedCandidate>> lists = {list, list};
  std::vector<std::unordered_set<int32_t>> relevant = {{0, 1, 2, 3}, {2, 3}};
  const double shares[] = {0.0, 0.25, 0.5};
  auto points = LongTailTradeoff(lists, relevant, tail, shares, 4, 1.0);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_DOUBLE_EQ(points[0].tail_share, 0);
  EXPECT_DOUBLE_EQ(points[0].recall, 1.0);
  EXPECT_DOUBLE_EQ(points[2].tail_share, 0.5);
  EXPECT_LT(points[2].recall, points[0].recall);
  // The reranker form.
  copy = list;
  Create("long_tail", {{"min_share", 0.5}, {"max_loss", 0.5}}, c.data)->Rerank(c.Make(4), &copy);
  tails = 0;
  for (int i = 0; i < 4; ++i) tails += tail[copy[i].item] ? 1 : 0;
  EXPECT_GE(tails, 2);
}

TEST(RerankersTest, RulesPinBoostAndBlock) {
  Ctx c;
  auto list = List({1, 2, 3, 5, 6, 7});
  nlohmann::json rules = nlohmann::json::parse(R"({
    "boosts": [{"category": "c3", "multiplier": 1.5}],
    "pins": [{"item": "i31", "position": 2}, {"item": "i6", "position": 1}],
    "blocks": [{"brand": "b0"}]})");
  Create("rules", rules, c.data)->Rerank(c.Make(10), &list);
  // Blocked: brand B0 = even items (2, 6 -- but 6 is pinned and blocked: stays out).
  // Boosted: category C3 = items 3, 7 (score * 1.5 puts them on top).
  // Pinned: i31 at position 2 (not a candidate: inserted with reason "pinned").
  ASSERT_EQ(Items(list), (std::vector<int32_t>{3, 31, 7, 1, 5}));
  EXPECT_TRUE(list[1].pinned);
  ASSERT_EQ(list[1].hits.size(), 1u);
  EXPECT_EQ(list[1].hits[0].reason.kind, "pinned");
  // A pin beyond the end goes last; bad options name the problem.
  list = List({1, 3});
  Create("rules", {{"pins", {{{"item", "i5"}, {"position", 10}}}}}, c.data)->Rerank(c.Make(10), &list);
  EXPECT_EQ(Items(list), (std::vector<int32_t>{1, 3, 5}));
  RerankerRegistry r;
  ASSERT_OK(RegisterBuiltinRerankers(r));
  auto bad = r.Create("rules", {{"boosts", {{{"category", "x"}, {"multiplier", -1}}}}});
  EXPECT_NE(bad.status().message().find("rules.boosts[0].multiplier"), std::string::npos);
  bad = r.Create("rules", {{"blocks", {{{"colour", "red"}}}}});
  EXPECT_NE(bad.status().message().find("unknown key 'colour'"), std::string::npos);
  bad = r.Create("long_tail", {{"min_share", 2}});
  EXPECT_NE(bad.status().message().find("min_share"), std::string::npos);
  EXPECT_EQ(r.Create("nope").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace souk::recommend
