// Cold-item slots for protocol C (unisrec_protocol.h): instead of adding cold
// terms to every item's blended score, the best "cold candidates" (items
// without training interactions, ranked by their content similarity to the
// history) are interleaved into the warm ranking at fixed positions, and only
// when their similarity reaches a threshold. So at most slots.size() cold
// items can enter the top of the list, wherever the warm scores are.
//
// Definitions for one request:
//   W  = the warm order: items not excluded (the history), by decreasing warm
//        score, ties by increasing index (RankOfTarget's order);
//   S  = the selected cold candidates: the best slots.size() candidate items
//        (not excluded) by cold score with cold score >= min_score;
//   W' = W without the items of S.
// The j-th selected item (0-based) is placed just above W'[slots[j]], i.e. at
// final position slots[j] + j (slots strictly increasing). Every other item
// keeps its warm score.
//
// Thread-safety: pure functions. Cost: PlaceColdItems O(n log K + n);
// MakeColdSlotRow O(n (log m + m)); RankWithColdSlots O(m).
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace souk::eval {

struct ColdSlotConfig {
  float min_score = std::numeric_limits<float>::infinity();  // +inf = no cold item
  std::vector<int> slots;                                      // 0-based, strictly increasing
  std::string ToString() const;
};

// The final scores (out.size() == warm.size()): warm scores with the selected
// cold items moved between their neighbours (midpoint of the scores of
// W'[slots[j] - 1] and W'[slots[j]]; above W'[0] by 1 for slot 0). A slot
// beyond the end of W' leaves the item's warm score. `candidate[i]` != 0
// marks cold candidates; `excluded` is empty or warm.size() long.
void PlaceColdItems(std::span<const float> warm, std::span<const float> cold_score,
                    std::span<const uint8_t> candidate, std::span<const uint8_t> excluded,
                    const ColdSlotConfig& config, std::span<float> out);

// What RankWithColdSlots needs of one request with a single target (which
// must be a valid item): the target's 0-based rank among the kept items (as
// RankOfTarget counts it: the target stays even when excluded), and the best
// candidates with their cold score and whether their warm score is above the
// target's.
struct ColdSlotRow {
  int64_t target_warm_rank = 0;
  int32_t target_candidate = -1;        // index into the candidates when the target is one
  std::vector<float> candidate_score;   // best first
  std::vector<uint8_t> candidate_above_target;
  bool target_is_cold = false;          // the target is a candidate (reporting)
};
ColdSlotRow MakeColdSlotRow(std::span<const float> warm, std::span<const float> cold_score,
                            std::span<const uint8_t> candidate, std::span<const uint8_t> excluded,
                            int32_t target, int max_candidates);

// 1-based rank of the target after PlaceColdItems with `config`: the same as
// RankOfTarget on the placed scores when scores have no ties and the target
// is not excluded (an excluded target whose rank equals a slot may be one
// off: W has no place for it). Needs
// max_candidates >= config.slots.size() in MakeColdSlotRow.
int64_t RankWithColdSlots(const ColdSlotRow& row, const ColdSlotConfig& config);

// The configurations the protocol tunes over: "no cold item" first, then every
// threshold x slot pattern (first slot, count, spacing).
std::vector<ColdSlotConfig> ColdSlotGrid(std::span<const float> thresholds);

}  // namespace souk::eval
