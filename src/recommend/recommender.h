// Recommender: the recommendation pipeline of one shop, ready to serve.
// It owns the fitted candidate sources, the learned rankers (one per scenario
// that uses one), the rerankers and the InteractionData everything was fitted
// on, and answers RecommendRequests for every scenario of its PipelineConfig
// (scenario.h):
//
//   sources (k candidates each) -> merge by item (every source's score, rank
//   and Reason kept) -> ranker (XGBoost over rec_features.h) or, without one,
//   weighted reciprocal-rank fusion -> rerankers in order -> top n with the
//   strongest Reason as readable text (reasons.h).
//
//   SourceRegistry sources;  RETURN_IF_ERROR(RegisterAllSources(sources));
//   RerankerRegistry rerankers;  RETURN_IF_ERROR(RegisterBuiltinRerankers(rerankers));
//   RecommenderDeps deps{&sources, &rerankers};
//   ASSIGN_OR_RETURN(auto rec, Recommender::Fit(data, DefaultPipelineConfig(), deps, &po));
//   ASSIGN_OR_RETURN(std::string version, SaveRecommenderVersion(*rec, models_dir));
//   ...
//   ASSIGN_OR_RETURN(auto rec, LoadCurrentRecommender(models_dir, deps));
//   ASSIGN_OR_RETURN(RecommendResult r, rec->Recommend({.scenario = "home", .user = u, .n = 10}));
//
// Requests: the history is request.history when given (live events from the
// store, newest last), else the user's events in the fitted data; only the last
// history_limit events are used. Shoppers without history get the scenario's
// cold sources (trending / popular, plus the context items' neighbours). n <= 0
// is InvalidArgument; n > max_n is clamped with a note. Unknown scenarios are
// InvalidArgument; scenarios that need context items (similar, fbt) without
// any known item are InvalidArgument. Out-of-range ids are dropped.
//
// Model folder (Save): manifest.json {kind: "recommender", format_version,
// pipeline, sources, skipped_sources, scenarios, rankers, watermark, metrics,
// num_items, num_users}, pipeline.json, data/ (store_data.h), sources/<id>/,
// rankers/<scenario>/. Written to a temporary folder and renamed into place.
// Versions live under <models>/recommender/<version>/ with a CURRENT file.
//
// Thread-safety: after Fit/Load, Recommend is const and may run concurrently.
// Fit and Load are single-threaded (sources may use threads inside).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/progress.h"
#include "common/status.h"
#include "rank/gbdt_model.h"
#include "recommend/candidate_source.h"
#include "recommend/interactions.h"
#include "recommend/reasons.h"
#include "recommend/rec_features.h"
#include "recommend/rerankers.h"
#include "recommend/scenario.h"

namespace souk::recommend {

inline constexpr int kRecommenderFormatVersion = 1;

// The registries and hooks a Recommender is built with (not owned; they must
// outlive Fit/Load only).
struct RecommenderDeps {
  const SourceRegistry* sources = nullptr;
  const RerankerRegistry* rerankers = nullptr;
  // Item embeddings of a fitted source (the content source), or an empty
  // function when the source has none. Null = DefaultEmbeddingOf.
  std::function<ItemEmbeddingFn(const CandidateSource&)> embedding_of;
  // The live session's purchase intent for the ranker's `intent` feature (at
  // training and when a request has no intent); empty = NaN.
  IntentFn intent_of;
};

// Registers every source built into this binary: RegisterBuiltinSources when
// souk_recommend_sources is built, RegisterSasRecSource with libtorch.
Status RegisterAllSources(SourceRegistry& registry);
// The content source's embeddings when the content source is built in.
ItemEmbeddingFn DefaultEmbeddingOf(const CandidateSource& source);

// Per-request presentation parameters.
struct RecommendParams {
  bool explain = false;                          // features + ranker contributions
  ReasonLanguage lang = ReasonLanguage::kEnglish;
};

struct RecommendedItem {
  int32_t item = -1;               // dense item of the fitted data
  std::string external_id;
  std::string title;
  double score = 0;                // final score (ranker margin or fusion score)
  std::vector<SourceHit> sources;  // every proposing source, strongest first
  Reason reason;                   // the strongest reason
  std::string reason_text;         // its text
  std::vector<std::string> reasons;  // distinct texts of every source's reason, strongest first
  bool pinned = false;
  // With RecommendParams::explain: feature values, and the ranker's per-feature
  // contributions to the score (last entry "bias") when a ranker ordered the list.
  std::vector<std::pair<std::string, float>> features;
  std::vector<std::pair<std::string, float>> contributions;
};

struct RecommendResult {
  std::string pipeline;            // PipelineConfig::name
  std::string scenario;
  bool cold_start = false;         // the cold sources served it
  bool ranked = false;             // the learned ranker ordered it
  size_t candidates = 0;           // merged candidates before reranking
  float intent = std::numeric_limits<float>::quiet_NaN();  // the session's intent (NaN unknown)
  std::vector<RecommendedItem> items;
  std::vector<std::string> notes;  // clamping, dropped ids, fallbacks
};

class Recommender {
 public:
  ~Recommender();
  Recommender(const Recommender&) = delete;
  Recommender& operator=(const Recommender&) = delete;

