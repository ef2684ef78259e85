// Evaluation metrics: ranking (NDCG, recall, hit rate, MRR, precision),
// classification (ROC-AUC, PR-AUC, log loss, calibration), regression (RMSE) and
// beyond-accuracy list metrics (coverage, diversity, novelty).
//
// Every function states its exact definition and edge cases. Two conventions:
//   * Per-query ranking metrics return std::optional<double>; nullopt means "the
//     metric is undefined for this query" (e.g. no relevant item) and the caller
//     skips the query when averaging (and should report how many it scored).
//   * Metrics over paired arrays (scores/labels, predictions/targets) return
//     StatusOr<double>: InvalidArgument for malformed input (length mismatch,
//     empty input, non-finite value, label not 0/1, probability outside [0, 1]),
//     FailedPrecondition when the metric is undefined for valid input (a single
//     class for ROC-AUC, no positive for PR-AUC).
// Ranks are 1-based everywhere.
//
// Thread-safety: pure functions; safe to call concurrently.
// Cost: linear in the input except ROC-AUC / PR-AUC (sort, O(n log n)) and
// intra-list diversity (all pairs, O(L^2) per list).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"

namespace souk::eval {

// ---------------------------------------------------------------------------
// Graded ranking (NDCG)

// Maps a relevance label to a gain.
using GainFunction = std::function<double(double relevance)>;

// g(r) = 2^(r-1) - 1, the gain of EVAL.md protocol A (r in [1, 3]: g(1)=0,
// g(2)=1, g(3)=3). Note g(0) = -0.5: unjudged items must be given gain 0 by the
// caller (NdcgAtKFromLabels does this), not passed through this function.
double ExponentialGainMinusOne(double relevance);
// g(r) = 2^r - 1 (the common "exponential" gain of Burges et al.).
double ExponentialGain(double relevance);
// g(r) = r.
double LinearGain(double relevance);

// Discounted cumulative gain of the first k entries of `gains_in_rank_order`:
//   DCG@k = sum_{i=1..min(k,n)} gains[i] / log2(i + 1).
// k <= 0 or empty input -> 0.
double DcgAtK(std::span<const double> gains_in_rank_order, int k);

// NDCG@k = DCG@k(ranked gains) / IDCG@k, where IDCG@k is the DCG@k of
// `judged_gains` (the gains of ALL judged items of the query, not only the
// retrieved ones) sorted in decreasing order.
// Returns nullopt when IDCG@k <= 0 (no judged item with positive gain, or k <= 0):
// such a query is skipped. The result is in [0, 1] when ranked gains are a
// sub-multiset of judged gains plus zeros (it can exceed 1 otherwise).
std::optional<double> NdcgAtK(std::span<const double> ranked_gains,
                              std::span<const double> judged_gains, int k);

// Convenience form: `ranked_ids` is the system's ranking, `judged` maps each
// judged item id to its relevance label. A ranked item that is not judged has
// gain 0; a judged item's gain is gain(label). The ideal DCG uses every judged
// item. Duplicate ids in the ranking are scored at each occurrence (callers
// should not produce them). Returns nullopt when the ideal DCG@k is 0.
std::optional<double> NdcgAtKFromLabels(std::span<const int64_t> ranked_ids,
                                        const std::unordered_map<int64_t, double>& judged, int k,
                                        const GainFunction& gain);

// NDCG@k of a single relevant item found at `rank` (1-based; 0 or negative =
// not found): 1 / log2(rank + 1) if 1 <= rank <= k, else 0. (IDCG = 1.)
double SingleTargetNdcgAtK(int64_t rank, int k);
// 1 if 1 <= rank <= k, else 0.
double SingleTargetHitAtK(int64_t rank, int k);

// ---------------------------------------------------------------------------
// Binary-relevance ranking metrics over one query. `ranked` is the system's
// ranking (only the first k entries count), `relevant` the set of relevant ids.

// |relevant ∩ top-k| / |relevant|. nullopt when `relevant` is empty.
std::optional<double> RecallAtK(std::span<const int64_t> ranked,
                                const std::unordered_set<int64_t>& relevant, int k);
// 1 if any relevant id is in the top k, else 0. nullopt when `relevant` is empty.
std::optional<double> HitRateAtK(std::span<const int64_t> ranked,
                                 const std::unordered_set<int64_t>& relevant, int k);
// |relevant ∩ top-k| / k (the denominator is k even when the list is shorter,
// as in trec_eval). nullopt when k <= 0. Defined (possibly 0) when nothing is
// relevant.
std::optional<double> PrecisionAtK(std::span<const int64_t> ranked,
                                   const std::unordered_set<int64_t>& relevant, int k);
// Reciprocal rank of the first relevant id within the top k (k <= 0: the whole
// list); 0 when none is found. nullopt when `relevant` is empty. The mean over
// queries is MRR.
std::optional<double> ReciprocalRank(std::span<const int64_t> ranked,
                                     const std::unordered_set<int64_t>& relevant, int k = 0);

// ---------------------------------------------------------------------------
// Binary classification. `labels` are 0 or 1; `scores` any finite values
// (higher = more likely positive); `probabilities` in [0, 1].

// ROC-AUC as the Mann-Whitney U statistic: the probability that a random
// positive scores higher than a random negative, ties counting 1/2; computed
// from average ranks of tied scores: AUC = (R_pos - P(P+1)/2) / (P*N).
// FailedPrecondition when there is no positive or no negative.
StatusOr<double> RocAuc(std::span<const double> scores, std::span<const int> labels);

// Average precision, exactly as scikit-learn's average_precision_score:
//   AP = sum_n (R_n - R_{n-1}) * P_n
// over the distinct score thresholds in decreasing order (tied scores form one
// threshold, so ties are not broken optimistically or pessimistically).
// FailedPrecondition when there is no positive.
StatusOr<double> AveragePrecision(std::span<const double> scores, std::span<const int> labels);

// Mean binary cross-entropy: -mean(y log p + (1-y) log(1-p)), natural log, with
// p clipped to [1e-15, 1 - 1e-15].
StatusOr<double> LogLoss(std::span<const double> probabilities, std::span<const int> labels);

// sqrt(mean((prediction - target)^2)).
StatusOr<double> Rmse(std::span<const double> predictions, std::span<const double> targets);

// One bin of a reliability curve.
struct CalibrationBin {
  double lower = 0;  // bin covers [lower, upper) (the last bin includes 1)
  double upper = 0;
  double mean_prediction = 0;  // mean predicted probability in the bin (0 when empty)
  double observed_rate = 0;    // fraction of positives in the bin (0 when empty)
  int64_t count = 0;           // number of predictions in the bin
};

struct CalibrationReport {
  // ECE = sum_b (count_b / N) * |mean_prediction_b - observed_rate_b|.
  double expected_calibration_error = 0;
  std::vector<CalibrationBin> bins;  // `num_bins` equal-width bins over [0, 1]
};

// Expected calibration error with equal-width bins: p falls into bin
// min(floor(p * num_bins), num_bins - 1). Empty bins contribute nothing.
// InvalidArgument for num_bins < 1 and the usual paired-input errors.
StatusOr<CalibrationReport> ExpectedCalibrationError(std::span<const double> probabilities,
                                                     std::span<const int> labels,
                                                     int num_bins = 10);

// ---------------------------------------------------------------------------
// Beyond accuracy: over the recommendation lists of many users.

// |distinct ids over all lists| / catalog_size. nullopt when catalog_size <= 0.
// Ids are not checked against the catalog (the caller passes catalog ids only).
std::optional<double> CatalogCoverage(std::span<const std::vector<int64_t>> lists,
                                      int64_t catalog_size);

// Distance between two items (symmetric, >= 0).
using ItemDistance = std::function<double(int64_t a, int64_t b)>;

// Intra-list diversity of ONE list: mean of distance(a, b) over the
// L(L-1)/2 unordered pairs of positions. nullopt when the list has < 2 items.
std::optional<double> IntraListDiversity(std::span<const int64_t> list,
                                         const ItemDistance& distance);
// The same with category labels: distance 0 when two items share a label, else 1
// (so the result is the fraction of pairs from different categories).
std::optional<double> IntraListDiversity(std::span<const std::string> categories);

// Novelty: mean over lists of the mean over the list's items of
// -log2(share(i)), share(i) = max(count(i), 1) / total_interactions (an item never
// seen counts as seen once). `popularity` maps item id -> interaction count and
// total_interactions is the sum of all counts (passed explicitly so that the map
// may hold only the items of interest). Empty lists are skipped; nullopt when
// every list is empty or total_interactions <= 0.
std::optional<double> Novelty(std::span<const std::vector<int64_t>> lists,
                              const std::unordered_map<int64_t, int64_t>& popularity,
                              int64_t total_interactions);

// ---------------------------------------------------------------------------
// Averaging helper for per-query metrics that may be undefined.
class MeanAccumulator {
 public:
  void Add(std::optional<double> v) {
    if (v) {
      sum_ += *v;
      ++count_;
    } else {
      ++skipped_;
    }
  }
  void Add(double v) {
    sum_ += v;
    ++count_;
  }
  // Mean of the defined values; 0 when there are none.
  double Mean() const { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }
  int64_t count() const { return count_; }      // values averaged
  int64_t skipped() const { return skipped_; }  // undefined values skipped

 private:
  double sum_ = 0;
  int64_t count_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace souk::eval
