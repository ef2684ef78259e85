#include "app/rec_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include "recommend/content_source.h"
#include "recommend/rerankers.h"
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

StatusOr<std::unique_ptr<RecommendRegistries>> RecommendRegistries::Make(const std::string& data_dir,
                                                                         int64_t session_gap_ms) {
  std::unique_ptr<RecommendRegistries> r(new RecommendRegistries());
  RETURN_IF_ERROR(rec::RegisterAllSources(r->sources_));
  RETURN_IF_ERROR(rec::RegisterBuiltinRerankers(r->rerankers_));
  if (!data_dir.empty() && std::filesystem::exists(IntentModelsDir(data_dir) / "CURRENT")) {
    auto models = LoadCurrentIntentModels(data_dir);
    if (!models.ok()) return models.status().WithContext("intent models");
    r->intent_ = std::shared_ptr<const IntentModels>(std::move(*models));
    r->intent_fn_ = MakeIntentFn(r->intent_, session_gap_ms);
  }
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
  ASSIGN_OR_RETURN(auto registries, RecommendRegistries::Make(ctx.data_dir, SessionGapMs(ctx.config)));
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

namespace {

// Cold start for item scenarios (similar, fbt): when no context item is known
// to the model but they are in the store (added after training), the model's
// content source embeds their text and answers with the nearest items. Returns
// nullopt when that does not apply (then the normal path answers or says why).
StatusOr<std::optional<LiveRecommendation>> ColdItemNeighbours(store::Store& store,
                                                               const rec::Recommender& model,
                                                               const LiveRequestArgs& args,
                                                               const rec::RecommendParams& params) {
  const auto& scenarios = model.config().scenarios;
  auto sc = scenarios.find(args.scenario);
  if (sc == scenarios.end() || !sc->second.requires_items || args.items.empty()) return std::nullopt;
  const rec::InteractionData& data = model.data();
  for (const std::string& id : args.items) {
    if (data.FindItem(id)) return std::nullopt;  // a known item: the model answers
  }
  const rec::ContentSource* content = nullptr;
  std::string content_id;
  for (const std::string& id : model.source_ids()) {
    if (const auto* c = dynamic_cast<const rec::ContentSource*>(model.source(id))) {
      content = c;
      content_id = id;
      break;
    }
  }
  if (content == nullptr) return std::nullopt;
  std::string text, title;
  for (const std::string& id : args.items) {
    ASSIGN_OR_RETURN(auto stored, store.GetItem(id));
    if (!stored || stored->deleted) continue;
    const rec::ItemInfo info = rec::ItemInfoOf(stored->item);
    text += (text.empty() ? "" : " ") + (info.text.empty() ? info.title : info.text);
    if (title.empty()) title = info.title.empty() ? id : info.title;
  }
  if (text.empty()) return std::nullopt;  // not in the store either
  std::vector<rec::Candidate> found;
  if (!content->SimilarToText(text, title, 3 * args.n, &found).ok()) return std::nullopt;
  LiveRecommendation out;
  rec::RecommendResult& r = out.result;
  r.scenario = args.scenario;
  r.pipeline = model.config().name;
  r.cold_start = true;
  r.candidates = found.size();
  const bool zh = params.lang == rec::ReasonLanguage::kChinese;
  const std::string reason = zh ? fmt::format("与新商品“{}”的描述相似", title)
                                : fmt::format("Similar to the new item \"{}\" (by its text)", title);
  int rank = 0;
  for (const rec::Candidate& c : found) {
    ++rank;
    const rec::ItemInfo& info = data.item(c.item);
    if (!info.in_stock) continue;
    rec::RecommendedItem it;
    it.item = c.item;
    it.external_id = info.external_id;
    it.title = info.title;
    it.score = c.score;
    it.reason = c.reason;
    it.reason_text = reason;
    it.reasons = {reason};
    it.sources.push_back({.source = content_id, .score = c.score, .rank = rank, .reason = c.reason});
    r.items.push_back(std::move(it));
    if (static_cast<int>(r.items.size()) >= args.n) break;
  }
  r.notes.push_back(fmt::format(
      "the item is newer than the model: neighbours by its text (source '{}'); behavior-based "
      "sources use it after `souk train recommender`", content_id));
  return std::optional<LiveRecommendation>(std::move(out));
}

}  // namespace

StatusOr<LiveRecommendation> RecommendLive(store::Store& store, const rec::Recommender& model,
                                           const IntentModels* intent, const LiveRequestArgs& args,
                                           const rec::RecommendParams& params, bool intent_switch) {
  ASSIGN_OR_RETURN(std::optional<LiveRecommendation> cold, ColdItemNeighbours(store, model, args, params));
  if (cold) return std::move(*cold);
  std::vector<std::string> notes;
  ASSIGN_OR_RETURN(rec::RecommendRequest req, BuildLiveRequest(store, model, args, &notes));
  LiveRecommendation out;
  ASSIGN_OR_RETURN(out.result, model.Recommend(req, params));
  rec::RecommendResult& r = out.result;
  if (intent != nullptr && std::isfinite(r.intent)) {
    out.intent_level = IntentLevel(*intent, r.intent);
    if (intent_switch) ApplyIntentSwitch(model, req, out.intent_level, params.lang, &r);
  }
  // Say once why a shopper gets trending items.
  bool said_unknown = false;
  for (const std::string& n : notes) said_unknown = said_unknown || n.rfind("unknown user", 0) == 0;
  if (said_unknown) {
    std::erase_if(r.notes, [](const std::string& n) { return n.rfind("no history", 0) == 0; });
  }
  r.notes.insert(r.notes.begin(), notes.begin(), notes.end());
  return out;
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
          {"intent", std::isfinite(r.intent) ? json(r.intent) : json(nullptr)},
          {"items", items}};
}

