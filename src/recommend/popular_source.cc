#include "recommend/popular_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "recommend/source_io.h"

namespace souk::recommend {
namespace {

using internal::OptionReader;

std::vector<std::string> CategoriesOf(const InteractionData& data) {
  std::vector<std::string> out;
  out.reserve(data.num_items());
  for (const ItemInfo& info : data.items()) out.push_back(info.category);
  return out;
}

bool Contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

// ---- options ---------------------------------------------------------------

StatusOr<PopularOptions> PopularOptions::FromJson(const nlohmann::json& options) {
  static constexpr std::string_view kKeys[] = {"half_life_days", "exclude_context"};
  PopularOptions o;
  OptionReader r(options, "popular");
  RETURN_IF_ERROR(r.CheckKeys(kKeys));
  RETURN_IF_ERROR(r.Double("half_life_days", &o.half_life_days, 0, 1e6, /*min_exclusive=*/true));
  RETURN_IF_ERROR(r.Bool("exclude_context", &o.exclude_context));
  return o;
}

nlohmann::json PopularOptions::ToJson() const {
  return {{"half_life_days", half_life_days}, {"exclude_context", exclude_context}};
}

StatusOr<TrendingOptions> TrendingOptions::FromJson(const nlohmann::json& options) {
  static constexpr std::string_view kKeys[] = {"window_days", "baseline_days", "smoothing",
                                               "min_recent",  "min_ratio",     "exclude_context"};
  TrendingOptions o;
  OptionReader r(options, "trending");
  RETURN_IF_ERROR(r.CheckKeys(kKeys));
  RETURN_IF_ERROR(r.Double("window_days", &o.window_days, 0, 1e5, true));
  RETURN_IF_ERROR(r.Double("baseline_days", &o.baseline_days, 0, 1e6, true));
  RETURN_IF_ERROR(r.Double("smoothing", &o.smoothing, 0, 1e9, true));
  RETURN_IF_ERROR(r.Double("min_recent", &o.min_recent, 0, 1e12));
  RETURN_IF_ERROR(r.Double("min_ratio", &o.min_ratio, 0, 1e12));
  RETURN_IF_ERROR(r.Bool("exclude_context", &o.exclude_context));
  return o;
}

nlohmann::json TrendingOptions::ToJson() const {
  return {{"window_days", window_days}, {"baseline_days", baseline_days},
          {"smoothing", smoothing},     {"min_recent", min_recent},
          {"min_ratio", min_ratio},     {"exclude_context", exclude_context}};
}

// ---- RankedItems -----------------------------------------------------------

namespace internal {

void RankedItems::Build(const std::vector<float>& scores,
                        const std::vector<std::string>& categories) {
  order_.clear();
  by_category_.clear();
  for (int32_t i = 0; i < static_cast<int32_t>(scores.size()); ++i) {
    if (scores[i] > 0) order_.push_back(i);
  }
  std::sort(order_.begin(), order_.end(), [&](int32_t a, int32_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  for (int32_t i : order_) {
    const std::string& path = categories[i];
    if (path.empty()) continue;
    const std::string_view top = TopLevelCategory(path);
    by_category_[std::string(top)].push_back(i);
    if (top.size() != path.size()) by_category_[path].push_back(i);
  }
}

std::vector<int32_t> RankedItems::Collect(const std::vector<std::string>& categories,
                                          const std::string& category, int k,
                                          const std::vector<int32_t>& exclude) const {
  std::vector<int32_t> out;
  if (k <= 0) return out;
  const std::vector<int32_t>* list = &order_;
  bool filter = false;
  if (!category.empty()) {
    auto it = by_category_.find(category);
    if (it != by_category_.end()) {
      list = &it->second;
    } else {
      filter = true;
    }
  }
  for (int32_t i : *list) {
    if (static_cast<int>(out.size()) >= k) break;
    if (filter && !InCategory(categories[i], category)) continue;
    if (!exclude.empty() && Contains(exclude, i)) continue;
    out.push_back(i);
  }
  return out;
}

}  // namespace internal

// ---- popular ---------------------------------------------------------------

Status PopularSource::Fit(const InteractionData& data, const ProgressOptions& progress) {
  if (!data.finalized()) return FailedPreconditionError("popular: data is not finalized");
  reference_ms_ = data.max_timestamp_ms();
  scores_.assign(data.num_items(), 0.0f);
  const double half_life_ms = options_.half_life_days * internal::kMsPerDay;
  bool any = false;
  for (const Interaction& x : data.interactions()) {
    const float w = ImplicitWeight(x.type, x.value);
    if (w <= 0) continue;
    const double age = static_cast<double>(reference_ms_ - x.timestamp_ms);
    scores_[x.item] += static_cast<float>(w * std::exp2(-std::max(age, 0.0) / half_life_ms));
    any = true;
  }
  if (!any) return FailedPreconditionError("popular: the data has no positive events");
  categories_ = CategoriesOf(data);
  ranked_.Build(scores_, categories_);
  return OkStatus();
}

void PopularSource::Candidates(const RecommendRequest& request, int k,
                               std::vector<Candidate>* out) const {
  k = internal::ClampK(k, static_cast<int64_t>(scores_.size()));
  if (k == 0) return;
  const std::vector<int32_t> none;
  const std::vector<int32_t> items =
      ranked_.Collect(categories_, request.category, k,
                      options_.exclude_context ? request.items : none);
  // Decay to the request time (a common factor: the order does not change).
  const int64_t now = internal::RequestNow(request, reference_ms_);
  const double factor = std::exp2(-std::max<double>(0.0, static_cast<double>(now - reference_ms_)) /
                                  (options_.half_life_days * internal::kMsPerDay));
  for (int32_t i : items) {
    out->push_back({.item = i,
                    .score = static_cast<float>(scores_[i] * factor),
                    .reason = {.source = kName, .kind = "popular"}});
  }
}

Status PopularSource::Save(const std::string& dir) const {
  RETURN_IF_ERROR(internal::WriteFloatArray((std::filesystem::path(dir) / "scores.bin").string(),
                                            scores_));
  return internal::WriteManifest(dir, kName, kFormatVersion, scores_.size(),
                                 {{"options", options_.ToJson()}, {"reference_ms", reference_ms_}});
}

Status PopularSource::Load(const std::string& dir, const InteractionData& data) {
  ASSIGN_OR_RETURN(nlohmann::json m,
                   internal::ReadManifest(dir, kName, kFormatVersion, data.num_items()));
  ASSIGN_OR_RETURN(PopularOptions options, PopularOptions::FromJson(m.value("options",
                                                                             nlohmann::json{})));
  const std::string path = (std::filesystem::path(dir) / "scores.bin").string();
  ASSIGN_OR_RETURN(std::vector<float> scores, internal::ReadFloatArray(path));
  if (scores.size() != static_cast<size_t>(data.num_items())) {
    return DataLossError(fmt::format("{}: {} scores for {} items", path, scores.size(),
                                     data.num_items()));
  }
  options_ = options;
  reference_ms_ = m.value("reference_ms", int64_t{0});
  scores_ = std::move(scores);
  categories_ = CategoriesOf(data);
  ranked_.Build(scores_, categories_);
  return OkStatus();
}

// ---- trending --------------------------------------------------------------

Status TrendingSource::Fit(const InteractionData& data, const ProgressOptions& progress) {
  if (!data.finalized()) return FailedPreconditionError("trending: data is not finalized");
  const int64_t ref = data.max_timestamp_ms();
  const double window_ms = options_.window_days * internal::kMsPerDay;
  const double baseline_ms = options_.baseline_days * internal::kMsPerDay;
  std::vector<double> recent(data.num_items(), 0.0), baseline(data.num_items(), 0.0);
  bool any = false;
  for (const Interaction& x : data.interactions()) {
    const float w = ImplicitWeight(x.type, x.value);
    if (w <= 0) continue;
    any = true;
    const double age = static_cast<double>(ref - x.timestamp_ms);
    if (age < window_ms) {
      recent[x.item] += w;
    } else if (age < window_ms + baseline_ms) {
      baseline[x.item] += w;
    }
  }
  if (!any) return FailedPreconditionError("trending: the data has no positive events");
  scores_.assign(data.num_items(), 0.0f);
  const double s = options_.smoothing;
  for (int32_t i = 0; i < data.num_items(); ++i) {
    if (recent[i] <= 0 || recent[i] < options_.min_recent) continue;
    // Baseline activity per recent-window length.
    const double baseline_rate = baseline[i] * options_.window_days / options_.baseline_days;
    const double ratio = (recent[i] + s) / (baseline_rate + s);
    if (ratio < options_.min_ratio || ratio <= 1.0) continue;
    scores_[i] = static_cast<float>(ratio);
  }
  categories_ = CategoriesOf(data);
  ranked_.Build(scores_, categories_);
  return OkStatus();
}

void TrendingSource::Candidates(const RecommendRequest& request, int k,
                                std::vector<Candidate>* out) const {
  k = internal::ClampK(k, static_cast<int64_t>(scores_.size()));
  if (k == 0) return;
  const std::vector<int32_t> none;
  const std::vector<int32_t> items =
      ranked_.Collect(categories_, request.category, k,
                      options_.exclude_context ? request.items : none);
  for (int32_t i : items) {
    out->push_back({.item = i,
                    .score = scores_[i],
                    .reason = {.source = kName,
                               .kind = "trending",
                               .evidence_text =
                                   request.category.empty() ? categories_[i] : request.category,
                               .value = scores_[i]}});
  }
}

Status TrendingSource::Save(const std::string& dir) const {
  RETURN_IF_ERROR(internal::WriteFloatArray((std::filesystem::path(dir) / "scores.bin").string(),
                                            scores_));
  return internal::WriteManifest(dir, kName, kFormatVersion, scores_.size(),
                                 {{"options", options_.ToJson()}});
}

Status TrendingSource::Load(const std::string& dir, const InteractionData& data) {
  ASSIGN_OR_RETURN(nlohmann::json m,
                   internal::ReadManifest(dir, kName, kFormatVersion, data.num_items()));
  ASSIGN_OR_RETURN(TrendingOptions options,
                   TrendingOptions::FromJson(m.value("options", nlohmann::json{})));
  const std::string path = (std::filesystem::path(dir) / "scores.bin").string();
  ASSIGN_OR_RETURN(std::vector<float> scores, internal::ReadFloatArray(path));
  if (scores.size() != static_cast<size_t>(data.num_items())) {
    return DataLossError(fmt::format("{}: {} scores for {} items", path, scores.size(),
                                     data.num_items()));
  }
  options_ = options;
  scores_ = std::move(scores);
  categories_ = CategoriesOf(data);
  ranked_.Build(scores_, categories_);
  return OkStatus();
}

}  // namespace souk::recommend
