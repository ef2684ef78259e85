#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace souk::eval {
namespace {

Status CheckPaired(std::string_view metric, size_t a, size_t b) {
  if (a != b) {
    return InvalidArgumentError(
        fmt::format("{}: {} predictions but {} labels/targets", metric, a, b));
  }
  if (a == 0) return InvalidArgumentError(fmt::format("{}: empty input", metric));
  return OkStatus();
}

Status CheckFinite(std::string_view metric, std::span<const double> v) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return InvalidArgumentError(fmt::format("{}: value #{} is not finite", metric, i));
    }
  }
  return OkStatus();
}

Status CheckLabels(std::string_view metric, std::span<const int> labels, int64_t* positives) {
  int64_t p = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] != 0 && labels[i] != 1) {
      return InvalidArgumentError(
          fmt::format("{}: label #{} is {}, expected 0 or 1", metric, i, labels[i]));
    }
    p += labels[i];
  }
  *positives = p;
  return OkStatus();
}

Status CheckProbabilities(std::string_view metric, std::span<const double> p) {
  RETURN_IF_ERROR(CheckFinite(metric, p));
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] < 0.0 || p[i] > 1.0) {
      return InvalidArgumentError(
          fmt::format("{}: probability #{} is {}, outside [0, 1]", metric, i, p[i]));
    }
  }
  return OkStatus();
}

// Indices of `scores` sorted by decreasing score (stable).
std::vector<size_t> OrderByScoreDesc(std::span<const double> scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

}  // namespace

double ExponentialGainMinusOne(double relevance) { return std::exp2(relevance - 1.0) - 1.0; }
double ExponentialGain(double relevance) { return std::exp2(relevance) - 1.0; }
double LinearGain(double relevance) { return relevance; }

double DcgAtK(std::span<const double> gains_in_rank_order, int k) {
  double dcg = 0;
  const size_t n = std::min(gains_in_rank_order.size(), static_cast<size_t>(std::max(k, 0)));
  for (size_t i = 0; i < n; ++i) {
    dcg += gains_in_rank_order[i] / std::log2(static_cast<double>(i) + 2.0);
  }
  return dcg;
}

std::optional<double> NdcgAtK(std::span<const double> ranked_gains,
                              std::span<const double> judged_gains, int k) {
  if (k <= 0) return std::nullopt;
  std::vector<double> ideal(judged_gains.begin(), judged_gains.end());
  std::sort(ideal.begin(), ideal.end(), std::greater<>());
  const double idcg = DcgAtK(ideal, k);
  if (!(idcg > 0)) return std::nullopt;
  return DcgAtK(ranked_gains, k) / idcg;
}

std::optional<double> NdcgAtKFromLabels(std::span<const int64_t> ranked_ids,
                                        const std::unordered_map<int64_t, double>& judged, int k,
                                        const GainFunction& gain) {
  std::vector<double> judged_gains;
  judged_gains.reserve(judged.size());
  for (const auto& [id, label] : judged) judged_gains.push_back(gain(label));
  std::vector<double> ranked_gains;
  const size_t n = std::min(ranked_ids.size(), static_cast<size_t>(std::max(k, 0)));
  ranked_gains.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto it = judged.find(ranked_ids[i]);
    ranked_gains.push_back(it == judged.end() ? 0.0 : gain(it->second));
  }
  return NdcgAtK(ranked_gains, judged_gains, k);
}

double SingleTargetNdcgAtK(int64_t rank, int k) {
  if (rank < 1 || rank > k) return 0.0;
  return 1.0 / std::log2(static_cast<double>(rank) + 1.0);
}

double SingleTargetHitAtK(int64_t rank, int k) { return rank >= 1 && rank <= k ? 1.0 : 0.0; }

namespace {
int64_t RelevantInTopK(std::span<const int64_t> ranked, const std::unordered_set<int64_t>& relevant,
                       int k) {
  const size_t n = std::min(ranked.size(), static_cast<size_t>(std::max(k, 0)));
  int64_t hits = 0;
  for (size_t i = 0; i < n; ++i) hits += relevant.count(ranked[i]) ? 1 : 0;
  return hits;
}
}  // namespace

