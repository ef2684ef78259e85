#include "recommend/sasrec_source.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <vector>

#include <fmt/format.h>

namespace souk::recommend {

SasRecSource::SasRecSource(SasRecSourceOptions options) : options_(std::move(options)) {}
SasRecSource::~SasRecSource() = default;

StatusOr<std::unique_ptr<SasRecSource>> SasRecSource::Create(const nlohmann::json& options) {
  std::vector<std::string_view> keys(SasRecOptionKeys().begin(), SasRecOptionKeys().end());
  keys.push_back("validate");
  RETURN_IF_ERROR(CheckOptionKeys(options, keys, "sasrec"));
  SasRecSourceOptions o;
  nlohmann::json model_json = options.is_object() ? options : nlohmann::json::object();
  if (model_json.contains("validate")) {
    if (!model_json["validate"].is_boolean()) {
      return InvalidArgumentError("sasrec: option 'validate' must be true or false");
    }
    o.validate = model_json["validate"].get<bool>();
    model_json.erase("validate");
  }
  ASSIGN_OR_RETURN(o.model, SasRecOptionsFromJson(model_json, SasRecOptions{}, "sasrec"));
  return std::make_unique<SasRecSource>(std::move(o));
}

std::vector<int32_t> SasRecSource::SequenceOf(std::span<const HistoryEvent> history,
                                              int32_t num_items, size_t max_items) {
  std::vector<int32_t> out;
  for (size_t i = history.size(); i-- > 0 && out.size() < max_items;) {
    const HistoryEvent& e = history[i];
    if (e.item < 0 || e.item >= num_items || !(ImplicitWeight(e.type) > 0)) continue;
    if (!out.empty() && out.back() == e.item) continue;  // collapse repeats
    out.push_back(e.item);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Status SasRecSource::Fit(const InteractionData& data, const ProgressOptions& progress) {
  if (!data.finalized()) return FailedPreconditionError("sasrec: Fit needs finalized data");
  RETURN_IF_ERROR(ValidateSasRecOptions(options_.model));
  const int32_t n = data.num_items();
  if (text_.dim > 0 && text_.values.size() != static_cast<size_t>(n) * text_.dim) {
    return InvalidArgumentError(fmt::format(
        "sasrec: item text has {} values, the data has {} items x dim {}", text_.values.size(), n,
        text_.dim));
  }
  std::vector<std::vector<int32_t>> sequences;
  sequences.reserve(data.num_users());
  for (int32_t u = 0; u < data.num_users(); ++u) {
    std::vector<int32_t> seq;
    for (const Interaction& x : data.UserHistory(u)) {
      if (!(ImplicitWeight(x.type, x.value) > 0)) continue;
      if (!seq.empty() && seq.back() == x.item) continue;
      seq.push_back(x.item);
    }
    sequences.push_back(std::move(seq));
  }
  std::vector<int32_t> targets;
  SasRecValidation validation;
  if (options_.validate) {
    targets.assign(sequences.size(), -1);
    for (size_t u = 0; u < sequences.size(); ++u) {
      if (sequences[u].size() >= 3) {
        targets[u] = sequences[u].back();
        sequences[u].pop_back();
      }
    }
    validation.histories = sequences;
    validation.targets = targets;
  }
  SasRecTrainReport report;
  ASSIGN_OR_RETURN(
      std::unique_ptr<SasRecModel> model,
      SasRecModel::Train(sequences, n, options_.model, options_.validate ? &validation : nullptr,
                         text_.dim > 0 ? &text_ : nullptr, progress, &report));
  model_ = std::move(model);
  report_ = std::move(report);
  return OkStatus();
}

void SasRecSource::ScoreAll(const RecommendRequest& request, std::span<float> scores) const {
  std::fill(scores.begin(), scores.end(), -std::numeric_limits<float>::infinity());
  if (model_ == nullptr || scores.size() != static_cast<size_t>(model_->num_items())) return;
  const std::vector<int32_t> seq =
      SequenceOf(request.history, model_->num_items(), model_->options().max_len);
  if (seq.empty()) return;
  model_->ScoreNext(seq, scores);
}

void SasRecSource::Candidates(const RecommendRequest& request, int k,
                              std::vector<Candidate>* out) const {
  if (model_ == nullptr || k <= 0 || out == nullptr) return;
  const int32_t n = model_->num_items();
  const std::vector<int32_t> seq = SequenceOf(request.history, n, model_->options().max_len);
  if (seq.empty()) return;
  std::vector<float> scores(n);
  model_->ScoreNext(seq, scores);
  std::vector<std::pair<int32_t, float>> scored;
  scored.reserve(n);
  for (int32_t i = 0; i < n; ++i) {
    if (std::isfinite(scores[i])) scored.emplace_back(i, scores[i]);
  }
  const int kk = std::min<int64_t>(k, n);
  for (const auto& [item, score] : TopK(scored, kk)) {
    Candidate c;
    c.item = item;
    c.score = score;
    c.reason.source = Name();
    c.reason.kind = "next_in_sequence";
    c.reason.evidence_item = seq.back();
    c.reason.value = score;
    out->push_back(std::move(c));
  }
}

Status SasRecSource::Save(const std::string& dir) const {
  if (model_ == nullptr) return FailedPreconditionError("sasrec: Save before Fit/Load");
  return model_->Save(dir);
}

Status SasRecSource::Load(const std::string& dir, const InteractionData& data) {
  ASSIGN_OR_RETURN(std::unique_ptr<SasRecModel> model, SasRecModel::Load(dir));
  if (model->num_items() != data.num_items()) {
    return FailedPreconditionError(fmt::format(
        "sasrec: model in {} has {} items but the data has {}; refit the source", dir,
        model->num_items(), data.num_items()));
  }
  options_.model = model->options();
  model_ = std::move(model);
  return OkStatus();
}

Status RegisterSasRecSource(SourceRegistry& registry) {
  return registry.Register(
      "sasrec", [](const nlohmann::json& options) -> StatusOr<std::unique_ptr<CandidateSource>> {
        ASSIGN_OR_RETURN(std::unique_ptr<SasRecSource> source, SasRecSource::Create(options));
        return std::unique_ptr<CandidateSource>(std::move(source));
      });
}

}  // namespace souk::recommend
