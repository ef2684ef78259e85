// "buy_again": consumables the shopper is due to buy again.
//
// Fit learns, per item, from every user's purchases: a purchase occasion is a
// purchase event at least `min_gap_days` after the previous occasion of the
// same (user, item); a repeat user has >= 2 occasions. Items bought again by
// at least `min_repeat_users` users and with repeat rate (repeat users /
// buyers) >= `min_repeat_rate` get a prior cycle = the median over repeat
// users of their median gap.
//
// Candidates come from the request's history purchases only (so it works
// live, for users unknown at Fit): for each purchased item
//   * >= 2 occasions: cycle = the user's median gap, shrunk toward the item's
//     prior cycle (when there is one) with `prior_strength` pseudo-gaps;
//   * 1 occasion: cycle = the item's prior cycle, confidence = its repeat rate
//     (items without prior are skipped).
// With r = (now - last occasion) / cycle, due = exp(-ln(r)^2 / (2 w^2)) with
// w = early_width before r = 1 and late_width after; score = due x confidence
// x log2(1 + occasions); items with due < min_due are dropped (so not right
// after a purchase). Reason "buy_again", evidence_item = the item, value = the
// cycle in days. now = request.now_ms, or (when 0) the later of the data's
// last timestamp and the newest history event.
//
// Thread-safety: const methods are safe concurrently after Fit/Load.
// Cost: Fit O(events log events); Candidates O(history log history).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "recommend/candidate_source.h"

namespace souk::recommend {

struct BuyAgainOptions {
  // --- behavior ---
  double min_gap_days = 1;       // purchases of an item closer than this are one occasion (>= 0)
  int min_repeat_users = 2;      // repeat users an item needs for a prior cycle (>= 1)
  double min_repeat_rate = 0.05;  // repeat users / buyers an item needs for a prior ([0, 1])
  double prior_strength = 1;     // pseudo-gaps of the item prior in a user's cycle (>= 0)
  double early_width = 0.25;     // bump width in ln(elapsed / cycle) before due (> 0)
  double late_width = 0.7;       // bump width after due (> 0)
  double min_due = 0.05;         // minimum due-ness to propose an item ([0, 1])
  int max_history = 2000;        // history events looked at per request (>= 0)

  static StatusOr<BuyAgainOptions> FromJson(const nlohmann::json& options);
  nlohmann::json ToJson() const;
};

class BuyAgainSource final : public CandidateSource {
 public:
  static constexpr char kName[] = "buy_again";
  static constexpr int kFormatVersion = 1;

  explicit BuyAgainSource(BuyAgainOptions options = {}) : options_(options) {}

  std::string Name() const override { return kName; }
  // Never fails on finalized data: items without repeat purchases simply get
  // no prior (users' own cycles still work).
  Status Fit(const InteractionData& data, const ProgressOptions& progress) override;
  void Candidates(const RecommendRequest& request, int k,
                  std::vector<Candidate>* out) const override;
  Status Save(const std::string& dir) const override;
  Status Load(const std::string& dir, const InteractionData& data) override;

  // The item's prior cycle in days (0 = none) and repeat rate.
  float PriorCycleDays(int32_t item) const;
  float RepeatRate(int32_t item) const;

 private:
  BuyAgainOptions options_;
  int64_t reference_ms_ = 0;
  std::vector<float> prior_cycle_days_;  // 0 = no prior
  std::vector<float> repeat_rate_;
  std::vector<std::string> categories_;
};

}  // namespace souk::recommend
