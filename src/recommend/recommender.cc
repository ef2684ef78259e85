#include "recommend/recommender.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <unordered_set>

#include "common/file.h"
#include "recommend/rec_ranker.h"
#include "recommend/store_data.h"

#if defined(SOUK_HAVE_BUILTIN_SOURCES)
#include "recommend/content_source.h"
#endif
#if defined(SOUK_HAVE_SASREC)
#include "recommend/sasrec_source.h"
#endif

namespace souk::recommend {

namespace fs = std::filesystem;
using nlohmann::json;

struct Recommender::FittedSource {
  SourceSpec spec;
  std::unique_ptr<CandidateSource> source;
  double fit_seconds = 0;
};

struct Recommender::Scenario {
  ScenarioConfig config;
  std::vector<SourceSlot> slots, cold_slots;
  std::unique_ptr<rank::GbdtModel> ranker;
  std::unique_ptr<RecFeatures> features;
  std::vector<std::unique_ptr<Reranker>> rerankers;
};

namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Every distinct source spec of the configuration by id, in first-use order.
std::vector<SourceSpec> UniqueSources(const PipelineConfig& config) {
  std::vector<SourceSpec> out;
  std::set<std::string> seen;
  for (const std::string& name : ScenarioNames()) {
    auto it = config.scenarios.find(name);
    if (it == config.scenarios.end()) continue;
    for (const auto* list : {&it->second.sources, &it->second.cold_sources}) {
      for (const SourceSpec& s : *list) {
        if (seen.insert(s.id).second) out.push_back(s);
      }
    }
  }
  return out;
}

RecommenderDeps WithDefaults(RecommenderDeps deps) {
  if (!deps.embedding_of) deps.embedding_of = DefaultEmbeddingOf;
  return deps;
}

}  // namespace

Status RegisterAllSources(SourceRegistry& registry) {
#if defined(SOUK_HAVE_BUILTIN_SOURCES)
  RETURN_IF_ERROR(RegisterBuiltinSources(registry));
#endif
#if defined(SOUK_HAVE_SASREC)
  RETURN_IF_ERROR(RegisterSasRecSource(registry));
#endif
  (void)registry;
  return OkStatus();
}

void AssignSourceIds(PipelineConfig* config) {
  std::map<std::string, std::string> id_of_key;
  std::map<std::string, int> used;
  for (const std::string& name : ScenarioNames()) {
    auto it = config->scenarios.find(name);
    if (it == config->scenarios.end()) continue;
    for (auto* list : {&it->second.sources, &it->second.cold_sources}) {
      for (SourceSpec& s : *list) {
        const std::string key = s.name + "|" + s.options.dump();
        auto found = id_of_key.find(key);
        if (found != id_of_key.end()) {
          s.id = found->second;
          continue;
        }
        const int n = ++used[s.name];
        s.id = n == 1 ? s.name : fmt::format("{}-{}", s.name, n);
        id_of_key.emplace(key, s.id);
      }
    }
  }
}

Recommender::Recommender() = default;
Recommender::~Recommender() = default;

const CandidateSource* Recommender::source(const std::string& id) const {
  auto it = sources_.find(id);
  return it == sources_.end() ? nullptr : it->second.source.get();
}

std::vector<std::string> Recommender::source_ids() const {
  std::vector<std::string> out;
  for (const auto& [id, s] : sources_) out.push_back(id);
  return out;
}

bool Recommender::has_ranker(const std::string& scenario) const {
  auto it = scenarios_.find(scenario);
  return it != scenarios_.end() && it->second.ranker != nullptr;
}