  // Fits every source of every scenario once (equal name + options share an
  // instance), then the ranker of each scenario that uses one (rec_ranker.h).
  // Optional sources that are not registered or cannot fit are skipped (listed
  // in metrics()["skipped_sources"]); so is a ranker without enough data.
  // Errors: the configuration's (ValidatePipelineConfig), a required source's
  // Fit error with its name.
  static StatusOr<std::unique_ptr<Recommender>> Fit(std::shared_ptr<const InteractionData> data,
                                                    const PipelineConfig& config,
                                                    const RecommenderDeps& deps,
                                                    const ProgressOptions* progress = nullptr);
  // Loads what Save wrote. NotFound / DataLoss / FailedPrecondition naming the file.
  static StatusOr<std::unique_ptr<Recommender>> Load(const std::string& dir,
                                                     const RecommenderDeps& deps);
  // Writes the model folder `dir` atomically (temporary folder + rename).
  Status Save(const std::string& dir) const;

  StatusOr<RecommendResult> Recommend(const RecommendRequest& request,
                                      const RecommendParams& params = {}) const;

  const InteractionData& data() const { return *data_; }
  std::shared_ptr<const InteractionData> shared_data() const { return data_; }
  const PipelineConfig& config() const { return config_; }
  // Fit metrics: per-source fit seconds, ranker metrics, skipped sources.
  const nlohmann::json& metrics() const { return metrics_; }
  int64_t watermark() const { return watermark_; }
  void set_watermark(int64_t w) { watermark_ = w; }
  // Source instance ids that were fitted / loaded.
  std::vector<std::string> source_ids() const;
  // The fitted source with this instance id (one of source_ids()), or null.
  const CandidateSource* source(const std::string& id) const;
  bool has_ranker(const std::string& scenario) const;

 private:
  struct FittedSource;
  struct Scenario;
  Recommender();
  Status BuildScenarios(const RecommenderDeps& deps);

  std::shared_ptr<const InteractionData> data_;
  PipelineConfig config_;
  std::map<std::string, FittedSource> sources_;
  std::map<std::string, Scenario> scenarios_;
  ItemStats stats_;
  ItemEmbeddingFn embed_;
  IntentFn intent_of_;
  nlohmann::json metrics_ = nlohmann::json::object();
  int64_t watermark_ = 0;
};

// Assigns SourceSpec::id across the configuration: the first source with a
// given name keeps the name, a later one with different options gets
// "<name>-2", "<name>-3", ...; equal name + options share the id.
void AssignSourceIds(PipelineConfig* config);

// <models_dir>/<version>/ + <models_dir>/CURRENT. Returns the version.
StatusOr<std::string> SaveRecommenderVersion(const Recommender& recommender,
                                             const std::string& models_dir);
// The CURRENT version under models_dir. FailedPrecondition telling the user to
// run `souk train recommender` when there is none.
StatusOr<std::unique_ptr<Recommender>> LoadCurrentRecommender(const std::string& models_dir,
                                                              const RecommenderDeps& deps,
                                                              std::string* version = nullptr);

}  // namespace souk::recommend
