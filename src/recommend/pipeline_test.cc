// The Recommender with fake sources: merging, fusion, scenarios, cold start,
// request limits, live histories, the learned ranker, explanations, Save/Load.
#include <chrono>
#include <set>
#include <filesystem>
#include <fstream>

#include "common/testing.h"
#include "recommend/fake_sources_for_test.h"
#include "recommend/recommender.h"
#include "recommend/scenario.h"

namespace souk::recommend {
namespace {

using nlohmann::json;

struct Env {
  SourceRegistry sources;
  RerankerRegistry rerankers;
  Env() {
    testing::RegisterFakeSources(sources);
    EXPECT_OK(RegisterBuiltinRerankers(rerankers));
  }
  RecommenderDeps deps() const { return {&sources, &rerankers, nullptr}; }
};

// home: neighbours + counts, fusion, seen + stock filters; buy-again keeps purchases.
json BaseConfig() {
  return json::parse(R"({
    "name": "test", "ranker": {"enabled": false},
    "scenarios": {
      "home": {"sources": [{"name": "neighbors", "k": 20}, {"name": "counts", "k": 20, "weight": 0.5}],
               "cold_sources": [{"name": "counts", "k": 30}],
               "rerankers": ["seen_filter", "stock_filter"]},
      "buy-again": {"sources": [{"name": "counts", "k": 60}],
                    "rerankers": [{"name": "seen_filter", "options": {"remove_purchased": false}}]},
      "similar": {"sources": ["neighbors"], "requires_items": true,
                  "rerankers": [{"name": "seen_filter", "options": {"remove_purchased": false}}]}
    }})");
}

std::unique_ptr<Recommender> Fit(const Env& env, const json& config_doc,
                                 std::shared_ptr<InteractionData> data = testing::MakeWalkData()) {
  auto config = ParsePipelineConfig(config_doc, PipelineConfig{});
  EXPECT_OK(config);
  if (!config.ok()) return nullptr;
  auto rec = Recommender::Fit(data, *config, env.deps());
  EXPECT_OK(rec);
  return rec.ok() ? std::move(*rec) : nullptr;
}

std::vector<int32_t> Items(const RecommendResult& r) {
  std::vector<int32_t> out;
  for (const RecommendedItem& it : r.items) out.push_back(it.item);
  return out;
}

TEST(RecommenderTest, MergedCandidatesKeepEverySourceAndReason) {
  Env env;
  json doc = BaseConfig();
  doc["scenarios"]["home"]["sources"] = json::parse(R"([
      {"name": "fixed", "k": 10, "options": {"items": [5, 6, 7], "kind": "popular"}},
      {"name": "fixed", "k": 10, "weight": 2, "options": {"items": [7, 8], "kind": "trending"}}])");
  doc["scenarios"]["home"]["rerankers"] = json::array();
  auto rec = Fit(env, doc);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->source_ids().size(), 4u);  // fixed, fixed-2, counts, neighbors
  ASSERT_OK_AND_ASSIGN(auto r, rec->Recommend({.scenario = "home", .user = 0, .n = 10}));
  ASSERT_EQ(r.items.size(), 4u);
  // 7 has both sources: 1/(60+3) + 2/(60+1) is the largest fused score.
  EXPECT_EQ(r.items[0].item, 7);
  ASSERT_EQ(r.items[0].sources.size(), 2u);
  EXPECT_EQ(r.items[0].sources[0].source, "fixed-2");   // the stronger hit first
  EXPECT_EQ(r.items[0].sources[0].rank, 1);
  EXPECT_EQ(r.items[0].sources[1].rank, 3);
  EXPECT_EQ(r.items[0].reason.kind, "trending");
  EXPECT_EQ(r.items[0].reasons.size(), 2u);
  EXPECT_EQ(r.items[0].reasons[1], "Popular right now");
  EXPECT_FALSE(r.ranked);
  EXPECT_EQ(r.pipeline, "test");
  // Fused scores decrease.
  for (size_t i = 1; i < r.items.size(); ++i) EXPECT_GE(r.items[i - 1].score, r.items[i].score);
}

