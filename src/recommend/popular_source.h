// The fallback sources that need no user: "popular" (time-decayed best sellers,
// overall and per category) and "trending" (momentum: the recent window's
// activity against a longer baseline, per category).
//
// Both weight each event with ImplicitWeight (purchase 4, cart 3, click 1.5,
// view 1, ...). Categories: a request's `category` restricts to items whose
// category path equals it or lies under it; rankings for every top-level and
// every full category path are precomputed, other prefixes filter the overall
// ranking. The request's context items (`items`) are not proposed.
//
// Thread-safety: Candidates/ScoreAll/Save are const and safe concurrently
// after Fit/Load. Cost: Fit O(events + items log items); Candidates O(k) for
// precomputed categories, O(items) worst case for other prefixes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "recommend/candidate_source.h"

namespace souk::recommend {

struct PopularOptions {
  // --- behavior ---
  double half_life_days = 14;  // an event's weight halves every this many days, counted back
                               // from the data's last timestamp (> 0)
  bool exclude_context = true;  // never propose the request's context items

  static StatusOr<PopularOptions> FromJson(const nlohmann::json& options);
  nlohmann::json ToJson() const;
};

struct TrendingOptions {
  // --- behavior ---
  double window_days = 3;     // the recent window, ending at the data's last timestamp (> 0)
  double baseline_days = 28;  // the baseline window just before the recent one (> 0)
  double smoothing = 3;       // pseudo-count added to the recent and baseline rates (> 0)
  double min_recent = 2;      // minimum weighted recent count to trend (>= 0)
  double min_ratio = 1.2;     // minimum (recent + s) / (baseline rate + s) to trend (>= 0)
  bool exclude_context = true;  // never propose the request's context items

  static StatusOr<TrendingOptions> FromJson(const nlohmann::json& options);
  nlohmann::json ToJson() const;
};

namespace internal {
// Items ordered by a score (best first), plus the order restricted to each
// top-level and full category path.
class RankedItems {
 public:
  // Items with score > 0 are ranked; `categories` has one path per item.
  void Build(const std::vector<float>& scores, const std::vector<std::string>& categories);
  // Up to k items (best first) in `category` (prefix; "" = all) not in `exclude`.
  // `categories` is the vector given to Build.
  std::vector<int32_t> Collect(const std::vector<std::string>& categories,
                               const std::string& category, int k,
                               const std::vector<int32_t>& exclude) const;
  const std::vector<int32_t>& order() const { return order_; }

 private:
  std::vector<int32_t> order_;
  std::map<std::string, std::vector<int32_t>, std::less<>> by_category_;
};
}  // namespace internal

class PopularSource final : public CandidateSource {
 public:
  static constexpr char kName[] = "popular";
  static constexpr int kFormatVersion = 1;

  explicit PopularSource(PopularOptions options = {}) : options_(options) {}

  std::string Name() const override { return kName; }
  // FailedPrecondition when the data has no event with a positive weight.
  Status Fit(const InteractionData& data, const ProgressOptions& progress) override;
  // Reason "popular"; score = decayed weighted count at the request time.
  void Candidates(const RecommendRequest& request, int k,
                  std::vector<Candidate>* out) const override;
  Status Save(const std::string& dir) const override;
  Status Load(const std::string& dir, const InteractionData& data) override;

  const PopularOptions& options() const { return options_; }
  // Decayed weighted count of each item at the data's last timestamp.
  const std::vector<float>& scores() const { return scores_; }

 private:
  PopularOptions options_;
  int64_t reference_ms_ = 0;
  std::vector<float> scores_;
  std::vector<std::string> categories_;
  internal::RankedItems ranked_;
};

class TrendingSource final : public CandidateSource {
 public:
  static constexpr char kName[] = "trending";
  static constexpr int kFormatVersion = 1;

  explicit TrendingSource(TrendingOptions options = {}) : options_(options) {}

  std::string Name() const override { return kName; }
  // FailedPrecondition when the data has no event with a positive weight.
  // Items trend as of the data's last timestamp.
  Status Fit(const InteractionData& data, const ProgressOptions& progress) override;
  // Reason "trending", evidence_text = the request's category when given, else
  // the item's category path; value = the momentum ratio (also the score).
  void Candidates(const RecommendRequest& request, int k,
                  std::vector<Candidate>* out) const override;
  Status Save(const std::string& dir) const override;
  Status Load(const std::string& dir, const InteractionData& data) override;

  // Momentum ratio per item (0 = not trending).
  const std::vector<float>& scores() const { return scores_; }

 private:
  TrendingOptions options_;
  std::vector<float> scores_;
  std::vector<std::string> categories_;
  internal::RankedItems ranked_;
};

}  // namespace souk::recommend