std::optional<double> RecallAtK(std::span<const int64_t> ranked,
                                const std::unordered_set<int64_t>& relevant, int k) {
  if (relevant.empty()) return std::nullopt;
  // Count distinct relevant ids so that a duplicated id cannot push recall above 1.
  std::unordered_set<int64_t> found;
  const size_t n = std::min(ranked.size(), static_cast<size_t>(std::max(k, 0)));
  for (size_t i = 0; i < n; ++i) {
    if (relevant.count(ranked[i])) found.insert(ranked[i]);
  }
  return static_cast<double>(found.size()) / static_cast<double>(relevant.size());
}

std::optional<double> HitRateAtK(std::span<const int64_t> ranked,
                                 const std::unordered_set<int64_t>& relevant, int k) {
  if (relevant.empty()) return std::nullopt;
  return RelevantInTopK(ranked, relevant, k) > 0 ? 1.0 : 0.0;
}

std::optional<double> PrecisionAtK(std::span<const int64_t> ranked,
                                   const std::unordered_set<int64_t>& relevant, int k) {
  if (k <= 0) return std::nullopt;
  return static_cast<double>(RelevantInTopK(ranked, relevant, k)) / static_cast<double>(k);
}

std::optional<double> ReciprocalRank(std::span<const int64_t> ranked,
                                     const std::unordered_set<int64_t>& relevant, int k) {
  if (relevant.empty()) return std::nullopt;
  const size_t n = k <= 0 ? ranked.size() : std::min(ranked.size(), static_cast<size_t>(k));
  for (size_t i = 0; i < n; ++i) {
    if (relevant.count(ranked[i])) return 1.0 / static_cast<double>(i + 1);
  }
  return 0.0;
}

StatusOr<double> RocAuc(std::span<const double> scores, std::span<const int> labels) {
  RETURN_IF_ERROR(CheckPaired("ROC-AUC", scores.size(), labels.size()));
  RETURN_IF_ERROR(CheckFinite("ROC-AUC", scores));
  int64_t positives = 0;
  RETURN_IF_ERROR(CheckLabels("ROC-AUC", labels, &positives));
  const int64_t negatives = static_cast<int64_t>(labels.size()) - positives;
  if (positives == 0 || negatives == 0) {
    return FailedPreconditionError(fmt::format(
        "ROC-AUC is undefined with {} positives and {} negatives", positives, negatives));
  }
  // Ascending order; each group of tied scores gets the average of its 1-based ranks.
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positive_rank_sum = 0;
  size_t i = 0;
  while (i < order.size()) {
    size_t j = i;
    int64_t group_positives = 0;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) {
      group_positives += labels[order[j]];
      ++j;
    }
    const double average_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    positive_rank_sum += average_rank * static_cast<double>(group_positives);
    i = j;
  }
  const double p = static_cast<double>(positives);
  const double u = positive_rank_sum - p * (p + 1.0) / 2.0;
  return u / (p * static_cast<double>(negatives));
}

StatusOr<double> AveragePrecision(std::span<const double> scores, std::span<const int> labels) {
  RETURN_IF_ERROR(CheckPaired("average precision", scores.size(), labels.size()));
  RETURN_IF_ERROR(CheckFinite("average precision", scores));
  int64_t positives = 0;
  RETURN_IF_ERROR(CheckLabels("average precision", labels, &positives));
  if (positives == 0) {
    return FailedPreconditionError("average precision is undefined without positive labels");
  }
  const std::vector<size_t> order = OrderByScoreDesc(scores);
  double ap = 0;
  double previous_recall = 0;
  int64_t tp = 0;
  int64_t seen = 0;
  size_t i = 0;
  while (i < order.size()) {
    // Consume one threshold: every item tied with order[i].
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) {
      tp += labels[order[j]];
      ++seen;
      ++j;
    }
    const double recall = static_cast<double>(tp) / static_cast<double>(positives);
    const double precision = static_cast<double>(tp) / static_cast<double>(seen);
    ap += (recall - previous_recall) * precision;
    previous_recall = recall;
    i = j;
  }
  return ap;
}

StatusOr<double> LogLoss(std::span<const double> probabilities, std::span<const int> labels) {
  RETURN_IF_ERROR(CheckPaired("log loss", probabilities.size(), labels.size()));
  RETURN_IF_ERROR(CheckProbabilities("log loss", probabilities));
  int64_t positives = 0;
  RETURN_IF_ERROR(CheckLabels("log loss", labels, &positives));
  constexpr double kEps = 1e-15;
  double sum = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double p = std::clamp(probabilities[i], kEps, 1.0 - kEps);
    sum += labels[i] == 1 ? -std::log(p) : -std::log(1.0 - p);
  }
  return sum / static_cast<double>(labels.size());
}

