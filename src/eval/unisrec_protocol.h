// EVAL.md C: text-aware and cold-start recommendation on a UniSRec-format
// dataset folder (`souk eval rec --protocol amazon-unisrec --dir DIR`).
//
// Decisions the protocol text leaves open (also in src/eval/README.md):
//  * Item ids. The `.inter` files hold dense indices (the second column of
//    `.item2index`); "the decimal id string" of the cold rule is that index as
//    written in the `.inter` files ("17"), not the ASIN. Cold: Fnv1a64("17") % 10 == 0.
//  * Cold removal. Training sequences (each user's longest train row) lose
//    every cold item; validation rows with a cold target are dropped and cold
//    items leave their histories. Test rows are used as given (a cold item in a
//    test history is known only by its text). Cold texts stay in the catalog.
//  * Ranking. Full ranking over all items; as in protocol B the items of the
//    row's history are removed from the ranking except the target
//    (RankOfTarget). 25 of 2,928 Scientific test targets repeat a history item.
//  * Metrics over all test rows: recall@10 (= hit rate, one target), ndcg@10,
//    recall@50; cold_recall@10, cold_ndcg@10 over the test rows whose target is
//    cold (n_cold of them).
//
// The engine is a linear blend of CandidateSources (by registry name) on
// per-request standardized scores (StandardizeScores), plus two cold-start
// terms for items without any training interaction ("no-data" items, which the
// engine can see without knowing the hash): the content score again and a
// bias. Blend weights are tuned on the validation rows only, with a simulated
// cold split so the cold terms can be tuned at all: items with
// Fnv1a64(id) % 10 == 1 (disjoint from the real cold ones) are removed from the
// tuning fit as well, so ~10% of validation targets are "cold" there as in
// test. Tuned on the overall quality alone the cold terms stay 0 (showing a new
// item costs more warm hits than it wins), so they are chosen for the
// simulated-cold rows within a small overall loss (cold_tolerance). The final
// fit uses all training rows minus the cold items.
//
// Cold slots (options.cold_slots, the engine by default): rather than cold
// terms added to every no-data item, the blend without cold terms ranks the
// warm items and at most a few no-data items with a high content score are
// interleaved at fixed positions (rec_cold_slots.h), tuned on the
// simulated-cold validation rows within a small overall loss.
//
// Report: metrics = the engine on test ("blend_cold_slots", or "blend" without
// cold slots); ablations "popularity" (count in the training sequences, as
// protocol B), each source alone (its name), "blend" (additive cold terms),
// "blend_no_cold_terms", "blend_cold_slots", and "<name>_valid" for each on
// the validation rows (final fit). extra: the tuned weights, the cold slot
// setting and the pseudo-cold tuning quality.
//
// Thread-safety: Run is not reentrant (one run at a time, as every protocol).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/protocol.h"
#include "eval/rec_blend.h"
#include "eval/rec_data.h"
#include "recommend/candidate_source.h"

namespace souk::eval {

struct UnisrecOptions {
  // --- behavior ---
  // Blend members. Names the registry does not know are skipped with a note
  // (so {"sasrec", {}} can be listed before the libtorch source is built).
  std::vector<RecSourceSpec> sources = {
      {"popular", {{"half_life_days", 1e6}}},  // positions, not dates: plain counts
      {"cooccurrence", nlohmann::json::object()},
      {"ease", nlohmann::json::object()},
      {"content", nlohmann::json::object()},
      {"sasrec", nlohmann::json::object()},
  };
  std::string content_source = "content";  // the member that scores no-data items
  bool tune_weights = true;                // false: equal weights, no cold terms tuning
  // Cold terms: chosen for the simulated-cold validation rows among the
  // settings whose overall validation recall+ndcg@10 stays within this relative
  // loss of the tuned blend (0 = pure overall tuning, which never shows cold items).
  double cold_tolerance = 0.03;
  // The engine: the blend without cold terms plus cold slots (rec_cold_slots.h):
  // the best no-data items by content score interleaved at fixed warm
  // positions when their standardized content score reaches a threshold.
  // Threshold and positions are chosen on the validation rows (the no-data
  // candidates there are the simulated-cold items only, as in test all
  // no-data items are cold): the best simulated-cold recall+ndcg@10 among the
  // settings whose overall validation recall@10 + ndcg@10 + recall@50 stays
  // within cold_slot_tolerance (relative) of no cold slot. false: the additive
  // cold terms ("blend") are the engine.
  bool cold_slots = true;
  double cold_slot_tolerance = 0.01;
  std::vector<float> cold_slot_thresholds = {0.f, 0.5f, 1.f, 1.5f, 2.f, 2.5f, 3.f, 3.5f, 4.f, 5.f, 6.f};
  // --- performance ---
  int pool_per_source = 150;  // tuning pool: the top items of each member per row
};

// The cold rule of EVAL.md C on the dense id as written in `.inter` files.
bool IsUnisrecColdItem(int32_t item);

class UnisrecProtocol final : public EvalProtocol {
 public:
  // `sources` creates the blend members; shared with other protocols.
  explicit UnisrecProtocol(std::shared_ptr<const recommend::SourceRegistry> sources,
                           UnisrecOptions options = {});

  std::string Name() const override { return "amazon-unisrec"; }
  std::string Task() const override { return "rec"; }
  std::string Description() const override {
    return "EVAL.md C: UniSRec .inter files, full ranking, cold items by FNV-1a (--dir DIR)";
  }
  StatusOr<EvalReport> Run(const EvalContext& ctx) override;

  UnisrecOptions& options() { return options_; }

 private:
  std::shared_ptr<const recommend::SourceRegistry> sources_;
  UnisrecOptions options_;
};

}  // namespace souk::eval
