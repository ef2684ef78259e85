// The recommendation pipeline of a data directory: its configuration (the
// built-in scenarios, a pipeline file, recommend.* keys when declared), the
// registries of the sources and rerankers built into this binary, training
// from the store (`souk train recommender`, `souk demo`), live requests that
// read the shopper's latest events from the store (`souk recommend`), and the
// held-out purchase evaluation of generated stores.
//
// Layout: <data_dir>/models/recommender/<version>/ (recommender.h) and
// <data_dir>/models/recommender/CURRENT naming the version in use.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/app_context.h"
#include "app/intent_config.h"
#include "common/config.h"
#include "recommend/recommender.h"
#include "store/store.h"

namespace souk::app {

// <data_dir>/models/recommender
std::filesystem::path RecommenderModelsDir(const std::string& data_dir);

// The registries (sources built into this binary, builtin rerankers) and, when
// `data_dir` has trained intent models (models/intent/CURRENT), the intent
// function that fills the rankers' `intent` feature. Not movable: deps()
// points into it.
class RecommendRegistries {
 public:
  static StatusOr<std::unique_ptr<RecommendRegistries>> Make(const std::string& data_dir = "",
                                                             int64_t session_gap_ms = 30LL * 60 * 1000);
  recommend::RecommenderDeps deps() const {
    return {&sources_, &rerankers_, nullptr, intent_fn_};
  }
  const recommend::SourceRegistry& sources() const { return sources_; }
  // The intent models in use (null when none).
  const IntentModels* intent() const { return intent_.get(); }

 private:
  RecommendRegistries() = default;
  recommend::SourceRegistry sources_;
  recommend::RerankerRegistry rerankers_;
  std::shared_ptr<const IntentModels> intent_;
  recommend::IntentFn intent_fn_;
};

// The pipeline configuration: the built-in defaults, then the file named by the
// recommend.pipeline key (when the key exists in this build's schema and is
// set), then `pipeline_file` (a .json or .toml; "" = none). recommend.max_n,
// recommend.history_limit and recommend.ranker override their fields when
// declared. Errors name the file and the key.
StatusOr<recommend::PipelineConfig> PipelineConfigFrom(const Config& config,
                                                       const std::string& pipeline_file);

struct TrainRecommenderResult {
  std::string version;
  std::filesystem::path dir;
  nlohmann::json report;  // {"version", "dir", "watermark", "items", "users", "interactions",
                          //  "pipeline", "sources", "skipped_sources", "rankers", "seconds"}
};

// Loads the store's InteractionData, fits the pipeline, saves a new version
// and makes it CURRENT. FailedPrecondition when the store has no usable events.
StatusOr<TrainRecommenderResult> TrainRecommender(const AppContext& ctx, store::Store& store,
                                                  const std::string& pipeline_file);

// What a `souk recommend` invocation asks.
struct LiveRequestArgs {
  std::string scenario = "home";
  std::string user;                   // external user id ("" = anonymous)
  std::string session;                // external session id ("" = none)
  std::vector<std::string> items;     // external item ids (product page, cart)
  std::string category;               // category prefix filter
  int n = 10;
};

// Builds the request: the user's dense id in the model, the latest
// history_limit events of the user / session read from the store now (items
// unknown to the model dropped, with a note), the context items. For similar /
// fbt with no known context item: NotFound naming the unknown ids. Notes say
// what was dropped or assumed ("unknown user 'U': showing trending").
StatusOr<recommend::RecommendRequest> BuildLiveRequest(store::Store& store,
                                                       const recommend::Recommender& rec,
                                                       const LiveRequestArgs& args,
                                                       std::vector<std::string>* notes);

// The intent switch of the home and next scenarios, given the session's intent
// level (IntentLevel of result->intent):
//  - high: the session's cart items not bought yet go first ("still in your
//    cart"), then complements of the cart (the fbt scenario), then the rest;
//  - low: exploration -- the last third of the list is replaced by trending
//    items not already in the list;
//  - medium / unknown / other scenarios: unchanged.
// Adds a note naming the switch. Never fails: a scenario the model lacks is skipped.
void ApplyIntentSwitch(const recommend::Recommender& rec, const recommend::RecommendRequest& req,
                       const std::string& level, recommend::ReasonLanguage lang,
                       recommend::RecommendResult* result);

// A live recommendation as `souk recommend` and GET /v1/recommendations/{scenario}
// give it: BuildLiveRequest, Recommend, then -- when `intent` (may be null) is
// given and the session has a score -- its level and, with `intent_switch`,
// ApplyIntentSwitch. The request's notes come first; a note about an unknown
// user replaces the result's "no history" note. Errors: those of
// BuildLiveRequest and Recommend.
struct LiveRecommendation {
  recommend::RecommendResult result;
  std::string intent_level;  // "" when no intent score
};
StatusOr<LiveRecommendation> RecommendLive(store::Store& store, const recommend::Recommender& rec,
                                           const IntentModels* intent, const LiveRequestArgs& args,
                                           const recommend::RecommendParams& params, bool intent_switch);

// The JSON form of a result (the `souk recommend --json` contract):
// {"scenario", "pipeline", "cold_start", "ranked", "candidates", "notes",
//  "items": [{"id", "title", "score", "reason", "reasons": [...],
//             "sources": [{"source", "kind", "score", "rank"}],
//             "explain": {"features": {...}, "contributions": {...}}}]}
nlohmann::json RecommendResultToJson(const recommend::RecommendResult& result, bool explain);

// Recall@n of the held-out purchases of a generated store
// (ground_truth/future_purchases.csv: user_id,item_id,timestamp) for the
// `scenario` recommendations of each user known to the model, next to the
// most popular items of the fitted data. Returns {"users", "n", "scenario",
// "recall", "recall_popular", "lift", "skipped_users", "long_tail_curve"}; the
// curve is the accuracy-versus-exposure trade-off of the long-tail reranker
// (recommend::LongTailTradeoff over each user's top 5n, tail = items outside
// the head covering 80% of the interactions, no loss bound): one point
// {min_share, tail_share, recall, mean_loss} per asked tail share 0, 0.1 .. 0.6.
// NotFound / DataLoss naming the file.
StatusOr<nlohmann::json> EvaluateFuturePurchases(const recommend::Recommender& rec,
                                                 const std::string& future_purchases_csv,
                                                 int n = 20,
                                                 const std::string& scenario = "home");

}  // namespace souk::app