TEST(RecommenderTest, SeenFilterDependsOnTheScenario) {
  Env env;
  auto rec = Fit(env, BaseConfig());
  ASSERT_TRUE(rec);
  // A user with purchases.
  int32_t user = -1;
  std::set<int32_t> bought;
  for (int32_t u = 0; u < rec->data().num_users() && user < 0; ++u) {
    for (const Interaction& x : rec->data().UserHistory(u)) {
      if (x.type == EventType::kPurchase) bought.insert(x.item);
    }
    if (!bought.empty()) user = u; else bought.clear();
  }
  ASSERT_GE(user, 0);
  ASSERT_OK_AND_ASSIGN(auto home, rec->Recommend({.scenario = "home", .user = user, .n = 60}));
  for (int32_t i : Items(home)) EXPECT_FALSE(bought.count(i)) << "purchased item " << i << " in home";
  ASSERT_OK_AND_ASSIGN(auto again, rec->Recommend({.scenario = "buy-again", .user = user, .n = 60}));
  const auto again_items = Items(again);
  for (int32_t b : bought) {
    EXPECT_NE(std::find(again_items.begin(), again_items.end(), b), again_items.end()) << b;
  }
  // The context item itself is never proposed for "similar".
  ASSERT_OK_AND_ASSIGN(auto sim, rec->Recommend({.scenario = "similar", .items = {10}, .n = 5}));
  EXPECT_EQ(Items(sim), (std::vector<int32_t>{11, 12}));
}

TEST(RecommenderTest, StockFilterRemovesOutOfStockItems) {
  Env env;
  auto data = testing::MakeWalkData();
  data->mutable_item(11).in_stock = false;
  auto rec = Fit(env, BaseConfig(), data);
  ASSERT_TRUE(rec);
  RecommendRequest req{.scenario = "home", .n = 10};
  req.history = {{.item = 10, .type = EventType::kView, .timestamp_ms = 1}};
  ASSERT_OK_AND_ASSIGN(auto r, rec->Recommend(req));
  const auto items = Items(r);
  EXPECT_EQ(std::find(items.begin(), items.end(), 11), items.end());
  EXPECT_NE(std::find(items.begin(), items.end(), 12), items.end());
}

TEST(RecommenderTest, ColdUserFallsBackToTheColdSources) {
  Env env;
  auto rec = Fit(env, BaseConfig());
  ASSERT_TRUE(rec);
  ASSERT_OK_AND_ASSIGN(auto r, rec->Recommend({.scenario = "home", .user = -1, .n = 10}));
  EXPECT_TRUE(r.cold_start);
  ASSERT_EQ(r.items.size(), 10u);
  for (const auto& it : r.items) EXPECT_EQ(it.reason.kind, "popular");
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("no history"), std::string::npos);
  // An out-of-range user is anonymous too.
  ASSERT_OK_AND_ASSIGN(auto r2, rec->Recommend({.scenario = "home", .user = 1 << 30, .n = 10}));
  EXPECT_TRUE(r2.cold_start);
  EXPECT_EQ(Items(r2), Items(r));
}

TEST(RecommenderTest, RequestLimits) {
  Env env;
  auto rec = Fit(env, BaseConfig());
  ASSERT_TRUE(rec);
  auto zero = rec->Recommend({.scenario = "home", .user = 0, .n = 0});
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rec->Recommend({.scenario = "home", .user = 0, .n = -5}).status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto big, rec->Recommend({.scenario = "home", .user = 0, .n = 100000}));
  EXPECT_LE(big.items.size(), 60u);
  bool clamped = false;
  for (const auto& n : big.notes) clamped = clamped || n.find("clamped to 1000") != std::string::npos;
  EXPECT_TRUE(clamped);
  auto unknown = rec->Recommend({.scenario = "homepage", .user = 0});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("unknown scenario 'homepage'"), std::string::npos);
  // A configured-out scenario is unknown as well.
  EXPECT_FALSE(rec->Recommend({.scenario = "trending"}).ok());
  // similar needs a known item.
  auto no_item = rec->Recommend({.scenario = "similar", .items = {999999}});
  EXPECT_EQ(no_item.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_item.status().message().find("context item"), std::string::npos);
}

