#include "app/rec_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <unordered_set>

#include "recommend/store_data.h"

namespace souk::app {

namespace fs = std::filesystem;
using nlohmann::json;
namespace rec = souk::recommend;

namespace {

bool HasKey(std::string_view name) {
  for (const ConfigKey& k : ConfigSchema()) {
    if (k.name == name) return true;
  }
  return false;
}

// Splits one CSV line without quotes (the generator writes plain ids).
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(cur));
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(std::move(cur));
  return out;
}

}  // namespace

fs::path RecommenderModelsDir(const std::string& data_dir) {
  return fs::path(data_dir) / "models" / "recommender";
}

StatusOr<std::unique_ptr<RecommendRegistries>> RecommendRegistries::Make() {
  std::unique_ptr<RecommendRegistries> r(new RecommendRegistries());
  RETURN_IF_ERROR(rec::RegisterAllSources(r->sources_));
  RETURN_IF_ERROR(rec::RegisterBuiltinRerankers(r->rerankers_));
  return r;
}

StatusOr<rec::PipelineConfig> PipelineConfigFrom(const Config& config,
                                                 const std::string& pipeline_file) {
  rec::PipelineConfig p = rec::DefaultPipelineConfig();
  if (HasKey("recommend.pipeline") && !config.GetString("recommend.pipeline").empty()) {
    auto loaded = rec::LoadPipelineConfigFile(config.GetString("recommend.pipeline"), p);
    if (!loaded.ok()) return loaded.status().WithContext("recommend.pipeline");
    p = std::move(*loaded);
  }
  if (!pipeline_file.empty()) {
    ASSIGN_OR_RETURN(p, rec::LoadPipelineConfigFile(pipeline_file, p));
  }
  if (HasKey("recommend.max_n")) {
    const int64_t v = config.GetInt("recommend.max_n");
    if (v < 1) return InvalidArgumentError(fmt::format("recommend.max_n must be >= 1, got {}", v));
    p.max_n = static_cast<int>(v);
  }
  if (HasKey("recommend.history_limit")) {
    const int64_t v = config.GetInt("recommend.history_limit");
    if (v < 1) return InvalidArgumentError(fmt::format("recommend.history_limit must be >= 1, got {}", v));
    p.history_limit = static_cast<int>(v);
  }
  if (HasKey("recommend.ranker")) p.ranker.enabled = config.GetBool("recommend.ranker");
  return p;
}

