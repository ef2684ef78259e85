#include "eval/rec_retail_ranker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "eval/rec_metrics.h"
#include "eval/splits.h"

namespace souk::eval {
namespace {

constexpr int64_t kDay = 86'400;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
// Pool items score above this offset, the rest below (RetailRankerScores).
constexpr float kPoolOffset = 10'000.f;

float Median(std::vector<float> v) {
  if (v.empty()) return kNaN;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  float m = v[mid];
  if (v.size() % 2 == 0) {
    m = (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;
  }
  return m;
}

// Gaps in days between consecutive distinct times (sorted ascending).
std::vector<float> GapsDays(const std::vector<int64_t>& times) {
  std::vector<float> gaps;
  for (size_t i = 1; i < times.size(); ++i) {
    gaps.push_back(static_cast<float>(times[i] - times[i - 1]) / static_cast<float>(kDay));
  }
  return gaps;
}

}  // namespace

RetailRankerFeatures::RetailRankerFeatures(const RetailLog& log, int64_t reference_s,
                                           std::vector<std::string> source_names)
    : reference_s_(reference_s),
      num_items_(log.item_codes.size()),
      source_names_(std::move(source_names)) {
  names_ = {"own_invoices",       "own_quantity",      "own_lines",
            "own_days_since_last", "own_days_since_first", "own_median_gap_days",
            "own_due",            "own_share",         "own_recent_90d",
            "own_rank",           "cust_recency_days", "cust_invoices",
            "cust_monetary_log",  "cust_distinct_items", "cust_median_gap_days",
            "cust_due",           "cust_tenure_days",  "cust_repeat_share",
            "item_buyers",
            "item_repeat_rate",   "item_pop_7d",       "item_pop_30d",
            "item_pop_90d",       "item_trend",        "item_log_price",
            "item_age_days",      "item_days_since_sold", "item_cycle_days",
            "item_trend_7d",      "item_new_buyers_30d"};
  for (const std::string& s : source_names_) {
    names_.push_back("src_" + s);
    names_.push_back("src_" + s + "_rank");
  }

  const size_t n = num_items_;
  customers_.assign(log.customer_ids.size(), {});
  buyers_.assign(n, 0.f);
  repeat_rate_.assign(n, 0.f);
  pop7_.assign(n, 0.f);
  pop30_.assign(n, 0.f);
  pop90_.assign(n, 0.f);
  log_price_.assign(n, kNaN);
  age_days_.assign(n, kNaN);
  days_since_sold_.assign(n, kNaN);
  cycle_days_.assign(n, kNaN);
  new_buyers30_.assign(n, 0.f);

  // Per customer: (item, invoice time) of every purchase line before R.
  struct Line {
    int32_t item;
    int32_t invoice;
    int64_t time_s;
    float quantity;
  };
  std::vector<std::vector<Line>> lines(log.customer_ids.size());
  std::vector<double> price_sum(n, 0);
  std::vector<int64_t> price_count(n, 0), first_sold(n, -1), last_sold(n, -1);
  for (const RetailPurchase& p : log.purchases) {
    if (p.time_s >= reference_s) break;  // purchases are in time order
    lines[p.customer].push_back({p.item, p.invoice, p.time_s, p.quantity});
    const int64_t age = reference_s - p.time_s;
    if (age < 7 * kDay) pop7_[p.item] += 1;
    if (age < 30 * kDay) pop30_[p.item] += 1;
    if (age < 90 * kDay) pop90_[p.item] += 1;
    price_sum[p.item] += std::log1p(std::max(0.f, p.unit_price));
    ++price_count[p.item];
    if (first_sold[p.item] < 0) first_sold[p.item] = p.time_s;
    last_sold[p.item] = p.time_s;
    Customer& c = customers_[p.customer];
    c.monetary += static_cast<double>(p.quantity) * p.unit_price;
  }
  for (size_t i = 0; i < n; ++i) {
    if (price_count[i] > 0) {
      log_price_[i] = static_cast<float>(price_sum[i] / static_cast<double>(price_count[i]));
      age_days_[i] = static_cast<float>(reference_s - first_sold[i]) / kDay;
      days_since_sold_[i] = static_cast<float>(reference_s - last_sold[i]) / kDay;
    }
  }

  std::vector<int64_t> repeat_buyers(n, 0);
  std::vector<std::vector<float>> item_gaps(n);
  for (size_t c = 0; c < lines.size(); ++c) {
    std::vector<Line>& ls = lines[c];
    if (ls.empty()) continue;
    Customer& cust = customers_[c];
    // Customer-level invoices (distinct invoice ids, in time order).
    std::vector<int64_t> invoice_times;
    {
      std::vector<std::pair<int64_t, int32_t>> inv;
      for (const Line& l : ls) inv.push_back({l.time_s, l.invoice});
      std::sort(inv.begin(), inv.end());
      inv.erase(std::unique(inv.begin(), inv.end(),
                            [](const auto& a, const auto& b) { return a.second == b.second; }),
                inv.end());
      for (const auto& [t, id] : inv) invoice_times.push_back(t);
    }
    cust.invoices = static_cast<int32_t>(invoice_times.size());
    cust.first_s = invoice_times.front();
    cust.last_s = invoice_times.back();
    {
      // Lines (in time order) whose item the customer bought on an earlier day.
      std::unordered_map<int32_t, int64_t> first_time;
      int64_t later = 0, repeats = 0;
      for (const Line& l : ls) {  // still in time order here
        auto [it, fresh] = first_time.emplace(l.item, l.time_s);
        if (l.time_s - cust.first_s < kDay) continue;  // the first day: nothing to repeat
        ++later;
        if (!fresh && l.time_s - it->second >= kDay) ++repeats;
      }
      cust.repeat_share = later > 0 ? static_cast<float>(repeats) / later : kNaN;
    }
    cust.median_gap_days = Median(GapsDays(invoice_times));

    std::stable_sort(ls.begin(), ls.end(), [](const Line& a, const Line& b) {
      return a.item != b.item ? a.item < b.item : a.time_s < b.time_s;
    });
    for (size_t s = 0; s < ls.size();) {
      size_t e = s;
      OwnItem own;
      own.item = ls[s].item;
      std::vector<int64_t> times;
      std::unordered_set<int32_t> invoices;
      for (; e < ls.size() && ls[e].item == own.item; ++e) {
        const Line& l = ls[e];
        ++own.lines;
        own.quantity += l.quantity;
        if (invoices.insert(l.invoice).second) {
          times.push_back(l.time_s);  // lines of an item are in time order
          if (reference_s - l.time_s < 90 * kDay) ++own.recent90;
        }
      }
      own.invoices = static_cast<int32_t>(invoices.size());
      own.first_s = times.front();
      own.last_s = times.back();
      own.median_gap_days = Median(GapsDays(times));
      buyers_[own.item] += 1;
      if (reference_s - own.first_s < 30 * kDay) new_buyers30_[own.item] += 1;
      if (own.invoices >= 2) {
        ++repeat_buyers[own.item];
        if (std::isfinite(own.median_gap_days)) item_gaps[own.item].push_back(own.median_gap_days);
      }
      cust.items.push_back(own);
      s = e;
    }
    cust.distinct_items = static_cast<int32_t>(cust.items.size());
    // own_rank: by invoices, then recency (0 = the customer's top item).
    std::vector<size_t> order(cust.items.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const OwnItem &x = cust.items[a], &y = cust.items[b];
      if (x.invoices != y.invoices) return x.invoices > y.invoices;
      if (x.last_s != y.last_s) return x.last_s > y.last_s;
      return x.item < y.item;
    });
    rank_of_.resize(c + 1);
    rank_of_[c].assign(cust.items.size(), 0);
    for (size_t r = 0; r < order.size(); ++r) rank_of_[c][order[r]] = static_cast<int32_t>(r);
  }
  rank_of_.resize(customers_.size());
  for (size_t i = 0; i < n; ++i) {
    if (buyers_[i] > 0) repeat_rate_[i] = static_cast<float>(repeat_buyers[i]) / buyers_[i];
    cycle_days_[i] = Median(std::move(item_gaps[i]));
  }
}

bool RetailRankerFeatures::HasHistory(int32_t customer) const {
  return customer >= 0 && static_cast<size_t>(customer) < customers_.size() &&
         customers_[customer].invoices > 0;
}

const RetailRankerFeatures::OwnItem* RetailRankerFeatures::Own(int32_t customer,
                                                               int32_t item) const {
  const std::vector<OwnItem>& items = customers_[customer].items;
  auto it = std::lower_bound(items.begin(), items.end(), item,
                             [](const OwnItem& o, int32_t i) { return o.item < i; });
  return it != items.end() && it->item == item ? &*it : nullptr;
}

std::vector<int32_t> RetailRankerFeatures::Candidates(
    int32_t customer, std::span<const std::vector<float>> source_scores, int per_source,
    int max_own_items) const {
  std::vector<uint8_t> in(num_items_, 0);
  std::vector<int32_t> pool;
  auto add = [&](int32_t item) {
    if (item >= 0 && static_cast<size_t>(item) < num_items_ && !in[item]) {
      in[item] = 1;
      pool.push_back(item);
    }
  };
  if (HasHistory(customer)) {
    std::vector<const OwnItem*> own;
    for (const OwnItem& o : customers_[customer].items) own.push_back(&o);
    std::sort(own.begin(), own.end(), [](const OwnItem* a, const OwnItem* b) {
      return a->last_s != b->last_s ? a->last_s > b->last_s : a->item < b->item;
    });
    if (static_cast<int>(own.size()) > max_own_items) own.resize(std::max(0, max_own_items));
    for (const OwnItem* o : own) add(o->item);
  }
  for (const std::vector<float>& scores : source_scores) {
    if (scores.size() != num_items_) continue;
    for (int32_t item : TopKItems(scores, per_source)) {
      if (std::isfinite(scores[item])) add(item);
    }
  }
  for (int32_t item : TopKItems(pop30_, per_source)) {
    if (pop30_[item] > 0) add(item);
  }
  std::sort(pool.begin(), pool.end());
  return pool;
}

std::vector<float> RetailRankerFeatures::Rows(
    int32_t customer, std::span<const int32_t> items,
    std::span<const std::vector<float>> source_scores) const {
  const size_t f = names_.size();
  std::vector<float> x(items.size() * f, kNaN);
  const bool known = HasHistory(customer);
  const Customer* cust = known ? &customers_[customer] : nullptr;
  // Source ranks: positions in each vector's top kMaxSourceRank.
  std::vector<std::unordered_map<int32_t, int32_t>> ranks(source_names_.size());
  for (size_t s = 0; s < source_names_.size() && s < source_scores.size(); ++s) {
    if (source_scores[s].size() != num_items_) continue;
    const std::vector<int32_t> top = TopKItems(source_scores[s], kMaxSourceRank);
    for (size_t r = 0; r < top.size(); ++r) {
      if (std::isfinite(source_scores[s][top[r]])) ranks[s][top[r]] = static_cast<int32_t>(r);
    }
  }
  const float day = static_cast<float>(kDay);
  for (size_t p = 0; p < items.size(); ++p) {
    const int32_t item = items[p];
    float* row = x.data() + p * f;
    if (item < 0 || static_cast<size_t>(item) >= num_items_) continue;
    size_t j = 0;
    // own
    const OwnItem* own = known ? Own(customer, item) : nullptr;
    if (own != nullptr) {
      const float since_last = static_cast<float>(reference_s_ - own->last_s) / day;
      row[0] = static_cast<float>(own->invoices);
      row[1] = own->quantity;
      row[2] = static_cast<float>(own->lines);
      row[3] = since_last;
      row[4] = static_cast<float>(reference_s_ - own->first_s) / day;
      row[5] = own->median_gap_days;
      row[6] = own->median_gap_days > 0 ? since_last / own->median_gap_days : kNaN;
      row[7] = static_cast<float>(own->invoices) / static_cast<float>(cust->invoices);
      row[8] = static_cast<float>(own->recent90);
      row[9] = static_cast<float>(rank_of_[customer][own - cust->items.data()]);
    } else {
      row[0] = 0;
      row[1] = 0;
      row[2] = 0;
      row[7] = 0;
      row[8] = 0;
    }
    j = 10;
    // customer
    if (cust != nullptr) {
      const float recency = static_cast<float>(reference_s_ - cust->last_s) / day;
      row[j + 0] = recency;
      row[j + 1] = static_cast<float>(cust->invoices);
      row[j + 2] = static_cast<float>(std::log1p(std::max(0.0, cust->monetary)));
      row[j + 3] = static_cast<float>(cust->distinct_items);
      row[j + 4] = cust->median_gap_days;
      row[j + 5] = cust->median_gap_days > 0 ? recency / cust->median_gap_days : kNaN;
      row[j + 6] = static_cast<float>(reference_s_ - cust->first_s) / day;
      row[j + 7] = cust->repeat_share;
    }
    j += 8;
    // item
    row[j + 0] = buyers_[item];
    row[j + 1] = repeat_rate_[item];
    row[j + 2] = pop7_[item];
    row[j + 3] = pop30_[item];
    row[j + 4] = pop90_[item];
    row[j + 5] = (pop30_[item] / 30.f + 1.f) / (pop90_[item] / 90.f + 1.f);
    row[j + 6] = log_price_[item];
    row[j + 7] = age_days_[item];
    row[j + 8] = days_since_sold_[item];
    row[j + 9] = cycle_days_[item];
    row[j + 10] = (pop7_[item] / 7.f + 1.f) / (pop30_[item] / 30.f + 1.f);
    row[j + 11] = new_buyers30_[item];
    j += 12;
    // sources
    for (size_t s = 0; s < source_names_.size(); ++s, j += 2) {
      if (s >= source_scores.size() || source_scores[s].size() != num_items_) continue;
      const float v = source_scores[s][item];
      row[j] = std::isfinite(v) ? v : kNaN;
      auto it = ranks[s].find(item);
      row[j + 1] = static_cast<float>(it == ranks[s].end() ? kMaxSourceRank : it->second);
    }
  }
  return x;
}

void AddRankerGroups(const RetailLog& log, const RetailRankerFeatures& features,
                     std::span<const int32_t> customers,
                     std::span<const std::unordered_set<int32_t>> relevant,
                     const std::function<std::vector<std::vector<float>>(int32_t)>& scores_of,
                     const RetailRankerOptions& options, RetailRankerGroups* out) {
  for (rank::TrainingSet* set : {&out->train, &out->valid}) {
    if (set->feature_names.empty()) set->feature_names = features.names();
  }
  const uint64_t valid_per_mille =
      static_cast<uint64_t>(std::clamp(options.valid_fraction, 0.0, 1.0) * 1000);
  for (size_t i = 0; i < customers.size() && i < relevant.size(); ++i) {
    const int32_t c = customers[i];
    if (relevant[i].empty() || !features.HasHistory(c)) continue;
    ++out->customers;
    out->relevant += static_cast<int64_t>(relevant[i].size());
    const std::vector<std::vector<float>> scores = scores_of(c);
    const std::vector<int32_t> pool =
        features.Candidates(c, scores, options.per_source, options.max_own_items);
    int64_t hits = 0;
    for (int32_t item : pool) hits += relevant[i].count(item);
    out->relevant_in_pool += hits;
    if (hits == 0 || hits == static_cast<int64_t>(pool.size())) continue;  // nothing to rank
    const std::vector<float> x = features.Rows(c, pool, scores);
    const bool valid = Fnv1a64(log.customer_ids[c]) % 1000 < valid_per_mille;
    rank::TrainingSet& set = valid ? out->valid : out->train;
    set.x.insert(set.x.end(), x.begin(), x.end());
    for (int32_t item : pool) set.label.push_back(relevant[i].count(item) ? 1.f : 0.f);
    set.groups.push_back(static_cast<uint32_t>(pool.size()));
  }
}

StatusOr<std::unique_ptr<rank::GbdtModel>> TrainRetailRanker(const RetailRankerGroups& groups,
                                                             const RetailRankerOptions& options) {
  if (groups.train.groups.empty()) {
    return FailedPreconditionError(
        "retail ranker: no training customer has a window purchase among its candidates");
  }
  const bool has_valid = !groups.valid.groups.empty();
  rank::GbdtOptions gbdt = options.gbdt;
  if (!has_valid) gbdt.early_stopping_rounds = 0;
  return rank::GbdtModel::Train(groups.train, has_valid ? &groups.valid : nullptr, gbdt);
}

std::vector<float> RetailRankerScores(const rank::GbdtModel& model,
                                      const RetailRankerFeatures& features, int32_t customer,
                                      std::span<const std::vector<float>> source_scores,
                                      const RetailRankerOptions& options) {
  const std::vector<float>& pop = features.popular_30d();
  const float max_pop = pop.empty() ? 0.f : *std::max_element(pop.begin(), pop.end());
  std::vector<float> out(pop.size());
  for (size_t i = 0; i < pop.size(); ++i) out[i] = -kPoolOffset + pop[i] / (max_pop + 1.f);
  const std::vector<int32_t> pool =
      features.Candidates(customer, source_scores, options.per_source, options.max_own_items);
  if (pool.empty()) return out;
  const std::vector<float> x = features.Rows(customer, pool, source_scores);
  std::vector<float> predicted(pool.size());
  if (!model.Predict(x.data(), pool.size(), predicted.data()).ok()) return out;
  for (size_t p = 0; p < pool.size(); ++p) {
    out[pool[p]] = std::isfinite(predicted[p]) ? kPoolOffset + predicted[p] : 0.f;
  }
  return out;
}

}  // namespace souk::eval