TEST(RecommenderTest, LongHistoriesAreBounded) {
  Env env;
  auto rec = Fit(env, BaseConfig());
  ASSERT_TRUE(rec);
  RecommendRequest req{.scenario = "home", .n = 10};
  for (int i = 0; i < 10000; ++i) {
    req.history.push_back({.item = i % 60, .type = EventType::kView, .timestamp_ms = i});
  }
  req.history.push_back({.item = 30, .type = EventType::kView, .timestamp_ms = 20000});
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(auto r, rec->Recommend(req));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, 200.0);
  // The newest event drives the neighbours.
  const auto items = Items(r);
  ASSERT_GE(items.size(), 3u);
  EXPECT_NE(std::find(items.begin(), items.begin() + 3, 31), items.begin() + 3);
}

TEST(RecommenderTest, ANewEventChangesNextRecommendations) {
  Env env;
  auto rec = Fit(env, BaseConfig());
  ASSERT_TRUE(rec);
  RecommendRequest req{.scenario = "home", .user = 5, .n = 10};
  req.history = HistoryOf(rec->data(), 5);
  ASSERT_OK_AND_ASSIGN(auto before, rec->Recommend(req));
  // A new view of an item whose successor the shopper never bought.
  std::set<int32_t> bought;
  for (const HistoryEvent& e : req.history) {
    if (e.type == EventType::kPurchase) bought.insert(e.item);
  }
  int32_t viewed = 40;
  while (bought.count(viewed + 1)) ++viewed;
  req.history.push_back({.item = viewed, .type = EventType::kView, .timestamp_ms = rec->data().max_timestamp_ms() + 1});
  ASSERT_OK_AND_ASSIGN(auto after, rec->Recommend(req));
  EXPECT_NE(Items(before), Items(after));
  const auto items = Items(after);
  auto it = std::find(items.begin(), items.end(), viewed + 1);
  ASSERT_NE(it, items.end());
  const auto& b = Items(before);
  EXPECT_EQ(std::find(b.begin(), b.end(), viewed + 1), b.end());
  EXPECT_EQ(after.items[it - items.begin()].reason_text, fmt::format("Because you viewed Item {}", viewed));
}

json RankerConfig() {
  json doc = BaseConfig();
  doc["ranker"] = json::parse(R"({"enabled": true, "rounds": 30, "min_positive_groups": 5,
                                  "label_fraction": 0.25, "max_users": 300, "threads": 1})");
  doc["scenarios"]["home"]["ranker"] = true;
  return doc;
}

TEST(RecommenderTest, TrainsARankerAndExplains) {
  Env env;
  auto rec = Fit(env, RankerConfig());
  ASSERT_TRUE(rec);
  ASSERT_TRUE(rec->has_ranker("home")) << rec->metrics().dump();
  const json& m = rec->metrics()["rankers"]["home"];
  EXPECT_GT(m["train_users"].get<int>(), 50);
  EXPECT_TRUE(m["ranker"].contains("ndcg@10"));
  ASSERT_OK_AND_ASSIGN(auto r, rec->Recommend({.scenario = "home", .user = 3, .n = 5},
                                              {.explain = true}));
  EXPECT_TRUE(r.ranked);
  ASSERT_FALSE(r.items.empty());
  for (const auto& it : r.items) {
    ASSERT_EQ(it.features.size(), 4u + 9u);
    EXPECT_EQ(it.features[0].first, "src:neighbors:score");
    ASSERT_EQ(it.contributions.size(), it.features.size() + 1);
    double sum = 0;
    for (const auto& [name, v] : it.contributions) sum += v;
    EXPECT_NEAR(sum, it.score, 1e-3);
  }
  // The ranker learned that neighbours of the recent items come next: it beats
  // the rank fusion or ties it on validation.
  EXPECT_GE(m["ranker"]["ndcg@10"].get<double>() + 1e-9, 0.9 * m["fusion"]["ndcg@10"].get<double>());
}

