#include "eval/rec_blend.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <unordered_set>

namespace souk::eval {

Status SourceBlend::Fit(const recommend::SourceRegistry& registry,
                        std::span<const RecSourceSpec> specs, std::string_view content_source,
                        recommend::InteractionData data, const ProgressOptions& progress,
                        const Note& note, std::string_view label) {
  if (data_ != nullptr) return FailedPreconditionError("SourceBlend::Fit called twice");
  data_ = std::make_unique<recommend::InteractionData>(std::move(data));
  data_->Finalize();
  const std::vector<std::string> known = registry.Names();
  for (const RecSourceSpec& spec : specs) {
    if (std::find(known.begin(), known.end(), spec.name) == known.end()) {
      if (note) note(fmt::format("{}: source '{}' is not in this build; skipped", label, spec.name));
      continue;
    }
    auto created = registry.Create(spec.name, spec.options);
    if (!created.ok()) return created.status().WithContext(spec.name);
    std::unique_ptr<recommend::CandidateSource> source = std::move(created).value();
    const auto start = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(source->Fit(*data_, progress).WithContext(spec.name));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (note) note(fmt::format("{}: fitted {} in {:.1f} s", label, spec.name, seconds));
    if (spec.name == content_source) content_index_ = static_cast<int>(members_.size());
    column_names_.push_back(spec.name);
    default_weights_.push_back(1.f);
    members_.push_back(std::move(source));
  }
  if (members_.empty()) {
    return FailedPreconditionError(fmt::format("{}: none of the blend's sources is available", label));
  }
  no_data_.assign(data_->num_items(), 1);
  for (const recommend::Interaction& x : data_->interactions()) no_data_[x.item] = 0;
  num_no_data_ = std::count(no_data_.begin(), no_data_.end(), 1);
  return OkStatus();
}

size_t SourceBlend::AddExternalColumn(std::string name, float default_weight) {
  column_names_.push_back(std::move(name));
  default_weights_.push_back(default_weight);
  return column_names_.size() - 1;
}

std::vector<std::string> SourceBlend::MemberNames() const {
  return std::vector<std::string>(column_names_.begin(), column_names_.begin() + members_.size());
}

std::vector<float> SourceBlend::DefaultWeights() const {
  std::vector<float> w = default_weights_;
  if (has_cold_terms()) w.insert(w.end(), {0.f, 0.f});
  return w;
}

BlendTuningOptions SourceBlend::TuningOptions() const {
  BlendTuningOptions options;
  if (has_cold_terms()) {
    options.extra_values.resize(num_features());
    // Blended scores of warm items can be far above one standardized content
    // score (sparse sources have z of 10 and more): the cold terms get a wider range.
    options.extra_values[num_columns()] = {12.f, 20.f, 30.f, 50.f};
    options.extra_values.back() = {-0.5f, -1.f, -2.f, -3.f, -5.f, -8.f,
                                   12.f, 20.f, 30.f, 50.f, 80.f};
    options.joint = {{static_cast<int>(num_columns()), static_cast<int>(num_columns()) + 1}};
  }
  return options;
}

std::vector<float> SourceBlend::WithoutColdTerms(std::vector<float> weights) const {
  if (has_cold_terms() && weights.size() == num_features()) {
    weights[num_columns()] = 0;
    weights[num_columns() + 1] = 0;
  }
  return weights;
}

nlohmann::json SourceBlend::WeightsJson(std::span<const float> weights) const {
  nlohmann::json out = nlohmann::json::object();
  for (size_t c = 0; c < num_columns() && c < weights.size(); ++c) {
    out[column_names_[c]] = weights[c];
  }
  if (has_cold_terms() && weights.size() == num_features()) {
    out["cold_content"] = weights[num_columns()];
    out["cold_bias"] = weights[num_columns() + 1];
  }
  return out;
}

void SourceBlend::Score(const recommend::RecommendRequest& request, BlendScratch* scratch) const {
  const size_t n = static_cast<size_t>(data_->num_items());
  scratch->z.resize(num_columns());
  for (size_t m = 0; m < num_columns(); ++m) {
    std::vector<float>& z = scratch->z[m];
    z.assign(n, 0.f);
    if (m >= members_.size()) continue;  // external: the caller fills it
    std::fill(z.begin(), z.end(), -std::numeric_limits<float>::infinity());
    members_[m]->ScoreAll(request, z);
    StandardizeScores(z);
  }
}

void SourceBlend::Combine(const BlendScratch& scratch, std::span<const float> weights,
                          std::span<float> out) const {
  const size_t n = out.size();
  std::fill(out.begin(), out.end(), 0.f);
  for (size_t c = 0; c < num_columns() && c < weights.size(); ++c) {
    const float w = weights[c];
    if (w == 0) continue;
    const std::vector<float>& z = scratch.z[c];
    for (size_t i = 0; i < n; ++i) out[i] += w * z[i];
  }
  if (has_cold_terms() && weights.size() == num_features()) {
    const float wc = weights[num_columns()], wb = weights[num_columns() + 1];
    const std::vector<float>& content = scratch.z[content_index_];
    for (size_t i = 0; i < n; ++i) {
      if (no_data_[i]) out[i] += wc * content[i] + wb;
    }
  }
}

BlendSample SourceBlend::Sample(const BlendScratch& scratch, std::span<const int32_t> history,
                                std::span<const int32_t> relevant, int per_column,
                                bool exclude_history) const {
  const size_t n = static_cast<size_t>(data_->num_items());
  std::vector<uint8_t> excluded(n, 0);
  if (exclude_history) {
    for (int32_t item : history) {
      if (item >= 0 && static_cast<size_t>(item) < n) excluded[item] = 1;
    }
    for (int32_t item : relevant) {
      if (item >= 0 && static_cast<size_t>(item) < n) excluded[item] = 0;
    }
  }
  std::vector<int32_t> pool;
  std::vector<uint8_t> in_pool(n, 0);
  auto add = [&](const std::vector<int32_t>& items) {
    for (int32_t i : items) {
      if (!in_pool[i]) {
        in_pool[i] = 1;
        pool.push_back(i);
      }
    }
  };
  for (size_t c = 0; c < num_columns(); ++c) add(TopKItems(scratch.z[c], per_column, excluded));
  if (has_cold_terms()) {
    std::vector<uint8_t> warm_or_excluded(n);
    for (size_t i = 0; i < n; ++i) warm_or_excluded[i] = excluded[i] || !no_data_[i];
    add(TopKItems(scratch.z[content_index_], per_column, warm_or_excluded));
  }
  std::sort(pool.begin(), pool.end());

  BlendSample sample;
  const size_t f = num_features();
  sample.items = pool;
  sample.features.resize(pool.size() * f);
  sample.relevant.assign(pool.size(), 0);
  std::unordered_set<int32_t> relevant_set(relevant.begin(), relevant.end());
  sample.num_relevant = static_cast<int32_t>(relevant_set.size());
  for (size_t p = 0; p < pool.size(); ++p) {
    const int32_t item = pool[p];
    float* row = sample.features.data() + p * f;
    for (size_t c = 0; c < num_columns(); ++c) row[c] = scratch.z[c][item];
    if (has_cold_terms()) {
      row[num_columns()] = no_data_[item] ? scratch.z[content_index_][item] : 0.f;
      row[num_columns() + 1] = no_data_[item] ? 1.f : 0.f;
    }
    sample.relevant[p] = relevant_set.count(item) ? 1 : 0;
  }
  return sample;
}

}  // namespace souk::eval
