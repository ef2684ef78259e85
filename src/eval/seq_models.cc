#include "eval/seq_models.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

namespace souk::eval {

SasRecScorer::SasRecScorer(recommend::SasRecOptions options, ProgressOptions progress)
    : options_(std::move(options)), progress_(progress) {}
SasRecScorer::~SasRecScorer() = default;

void SasRecScorer::SetValidationTargets(std::span<const int32_t> valid_targets) {
  valid_targets_.assign(valid_targets.begin(), valid_targets.end());
}

Status SasRecScorer::Fit(std::span<const std::vector<int32_t>> train_sequences,
                         int32_t num_items) {
  recommend::SasRecValidation validation;
  const bool validate = !valid_targets_.empty();
  if (validate) {
    if (valid_targets_.size() != train_sequences.size()) {
      return InvalidArgumentError(fmt::format(
          "sasrec: {} validation targets for {} training sequences", valid_targets_.size(),
          train_sequences.size()));
    }
    validation.histories = train_sequences;
    validation.targets = valid_targets_;
  }
  ASSIGN_OR_RETURN(model_, recommend::SasRecModel::Train(train_sequences, num_items, options_,
                                                         validate ? &validation : nullptr,
                                                         nullptr, progress_, &report_));
  return OkStatus();
}

void SasRecScorer::ScoreAll(std::span<const int32_t> history, std::span<float> scores) const {
  if (model_ == nullptr) {
    std::fill(scores.begin(), scores.end(), 0.0f);
    return;
  }
  model_->ScoreNext(history, scores);
}

Status AddSequenceModels(AmazonSeqProtocol& protocol) {
  return protocol.AddModel("sasrec", [] { return std::make_unique<SasRecScorer>(); });
}

}  // namespace souk::eval
