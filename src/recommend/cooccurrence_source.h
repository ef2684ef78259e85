// "cooccurrence": item-to-item neighbours from what shoppers look at and buy
// together, and candidates from the neighbours of the request's items.
//
// Pairs are counted from two places, separately configurable:
//   * sessions: two events of the same session at most `session_window`
//     events apart (a user's whole time-ordered history counts as one session
//     when the session is unknown);
//   * users: every pair of distinct items among a user's last
//     `max_user_items` distinct items, weighted by `user_weight`.
// A pair of events weighs min(ImplicitWeight(a), ImplicitWeight(b)). Pairs of
// two purchase/cart events are co-purchases, others co-views; `co_view` /
// `co_purchase` switch each kind off. The co-occurrence matrix C is normalized
// with row sums R and total T as cosine C_ab / sqrt(R_a R_b) or lift
// C_ab T / (R_a R_b); pairs with C_ab < min_count are dropped; each item keeps
// its `neighbors` best.
//
// Candidates: score(b) = sum over query items q of weight(q) * sim(q, b),
// where the query items are the context items (weight context_weight) and the
// last max_history history events (recency-weighted, see RequestSeeds). The
// reason is "bought_with" when the strongest contributing pair is mostly
// co-purchase, else "viewed_with"; evidence_item = that query item; value =
// its similarity.
//
// Thread-safety: const methods are safe concurrently after Fit/Load.
// Cost: Fit O(pairs) time (twice: row sums then neighbours) in `threads`
// threads, O(items) memory per thread; Candidates O(query items x neighbors).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "recommend/candidate_source.h"
#include "recommend/source_io.h"

namespace souk::recommend {

struct CooccurrenceOptions {
  // --- behavior ---
  bool co_view = true;                  // count pairs involving views / clicks
  bool co_purchase = true;              // count pairs of two purchases / carts
  bool from_sessions = true;            // count session pairs
  int session_window = 10;              // max event distance of a session pair (>= 1)
  double user_weight = 0.5;             // weight of whole-history user pairs (0 = off)
  int max_user_items = 200;             // distinct recent items per user for user pairs
  std::string normalization = "cosine";  // "cosine" or "lift"
  double min_count = 2;                 // minimum weighted co-occurrence of a pair (>= 0)
  int neighbors = 100;                  // neighbours kept per item (>= 1)
  int max_history = 50;                 // history events used per request (>= 0)
  double recency_decay = 0.9;           // query weight factor per newer event (0, 1]
  double context_weight = 4;            // query weight of each context item (>= 0)
  bool exclude_seen = true;             // do not propose the query items themselves
  // --- performance ---
  int threads = 2;  // Fit threads (>= 1)

  static StatusOr<CooccurrenceOptions> FromJson(const nlohmann::json& options);
  nlohmann::json ToJson() const;
};

class CooccurrenceSource final : public CandidateSource {
 public:
  static constexpr char kName[] = "cooccurrence";
  static constexpr int kFormatVersion = 1;

  explicit CooccurrenceSource(CooccurrenceOptions options = {}) : options_(std::move(options)) {}

  std::string Name() const override { return kName; }
  // FailedPrecondition when the data has no positive event.
  Status Fit(const InteractionData& data, const ProgressOptions& progress) override;
  void Candidates(const RecommendRequest& request, int k,
                  std::vector<Candidate>* out) const override;
  Status Save(const std::string& dir) const override;
  Status Load(const std::string& dir, const InteractionData& data) override;

  // Neighbours of `item` (best first): columns = items, values = similarity,
  // extra = co-purchase share of the pair's weight. Empty for a bad id.
  struct Neighbor {
    int32_t item;
    float similarity;
    float purchase_share;
  };
  std::vector<Neighbor> Neighbors(int32_t item) const;

 private:
  CooccurrenceOptions options_;
  internal::SparseRows rows_;
  std::vector<std::string> categories_;
};

}  // namespace souk::recommend
