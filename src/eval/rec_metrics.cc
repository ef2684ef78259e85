#include "eval/rec_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace souk::eval {
namespace {

float Clean(float s) { return std::isnan(s) ? -std::numeric_limits<float>::infinity() : s; }

// Best first: higher score, then lower index.
struct Better {
  bool operator()(const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) const {
    if (a.first != b.first) return a.first > b.first;
    return a.second < b.second;
  }
};

}  // namespace

std::vector<int32_t> TopKItems(std::span<const float> scores, int k,
                               std::span<const uint8_t> excluded) {
  std::vector<int32_t> out;
  if (k <= 0 || scores.empty()) return out;
  const bool use_mask = excluded.size() == scores.size();
  // A heap of the k best so far; its top is the worst of them.
  std::vector<std::pair<float, int32_t>> heap;
  heap.reserve(std::min<size_t>(k, scores.size()) + 1);
  Better better;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (use_mask && excluded[i]) continue;
    std::pair<float, int32_t> e{Clean(scores[i]), static_cast<int32_t>(i)};
    if (heap.size() < static_cast<size_t>(k)) {
      heap.push_back(e);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(e, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = e;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  std::sort(heap.begin(), heap.end(), better);
  out.reserve(heap.size());
  for (const auto& e : heap) out.push_back(e.second);
  return out;
}

std::optional<SetRankingMetrics> SetRecallNdcg(std::span<const int32_t> ranked,
                                               const std::unordered_set<int32_t>& relevant,
                                               int k) {
  if (relevant.empty() || k <= 0) return std::nullopt;
  std::unordered_set<int32_t> seen;
  double dcg = 0;
  int64_t hits = 0;
  const size_t n = std::min(ranked.size(), static_cast<size_t>(k));
  for (size_t i = 0; i < n; ++i) {
    if (!relevant.count(ranked[i]) || !seen.insert(ranked[i]).second) continue;
    ++hits;
    dcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  }
  double idcg = 0;
  const size_t ideal = std::min(relevant.size(), static_cast<size_t>(k));
  for (size_t i = 0; i < ideal; ++i) idcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  return SetRankingMetrics{static_cast<double>(hits) / static_cast<double>(relevant.size()),
                           dcg / idcg};
}

void StandardizeScores(std::span<float> scores) {
  if (scores.empty()) return;
  float lowest = std::numeric_limits<float>::infinity();
  for (float s : scores) {
    if (std::isfinite(s)) lowest = std::min(lowest, s);
  }
  if (!std::isfinite(lowest)) lowest = 0;
  double sum = 0;
  for (float& s : scores) {
    if (!std::isfinite(s)) s = lowest;
    sum += s;
  }
  const double mean = sum / static_cast<double>(scores.size());
  double var = 0;
  for (float s : scores) var += (s - mean) * (s - mean);
  const double sd = std::sqrt(var / static_cast<double>(scores.size()));
  if (!(sd > 1e-12)) {
    std::fill(scores.begin(), scores.end(), 0.f);
    return;
  }
  for (float& s : scores) s = static_cast<float>((s - mean) / sd);
}

SetRankingMetrics EvaluateBlend(std::span<const BlendSample> samples,
                                std::span<const float> weights, int k) {
  SetRankingMetrics total;
  int64_t counted = 0;
  const size_t f = weights.size();
  std::vector<double> score;
  std::vector<int32_t> order;
  std::vector<double> discount(std::max(k, 0));
  for (int i = 0; i < k; ++i) discount[i] = 1.0 / std::log2(i + 2.0);
  for (const BlendSample& s : samples) {
    if (s.num_relevant <= 0) continue;
    ++counted;
    const size_t n = s.items.size();
    score.resize(n);
    for (size_t i = 0; i < n; ++i) {
      double v = 0;
      const float* row = s.features.data() + i * f;
      for (size_t j = 0; j < f; ++j) v += static_cast<double>(weights[j]) * row[j];
      score[i] = v;
    }
    // The k best pool positions (score desc, item asc), in order.
    order.resize(n);
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<int32_t>(i);
    auto better = [&](int32_t a, int32_t b) {
      if (score[a] != score[b]) return score[a] > score[b];
      return s.items[a] < s.items[b];
    };
    const size_t top = std::min(n, static_cast<size_t>(std::max(k, 0)));
    if (top < n) std::nth_element(order.begin(), order.begin() + top, order.end(), better);
    std::sort(order.begin(), order.begin() + top, better);
    double dcg = 0;
    int64_t hits = 0;
    for (size_t r = 0; r < top; ++r) {
      if (!s.relevant[order[r]]) continue;
      ++hits;
      dcg += discount[r];
    }
    double idcg = 0;
    for (int i = 0; i < std::min<int64_t>(k, s.num_relevant); ++i) idcg += discount[i];
    total.recall += static_cast<double>(hits) / s.num_relevant;
    total.ndcg += idcg > 0 ? dcg / idcg : 0;
  }
  if (counted > 0) {
    total.recall /= static_cast<double>(counted);
    total.ndcg /= static_cast<double>(counted);
  }
  return total;
}

std::vector<float> TuneBlendWeights(std::span<const BlendSample> samples,
                                    std::vector<float> initial, int k,
                                    const BlendTuningOptions& options,
                                    const std::function<void(const std::string&)>& log) {
  std::vector<float> best = std::move(initial);
  auto objective = [&](std::span<const float> w) {
    SetRankingMetrics m = EvaluateBlend(samples, w, k);
    return m.recall + m.ndcg;
  };
  double best_value = objective(best);
  auto values_of = [&](size_t j) {
    std::vector<float> values = options.grid;
    if (j < options.extra_values.size()) {
      values.insert(values.end(), options.extra_values[j].begin(), options.extra_values[j].end());
    }
    return values;
  };
  for (int pass = 0; pass < options.passes; ++pass) {
    bool improved = false;
    for (size_t j = 0; j < best.size(); ++j) {
      if (std::find(options.fixed.begin(), options.fixed.end(), static_cast<int>(j)) !=
          options.fixed.end()) {
        continue;
      }
      for (float v : values_of(j)) {
        if (v == best[j]) continue;
        std::vector<float> trial = best;
        trial[j] = v;
        const double value = objective(trial);
        if (value > best_value + 1e-9) {
          best_value = value;
          best = std::move(trial);
          improved = true;
          if (log) {
            log(fmt::format("blend pass {}: weight[{}] = {} -> recall+ndcg@{} {:.4f}", pass + 1,
                            j, v, k, value));
          }
        }
      }
    }
    for (const auto& [a, b] : options.joint) {
      if (a < 0 || b < 0 || static_cast<size_t>(a) >= best.size() ||
          static_cast<size_t>(b) >= best.size()) {
        continue;
      }
      const std::vector<float> va = values_of(a), vb = values_of(b);
      for (float x : va) {
        for (float y : vb) {
          if (x == best[a] && y == best[b]) continue;
          std::vector<float> trial = best;
          trial[a] = x;
          trial[b] = y;
          const double value = objective(trial);
          if (value > best_value + 1e-9) {
            best_value = value;
            best = std::move(trial);
            improved = true;
            if (log) {
              log(fmt::format("blend pass {}: weights[{}, {}] = {}, {} -> recall+ndcg@{} {:.4f}",
                              pass + 1, a, b, x, y, k, value));
            }
          }
        }
      }
    }
    if (!improved) break;
  }
  return best;
}

}  // namespace souk::eval
