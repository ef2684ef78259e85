// EVAL.md F: next-period purchases and purchase propensity on Online Retail
// (`souk eval rec --protocol online-retail --data FILE [--data FILE ...]
// --cutoff YYYY-MM-DD`).
//
// Cut-off T: everything before T trains; the target window is [T, T + 30 d).
// Customers = those with a purchase before T (n_customers).
//  (a) Recommendation, for the customers who buy in the window: rank every
//      item, recall@20 / ndcg@20 against the SET of items they buy in the
//      window (history not removed; items first sold in the window count in the
//      denominator although no model can know them).
//  (b) Propensity P(buys in the window): ROC-AUC, PR-AUC (average precision).
//
// Nothing from the window is used to choose anything: blend weights are tuned
// at the earlier cut-off T0 = T - 30 d (fit before T0, targets [T0, T)); the
// propensity model trains on customer features at reference times T - 30 d,
// T - 60 d, T - 90 d (those with >= 30 days of data before them), labels from
// the 30 days after each -- all before T -- with early stopping on the T - 30 d
// rows when older ones exist. Features at a reference time R use purchases
// strictly before R only (CustomerFeaturesAt).
//
// The engine for (a) is the learned ranker (rec_retail_ranker.h): candidate
// pools (own items, each blend member's best, popular_30d) scored by XGBoost
// rank:pairwise over own-purchase, customer, item and source features. It trains
// on groups at T - 30 d (features before T - 30 d, labels in [T - 30 d, T))
// and, when ranker.extra_reference_times > 0, at T - 60 d, ... (each needs a
// month of data before it), with early stopping on a customer split; it is
// applied at T with features before T. Without a usable training group the
// engine falls back to the blend (noted, extra.engine says which).
//
// Report: metrics = the engine (ranker or blend for (a), GBDT for (b));
// ablations, each with all five keys (null where the variant has no such
// part): "popular_30d", "own_most_bought", "rfm_logistic", each blend member
// alone, "blend", "ranker"; plus "blend_t0" (tuning quality at T0). extra:
// weights, ranker training counts, pool recall, counts.
//
// Thread-safety: Run is not reentrant.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "eval/protocol.h"
#include "eval/rec_blend.h"
#include "eval/rec_data.h"
#include "eval/rec_retail_ranker.h"
#include "rank/logistic_regression.h"
#include "recommend/candidate_source.h"

namespace souk::eval {

// Customer features at reference time R from purchases with time < R only.
struct CustomerFeatures {
  std::vector<std::string> names;  // column names
  std::vector<int32_t> customers;  // dense customers with >= 1 purchase before R
  std::vector<float> x;            // customers.size() * names.size(), row-major
};
// Columns: recency_days, frequency (invoices), monetary (sum quantity * price),
// lines, distinct_items, tenure_days, invoices_30d, invoices_90d, spend_30d,
// spend_90d, mean_gap_days (NaN with one invoice), recency_over_gap,
// active_months, mean_basket_value, is_uk. Cost O(purchases).
CustomerFeatures CustomerFeaturesAt(const RetailLog& log, int64_t reference_s);
// The three RFM columns (log1p recency_days, log1p frequency, log1p monetary)
// of CustomerFeaturesAt, for the logistic baseline.
std::vector<float> RfmColumns(const CustomerFeatures& f);

// 1 when the customer buys anything in [from_s, to_s), per entry of `customers`.
std::vector<int> BuysInWindow(const RetailLog& log, std::span<const int32_t> customers,
                              int64_t from_s, int64_t to_s);

// The logistic baseline (moved to rank/; kept here under its old name).
using rank::LogisticRegression;

struct OnlineRetailOptions {
  // --- behavior ---
  int window_days = 30;  // the target window (EVAL.md: 30)
  // Blend members for (a); unknown names are skipped with a note.
  std::vector<RecSourceSpec> sources = {
      // Repeat purchases count (EVAL.md F): the sources must propose seen items.
      {"buy_again", nlohmann::json::object()},
      {"cooccurrence", {{"exclude_seen", false}}},
      {"ease", {{"exclude_seen", false}}},
      {"popular", nlohmann::json::object()},
  };
  int train_reference_times = 3;  // propensity rows at T-30, T-60, ... (at most this many)
  bool tune_weights = true;
  // The engine for (a): the learned ranker over candidate pools
  // (rec_retail_ranker.h), trained at T - 30 d (+ ranker.extra_reference_times
  // earlier cut-offs with a month of history before them). false: the blend.
  bool use_ranker = true;
  RetailRankerOptions ranker;
  // --- performance ---
  int pool_per_source = 100;  // tuning pool per column
  int gbdt_threads = 2;
};

class OnlineRetailProtocol final : public EvalProtocol {
 public:
  explicit OnlineRetailProtocol(std::shared_ptr<const recommend::SourceRegistry> sources,
                                OnlineRetailOptions options = {});

  std::string Name() const override { return "online-retail"; }
  std::string Task() const override { return "rec"; }
  std::string Description() const override {
    return "EVAL.md F: next-30-day purchases and propensity (--data FILE..., --cutoff "
           "YYYY-MM-DD)";
  }
  StatusOr<EvalReport> Run(const EvalContext& ctx) override;

  OnlineRetailOptions& options() { return options_; }

 private:
  std::shared_ptr<const recommend::SourceRegistry> sources_;
  OnlineRetailOptions options_;
};

}  // namespace souk::eval
