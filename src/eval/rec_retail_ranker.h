// The learned ranker of protocol F (EVAL.md F, online_retail_protocol.h):
// per customer a candidate pool, one feature row per (customer, candidate)
// and an XGBoost ranker (rank::GbdtModel) trained at earlier cut-offs.
//
// Pool of a customer at reference time R: every item the customer bought
// before R (up to max_own_items, the most recent first) and the best
// `per_source` items of each given source score vector (e.g. buy_again,
// cooccurrence, ease, popular of a SourceBlend fitted before R) and of the
// item popularity over the last 30 days before R.
//
// Features (RetailRankerFeatures::Names; NaN = missing):
//   own:      own_invoices, own_quantity, own_lines, own_days_since_last,
//             own_days_since_first, own_median_gap_days, own_due (days since
//             last / own median gap), own_share (own_invoices / customer invoices),
//             own_recent_90d (invoices with the item in the last 90 days),
//             own_rank (rank of the item among the customer's items by invoices)
//   customer: cust_recency_days, cust_invoices, cust_monetary_log,
//             cust_distinct_items, cust_median_gap_days, cust_due (recency /
//             median gap), cust_tenure_days, cust_repeat_share (lines after the
//             first day whose item the customer bought on an earlier day)
//   item:     item_buyers, item_repeat_rate (buyers with >= 2 invoices of it /
//             buyers), item_pop_7d, item_pop_30d, item_pop_90d (purchase
//             lines), item_trend ((pop_30d / 30 + 1) / (pop_90d / 90 + 1)),
//             item_log_price (mean log1p unit price), item_age_days,
//             item_days_since_sold, item_cycle_days (median gap of repeat
//             buyers), item_trend_7d ((pop_7d / 7 + 1) / (pop_30d / 30 + 1)),
//             item_new_buyers_30d (customers whose first purchase of it is in
//             the last 30 days)
//   sources:  src_<name> (the vector's value) and src_<name>_rank (position in
//             its ranking, capped at kMaxSourceRank) for each source vector
// Every statistic uses purchases with time < R only (leakage guard test).
//
// Training: AddRankerGroups collects groups (one per customer with a purchase
// in the label window and >= 1 bought item in the pool), label = 1 when the
// customer buys the item in [R, R + window); customers are split by
// Fnv1a64(customer id) into training and validation (early stopping).
//
// Thread-safety: RetailRankerFeatures is immutable after construction; its
// const methods may run concurrently. Cost: construction O(purchases log);
// Candidates/Rows O(items log per_source + pool x features).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "eval/rec_data.h"
#include "rank/gbdt_model.h"

namespace souk::eval {

struct RetailRankerOptions {
  // --- behavior ---
  int per_source = 100;       // pool: best items of each source vector and of popular_30d
  int max_own_items = 300;    // pool: the customer's own items (most recent first)
  double valid_fraction = 0.2;  // customers (by hash) held out for early stopping
  int extra_reference_times = 2;  // training cut-offs besides T - 30 d: T - 60 d, ...
  // rank:pairwise: on the dev data it scored a higher validation ndcg@20 than
  // rank:ndcg (0.459 vs 0.447 on the same held-out customers) in a third of the time.
  rank::GbdtOptions gbdt = [] {
    rank::GbdtOptions o;
    o.objective = "rank:pairwise";
    o.eval_metric = "ndcg@20";
    o.rounds = 600;
    o.early_stopping_rounds = 50;
    o.eta = 0.05;
    o.max_depth = 6;
    o.min_child_weight = 5;
    o.subsample = 0.8;
    o.colsample_bytree = 0.8;
    o.threads = 2;
    return o;
  }();
};

class RetailRankerFeatures {
 public:
  static constexpr int kMaxSourceRank = 1000;

  // Statistics of `log` from purchases with time_s < reference_s;
  // `source_names` name the score vectors later given to Candidates/Rows.
  RetailRankerFeatures(const RetailLog& log, int64_t reference_s,
                       std::vector<std::string> source_names);

  const std::vector<std::string>& names() const { return names_; }
  size_t num_features() const { return names_.size(); }
  int64_t reference_s() const { return reference_s_; }
  // Raw popularity (distinct invoices) of each item over the 30 days before R.
  const std::vector<float>& popular_30d() const { return pop30_; }
  // True when the customer has a purchase before R.
  bool HasHistory(int32_t customer) const;

  // The pool of `customer` (distinct items, ascending). `source_scores` has one
  // vector of num_items floats per source name (-inf / NaN = unscored).
  std::vector<int32_t> Candidates(int32_t customer,
                                  std::span<const std::vector<float>> source_scores,
                                  int per_source, int max_own_items) const;
  // Feature rows (items.size() x num_features(), row-major) for `items`.
  std::vector<float> Rows(int32_t customer, std::span<const int32_t> items,
                          std::span<const std::vector<float>> source_scores) const;

 private:
  struct OwnItem {
    int32_t item = -1;
    int32_t invoices = 0, lines = 0, recent90 = 0;
    float quantity = 0;
    int64_t first_s = 0, last_s = 0;
    float median_gap_days = 0;  // NaN with one invoice
  };
  struct Customer {
    std::vector<OwnItem> items;  // by item
    int32_t invoices = 0, distinct_items = 0;
    double monetary = 0;
    int64_t first_s = 0, last_s = 0;
    float median_gap_days = 0;  // NaN with one invoice
    float repeat_share = 0;     // NaN when there is no later day
  };
  const OwnItem* Own(int32_t customer, int32_t item) const;

  int64_t reference_s_ = 0;
  size_t num_items_ = 0;
  std::vector<std::string> source_names_, names_;
  std::vector<Customer> customers_;
  std::vector<std::vector<int32_t>> rank_of_;  // per customer, per own item: own_rank
  std::vector<float> buyers_, repeat_rate_, pop7_, pop30_, pop90_, log_price_, age_days_,
      days_since_sold_, cycle_days_, new_buyers30_;
};

// Training rows of the ranker at one reference time.
struct RetailRankerGroups {
  rank::TrainingSet train, valid;
  int64_t customers = 0;          // customers with a window purchase
  int64_t relevant = 0;           // (customer, item) window pairs
  int64_t relevant_in_pool = 0;   // of those, in the pool
};

// Adds to `out` one group per customer in `customers` whose pool holds a
// relevant item; `relevant[i]` are the window items of customers[i];
// `scores_of(c)` returns the customer's source vectors (same order as the
// features' source names). Groups go to `out->valid` when
// Fnv1a64(customer id) falls in the validation fraction.
void AddRankerGroups(const RetailLog& log, const RetailRankerFeatures& features,
                     std::span<const int32_t> customers,
                     std::span<const std::unordered_set<int32_t>> relevant,
                     const std::function<std::vector<std::vector<float>>(int32_t)>& scores_of,
                     const RetailRankerOptions& options, RetailRankerGroups* out);

// Trains the ranker (early stopping on `groups.valid` when it has groups).
// Errors: FailedPrecondition without any training group with a positive;
// the GbdtModel errors.
StatusOr<std::unique_ptr<rank::GbdtModel>> TrainRetailRanker(const RetailRankerGroups& groups,
                                                             const RetailRankerOptions& options);

// Full score vector of one customer: pool items get the ranker's score plus a
// large offset (so they come before every non-pool item), the others their
// popular_30d count scaled below that offset.
std::vector<float> RetailRankerScores(const rank::GbdtModel& model,
                                      const RetailRankerFeatures& features, int32_t customer,
                                      std::span<const std::vector<float>> source_scores,
                                      const RetailRankerOptions& options);

}  // namespace souk::eval
