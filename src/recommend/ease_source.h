// "ease": EASE, the closed-form linear item-item autoencoder (Steck, "Embarrassingly
// Shallow Autoencoders for Sparse Data", WWW 2019):
//   G = X^T X + lambda I,  P = G^-1,  B = I - P diag(1 / diag(P))
// i.e. B_ij = -P_ij / P_jj and B_jj = 0, so an item is never recommended
// because of itself. X is the implicit user x item matrix: binary (the user
// had a positive event with the item) or, with `weighted`, the strongest
// ImplicitWeight of the user's events with it.
//
// Catalogs above `max_items` keep the `max_items` items with the most users
// in the model; other items get no score (-infinity in ScoreAll, never a
// candidate). The inverse is computed with LAPACK (spotrf/spotri of OpenBLAS)
// when the build links it, else with Eigen's LLT.
//
// Candidates: the user row x is built from the request's history (the last
// max_history events, so live events count) and the context items; scores
// s = x B. Reason "because_you", evidence_item = the query item i with the
// largest x_i B_ij; value = that contribution.
//
// Memory: 4 * m^2 bytes for B (m = modelled items: 256 MB at m = 8000), and
// the same again during Fit. Cost: Fit O(sum of users' distinct items^2 + m^3);
// Candidates O(|query| * m).
//
// Thread-safety: const methods are safe concurrently after Fit/Load.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "recommend/candidate_source.h"

namespace souk::recommend {

struct EaseOptions {
  // --- behavior ---
  double lambda = 200;         // L2 regularization added to the Gram diagonal (> 0)
  bool weighted = false;       // X holds ImplicitWeight instead of 1
  int max_items = 8000;        // items kept in the model, most popular first (>= 1)
  int max_history = 200;       // history events used per request (>= 0)
  double context_weight = 1;   // X value of each context item of the request (>= 0)
  bool exclude_seen = true;    // do not propose items of the request's history / context
  // --- performance ---
  int max_user_items = 2000;   // a user's most recent distinct items counted in the Gram

  static StatusOr<EaseOptions> FromJson(const nlohmann::json& options);
  nlohmann::json ToJson() const;
};

class EaseSource final : public CandidateSource {
 public:
  static constexpr char kName[] = "ease";
  static constexpr int kFormatVersion = 1;

  explicit EaseSource(EaseOptions options = {}) : options_(options) {}

  std::string Name() const override { return kName; }
  // FailedPrecondition when the data has no positive event; Internal when the
  // factorization fails (not positive definite: raise lambda).
  Status Fit(const InteractionData& data, const ProgressOptions& progress) override;
  void Candidates(const RecommendRequest& request, int k,
                  std::vector<Candidate>* out) const override;
  // Exact scores for the modelled items, -infinity for the others.
  void ScoreAll(const RecommendRequest& request, std::span<float> scores) const override;
  Status Save(const std::string& dir) const override;
  Status Load(const std::string& dir, const InteractionData& data) override;

  // Number of items in the model, and B_ij for data items (0 when either is
  // not modelled).
  int32_t num_model_items() const { return static_cast<int32_t>(model_items_.size()); }
  float Weight(int32_t from_item, int32_t to_item) const;

 private:
  // Query (model index, x value) pairs of a request.
  std::vector<std::pair<int32_t, float>> QueryRow(const RecommendRequest& request) const;
  // Scores s = x B over model indices.
  std::vector<float> Scores(const std::vector<std::pair<int32_t, float>>& row) const;

  EaseOptions options_;
  int32_t num_items_ = 0;
  std::vector<int32_t> model_items_;  // model index -> data item
  std::vector<int32_t> model_index_;  // data item -> model index or -1
  std::vector<float> b_;              // m x m, row-major: b_[i * m + j] = B_ij
  std::vector<std::string> categories_;
};

}  // namespace souk::recommend