TEST(RecommenderTest, SaveLoadRoundTripGivesIdenticalResults) {
  Env env;
  auto rec = Fit(env, RankerConfig());
  ASSERT_TRUE(rec);
  rec->set_watermark(1234);
  const auto dir = souk::testing::TempDir("rec-save");
  ASSERT_OK_AND_ASSIGN(std::string version, SaveRecommenderVersion(*rec, dir.string()));
  ASSERT_OK_AND_ASSIGN(std::string again, SaveRecommenderVersion(*rec, dir.string()));
  EXPECT_NE(version, again);
  std::string current;
  ASSERT_OK_AND_ASSIGN(auto loaded, LoadCurrentRecommender(dir.string(), env.deps(), &current));
  EXPECT_EQ(current, again);
  EXPECT_EQ(loaded->watermark(), 1234);
  EXPECT_TRUE(loaded->has_ranker("home"));
  for (int32_t u : {0, 7, 42, -1}) {
    for (const char* scenario : {"home", "buy-again"}) {
      ASSERT_OK_AND_ASSIGN(auto a, rec->Recommend({.scenario = scenario, .user = u, .n = 20}));
      ASSERT_OK_AND_ASSIGN(auto b, loaded->Recommend({.scenario = scenario, .user = u, .n = 20}));
      ASSERT_EQ(Items(a), Items(b)) << scenario << " " << u;
      for (size_t i = 0; i < a.items.size(); ++i) {
        EXPECT_FLOAT_EQ(a.items[i].score, b.items[i].score);
        EXPECT_EQ(a.items[i].reason_text, b.items[i].reason_text);
      }
    }
  }
  // Saving over an existing folder replaces it atomically; no temporary folders remain.
  ASSERT_OK(loaded->Save((dir / again).string()));
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
  // Wrong kind / missing model give clear errors.
  std::ofstream(dir / again / "manifest.json") << R"({"kind": "sasrec", "format_version": 1})";
  auto bad = Recommender::Load((dir / again).string(), env.deps());
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(bad.status().message().find("expected 'recommender'"), std::string::npos);
  auto none = LoadCurrentRecommender((dir / "nothing").string(), env.deps());
  EXPECT_NE(none.status().message().find("souk train recommender"), std::string::npos);
}

TEST(RecommenderTest, SharedSourcesAreFittedOnce) {
  PipelineConfig c = *ParsePipelineConfig(BaseConfig(), PipelineConfig{});
  AssignSourceIds(&c);
  EXPECT_EQ(c.scenarios["home"].sources[1].id, "counts");
  EXPECT_EQ(c.scenarios["home"].cold_sources[0].id, "counts");
  EXPECT_EQ(c.scenarios["buy-again"].sources[0].id, "counts");
}

