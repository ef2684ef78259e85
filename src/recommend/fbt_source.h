// "fbt": frequently bought together, as association rules A -> B mined from
// baskets. A basket is the distinct items one user purchased within one
// session, or on the same UTC day when the session is unknown (add-to-cart
// events count too with `include_cart`). For each pair:
//   support    = baskets holding both A and B          (>= min_support)
//   confidence = support / baskets holding A            (>= min_confidence)
//   lift       = confidence / (baskets holding B / all baskets)  (>= min_lift)
// Complements, not substitutes: B in the same (non-empty) leaf category path
// as A is dropped unless `allow_same_category`. Each A keeps its `max_rules`
// rules with the highest confidence.
//
// Candidates: for the request's context items (the cart or the product page),
// or, when there are none, the last `max_history` purchase/cart events of the
// history: score(B) = sum over anchors A of confidence(A -> B); reason
// "bought_with", evidence_item = the anchor with the most confident rule,
// value = that rule's lift. Anchors are never proposed.
//
// Thread-safety: const methods are safe concurrently after Fit/Load.
// Cost: Fit O(sum of basket sizes^2); Candidates O(anchors x max_rules).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "recommend/candidate_source.h"
#include "recommend/source_io.h"

namespace souk::recommend {

struct FbtOptions {
  // --- behavior ---
  bool include_cart = false;         // add-to-cart events are basket items too
  int min_support = 2;               // minimum baskets with both items (>= 1)
  double min_confidence = 0.01;      // minimum P(B | A) ([0, 1])
  double min_lift = 1.2;             // minimum lift (>= 1: B more likely with A than without)
  bool allow_same_category = false;  // keep rules whose items share the leaf category
  int max_rules = 50;                // rules kept per antecedent item (>= 1)
  int max_history = 5;               // anchors taken from the history without context items
  // --- performance ---
  int max_basket_items = 100;  // larger baskets keep their first this many items (>= 2)

  static StatusOr<FbtOptions> FromJson(const nlohmann::json& options);
  nlohmann::json ToJson() const;
};

class FbtSource final : public CandidateSource {
 public:
  static constexpr char kName[] = "fbt";
  static constexpr int kFormatVersion = 1;

  explicit FbtSource(FbtOptions options = {}) : options_(options) {}

  std::string Name() const override { return kName; }
  // FailedPrecondition when the data has no basket (no purchase event).
  Status Fit(const InteractionData& data, const ProgressOptions& progress) override;
  void Candidates(const RecommendRequest& request, int k,
                  std::vector<Candidate>* out) const override;
  Status Save(const std::string& dir) const override;
  Status Load(const std::string& dir, const InteractionData& data) override;

  struct Rule {
    int32_t consequent;
    int32_t support;
    float confidence;
    float lift;
  };
  // Rules A -> B of `antecedent`, most confident first (empty for a bad id).
  std::vector<Rule> Rules(int32_t antecedent) const;
  int64_t num_baskets() const { return num_baskets_; }

 private:
  FbtOptions options_;
  internal::SparseRows rules_;   // values = confidence, extra = lift
  std::vector<int32_t> support_;  // parallel to rules_.cols
  int64_t num_baskets_ = 0;
  std::vector<std::string> categories_;
};

}  // namespace souk::recommend
