// SasRecSource: the "sasrec" candidate source -- a SASRec transformer
// (sasrec_trainer.h) that proposes what usually comes next after the user's
// most recent items (Reason kind "next_in_sequence", evidence_item = the most
// recent history item).
//
// Fit: each user's events with ImplicitWeight > 0 in time order, consecutive
// repeats of one item collapsed, form a training sequence. Requests: the model
// reads the last max_len such items of request.history (live events included;
// no retraining), so a new session is served as soon as it has one event. An
// empty (or all-unknown) history yields no candidates. Nothing is filtered:
// items of the history may be proposed again (filtering is the pipeline's job).
//
// Options (JSON object, every SasRecOptions field by name plus):
//   "validate": bool (default false) -- hold out each user's last item (users
//     with >= 3 items) to select the best epoch and stop early; the held-out
//     transition is then not learned.
//
// Files: manifest.json {"kind": "sasrec", "format_version": 1, "num_items",
// "text_dim", "options", ...} + model.safetensors.
//
// Thread-safety: after Fit/Load, Candidates and ScoreAll are const and may run
// concurrently. Cost per request: one transformer pass over <= max_len items
// plus a num_items x hidden matrix-vector product (~0.1-0.5 ms at 12k items,
// hidden 64) and a top-k over num_items scores.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "recommend/candidate_source.h"
#include "recommend/sasrec_trainer.h"

namespace souk::recommend {

struct SasRecSourceOptions {
  SasRecOptions model;    // architecture and training
  bool validate = false;  // hold out the last item per user for best-epoch selection
};

class SasRecSource final : public CandidateSource {
 public:
  explicit SasRecSource(SasRecSourceOptions options = {});
  ~SasRecSource() override;

  // Parses the JSON options (unknown key / bad value = InvalidArgument naming it).
  static StatusOr<std::unique_ptr<SasRecSource>> Create(const nlohmann::json& options);

  std::string Name() const override { return "sasrec"; }

  // Item text vectors (num_items x dim, row-major) fused into the item
  // representation by the next Fit. Checked against the data in Fit.
  void SetItemText(SasRecItemText text) { text_ = std::move(text); }

  Status Fit(const InteractionData& data, const ProgressOptions& progress) override;
  void Candidates(const RecommendRequest& request, int k,
                  std::vector<Candidate>* out) const override;
  // Model scores of every item; -infinity everywhere when the history is empty
  // or the source is not fitted.
  void ScoreAll(const RecommendRequest& request, std::span<float> scores) const override;
  Status Save(const std::string& dir) const override;
  Status Load(const std::string& dir, const InteractionData& data) override;

  bool fitted() const { return model_ != nullptr; }
  const SasRecTrainReport& train_report() const { return report_; }
  const SasRecSourceOptions& options() const { return options_; }

  // The model input of a history: items with ImplicitWeight(type) > 0 in
  // [0, num_items), consecutive repeats collapsed, the last `max_items` kept
  // (oldest first). Reads only as far back as needed.
  static std::vector<int32_t> SequenceOf(std::span<const HistoryEvent> history, int32_t num_items,
                                         size_t max_items);

 private:
  SasRecSourceOptions options_;
  SasRecItemText text_;
  std::unique_ptr<SasRecModel> model_;
  SasRecTrainReport report_;
};

// Registers "sasrec" (factory: SasRecSource::Create). AlreadyExists when present.
Status RegisterSasRecSource(SourceRegistry& registry);

}  // namespace souk::recommend
