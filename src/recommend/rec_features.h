// Candidate generation and ranker features of the recommendation pipeline.
//
// CollectCandidates asks every source of a scenario for its k candidates and
// merges them by item (each item keeps every proposing source's score, rank and
// Reason). FuseReciprocalRank scores the union without a learned ranker:
// sum over sources of weight / (rrf_k + rank). RecFeatures turns a merged
// candidate into the ranker's feature row:
//   src:<id>:score, src:<id>:rank   for each source of the scenario (NaN when
//                                   the source did not propose the item)
//   num_sources                     how many sources proposed it
//   log_popularity                  log1p of the item's implicit-feedback weight
//   days_since_last_event           recency of the item's last interaction (NaN: none)
//   age_days                        since the item's creation (NaN: unknown)
//   category_affinity, brand_affinity  share of the history in the item's
//                                   category / brand (NaN without history)
//   price_z                         z-score of log(price) against the history's
//                                   log prices (NaN with < 2 priced events or no price)
//   text_similarity                 cosine of the item's embedding to the mean of
//                                   the last 20 history items' (NaN without embeddings)
//   intent                          P(the live session ends with a purchase) from the
//                                   intent model (Profile::intent; NaN without one)
//
// Thread-safety: ItemStats and RecFeatures are immutable after construction;
// their const methods may run concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <unordered_map>
#include <string>
#include <vector>

#include "recommend/candidate_source.h"
#include "recommend/interactions.h"
#include "recommend/rerankers.h"
#include "recommend/scenario.h"

namespace souk::recommend {

// The embedding of a dense item (empty span when the item has none).
using ItemEmbeddingFn = std::function<std::span<const float>(int32_t item)>;
// P(purchase) of the live session ending a history (oldest first), from the
// intent model; NaN when unknown. Must be thread-safe.
using IntentFn = std::function<float(const InteractionData& data, std::span<const HistoryEvent> history)>;

// A fitted source as a scenario uses it.
struct SourceSlot {
  std::string id;                  // instance id (SourceSpec::id)
  const CandidateSource* source = nullptr;
  int k = 100;
  double weight = 1.0;
};

// Asks each slot for up to max(k, k_floor) candidates and merges them by item, in
// order of first appearance; items outside `category` (a category-path prefix,
// "" = any) and out-of-range items are dropped. Each candidate's hits are
// ordered strongest first (by weight / (rrf_k + rank)).
std::vector<RankedCandidate> CollectCandidates(std::span<const SourceSlot> slots,
                                               const RecommendRequest& request,
                                               const InteractionData& data, double rrf_k,
                                               int k_floor = 0);

// score = sum over hits of weight(source) / (rrf_k + rank); sorts by it
// (ties by item). Unknown source ids weigh 1.
void FuseReciprocalRank(std::span<const SourceSlot> slots, double rrf_k,
                        std::vector<RankedCandidate>* list);

// Per-item statistics of the fitted data used as features.
class ItemStats {
 public:
  ItemStats() = default;
  explicit ItemStats(const InteractionData& data);
  float log_popularity(int32_t item) const { return log_popularity_[item]; }
  int64_t last_event_ms(int32_t item) const { return last_event_ms_[item]; }

 private:
  std::vector<float> log_popularity_;
  std::vector<int64_t> last_event_ms_;
};

class RecFeatures {
 public:
  // `source_ids` are the scenario's source instance ids (their order fixes the
  // columns).
  explicit RecFeatures(std::vector<std::string> source_ids);
  const std::vector<std::string>& names() const { return names_; }
  size_t size() const { return names_.size(); }

  // What the features need from one request, computed once (cost O(history)).
  struct Profile {
    int64_t now_ms = 0;
    bool has_history = false;
    std::unordered_map<std::string, double> category_share, brand_share;
    double log_price_mean = 0, log_price_sd = 0;
    int priced = 0;
    std::vector<float> embedding;  // normalized mean of recent history embeddings (may be empty)
    float intent = std::numeric_limits<float>::quiet_NaN();  // the request's intent score
  };
  static Profile MakeProfile(const InteractionData& data, std::span<const HistoryEvent> history,
                             int64_t now_ms, const ItemEmbeddingFn& embed);

  // Fills out[0..size()) for one candidate.
  void Compute(const InteractionData& data, const ItemStats& stats, const Profile& profile,
               const ItemEmbeddingFn& embed, const RankedCandidate& candidate, float* out) const;

 private:
  std::vector<std::string> source_ids_;
  std::vector<std::string> names_;
};

}  // namespace souk::recommend