TEST(ScenarioTest, DefaultsAndValidation) {
  const PipelineConfig d = DefaultPipelineConfig();
  for (const std::string& s : ScenarioNames()) EXPECT_TRUE(d.scenarios.count(s)) << s;
  EXPECT_TRUE(d.scenarios.at("home").use_ranker);
  EXPECT_TRUE(d.scenarios.at("similar").requires_items);
  // JSON round trip.
  ASSERT_OK_AND_ASSIGN(PipelineConfig back, ParsePipelineConfig(PipelineConfigToJson(d), PipelineConfig{}));
  EXPECT_EQ(PipelineConfigToJson(back), PipelineConfigToJson(d));
  // Overrides merge per field.
  ASSERT_OK_AND_ASSIGN(PipelineConfig o, ParsePipelineConfig(json::parse(
      R"({"name": "b", "scenarios": {"home": {"rerankers": ["stock_filter"]}}})")));
  EXPECT_EQ(o.name, "b");
  EXPECT_EQ(o.scenarios.at("home").rerankers.size(), 1u);
  EXPECT_EQ(o.scenarios.at("home").sources.size(), d.scenarios.at("home").sources.size());
  auto err = [](const char* text) { return ParsePipelineConfig(json::parse(text)).status().message(); };
  EXPECT_NE(err(R"({"scenarios": {"homepage": {}}})").find("unknown scenario 'homepage'"), std::string::npos);
  EXPECT_NE(err(R"({"colour": 1})").find("unknown key 'colour'"), std::string::npos);
  EXPECT_NE(err(R"({"scenarios": {"home": {"sources": [{"name": "ease", "k": 0}]}}})")
                .find("scenarios.home.sources[0].k must be >= 1"), std::string::npos);
  EXPECT_NE(err(R"({"max_n": "many"})").find("max_n must be an integer"), std::string::npos);
  EXPECT_NE(err(R"({"ranker": {"objective": "reg:squarederror"}})").find("ranker.objective"), std::string::npos);
  // Registry checks: unknown source and reranker names.
  Env env;
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, ParsePipelineConfig(BaseConfig(), PipelineConfig{}));
  EXPECT_OK(ValidatePipelineConfig(c, env.sources, env.rerankers));
  c.scenarios["home"].sources.push_back({.name = "bogus"});
  Status s = ValidatePipelineConfig(c, env.sources, env.rerankers);
  EXPECT_NE(s.message().find("unknown candidate source 'bogus'"), std::string::npos) << s.message();
  c.scenarios["home"].sources.back().optional = true;
  EXPECT_OK(ValidatePipelineConfig(c, env.sources, env.rerankers));
  c.scenarios["home"].rerankers.push_back({.name = "shuffle"});
  s = ValidatePipelineConfig(c, env.sources, env.rerankers);
  EXPECT_NE(s.message().find("unknown reranker 'shuffle'"), std::string::npos) << s.message();
  c.scenarios["home"].rerankers.back() = {.name = "mmr", .options = {{"lamda", 0.5}}};
  s = ValidatePipelineConfig(c, env.sources, env.rerankers);
  EXPECT_NE(s.message().find("unknown option 'lamda'"), std::string::npos) << s.message();
}

TEST(ScenarioTest, LoadsTomlAndJsonFiles) {
  const auto dir = souk::testing::TempDir("rec-config");
  std::ofstream(dir / "p.toml") << "name = \"toml-pipeline\"\nmax_n = 50\n"
                                   "[scenarios.home]\nranker = false\n"
                                   "[[scenarios.home.rerankers]]\nname = \"mmr\"\n"
                                   "[scenarios.home.rerankers.options]\nlambda = 0.5\n";
  ASSERT_OK_AND_ASSIGN(PipelineConfig t, LoadPipelineConfigFile((dir / "p.toml").string()));
  EXPECT_EQ(t.name, "toml-pipeline");
  EXPECT_EQ(t.max_n, 50);
  EXPECT_FALSE(t.scenarios.at("home").use_ranker);
  ASSERT_EQ(t.scenarios.at("home").rerankers.size(), 1u);
  EXPECT_DOUBLE_EQ(t.scenarios.at("home").rerankers[0].options["lambda"].get<double>(), 0.5);
  std::ofstream(dir / "bad.json") << "{\"scenarios\": {\"homepage\": {}}}";
  auto bad = LoadPipelineConfigFile((dir / "bad.json").string());
  EXPECT_NE(bad.status().message().find("bad.json"), std::string::npos);
  EXPECT_NE(bad.status().message().find("homepage"), std::string::npos);
  EXPECT_EQ(LoadPipelineConfigFile((dir / "none.json").string()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace souk::recommend
