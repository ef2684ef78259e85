// Ranking helpers of the recommendation protocols (EVAL.md C and F) beyond
// metrics.h: top-k of a full score vector, recall/NDCG against a SET of
// relevant items, per-request score standardization, and the linear blend of
// several candidate sources whose weights are tuned on held-out rows.
//
// Ties: everywhere items of equal score are ordered by increasing dense index,
// the same rule as RankOfTarget (sequential.h), so every protocol ranks the
// same way. NaN scores count as -infinity.
//
// Thread-safety: pure functions; safe to call concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

namespace souk::eval {

// The k best items of `scores` (indices, best first) by decreasing score, ties
// by increasing index. Items with excluded[i] != 0 are skipped (`excluded` is
// empty or scores.size() long). k <= 0 -> empty; k > items -> every kept item.
// Cost O(n log k).
std::vector<int32_t> TopKItems(std::span<const float> scores, int k,
                               std::span<const uint8_t> excluded = {});

struct SetRankingMetrics {
  double recall = 0;  // |relevant ∩ top-k| / |relevant|
  double ndcg = 0;    // binary gains: DCG@k / IDCG@k, IDCG over min(k, |relevant|) hits
};
// Recall@k and NDCG@k of `ranked` (best first; only the first k count; ids
// repeated in the ranking count once) against the set `relevant`. nullopt when
// `relevant` is empty or k <= 0.
std::optional<SetRankingMetrics> SetRecallNdcg(std::span<const int32_t> ranked,
                                               const std::unordered_set<int32_t>& relevant,
                                               int k);

// Standardizes one source's scores of one request so sources can be summed:
// non-finite scores (items the source cannot score) become the smallest finite
// score (0 when none is finite), then every score becomes (s - mean) / stddev
// over all items; a constant vector becomes all zeros.
void StandardizeScores(std::span<float> scores);

// One tuning request for a linear blend: its candidate pool with a row of
// feature values per pool item (e.g. standardized source scores).
struct BlendSample {
  std::vector<int32_t> items;     // pool items (distinct dense ids)
  std::vector<float> features;    // items.size() * num_features, row-major
  std::vector<uint8_t> relevant;  // per pool item: 1 when relevant
  int32_t num_relevant = 0;       // relevant items in total, also those outside the pool
};

// Mean recall@k / NDCG@k over samples (samples with num_relevant == 0 are
// skipped) when pool items are ranked by dot(weights, features), ties by
// increasing item; relevant items outside the pool count as misses.
// weights.size() must equal the samples' feature count.
SetRankingMetrics EvaluateBlend(std::span<const BlendSample> samples,
                                std::span<const float> weights, int k);

struct BlendTuningOptions {
  // Values tried for every weight.
  std::vector<float> grid = {0.f, 0.02f, 0.05f, 0.1f, 0.2f, 0.35f, 0.5f,
                             0.75f, 1.f, 1.5f, 2.f, 3.f, 5.f, 8.f};
  // Per weight: also try these values (e.g. negative biases); empty = grid only.
  std::vector<std::vector<float>> extra_values;
  int passes = 3;  // coordinate-ascent passes over all weights
  // Weights kept fixed (by position), e.g. a reference weight.
  std::vector<int> fixed;
  // Pairs of weights (by position) also searched jointly, over the product of
  // their values, after each pass (terms that only help together).
  std::vector<std::pair<int, int>> joint;
};

// Coordinate ascent: each pass tries, for each weight in turn, every value of
// the grid (and its extra values) with the others fixed, keeping a change only
// when the objective recall@k + ndcg@k improves; then each `joint` pair tries
// every combination of its values. Deterministic. Returns the
// best weights found (initial when nothing improves). `log` (may be null)
// receives one line per improvement.
std::vector<float> TuneBlendWeights(std::span<const BlendSample> samples,
                                    std::vector<float> initial, int k,
                                    const BlendTuningOptions& options,
                                    const std::function<void(const std::string&)>& log = nullptr);

}  // namespace souk::eval
