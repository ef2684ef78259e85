#include "eval/rec_cold_slots.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "eval/rec_metrics.h"

namespace souk::eval {
namespace {

bool Excluded(std::span<const uint8_t> excluded, size_t i) {
  return !excluded.empty() && excluded[i] != 0;
}

// The best `m` candidates (not excluded) by cold score, best first (ties by index).
std::vector<int32_t> BestCandidates(std::span<const float> cold_score,
                                    std::span<const uint8_t> candidate,
                                    std::span<const uint8_t> excluded, size_t m) {
  const size_t n = cold_score.size();
  std::vector<uint8_t> skip(n, 1);
  for (size_t i = 0; i < n; ++i) {
    skip[i] = (candidate[i] == 0 || Excluded(excluded, i) || !std::isfinite(cold_score[i])) ? 1 : 0;
  }
  std::vector<int32_t> best = TopKItems(cold_score, static_cast<int>(m), skip);
  return best;
}

// 0-based rank of item t among the kept items by (score desc, index asc), t excluded itself.
int64_t RankAmongKept(std::span<const float> warm, std::span<const uint8_t> excluded, int32_t t) {
  const float st = warm[t];
  int64_t rank = 0;
  for (size_t j = 0; j < warm.size(); ++j) {
    if (static_cast<int32_t>(j) == t || Excluded(excluded, j)) continue;
    if (warm[j] > st || (warm[j] == st && static_cast<int32_t>(j) < t)) ++rank;
  }
  return rank;
}

}  // namespace

std::string ColdSlotConfig::ToString() const {
  if (slots.empty() || !std::isfinite(min_score)) return "none";
  std::vector<int> one_based;
  for (int s : slots) one_based.push_back(s + 1);
  return fmt::format("min_score {} at warm positions {}", min_score, fmt::join(one_based, ","));
}

void PlaceColdItems(std::span<const float> warm, std::span<const float> cold_score,
                    std::span<const uint8_t> candidate, std::span<const uint8_t> excluded,
                    const ColdSlotConfig& config, std::span<float> out) {
  std::copy(warm.begin(), warm.end(), out.begin());
  if (config.slots.empty()) return;
  std::vector<int32_t> selected =
      BestCandidates(cold_score, candidate, excluded, config.slots.size());
  while (!selected.empty() && cold_score[selected.back()] < config.min_score) selected.pop_back();
  if (selected.empty()) return;
  // W' = the warm order without the selected items, long enough for every slot.
  std::vector<uint8_t> skip(warm.size(), 0);
  for (size_t i = 0; i < warm.size(); ++i) skip[i] = Excluded(excluded, i) ? 1 : 0;
  for (int32_t i : selected) skip[i] = 1;
  const int need = config.slots.back() + 1;
  const std::vector<int32_t> order = TopKItems(warm, need, skip);
  for (size_t j = 0; j < selected.size(); ++j) {
    const size_t p = static_cast<size_t>(config.slots[j]);
    if (p >= order.size()) continue;  // beyond the list: keep the warm score
    const float below = warm[order[p]];
    const float above = p == 0 ? below + 1.f : warm[order[p - 1]];
    float placed = below + (above - below) / 2;
    if (!(placed > below)) placed = std::nextafter(below, std::numeric_limits<float>::infinity());
    out[selected[j]] = placed;
  }
}

ColdSlotRow MakeColdSlotRow(std::span<const float> warm, std::span<const float> cold_score,
                            std::span<const uint8_t> candidate, std::span<const uint8_t> excluded,
                            int32_t target, int max_candidates) {
  ColdSlotRow row;
  row.target_is_cold = candidate[target] != 0;
  row.target_warm_rank = RankAmongKept(warm, excluded, target);
  const std::vector<int32_t> best =
      BestCandidates(cold_score, candidate, excluded, static_cast<size_t>(std::max(0, max_candidates)));
  for (size_t j = 0; j < best.size(); ++j) {
    if (best[j] == target) row.target_candidate = static_cast<int32_t>(j);
    row.candidate_score.push_back(cold_score[best[j]]);
    const bool above = warm[best[j]] > warm[target] ||
                       (warm[best[j]] == warm[target] && best[j] < target);
    row.candidate_above_target.push_back(above ? 1 : 0);
  }
  return row;
}

int64_t RankWithColdSlots(const ColdSlotRow& row, const ColdSlotConfig& config) {
  size_t m = std::min(config.slots.size(), row.candidate_score.size());
  while (m > 0 && row.candidate_score[m - 1] < config.min_score) --m;
  if (row.target_candidate >= 0 && static_cast<size_t>(row.target_candidate) < m) {
    return config.slots[row.target_candidate] + row.target_candidate + 1;
  }
  // The target's rank in W' (selected items above it leave), then the
  // selected items placed at or above it.
  int64_t r = row.target_warm_rank;
  for (size_t j = 0; j < m; ++j) r -= row.candidate_above_target[j];
  int64_t above = 0;
  for (size_t j = 0; j < m; ++j) {
    if (config.slots[j] <= r) ++above;
  }
  return r + above + 1;
}

std::vector<ColdSlotConfig> ColdSlotGrid(std::span<const float> thresholds) {
  std::vector<ColdSlotConfig> grid;
  grid.push_back({});  // no cold item
  for (float t : thresholds) {
    for (int first : {0, 1, 2, 4, 9, 19}) {
      for (int count : {1, 2, 3, 5}) {
        for (int spacing : {1, 3, 5, 10}) {
          if (count == 1 && spacing != 1) continue;
          ColdSlotConfig c;
          c.min_score = t;
          for (int k = 0; k < count; ++k) c.slots.push_back(first + k * spacing);
          if (c.slots.back() >= 50) continue;
          grid.push_back(std::move(c));
        }
      }
    }
  }
  return grid;
}

}  // namespace souk::eval