Status Recommender::BuildScenarios(const RecommenderDeps& deps) {
  stats_ = ItemStats(*data_);
  intent_of_ = deps.intent_of;
  for (const auto& [id, s] : sources_) {
    if (embed_) break;
    embed_ = deps.embedding_of(*s.source);
  }
  for (const auto& [name, cfg] : config_.scenarios) {
    Scenario& sc = scenarios_[name];
    sc.config = cfg;
    auto slots_of = [&](const std::vector<SourceSpec>& specs) {
      std::vector<SourceSlot> out;
      for (const SourceSpec& s : specs) {
        auto it = sources_.find(s.id);
        if (it == sources_.end()) continue;  // skipped optional source
        out.push_back({.id = s.id, .source = it->second.source.get(), .k = s.k, .weight = s.weight});
      }
      return out;
    };
    sc.slots = slots_of(cfg.sources);
    sc.cold_slots = slots_of(cfg.cold_sources);
    std::vector<std::string> ids;
    for (const SourceSlot& s : sc.slots) ids.push_back(s.id);
    sc.features = std::make_unique<RecFeatures>(ids);
    for (const RerankerSpec& r : cfg.rerankers) {
      auto made = deps.rerankers->Create(r.name, r.options);
      if (!made.ok()) return made.status().WithContext("scenario '" + name + "'");
      RETURN_IF_ERROR((*made)->Prepare(*data_));
      sc.rerankers.push_back(std::move(*made));
    }
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<Recommender>> Recommender::Fit(std::shared_ptr<const InteractionData> data,
                                                        const PipelineConfig& config_in,
                                                        const RecommenderDeps& deps_in,
                                                        const ProgressOptions* progress) {
  if (!data || !data->finalized()) {
    return InvalidArgumentError("Recommender::Fit needs finalized InteractionData");
  }
  if (!deps_in.sources || !deps_in.rerankers) {
    return InvalidArgumentError("Recommender::Fit needs the source and reranker registries");
  }
  const RecommenderDeps deps = WithDefaults(deps_in);
  PipelineConfig config = config_in;
  AssignSourceIds(&config);
  RETURN_IF_ERROR(ValidatePipelineConfig(config, *deps.sources, *deps.rerankers));
  std::unique_ptr<Recommender> rec(new Recommender());
  rec->data_ = data;
  rec->config_ = config;
  const ProgressOptions po = progress ? *progress : ProgressOptions{.mode = ProgressMode::kOff};
  json skipped = json::array();
  json fit_seconds = json::object();
  const std::vector<std::string> known = deps.sources->Names();

  // Creates and fits a fresh instance of each spec on `on`; skipped optional ones
  // are reported through `skip`.
  auto fit_all = [&](const std::vector<SourceSpec>& specs, const InteractionData& on,
                     std::map<std::string, FittedSource>* out,
                     const std::function<void(const SourceSpec&, const std::string&)>& skip) -> Status {
    for (const SourceSpec& spec : specs) {
      if (std::find(known.begin(), known.end(), spec.name) == known.end()) {
        skip(spec, "not built into this binary");
        continue;
      }
      auto made = deps.sources->Create(spec.name, spec.options);
      if (!made.ok()) {
        if (spec.optional) {
          skip(spec, made.status().message());
          continue;
        }
        return made.status().WithContext("candidate source '" + spec.id + "'");
      }
      const auto t0 = std::chrono::steady_clock::now();
      Status st = (*made)->Fit(on, po);
      if (!st.ok()) {
        if (spec.optional) {
          skip(spec, st.message());
          continue;
        }
        return st.WithContext("fitting candidate source '" + spec.id + "'");
      }
      (*out)[spec.id] = FittedSource{spec, std::move(*made), Seconds(t0)};
    }
    return OkStatus();
  };

  const std::vector<SourceSpec> specs = UniqueSources(config);
  RETURN_IF_ERROR(fit_all(specs, *data, &rec->sources_, [&](const SourceSpec& s, const std::string& why) {
    skipped.push_back({{"id", s.id}, {"name", s.name}, {"reason", why}});
  }));
  for (const auto& [id, s] : rec->sources_) fit_seconds[id] = s.fit_seconds;
  RETURN_IF_ERROR(rec->BuildScenarios(deps));

  // Rankers: fitted on the events before a time split, labelled by what came after.
  json rankers = json::object();
  bool want_ranker = false;
  for (const auto& [name, sc] : rec->scenarios_) want_ranker = want_ranker || sc.config.use_ranker;
  if (want_ranker && config.ranker.enabled) {
    auto split = SplitByTime(*data, config.ranker);
    if (!split.ok()) {
      rankers["skipped"] = split.status().message();
    } else {
      std::map<std::string, FittedSource> before_sources;
      for (auto& [name, sc] : rec->scenarios_) {
        if (!sc.config.use_ranker || sc.slots.empty()) continue;
        std::vector<SourceSpec> need;
        for (const SourceSlot& slot : sc.slots) {
          if (!before_sources.count(slot.id)) need.push_back(rec->sources_.at(slot.id).spec);
        }
        std::vector<std::string> failed;
        RETURN_IF_ERROR(fit_all(need, *split->before, &before_sources,
                                [&](const SourceSpec& s, const std::string&) { failed.push_back(s.id); }));
        std::vector<SourceSlot> slots;
        ItemEmbeddingFn embed;
        for (const SourceSlot& slot : sc.slots) {
          auto it = before_sources.find(slot.id);
          if (it == before_sources.end()) continue;
          slots.push_back({.id = slot.id, .source = it->second.source.get(), .k = slot.k,
                           .weight = slot.weight});
          if (!embed) embed = deps.embedding_of(*it->second.source);
        }
        if (slots.size() != sc.slots.size()) {
          rankers[name] = {{"skipped", "sources could not be fitted on the training split: " +
                                           Joined(failed)}};
          continue;
        }
        // The scenario's filters, prepared on the training split.
        std::vector<std::unique_ptr<Reranker>> owned_filters;
        std::vector<const Reranker*> filters;
        for (const RerankerSpec& r : sc.config.rerankers) {
          if (r.name != "seen_filter" && r.name != "stock_filter") continue;
          ASSIGN_OR_RETURN(auto f, deps.rerankers->Create(r.name, r.options));
          RETURN_IF_ERROR(f->Prepare(*split->before));
          filters.push_back(f.get());
          owned_filters.push_back(std::move(f));
        }
        auto trained = TrainScenarioRanker(*data, *split, sc.config, slots, filters, config,
                                           embed, progress, deps.intent_of);
        if (!trained.ok()) {
          if (trained.status().code() != StatusCode::kFailedPrecondition) return trained.status();
          rankers[name] = {{"skipped", trained.status().message()}};
          continue;
        }
        sc.ranker = std::move(trained->model);
        rankers[name] = trained->metrics;
      }
    }
  }
  rec->metrics_ = {{"fit_seconds", fit_seconds}, {"skipped_sources", skipped}, {"rankers", rankers},
                   {"items", data->num_items()}, {"users", data->num_users()},
                   {"interactions", data->interactions().size()}};
  return rec;
}

StatusOr<RecommendResult> Recommender::Recommend(const RecommendRequest& request,
                                                 const RecommendParams& params) const {
  RecommendResult result;
  result.pipeline = config_.name;
  result.scenario = request.scenario;
  if (request.n <= 0) {
    return InvalidArgumentError(fmt::format("n must be at least 1, got {}", request.n));
  }
  auto sit = scenarios_.find(request.scenario);
  if (sit == scenarios_.end()) {
    std::vector<std::string> names;
    for (const auto& [n, s] : scenarios_) names.push_back(n);
    return InvalidArgumentError(fmt::format("unknown scenario '{}' (known: {})", request.scenario,
                                            Joined(names)));
  }
  const Scenario& sc = sit->second;
  const InteractionData& data = *data_;
  RecommendRequest req = request;
  if (req.n > config_.max_n) {
    result.notes.push_back(fmt::format("n = {} clamped to {}", req.n, config_.max_n));
    req.n = config_.max_n;
  }
  if (req.user >= data.num_users()) req.user = -1;
  // The effective history: the live one when given, else the fitted data's.
  if (req.history.empty() && req.user >= 0) {
    auto h = data.UserHistory(req.user);
    const size_t from = h.size() > static_cast<size_t>(config_.history_limit)
                            ? h.size() - config_.history_limit : 0;
    for (size_t i = from; i < h.size(); ++i) {
      req.history.push_back({.item = h[i].item, .type = h[i].type,
                             .timestamp_ms = h[i].timestamp_ms, .quantity = h[i].quantity});
    }
  } else if (req.history.size() > static_cast<size_t>(config_.history_limit)) {
    req.history.erase(req.history.begin(),
                      req.history.end() - static_cast<std::ptrdiff_t>(config_.history_limit));
  }
  const size_t history_in = req.history.size();
  std::erase_if(req.history, [&](const HistoryEvent& e) { return e.item < 0 || e.item >= data.num_items(); });
  const size_t items_in = req.items.size();
  std::erase_if(req.items, [&](int32_t i) { return i < 0 || i >= data.num_items(); });
  if (req.history.size() != history_in || req.items.size() != items_in) {
    result.notes.push_back("unknown items in the request were ignored");
  }
  if (req.now_ms <= 0) {
    req.now_ms = data.max_timestamp_ms();
    if (!req.history.empty()) req.now_ms = std::max(req.now_ms, req.history.back().timestamp_ms);
  }
  if (sc.config.requires_items && req.items.empty()) {
    return InvalidArgumentError(fmt::format(
        "scenario '{}' needs at least one known context item (the product page or the cart)",
        req.scenario));
  }
  result.intent = req.intent;
  if (std::isnan(result.intent) && intent_of_ && !req.history.empty()) {
    result.intent = intent_of_(data, req.history);
  }
  const bool cold = req.history.empty() && !sc.cold_slots.empty();
  if (cold) {
    result.cold_start = true;
    result.notes.push_back(req.items.empty()
                               ? "no history: showing trending and popular items"
                               : "no history: showing trending items and neighbours of the context items");
  } else if (req.history.empty() && !sc.config.requires_items && req.scenario != "trending") {
    result.notes.push_back("no history: nothing to personalize");
  }
  const std::vector<SourceSlot>& slots = cold ? sc.cold_slots : sc.slots;
  std::vector<RankedCandidate> list = CollectCandidates(slots, req, data, config_.rrf_k, req.n);
  result.candidates = list.size();

  const bool use_ranker = !cold && sc.ranker != nullptr && !list.empty();
  const bool want_features = use_ranker || params.explain;
  RecFeatures cold_features({});
  const RecFeatures& features = cold ? cold_features : *sc.features;
  if (want_features && !list.empty()) {
    std::vector<std::string> ids;
    RecFeatures::Profile profile = RecFeatures::MakeProfile(data, req.history, req.now_ms, embed_);
    profile.intent = result.intent;
    for (RankedCandidate& c : list) {
      c.features.resize(features.size());
      features.Compute(data, stats_, profile, embed_, c, c.features.data());
    }
  }
  if (use_ranker) {
    const size_t cols = features.size();
    std::vector<float> x(list.size() * cols);
    for (size_t r = 0; r < list.size(); ++r) std::copy(list[r].features.begin(), list[r].features.end(), x.begin() + r * cols);
    std::vector<float> scores(list.size());
    if (Status st = sc.ranker->Predict(x.data(), list.size(), scores.data()); !st.ok()) {
      return st.WithContext("ranker of scenario '" + req.scenario + "'");
    }
    for (size_t r = 0; r < list.size(); ++r) list[r].score = scores[r];
    std::stable_sort(list.begin(), list.end(), [](const RankedCandidate& a, const RankedCandidate& b) {
      return a.score > b.score || (a.score == b.score && a.item < b.item);
    });
    result.ranked = true;
  } else {
    FuseReciprocalRank(slots, config_.rrf_k, &list);
  }
  const RerankContext ctx{.data = &data, .request = &req, .history = req.history,
                          .scenario = req.scenario, .n = req.n};
  for (const auto& rr : sc.rerankers) rr->Rerank(ctx, &list);
  if (list.size() > static_cast<size_t>(req.n)) list.resize(req.n);

  std::vector<float> contributions;
  if (params.explain && use_ranker && !list.empty()) {
    const size_t cols = features.size();
    std::vector<float> x(list.size() * cols);
    for (size_t r = 0; r < list.size(); ++r) {
      if (list[r].features.size() == cols) {
        std::copy(list[r].features.begin(), list[r].features.end(), x.begin() + r * cols);
      }
    }
    auto c = sc.ranker->Contributions(x.data(), list.size());
    if (c.ok()) contributions = std::move(*c);
  }
  result.items.reserve(list.size());
  for (size_t r = 0; r < list.size(); ++r) {
    RankedCandidate& c = list[r];
    RecommendedItem it;
    it.item = c.item;
    const ItemInfo& info = data.item(c.item);
    it.external_id = info.external_id;
    it.title = info.title;
    it.score = c.score;
    it.pinned = c.pinned;
    if (!c.hits.empty()) {
      it.reason = c.hits.front().reason;
    } else {
      it.reason = Reason{.source = "", .kind = "popular"};
    }
    it.reason_text = ReasonText(it.reason, data, params.lang);
    std::set<std::string> seen;
    for (const SourceHit& h : c.hits) {
      std::string t = ReasonText(h.reason, data, params.lang);
      if (seen.insert(t).second) it.reasons.push_back(std::move(t));
    }
    if (it.reasons.empty()) it.reasons.push_back(it.reason_text);
    if (params.explain) {
      if (c.features.size() == features.size()) {
        for (size_t f = 0; f < features.size(); ++f) it.features.emplace_back(features.names()[f], c.features[f]);
      }
      const size_t cols = features.size() + 1;
      if (contributions.size() == list.size() * cols) {
        for (size_t f = 0; f < features.size(); ++f) {
          it.contributions.emplace_back(features.names()[f], contributions[r * cols + f]);
        }
        it.contributions.emplace_back("bias", contributions[r * cols + features.size()]);
      }
    }
    it.sources = std::move(c.hits);
    result.items.push_back(std::move(it));
  }
  return result;
}

Status Recommender::Save(const std::string& dir_in) const {
  const fs::path dir = fs::path(dir_in).lexically_normal();
  const fs::path parent = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return UnavailableError(fmt::format("cannot create '{}': {}", parent.string(), ec.message()));
  const fs::path tmp = parent / fmt::format(".{}.tmp-{}", dir.filename().string(), ::getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return UnavailableError(fmt::format("cannot create '{}': {}", tmp.string(), ec.message()));
  auto body = [&]() -> Status {
    RETURN_IF_ERROR(WriteInteractionData(*data_, (tmp / "data").string()));
    json sources = json::array();
    for (const auto& [id, s] : sources_) {
      RETURN_IF_ERROR(s.source->Save((tmp / "sources" / id).string()).WithContext("saving source '" + id + "'"));
      sources.push_back({{"id", id}, {"name", s.spec.name}, {"options", s.spec.options}});
    }
    json rankers = json::array();
    for (const auto& [name, sc] : scenarios_) {
      if (!sc.ranker) continue;
      RETURN_IF_ERROR(sc.ranker->Save((tmp / "rankers" / name).string(), json{{"scenario", name}}));
      rankers.push_back(name);
    }
    json scenarios = json::array();
    for (const auto& [name, sc] : scenarios_) scenarios.push_back(name);
    RETURN_IF_ERROR(WriteFileAtomically(tmp / "pipeline.json", PipelineConfigToJson(config_).dump(2) + "\n"));
    json manifest = {{"kind", "recommender"},
                     {"format_version", kRecommenderFormatVersion},
                     {"pipeline", config_.name},
                     {"sources", sources},
                     {"skipped_sources", metrics_.value("skipped_sources", json::array())},
                     {"scenarios", scenarios},
                     {"rankers", rankers},
                     {"watermark", watermark_},
                     {"metrics", metrics_},
                     {"num_items", data_->num_items()},
                     {"num_users", data_->num_users()}};
    return WriteFileAtomically(tmp / "manifest.json",
                               manifest.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  };
  if (Status st = body(); !st.ok()) {
    fs::remove_all(tmp, ec);
    return st;
  }
  // Swap the new folder in: the old one (if any) moves aside first.
  const fs::path old = parent / fmt::format(".{}.old-{}", dir.filename().string(), ::getpid());
  const bool had_old = fs::exists(dir, ec);
  if (had_old) {
    fs::remove_all(old, ec);
    fs::rename(dir, old, ec);
    if (ec) return UnavailableError(fmt::format("cannot replace '{}': {}", dir.string(), ec.message()));
  }
  fs::rename(tmp, dir, ec);
  if (ec) {
    if (had_old) fs::rename(old, dir, ec);
    return UnavailableError(fmt::format("cannot move the model into '{}'", dir.string()));
  }
  if (had_old) fs::remove_all(old, ec);
  return OkStatus();
}

StatusOr<std::unique_ptr<Recommender>> Recommender::Load(const std::string& dir_in,
                                                         const RecommenderDeps& deps_in) {
  if (!deps_in.sources || !deps_in.rerankers) {
    return InvalidArgumentError("Recommender::Load needs the source and reranker registries");
  }
  const RecommenderDeps deps = WithDefaults(deps_in);
  const fs::path dir(dir_in);
  ASSIGN_OR_RETURN(std::string manifest_text, ReadFileToString(dir / "manifest.json"));
  json manifest = json::parse(manifest_text, nullptr, false);
  const std::string mpath = (dir / "manifest.json").string();
  if (manifest.is_discarded() || !manifest.is_object()) return DataLossError(mpath + " is not valid JSON");
  if (manifest.value("kind", "") != "recommender") {
    return FailedPreconditionError(fmt::format("{}: kind is '{}', expected 'recommender'", mpath,
                                               manifest.value("kind", "")));
  }
  if (manifest.value("format_version", 0) != kRecommenderFormatVersion) {
    return FailedPreconditionError(fmt::format(
        "{}: format_version {} is not supported (this souk reads {}); retrain with `souk train "
        "recommender`", mpath, manifest.value("format_version", 0), kRecommenderFormatVersion));
  }
  ASSIGN_OR_RETURN(std::string pipeline_text, ReadFileToString(dir / "pipeline.json"));
  json pipeline = json::parse(pipeline_text, nullptr, false);
  if (pipeline.is_discarded()) return DataLossError((dir / "pipeline.json").string() + " is not valid JSON");
  PipelineConfig empty;
  empty.scenarios.clear();
  auto config = ParsePipelineConfig(pipeline, empty);
  if (!config.ok()) return config.status().WithContext((dir / "pipeline.json").string());
  AssignSourceIds(&*config);

  ASSIGN_OR_RETURN(InteractionData data, ReadInteractionData((dir / "data").string()));
  if (data.num_items() != manifest.value("num_items", -1)) {
    return DataLossError(fmt::format("{}: num_items differs from the saved data", mpath));
  }
  std::unique_ptr<Recommender> rec(new Recommender());
  rec->data_ = std::make_shared<const InteractionData>(std::move(data));
  rec->config_ = *config;
  rec->metrics_ = manifest.value("metrics", json::object());
  rec->watermark_ = manifest.value("watermark", int64_t{0});
  std::map<std::string, SourceSpec> spec_of;
  for (const SourceSpec& s : UniqueSources(rec->config_)) spec_of[s.id] = s;
  for (const json& s : manifest.value("sources", json::array())) {
    const std::string id = s.value("id", "");
    auto spec = spec_of.find(id);
    if (spec == spec_of.end()) return DataLossError(fmt::format("{}: source '{}' is not in the pipeline", mpath, id));
    auto made = deps.sources->Create(spec->second.name, spec->second.options);
    if (!made.ok()) {
      if (spec->second.optional && made.status().code() == StatusCode::kNotFound) {
        rec->metrics_["skipped_sources"].push_back({{"id", id}, {"name", spec->second.name},
                                                    {"reason", "not built into this binary"}});
        continue;
      }
      return made.status().WithContext("loading source '" + id + "'");
    }
    RETURN_IF_ERROR((*made)->Load((dir / "sources" / id).string(), *rec->data_)
                        .WithContext("loading source '" + id + "'"));
    rec->sources_[id] = FittedSource{spec->second, std::move(*made), 0};
  }
  RETURN_IF_ERROR(rec->BuildScenarios(deps));
  for (const json& r : manifest.value("rankers", json::array())) {
    const std::string name = r.get<std::string>();
    auto sc = rec->scenarios_.find(name);
    if (sc == rec->scenarios_.end()) continue;
    ASSIGN_OR_RETURN(auto model, rank::GbdtModel::Load((dir / "rankers" / name).string()));
    if (model->feature_names() != sc->second.features->names()) {
      return DataLossError(fmt::format("{}: the '{}' ranker's features do not match its sources",
                                       (dir / "rankers" / name).string(), name));
    }
    sc->second.ranker = std::move(model);
  }
  return rec;
}

StatusOr<std::string> SaveRecommenderVersion(const Recommender& recommender,
                                             const std::string& models_dir) {
  const fs::path dir(models_dir);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string base = fmt::format("{}", std::chrono::duration_cast<std::chrono::seconds>(now).count());
  std::string version = base;
  std::error_code ec;
  for (int k = 2; fs::exists(dir / version, ec); ++k) version = fmt::format("{}-{}", base, k);
  RETURN_IF_ERROR(recommender.Save((dir / version).string()));
  RETURN_IF_ERROR(WriteFileAtomically(dir / "CURRENT", version + "\n"));
  return version;
}

StatusOr<std::unique_ptr<Recommender>> LoadCurrentRecommender(const std::string& models_dir,
                                                              const RecommenderDeps& deps,
                                                              std::string* version) {
  std::ifstream in(fs::path(models_dir) / "CURRENT");
  std::string v;
  if (in) std::getline(in, v);
  if (v.empty()) {
    return FailedPreconditionError(fmt::format(
        "no recommender model in '{}': run `souk train recommender` first", models_dir));
  }
  if (version) *version = v;
  auto rec = Recommender::Load((fs::path(models_dir) / v).string(), deps);
  if (!rec.ok()) return rec.status().WithContext("recommender model " + v);
  return rec;
}

ItemEmbeddingFn DefaultEmbeddingOf(const CandidateSource& source) {
#if defined(SOUK_HAVE_BUILTIN_SOURCES)
  if (const auto* content = dynamic_cast<const ContentSource*>(&source)) {
    return [content](int32_t item) -> std::span<const float> {
      const float* v = content->ItemEmbedding(item);
      return v ? std::span<const float>(v, static_cast<size_t>(content->dim()))
               : std::span<const float>();
    };
  }
#endif
  (void)source;
  return {};
}

}  // namespace souk::recommend
