// Sequence models of recommend/ as protocol-B variants (EVAL.md B):
//   souk eval rec --protocol amazon-seq --data Beauty.txt --seq-model sasrec --json
//
// SasRecScorer adapts recommend::SasRecModel (libtorch SASRec) to
// SequenceScorer: the protocol's validation targets (history = the training
// part) select the best epoch and stop training early; the test targets are
// never seen. Each validation epoch's NDCG@10 is logged on stderr by the
// trainer's progress line.
//
// Thread-safety: after Fit, ScoreAll is const and may run concurrently.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "eval/sequential.h"
#include "recommend/sasrec_trainer.h"

namespace souk::eval {

class SasRecScorer final : public SequenceScorer {
 public:
  explicit SasRecScorer(recommend::SasRecOptions options = {}, ProgressOptions progress = {});
  ~SasRecScorer() override;

  std::string Name() const override { return "sasrec"; }
  void SetValidationTargets(std::span<const int32_t> valid_targets) override;
  // Errors: those of SasRecModel::Train (InvalidArgument, FailedPrecondition,
  // Internal); InvalidArgument when the validation targets given earlier are
  // not parallel to `train_sequences`.
  Status Fit(std::span<const std::vector<int32_t>> train_sequences, int32_t num_items) override;
  // Scores of the fitted model; all zeros before Fit.
  void ScoreAll(std::span<const int32_t> history, std::span<float> scores) const override;

  const recommend::SasRecTrainReport& report() const { return report_; }
  const recommend::SasRecModel* model() const { return model_.get(); }

 private:
  recommend::SasRecOptions options_;
  ProgressOptions progress_;
  std::vector<int32_t> valid_targets_;
  std::unique_ptr<recommend::SasRecModel> model_;
  recommend::SasRecTrainReport report_;
};

// Adds "sasrec" (SasRecScorer with the default SasRecOptions) to `protocol`.
// AlreadyExists when a model of that name is present.
Status AddSequenceModels(AmazonSeqProtocol& protocol);

}  // namespace souk::eval
