// The learned ranker of the recommendation pipeline: XGBoost (rank::GbdtModel,
// rank:ndcg or rank:pairwise) over the candidate features of rec_features.h,
// trained on next-interaction labels from a time split:
//   1. SplitByTime: T = the time before which (1 - label_fraction) of the
//      interactions happened; `before` = the data restricted to events < T.
//   2. The scenario's sources are fitted on `before` (by the caller).
//   3. For up to max_users users with history before T and events in
//      [T, T + horizon), candidates are built from their history before T
//      exactly as at serving time (including the scenario's filters, e.g. the
//      seen filter); label = the strongest later interaction with
//      the item (purchase 3 > add-to-cart 2 > view/click/rating 1, else 0).
//   4. Users are split into training and validation (valid_fraction);
//      validation picks the number of rounds and gives the metrics
//      (NDCG@10 and recall@20 of the ranker next to the rank fusion).
// The caller then refits the sources on all data (the ranker's features are
// the sources' scores and ranks, which keep their meaning).
//
// Thread-safety: functions without shared state; training uses options.gbdt.threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include <nlohmann/json.hpp>

#include "common/progress.h"
#include "common/status.h"
#include "rank/gbdt_model.h"
#include "recommend/interactions.h"
#include "recommend/rec_features.h"
#include "recommend/scenario.h"

namespace souk::recommend {

struct TimeSplit {
  std::shared_ptr<InteractionData> before;  // same items, users and dense ids; events < split_ms
  int64_t split_ms = 0;
  int64_t end_ms = 0;                       // label window end (exclusive)
};

// FailedPrecondition when the data has fewer than 2 distinct timestamps.
StatusOr<TimeSplit> SplitByTime(const InteractionData& data, const RankerTrainOptions& options);

struct RankerTrainResult {
  std::unique_ptr<rank::GbdtModel> model;
  nlohmann::json metrics;  // {"train_users", "valid_users", "rows", "fusion": {...}, "ranker": {...}}
};

// Trains the ranker of one scenario. `slots` are the scenario's sources fitted
// on split.before; `filters` (the scenario's seen / stock filters, prepared on
// split.before) remove candidates the serving pipeline would never show. Errors: FailedPrecondition when fewer than
// options.min_positive_groups training users have a positive candidate;
// Internal from XGBoost.
StatusOr<RankerTrainResult> TrainScenarioRanker(const InteractionData& data, const TimeSplit& split,
                                                const ScenarioConfig& scenario,
                                                std::span<const SourceSlot> slots,
                                                std::span<const Reranker* const> filters,
                                                const PipelineConfig& config,
                                                const ItemEmbeddingFn& embed,
                                                const ProgressOptions* progress = nullptr,
                                                const IntentFn& intent_of = {});

}  // namespace souk::recommend
