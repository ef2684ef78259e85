#include "recommend/buy_again_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "recommend/source_io.h"

namespace souk::recommend {
namespace {

using internal::OptionReader;

// Median of a non-empty vector (reorders it).
double Median(std::vector<double>* v) {
  const size_t mid = v->size() / 2;
  std::nth_element(v->begin(), v->begin() + mid, v->end());
  const double hi = (*v)[mid];
  if (v->size() % 2 == 1) return hi;
  const double lo = *std::max_element(v->begin(), v->begin() + mid);
  return (lo + hi) / 2;
}

// Purchase occasions (sorted timestamps, merged within min_gap_ms).
std::vector<int64_t> Occasions(std::vector<int64_t> times, double min_gap_ms) {
  std::sort(times.begin(), times.end());
  std::vector<int64_t> out;
  for (int64_t t : times) {
    if (out.empty() || static_cast<double>(t - out.back()) >= min_gap_ms) out.push_back(t);
  }
  return out;
}

std::vector<double> GapsInDays(const std::vector<int64_t>& occasions) {
  std::vector<double> gaps;
  for (size_t i = 1; i < occasions.size(); ++i) {
    gaps.push_back(static_cast<double>(occasions[i] - occasions[i - 1]) / internal::kMsPerDay);
  }
  return gaps;
}

}  // namespace

StatusOr<BuyAgainOptions> BuyAgainOptions::FromJson(const nlohmann::json& options) {
  static constexpr std::string_view kKeys[] = {
      "min_gap_days", "min_repeat_users", "min_repeat_rate", "prior_strength",
      "early_width",  "late_width",       "min_due",         "max_history"};
  BuyAgainOptions o;
  OptionReader r(options, "buy_again");
  RETURN_IF_ERROR(r.CheckKeys(kKeys));
  RETURN_IF_ERROR(r.Double("min_gap_days", &o.min_gap_days, 0, 1e5));
  RETURN_IF_ERROR(r.Int("min_repeat_users", &o.min_repeat_users, 1, 1000000000));
  RETURN_IF_ERROR(r.Double("min_repeat_rate", &o.min_repeat_rate, 0, 1));
  RETURN_IF_ERROR(r.Double("prior_strength", &o.prior_strength, 0, 1e6));
  RETURN_IF_ERROR(r.Double("early_width", &o.early_width, 0, 100, true));
  RETURN_IF_ERROR(r.Double("late_width", &o.late_width, 0, 100, true));
  RETURN_IF_ERROR(r.Double("min_due", &o.min_due, 0, 1));
  RETURN_IF_ERROR(r.Int("max_history", &o.max_history, 0, 10000000));
  return o;
}

nlohmann::json BuyAgainOptions::ToJson() const {
  return {{"min_gap_days", min_gap_days},     {"min_repeat_users", min_repeat_users},
          {"min_repeat_rate", min_repeat_rate}, {"prior_strength", prior_strength},
          {"early_width", early_width},       {"late_width", late_width},
          {"min_due", min_due},               {"max_history", max_history}};
}

Status BuyAgainSource::Fit(const InteractionData& data, const ProgressOptions& progress) {
  if (!data.finalized()) return FailedPreconditionError("buy_again: data is not finalized");
  const int32_t n = data.num_items();
  const double min_gap_ms = options_.min_gap_days * internal::kMsPerDay;
  std::vector<int32_t> buyers(n, 0), repeaters(n, 0);
  std::vector<std::vector<double>> user_cycles(n);
  std::map<int32_t, std::vector<int64_t>> times;
  for (int32_t u = 0; u < data.num_users(); ++u) {
    times.clear();
    for (const Interaction& x : data.UserHistory(u)) {
      if (x.type == EventType::kPurchase) times[x.item].push_back(x.timestamp_ms);
    }
    for (auto& [item, t] : times) {
      ++buyers[item];
      std::vector<double> gaps = GapsInDays(Occasions(std::move(t), min_gap_ms));
      if (gaps.empty()) continue;
      ++repeaters[item];
      user_cycles[item].push_back(Median(&gaps));
    }
  }
  prior_cycle_days_.assign(n, 0.0f);
  repeat_rate_.assign(n, 0.0f);
  for (int32_t i = 0; i < n; ++i) {
    if (buyers[i] == 0) continue;
    repeat_rate_[i] = static_cast<float>(repeaters[i]) / static_cast<float>(buyers[i]);
    if (repeaters[i] >= options_.min_repeat_users && repeat_rate_[i] >= options_.min_repeat_rate) {
      prior_cycle_days_[i] = static_cast<float>(Median(&user_cycles[i]));
    }
  }
  reference_ms_ = data.max_timestamp_ms();
  categories_.clear();
  for (const ItemInfo& info : data.items()) categories_.push_back(info.category);
  return OkStatus();
}

float BuyAgainSource::PriorCycleDays(int32_t item) const {
  return item >= 0 && item < static_cast<int32_t>(prior_cycle_days_.size())
             ? prior_cycle_days_[item] : 0.0f;
}

float BuyAgainSource::RepeatRate(int32_t item) const {
  return item >= 0 && item < static_cast<int32_t>(repeat_rate_.size()) ? repeat_rate_[item]
                                                                       : 0.0f;
}

void BuyAgainSource::Candidates(const RecommendRequest& request, int k,
                                std::vector<Candidate>* out) const {
  const int32_t n = static_cast<int32_t>(prior_cycle_days_.size());
  k = internal::ClampK(k, n);
  if (k == 0) return;
  const std::vector<HistoryEvent> history =
      internal::RecentValidHistory(request, n, options_.max_history);
  std::map<int32_t, std::vector<int64_t>> times;
  int64_t newest = reference_ms_;
  for (const HistoryEvent& e : history) {
    newest = std::max(newest, e.timestamp_ms);
    if (e.type == EventType::kPurchase) times[e.item].push_back(e.timestamp_ms);
  }
  const int64_t now = internal::RequestNow(request, newest);
  const double min_gap_ms = options_.min_gap_days * internal::kMsPerDay;
  struct Due {
    float score;
    double cycle;
  };
  std::map<int32_t, Due> due_items;
  std::vector<std::pair<int32_t, float>> scored;
  for (auto& [item, t] : times) {
    if (!internal::InCategory(categories_[item], request.category)) continue;
    const std::vector<int64_t> occasions = Occasions(std::move(t), min_gap_ms);
    std::vector<double> gaps = GapsInDays(occasions);
    const double prior = prior_cycle_days_[item];
    double cycle = 0, confidence = 1;
    if (!gaps.empty()) {
      const double own = Median(&gaps);
      const double g = static_cast<double>(gaps.size());
      cycle = prior > 0 ? (g * own + options_.prior_strength * prior) /
                              (g + options_.prior_strength)
                        : own;
    } else if (prior > 0) {
      cycle = prior;
      confidence = repeat_rate_[item];
    }
    if (!(cycle > 0)) continue;
    const double elapsed_days = static_cast<double>(now - occasions.back()) / internal::kMsPerDay;
    if (!(elapsed_days > 0)) continue;
    const double z = std::log(elapsed_days / cycle);
    const double w = z < 0 ? options_.early_width : options_.late_width;
    const double due = std::exp(-z * z / (2 * w * w));
    if (due < options_.min_due || due <= 0) continue;
    const float score = static_cast<float>(
        due * confidence * std::log2(1.0 + static_cast<double>(occasions.size())));
    due_items[item] = {score, cycle};
    scored.emplace_back(item, score);
  }
  for (const auto& [item, score] : TopK(scored, k)) {
    out->push_back({.item = item,
                    .score = score,
                    .reason = {.source = kName,
                               .kind = "buy_again",
                               .evidence_item = item,
                               .value = due_items.at(item).cycle}});
  }
}

Status BuyAgainSource::Save(const std::string& dir) const {
  const std::filesystem::path d(dir);
  RETURN_IF_ERROR(internal::WriteFloatArray((d / "prior_cycle_days.bin").string(),
                                            prior_cycle_days_));
  RETURN_IF_ERROR(internal::WriteFloatArray((d / "repeat_rate.bin").string(), repeat_rate_));
  return internal::WriteManifest(dir, kName, kFormatVersion, prior_cycle_days_.size(),
                                 {{"options", options_.ToJson()}, {"reference_ms", reference_ms_}});
}

Status BuyAgainSource::Load(const std::string& dir, const InteractionData& data) {
  ASSIGN_OR_RETURN(nlohmann::json m,
                   internal::ReadManifest(dir, kName, kFormatVersion, data.num_items()));
  ASSIGN_OR_RETURN(BuyAgainOptions options,
                   BuyAgainOptions::FromJson(m.value("options", nlohmann::json{})));
  const std::filesystem::path d(dir);
  ASSIGN_OR_RETURN(std::vector<float> cycles,
                   internal::ReadFloatArray((d / "prior_cycle_days.bin").string()));
  ASSIGN_OR_RETURN(std::vector<float> rates,
                   internal::ReadFloatArray((d / "repeat_rate.bin").string()));
  const size_t n = static_cast<size_t>(data.num_items());
  if (cycles.size() != n || rates.size() != n) {
    return DataLossError(fmt::format("{}: {} cycles and {} rates for {} items", dir,
                                     cycles.size(), rates.size(), n));
  }
  options_ = options;
  reference_ms_ = m.value("reference_ms", int64_t{0});
  prior_cycle_days_ = std::move(cycles);
  repeat_rate_ = std::move(rates);
  categories_.clear();
  for (const ItemInfo& info : data.items()) categories_.push_back(info.category);
  return OkStatus();
}

}  // namespace souk::recommend
