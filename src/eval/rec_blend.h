// SourceBlend: the recommendation engine as the offline protocols (EVAL.md C,
// F) measure it -- several CandidateSources created by registry name, fitted
// on one InteractionData, their per-request scores standardized
// (StandardizeScores) and summed with tuned weights. Protocols may add
// "external" columns (features they compute themselves, e.g. the customer's
// own purchase counts) that are blended the same way.
//
// Cold-start terms: when a content member is present and some items have no
// interaction in the fitted data ("no-data" items), two extra features exist
// for those items only -- the content member's score again and a constant --
// so a no-data item can be ranked by its text with its own scale and offset.
//
//   score(i) = sum_c w_c z_c(i) + [no_data(i)] (w_cc z_content(i) + w_cb)
//
// Feature / weight order: members (in spec order), external columns (in
// AddExternalColumn order), then cold_content, cold_bias when has_cold_terms().
//
// Thread-safety: after Fit, Score/Combine/Sample are const and may run
// concurrently with distinct scratch objects.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/progress.h"
#include "common/status.h"
#include "eval/rec_metrics.h"
#include "recommend/candidate_source.h"

namespace souk::eval {

// A blend member: a CandidateSource created by name with its options.
struct RecSourceSpec {
  std::string name;
  nlohmann::json options = nlohmann::json::object();
};

// Per-request standardized scores, one vector per column (members first, then
// external columns, which the caller fills and standardizes after Score).
struct BlendScratch {
  std::vector<std::vector<float>> z;
};

class SourceBlend {
 public:
  using Note = std::function<void(const std::string&)>;

  // Creates the members of `specs` with `registry` and fits them on `data`
  // (owned from now on). Names the registry does not know are skipped with a
  // note. `content_source` names the member that scores no-data items ("" =
  // none). Errors: a member's options or Fit error, prefixed with its name;
  // FailedPrecondition when no member is left. Call once.
  Status Fit(const recommend::SourceRegistry& registry, std::span<const RecSourceSpec> specs,
             std::string_view content_source, recommend::InteractionData data,
             const ProgressOptions& progress, const Note& note, std::string_view label);
  // Adds a column the caller fills (BlendScratch::z[index]) after Score. Call
  // after Fit, before the first Score. Returns the column index.
  size_t AddExternalColumn(std::string name, float default_weight);

  const recommend::InteractionData& data() const { return *data_; }
  size_t num_members() const { return members_.size(); }
  size_t num_columns() const { return column_names_.size(); }
  const std::string& member_name(size_t m) const { return column_names_[m]; }
  std::vector<std::string> MemberNames() const;
  bool has_cold_terms() const { return content_index_ >= 0 && num_no_data_ > 0; }
  int64_t num_no_data() const { return num_no_data_; }
  size_t num_features() const { return num_columns() + (has_cold_terms() ? 2 : 0); }
  // The content member's index (-1 = none) and the no-data items (1 = no
  // interaction in the fitted data), num_items long.
  int content_index() const { return content_index_; }
  const std::vector<uint8_t>& no_data_items() const { return no_data_; }

  // 1 for every member and external column (its default weight), 0 for the
  // cold terms.
  std::vector<float> DefaultWeights() const;
  // Grid for TuneBlendWeights (the cold bias may also be negative).
  BlendTuningOptions TuningOptions() const;
  // The same weights with the cold terms set to 0.
  std::vector<float> WithoutColdTerms(std::vector<float> weights) const;
  // {"name": weight, ...} (cold terms as "cold_content", "cold_bias").
  nlohmann::json WeightsJson(std::span<const float> weights) const;

  // Fills scratch->z[m] (num_items floats) for every member: ScoreAll, then
  // StandardizeScores. External columns are resized to num_items and zeroed.
  void Score(const recommend::RecommendRequest& request, BlendScratch* scratch) const;
  // out[i] = the blended score of item i (see the header comment).
  void Combine(const BlendScratch& scratch, std::span<const float> weights,
               std::span<float> out) const;
  // A tuning sample: the pool is the union of the `per_column` best items of
  // every column (and of the content column among no-data items), without the
  // items of `history` (when exclude_history) except relevant ones; features
  // as Combine uses them. `relevant` may hold items outside the pool.
  BlendSample Sample(const BlendScratch& scratch, std::span<const int32_t> history,
                     std::span<const int32_t> relevant, int per_column,
                     bool exclude_history) const;

 private:
  std::unique_ptr<recommend::InteractionData> data_;
  std::vector<std::unique_ptr<recommend::CandidateSource>> members_;
  std::vector<std::string> column_names_;
  std::vector<float> default_weights_;
  std::vector<uint8_t> no_data_;
  int64_t num_no_data_ = 0;
  int content_index_ = -1;
};

}  // namespace souk::eval