StatusOr<TrainRecommenderResult> TrainRecommender(const AppContext& ctx, store::Store& store,
                                                  const std::string& pipeline_file) {
  const auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(rec::PipelineConfig pipeline, PipelineConfigFrom(ctx.config, pipeline_file));
  ASSIGN_OR_RETURN(auto registries, RecommendRegistries::Make());
  ASSIGN_OR_RETURN(auto snap, store.OpenSnapshot());
  const ProgressOptions po = ctx.MakeProgressOptions();
  ASSIGN_OR_RETURN(rec::InteractionData loaded, rec::LoadInteractionData(*snap, {}, &po));
  if (loaded.interactions().empty()) {
    return FailedPreconditionError(
        "the store has no views, clicks, carts, purchases or ratings to learn from: import "
        "events first (`souk import`)");
  }
  auto data = std::make_shared<const rec::InteractionData>(std::move(loaded));
  ASSIGN_OR_RETURN(auto model, rec::Recommender::Fit(data, pipeline, registries->deps(), &po));
  model->set_watermark(snap->watermark());
  const fs::path models = RecommenderModelsDir(ctx.data_dir);
  ASSIGN_OR_RETURN(std::string version, rec::SaveRecommenderVersion(*model, models.string()));
  TrainRecommenderResult r;
  r.version = version;
  r.dir = models / version;
  const json& m = model->metrics();
  r.report = {{"version", version},
              {"dir", r.dir.string()},
              {"watermark", snap->watermark()},
              {"items", data->num_items()},
              {"users", data->num_users()},
              {"interactions", data->interactions().size()},
              {"pipeline", pipeline.name},
              {"sources", m.value("fit_seconds", json::object())},
              {"skipped_sources", m.value("skipped_sources", json::array())},
              {"rankers", m.value("rankers", json::object())},
              {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
  return r;
}

StatusOr<rec::RecommendRequest> BuildLiveRequest(store::Store& store, const rec::Recommender& model,
                                                 const LiveRequestArgs& args,
                                                 std::vector<std::string>* notes) {
  const rec::InteractionData& data = model.data();
  rec::RecommendRequest req;
  req.scenario = args.scenario;
  req.n = args.n;
  req.category = args.category;
  if (!args.user.empty()) {
    if (auto u = data.FindUser(args.user)) req.user = *u;
  }
  if (!args.user.empty() || !args.session.empty()) {
    store::RecentEventsQuery q;
    q.user_id = args.user;
    q.session_id = args.session;
    q.limit = model.config().history_limit;
    ASSIGN_OR_RETURN(std::vector<store::RecentEvent> events, store.RecentEvents(q));
    size_t unknown = 0;
    for (const store::RecentEvent& e : events) {
      if (e.item_id.empty() || rec::ImplicitWeight(e.type, static_cast<float>(e.value.value_or(0))) <= 0) {
        continue;
      }
      auto item = data.FindItem(e.item_id);
      if (!item) {
        ++unknown;
        continue;
      }
      req.history.push_back({.item = *item, .type = e.type, .timestamp_ms = e.timestamp_ms,
                             .quantity = static_cast<float>(e.quantity.value_or(1.0))});
    }
    if (unknown) {
      notes->push_back(fmt::format(
          "{} recent events name items the model does not know (listed after training; "
          "retrain with `souk train recommender`)", unknown));
    }
    if (!args.user.empty() && req.user < 0) {
      notes->push_back(req.history.empty()
                           ? fmt::format("unknown user '{}': showing trending", args.user)
                           : fmt::format("user '{}' is new since training: using their live events",
                                         args.user));
    }
  }
  std::vector<std::string> unknown_items;
  for (const std::string& id : args.items) {
    if (auto i = data.FindItem(id)) {
      req.items.push_back(*i);
    } else {
      unknown_items.push_back(id);
    }
  }
  if (!unknown_items.empty()) {
    std::string list;
    for (const std::string& id : unknown_items) list += (list.empty() ? "'" : ", '") + id + "'";
    const auto& scenarios = model.config().scenarios;
    auto sc = scenarios.find(args.scenario);
    const bool needs_items = sc != scenarios.end() && sc->second.requires_items;
    if (needs_items && req.items.empty()) {
      return NotFoundError(fmt::format(
          "unknown item {} for scenario '{}': not in the recommender model (items listed after "
          "training need `souk train recommender`)", list, args.scenario));
    }
    notes->push_back(fmt::format("unknown item {} ignored", list));
  }
  return req;
}

json RecommendResultToJson(const rec::RecommendResult& r, bool explain) {
  json items = json::array();
  for (const rec::RecommendedItem& it : r.items) {
    json sources = json::array();
    for (const rec::SourceHit& h : it.sources) {
      sources.push_back({{"source", h.source}, {"kind", h.reason.kind}, {"score", h.score},
                         {"rank", h.rank}});
    }
    json j = {{"id", it.external_id}, {"title", it.title},     {"score", it.score},
              {"reason", it.reason_text}, {"reasons", it.reasons}, {"sources", sources}};
    if (it.pinned) j["pinned"] = true;
    if (explain) {
      json f = json::object(), c = json::object();
      for (const auto& [name, v] : it.features) f[name] = std::isfinite(v) ? json(v) : json(nullptr);
      for (const auto& [name, v] : it.contributions) c[name] = v;
      j["explain"] = {{"features", f}, {"contributions", c}};
    }
    items.push_back(std::move(j));
  }
  return {{"scenario", r.scenario}, {"pipeline", r.pipeline}, {"cold_start", r.cold_start},
          {"ranked", r.ranked},     {"candidates", r.candidates}, {"notes", r.notes},
          {"items", items}};
}

StatusOr<json> EvaluateFuturePurchases(const rec::Recommender& model, const std::string& csv, int n,
                                       const std::string& scenario) {
  std::ifstream in(csv);
  if (!in) return NotFoundError(fmt::format("'{}' does not exist", csv));
  std::string line;
  if (!std::getline(in, line) || SplitCsv(line).size() < 2 || SplitCsv(line)[0] != "user_id") {
    return DataLossError(fmt::format("{}:1: expected the header user_id,item_id,timestamp", csv));
  }
  const rec::InteractionData& data = model.data();
  std::map<int32_t, std::unordered_set<int32_t>> future;
  std::set<std::string> skipped;
  int64_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const auto f = SplitCsv(line);
    if (f.size() < 2) return DataLossError(fmt::format("{}:{}: expected user_id,item_id", csv, line_no));
    auto u = data.FindUser(f[0]);
    auto i = data.FindItem(f[1]);
    if (!u) {
      skipped.insert(f[0]);
      continue;
    }
    if (i) future[*u].insert(*i);
  }
  // Popularity: the most interacted items of the fitted data.
  std::vector<std::pair<int32_t, float>> weight(data.num_items());
  for (int32_t i = 0; i < data.num_items(); ++i) weight[i] = {i, 0.0f};
  for (const rec::Interaction& x : data.interactions()) weight[x.item].second += rec::ImplicitWeight(x.type, x.value);
  std::vector<int32_t> popular;
  for (const auto& [item, w] : rec::TopK(weight, n)) popular.push_back(item);
  double recall = 0, recall_pop = 0;
  int64_t users = 0;
  for (const auto& [u, items] : future) {
    if (items.empty()) continue;
    ASSIGN_OR_RETURN(rec::RecommendResult r, model.Recommend({.scenario = scenario, .user = u, .n = n}));
    size_t hits = 0, hits_pop = 0;
    for (const auto& it : r.items) hits += items.count(it.item);
    for (int32_t i : popular) hits_pop += items.count(i);
    recall += static_cast<double>(hits) / items.size();
    recall_pop += static_cast<double>(hits_pop) / items.size();
    ++users;
  }
  if (users) {
    recall /= users;
    recall_pop /= users;
  }
  return json{{"users", users},
              {"n", n},
              {"scenario", scenario},
              {"recall", recall},
              {"recall_popular", recall_pop},
              {"lift", recall_pop > 0 ? recall / recall_pop : 0.0},
              {"skipped_users", skipped.size()}};
}

}  // namespace souk::app