void ApplyIntentSwitch(const rec::Recommender& model, const rec::RecommendRequest& req,
                       const std::string& level, rec::ReasonLanguage lang,
                       rec::RecommendResult* result) {
  if (result->scenario != "home" && result->scenario != "next") return;
  const bool zh = lang == rec::ReasonLanguage::kChinese;
  const rec::InteractionData& data = model.data();
  auto make_item = [&](int32_t item, double score, const std::string& kind,
                       const std::string& text) {
    rec::RecommendedItem it;
    it.item = item;
    it.external_id = data.item(item).external_id;
    it.title = data.item(item).title;
    it.score = score;
    it.reason.source = "intent";
    it.reason.kind = kind;
    it.reason_text = text;
    it.reasons = {text};
    return it;
  };
  const size_t n = static_cast<size_t>(std::max(1, req.n));
  if (level == "high") {
    // Cart items since the last purchase, not removed, newest first.
    std::vector<int32_t> cart;
    for (const rec::HistoryEvent& e : req.history) {
      if (e.type == store::EventType::kPurchase) cart.clear();
      if (e.type == store::EventType::kAddToCart) {
        std::erase(cart, e.item);
        cart.push_back(e.item);
      }
      if (e.type == store::EventType::kRemoveFromCart) std::erase(cart, e.item);
    }
    std::reverse(cart.begin(), cart.end());
    std::vector<rec::RecommendedItem> front;
    const double top = result->items.empty() ? 1.0 : result->items.front().score + 1.0;
    for (int32_t item : cart) {
      if (item < 0 || item >= data.num_items()) continue;
      front.push_back(make_item(item, top, "cart_reminder", zh ? "还在你的购物车里" : "still in your cart"));
    }
    if (!cart.empty() && model.config().scenarios.count("fbt")) {
      rec::RecommendRequest fbt = req;
      fbt.scenario = "fbt";
      fbt.items = cart;
      fbt.n = static_cast<int>(n);
      auto r = model.Recommend(fbt, {.explain = false, .lang = lang});
      if (r.ok()) {
        for (auto& it : r->items) {
          if (front.size() >= n) break;
          if (std::find(cart.begin(), cart.end(), it.item) != cart.end()) continue;
          front.push_back(std::move(it));
        }
      }
    }
    if (front.empty()) return;
    std::unordered_set<int32_t> taken;
    for (const auto& it : front) taken.insert(it.item);
    for (auto& it : result->items) {
      if (!taken.count(it.item)) front.push_back(std::move(it));
    }
    if (front.size() > n) front.resize(n);
    result->items = std::move(front);
    result->notes.push_back(zh ? "购买意向高：优先展示购物车商品和搭配商品"
                               : "high purchase intent: cart items and their complements first");
  } else if (level == "low" && model.config().scenarios.count("trending")) {
    rec::RecommendRequest tr = req;
    tr.scenario = "trending";
    tr.n = static_cast<int>(n);
    auto r = model.Recommend(tr, {.explain = false, .lang = lang});
    if (!r.ok()) return;
    const size_t keep = n - n / 3;
    if (result->items.size() > keep) result->items.resize(keep);
    std::unordered_set<int32_t> listed;
    for (const auto& it : result->items) listed.insert(it.item);
    size_t added = 0;
    for (auto& it : r->items) {
      if (result->items.size() >= n) break;
      if (!listed.insert(it.item).second) continue;
      result->items.push_back(std::move(it));
      ++added;
    }
    if (added > 0) {
      result->notes.push_back(zh ? "购买意向低：加入热门商品以供探索"
                                 : "low purchase intent: trending items added for exploration");
    }
  }
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
  std::vector<std::vector<rec::RankedCandidate>> deep_lists;
  std::vector<std::unordered_set<int32_t>> relevant;
  for (const auto& [u, items] : future) {
    if (items.empty()) continue;
    // Recall of the list the shopper sees (rerankers depend on n), and a deeper
    // list for the long-tail trade-off to draw its replacements from.
    ASSIGN_OR_RETURN(rec::RecommendResult r, model.Recommend({.scenario = scenario, .user = u, .n = n}));
    ASSIGN_OR_RETURN(rec::RecommendResult deep_r, model.Recommend({.scenario = scenario, .user = u, .n = 5 * n}));
    std::vector<rec::RankedCandidate> deep;
    for (const auto& it : deep_r.items) deep.push_back({.item = it.item, .score = it.score});
    deep_lists.push_back(std::move(deep));
    relevant.push_back(items);
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
  const std::vector<bool> tail = rec::TailItems(data, 0.8);
  const std::vector<double> shares = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
  json curve = json::array();
  for (const rec::LongTailPoint& p : rec::LongTailTradeoff(deep_lists, relevant, tail, shares, n, 1.0)) {
    curve.push_back({{"min_share", p.min_share}, {"tail_share", p.tail_share}, {"recall", p.recall},
                     {"mean_loss", p.mean_loss}});
  }
  return json{{"users", users},
              {"long_tail_curve", curve},
              {"n", n},
              {"scenario", scenario},
              {"recall", recall},
              {"recall_popular", recall_pop},
              {"lift", recall_pop > 0 ? recall / recall_pop : 0.0},
              {"skipped_users", skipped.size()}};
}

}  // namespace souk::app