StatusOr<double> Rmse(std::span<const double> predictions, std::span<const double> targets) {
  RETURN_IF_ERROR(CheckPaired("RMSE", predictions.size(), targets.size()));
  RETURN_IF_ERROR(CheckFinite("RMSE", predictions));
  RETURN_IF_ERROR(CheckFinite("RMSE", targets));
  double sum = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const double d = predictions[i] - targets[i];
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(targets.size()));
}

StatusOr<CalibrationReport> ExpectedCalibrationError(std::span<const double> probabilities,
                                                     std::span<const int> labels, int num_bins) {
  if (num_bins < 1) {
    return InvalidArgumentError(
        fmt::format("calibration: num_bins must be >= 1, got {}", num_bins));
  }
  RETURN_IF_ERROR(CheckPaired("calibration", probabilities.size(), labels.size()));
  RETURN_IF_ERROR(CheckProbabilities("calibration", probabilities));
  int64_t positives = 0;
  RETURN_IF_ERROR(CheckLabels("calibration", labels, &positives));

  CalibrationReport report;
  report.bins.resize(static_cast<size_t>(num_bins));
  std::vector<double> prediction_sum(report.bins.size(), 0.0);
  std::vector<int64_t> positive_count(report.bins.size(), 0);
  for (size_t i = 0; i < probabilities.size(); ++i) {
    const int b = std::min(static_cast<int>(std::floor(probabilities[i] * num_bins)), num_bins - 1);
    prediction_sum[b] += probabilities[i];
    positive_count[b] += labels[i];
    report.bins[b].count++;
  }
  const double n = static_cast<double>(probabilities.size());
  for (int b = 0; b < num_bins; ++b) {
    CalibrationBin& bin = report.bins[b];
    bin.lower = static_cast<double>(b) / num_bins;
    bin.upper = static_cast<double>(b + 1) / num_bins;
    if (bin.count == 0) continue;
    const double c = static_cast<double>(bin.count);
    bin.mean_prediction = prediction_sum[b] / c;
    bin.observed_rate = static_cast<double>(positive_count[b]) / c;
    report.expected_calibration_error +=
        (c / n) * std::abs(bin.mean_prediction - bin.observed_rate);
  }
  return report;
}

std::optional<double> CatalogCoverage(std::span<const std::vector<int64_t>> lists,
                                      int64_t catalog_size) {
  if (catalog_size <= 0) return std::nullopt;
  std::unordered_set<int64_t> seen;
  for (const auto& list : lists) seen.insert(list.begin(), list.end());
  return static_cast<double>(seen.size()) / static_cast<double>(catalog_size);
}

std::optional<double> IntraListDiversity(std::span<const int64_t> list,
                                         const ItemDistance& distance) {
  if (list.size() < 2) return std::nullopt;
  double sum = 0;
  int64_t pairs = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    for (size_t j = i + 1; j < list.size(); ++j) {
      sum += distance(list[i], list[j]);
      ++pairs;
    }
  }
  return sum / static_cast<double>(pairs);
}

std::optional<double> IntraListDiversity(std::span<const std::string> categories) {
  if (categories.size() < 2) return std::nullopt;
  int64_t different = 0;
  int64_t pairs = 0;
  for (size_t i = 0; i < categories.size(); ++i) {
    for (size_t j = i + 1; j < categories.size(); ++j) {
      different += categories[i] != categories[j] ? 1 : 0;
      ++pairs;
    }
  }
  return static_cast<double>(different) / static_cast<double>(pairs);
}

std::optional<double> Novelty(std::span<const std::vector<int64_t>> lists,
                              const std::unordered_map<int64_t, int64_t>& popularity,
                              int64_t total_interactions) {
  if (total_interactions <= 0) return std::nullopt;
  MeanAccumulator over_lists;
  for (const auto& list : lists) {
    if (list.empty()) continue;
    double sum = 0;
    for (int64_t item : list) {
      auto it = popularity.find(item);
      const int64_t count = it == popularity.end() ? 0 : it->second;
      const double share = static_cast<double>(std::max<int64_t>(count, 1)) /
                           static_cast<double>(total_interactions);
      sum += -std::log2(share);
    }
    over_lists.Add(sum / static_cast<double>(list.size()));
  }
  if (over_lists.count() == 0) return std::nullopt;
  return over_lists.Mean();
}

}  // namespace souk::eval
