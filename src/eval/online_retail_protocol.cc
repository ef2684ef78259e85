#include "eval/online_retail_protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "eval/metrics.h"
#include "eval/rec_metrics.h"
#include "eval/splits.h"
#include "rank/gbdt_model.h"

namespace souk::eval {
namespace {

using recommend::InteractionData;

constexpr int64_t kDay = 86'400;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kMaxHistoryEvents = 500;  // request context: the most recent events

}  // namespace

// ---------------------------------------------------------------------------
// Features

CustomerFeatures CustomerFeaturesAt(const RetailLog& log, int64_t reference_s) {
  struct Acc {
    int64_t first = 0, last = 0, first_invoice = 0, last_invoice = 0;
    double monetary = 0, spend30 = 0, spend90 = 0;
    int64_t lines = 0, invoices = 0, invoices30 = 0, invoices90 = 0;
    bool seen = false;
  };
  const size_t num_customers = log.customer_ids.size();
  std::vector<Acc> acc(num_customers);
  std::vector<uint8_t> invoice_seen(log.invoice_ids.size(), 0);
  std::unordered_set<int64_t> customer_items, customer_months;
  const int64_t num_items = static_cast<int64_t>(log.item_codes.size());
  for (const RetailPurchase& p : log.purchases) {
    if (p.time_s >= reference_s) break;  // purchases are in time order: nothing at/after R
    Acc& a = acc[p.customer];
    if (!a.seen) {
      a.seen = true;
      a.first = p.time_s;
    }
    a.last = p.time_s;
    const double value = static_cast<double>(p.quantity) * p.unit_price;
    a.monetary += value;
    ++a.lines;
    const int64_t age = reference_s - p.time_s;
    if (age < 30 * kDay) a.spend30 += value;
    if (age < 90 * kDay) a.spend90 += value;
    if (!invoice_seen[p.invoice]) {
      invoice_seen[p.invoice] = 1;
      if (a.invoices == 0) a.first_invoice = p.time_s;
      a.last_invoice = p.time_s;
      ++a.invoices;
      if (age < 30 * kDay) ++a.invoices30;
      if (age < 90 * kDay) ++a.invoices90;
    }
    customer_items.insert(int64_t{p.customer} * num_items + p.item);
    customer_months.insert(int64_t{p.customer} * 100000 + p.time_s / (30 * kDay));
  }
  std::vector<int64_t> distinct_items(num_customers, 0), months(num_customers, 0);
  for (int64_t key : customer_items) ++distinct_items[key / num_items];
  for (int64_t key : customer_months) ++months[key / 100000];

  CustomerFeatures f;
  f.names = {"recency_days", "frequency",    "monetary",    "lines",
             "distinct_items", "tenure_days", "invoices_30d", "invoices_90d",
             "spend_30d",    "spend_90d",    "mean_gap_days", "recency_over_gap",
             "active_months", "mean_basket_value", "is_uk"};
  for (size_t c = 0; c < num_customers; ++c) {
    const Acc& a = acc[c];
    if (!a.seen) continue;
    f.customers.push_back(static_cast<int32_t>(c));
    const double recency = static_cast<double>(reference_s - a.last) / kDay;
    const double tenure = static_cast<double>(reference_s - a.first) / kDay;
    const double gap = a.invoices > 1 ? static_cast<double>(a.last_invoice - a.first_invoice) /
                                            kDay / static_cast<double>(a.invoices - 1)
                                      : kNaN;
    const double over_gap = gap > 0 ? recency / gap : kNaN;
    const bool uk = c < log.customer_countries.size() &&
                    log.customer_countries[c] == "United Kingdom";
    const double row[] = {recency,
                          static_cast<double>(a.invoices),
                          a.monetary,
                          static_cast<double>(a.lines),
                          static_cast<double>(distinct_items[c]),
                          tenure,
                          static_cast<double>(a.invoices30),
                          static_cast<double>(a.invoices90),
                          a.spend30,
                          a.spend90,
                          gap,
                          over_gap,
                          static_cast<double>(months[c]),
                          a.invoices > 0 ? a.monetary / static_cast<double>(a.invoices) : 0.0,
                          uk ? 1.0 : 0.0};
    for (double v : row) f.x.push_back(static_cast<float>(v));
  }
  return f;
}

std::vector<float> RfmColumns(const CustomerFeatures& f) {
  const size_t cols = f.names.size();
  std::vector<float> out;
  out.reserve(f.customers.size() * 3);
  for (size_t r = 0; r < f.customers.size(); ++r) {
    const float* row = f.x.data() + r * cols;
    out.push_back(std::log1p(std::max(row[0], 0.f)));  // recency_days
    out.push_back(std::log1p(std::max(row[1], 0.f)));  // frequency
    out.push_back(std::log1p(std::max(row[2], 0.f)));  // monetary
  }
  return out;
}

std::vector<int> BuysInWindow(const RetailLog& log, std::span<const int32_t> customers,
                              int64_t from_s, int64_t to_s) {
  std::vector<uint8_t> buys(log.customer_ids.size(), 0);
  for (const RetailPurchase& p : log.purchases) {
    if (p.time_s >= from_s && p.time_s < to_s) buys[p.customer] = 1;
  }
  std::vector<int> out;
  out.reserve(customers.size());
  for (int32_t c : customers) out.push_back(buys[c]);
  return out;
}

// ---------------------------------------------------------------------------
// The protocol

namespace {

// One cut-off's recommendation task: the fitted blend plus the protocol's own
// columns, and the customers to score with their window purchases.
struct RecCutoff {
  int64_t cutoff_s = 0;
  int64_t first_ms = 0;  // the fitted data's first timestamp
  SourceBlend blend;
  size_t own_frequency = 0, own_recency = 0, popular_30d = 0;  // external columns
  std::vector<float> popular_30d_z;                            // standardized, all requests
  std::vector<float> popular_30d_raw;
  std::vector<int32_t> customers;                     // purchase before cutoff and in window
  std::vector<std::unordered_set<int32_t>> relevant;  // their window items
};

struct OwnHistory {
  std::unordered_map<int32_t, std::pair<int32_t, int64_t>> items;  // item -> (count, last ms)
};

OwnHistory OwnHistoryOf(const InteractionData& data, int32_t customer) {
  OwnHistory own;
  // One count per invoice (an invoice listing an item twice counts once).
  std::unordered_set<int64_t> seen;
  for (const recommend::Interaction& x : data.UserHistory(customer)) {
    if (!seen.insert((int64_t{x.session} << 32) | static_cast<uint32_t>(x.item)).second) continue;
    auto& [count, last] = own.items[x.item];
    ++count;
    last = std::max(last, x.timestamp_ms);
  }
  return own;
}

recommend::RecommendRequest RequestFor(const InteractionData& data, int32_t customer,
                                       int64_t now_ms) {
  recommend::RecommendRequest req;
  req.scenario = "home";
  req.user = customer;
  std::vector<recommend::HistoryEvent> all = recommend::HistoryOf(data, customer);
  const size_t start = all.size() > kMaxHistoryEvents ? all.size() - kMaxHistoryEvents : 0;
  req.history.assign(all.begin() + static_cast<std::ptrdiff_t>(start), all.end());
  req.now_ms = now_ms;
  req.n = 20;
  return req;
}

// Fills the external columns of `scratch` for `customer`; returns the raw
// own-most-bought score vector (count + recency tie-break, -inf when never bought).
void FillExternal(const RecCutoff& cut, const OwnHistory& own, BlendScratch* scratch,
                  std::vector<float>* own_most_bought) {
  const size_t n = static_cast<size_t>(cut.blend.data().num_items());
  std::vector<float>& freq = scratch->z[cut.own_frequency];
  std::vector<float>& rec = scratch->z[cut.own_recency];
  freq.assign(n, 0.f);
  rec.assign(n, 0.f);
  own_most_bought->assign(n, -std::numeric_limits<float>::infinity());
  const double now_ms = static_cast<double>(cut.cutoff_s) * 1000;
  const double span_ms = std::max(1.0, now_ms - static_cast<double>(cut.first_ms));
  for (const auto& [item, cl] : own.items) {
    const auto [count, last] = cl;
    const double age_days = (now_ms - static_cast<double>(last)) / 86'400'000.0;
    freq[item] = std::log1p(static_cast<float>(count));
    rec[item] = static_cast<float>(std::exp(-age_days / 30.0));
    // Ties of the count are broken by recency: the fraction stays below 1.
    (*own_most_bought)[item] =
        static_cast<float>(count) +
        static_cast<float>(0.999 * (1.0 - (now_ms - static_cast<double>(last)) / span_ms));
  }
  StandardizeScores(freq);
  StandardizeScores(rec);
  scratch->z[cut.popular_30d] = cut.popular_30d_z;
}

}  // namespace

OnlineRetailProtocol::OnlineRetailProtocol(std::shared_ptr<const recommend::SourceRegistry> sources,
                                           OnlineRetailOptions options)
    : sources_(std::move(sources)), options_(std::move(options)) {}

StatusOr<EvalReport> OnlineRetailProtocol::Run(const EvalContext& ctx) {
  if (ctx.inputs.cutoff.empty()) {
    return InvalidArgumentError(
        "--cutoff YYYY-MM-DD is required for protocol online-retail (dev: 2011-09-01)");
  }
  auto window = CutoffWindow::FromDate(ctx.inputs.cutoff, options_.window_days);
  if (!window.ok()) return InvalidArgumentError("--cutoff: " + window.status().message());
  if (ctx.inputs.data.empty()) {
    return InvalidArgumentError("--data is required for protocol online-retail");
  }
  for (const std::string& path : ctx.inputs.data) {
    RETURN_IF_ERROR(RequireInputPath("--data", path, Name()));
  }
  auto note = [&](const std::string& line) {
    if (ctx.progress.mode != ProgressMode::kOff) fmt::print(stderr, "online-retail: {}\n", line);
  };
  ASSIGN_OR_RETURN(RetailLog log, ReadOnlineRetail(ctx.inputs.data, ctx.progress));
  note(fmt::format("{} rows: {} purchases, {} without CustomerID, {} returns/cancellations, {} "
                   "malformed",
                   log.rows, log.purchases.size(), log.rows_without_customer,
                   log.rows_not_purchase, log.malformed_rows));
  for (const std::string& example : log.malformed_examples) note("skipped " + example);

  const int64_t window_s = int64_t{options_.window_days} * kDay;
  const int64_t T = window->cutoff();
  const int64_t T0 = T - window_s;
  const int64_t first_time = log.purchases.front().time_s;
  if (first_time >= T0) {
    return InvalidArgumentError(fmt::format(
        "--cutoff {}: the data starts {}, but the protocol needs purchases before {} (cut-off "
        "minus {} days) to tune on",
        ctx.inputs.cutoff, FormatDate(first_time), FormatDate(T0), options_.window_days));
  }

  EvalReport report;
  report.dataset = DatasetName(ctx.inputs.data[0]);
  report.extra = nlohmann::json::object();
  const double nan = kNaN;

  // ---- (a) recommendation
  auto prepare = [&](RecCutoff* cut, int64_t cutoff_s, std::string_view label) -> Status {
    cut->cutoff_s = cutoff_s;
    RETURN_IF_ERROR(cut->blend.Fit(*sources_, options_.sources, "", RetailInteractions(log, cutoff_s),
                                   ctx.progress, note, label));
    cut->own_frequency = cut->blend.AddExternalColumn("own_frequency", 1.f);
    cut->own_recency = cut->blend.AddExternalColumn("own_recency", 1.f);
    cut->popular_30d = cut->blend.AddExternalColumn("popular_30d", 0.5f);
    const InteractionData& data = cut->blend.data();
    if (!data.interactions().empty()) cut->first_ms = data.interactions()[0].timestamp_ms;
    cut->popular_30d_raw.assign(data.num_items(), 0.f);
    for (const recommend::Interaction& x : data.interactions()) {
      if (x.timestamp_ms >= (cutoff_s - window_s) * 1000) cut->popular_30d_raw[x.item] += 1;
    }
    cut->popular_30d_z = cut->popular_30d_raw;
    StandardizeScores(cut->popular_30d_z);
    // Customers with a purchase before the cut-off and their window items.
    std::vector<std::unordered_set<int32_t>> window_items(log.customer_ids.size());
    for (const RetailPurchase& p : log.purchases) {
      if (p.time_s >= cutoff_s && p.time_s < cutoff_s + window_s) {
        window_items[p.customer].insert(p.item);
      }
    }
    for (int32_t c = 0; c < data.num_users(); ++c) {
      if (data.UserHistory(c).empty() || window_items[c].empty()) continue;
      cut->customers.push_back(c);
      cut->relevant.push_back(std::move(window_items[c]));
    }
    return OkStatus();
  };

  // Source vectors of one customer for the ranker: the members' standardized scores.
  auto member_scores = [](const RecCutoff& cut, int32_t customer, BlendScratch* scratch) {
    cut.blend.Score(RequestFor(cut.blend.data(), customer, cut.cutoff_s * 1000), scratch);
    return std::vector<std::vector<float>>(
        scratch->z.begin(), scratch->z.begin() + static_cast<std::ptrdiff_t>(cut.blend.num_members()));
  };
  RetailRankerGroups ranker_groups;
  nlohmann::json ranker_cutoffs = nlohmann::json::array();
  // Adds the ranker's training groups of one cut-off (features before it,
  // labels in its window -- both before T).
  auto add_ranker_groups = [&](const RecCutoff& cut) {
    const RetailRankerFeatures features(log, cut.cutoff_s, cut.blend.MemberNames());
    BlendScratch scratch;
    // Counts of this cut-off only: differences of the running totals.
    const int64_t customers0 = ranker_groups.customers, relevant0 = ranker_groups.relevant,
                  in_pool0 = ranker_groups.relevant_in_pool;
    AddRankerGroups(
        log, features, cut.customers, cut.relevant,
        [&](int32_t c) { return member_scores(cut, c, &scratch); }, options_.ranker,
        &ranker_groups);
    const int64_t relevant = ranker_groups.relevant - relevant0;
    const double pool_recall =
        relevant > 0 ? static_cast<double>(ranker_groups.relevant_in_pool - in_pool0) / relevant
                     : 0.0;
    ranker_cutoffs.push_back({{"cutoff", FormatDate(cut.cutoff_s)},
                              {"customers", ranker_groups.customers - customers0},
                              {"pool_recall", pool_recall}});
    note(fmt::format("ranker groups at {}: {} customers, pool holds {:.3f} of their window items",
                     FormatDate(cut.cutoff_s), ranker_groups.customers - customers0, pool_recall));
  };

  // Tuning at T0.
  std::vector<float> weights;
  {
    RecCutoff t0;
    RETURN_IF_ERROR(prepare(&t0, T0, "tuning fit (cut-off - 30 d)"));
    weights = t0.blend.DefaultWeights();
    if (options_.tune_weights && !t0.customers.empty()) {
      std::vector<BlendSample> samples;
      BlendScratch scratch;
      std::vector<float> own_scores;
      Progress bar("online-retail tuning customers", t0.customers.size(), ctx.progress);
      for (size_t i = 0; i < t0.customers.size(); ++i) {
        const int32_t c = t0.customers[i];
        t0.blend.Score(RequestFor(t0.blend.data(), c, T0 * 1000), &scratch);
        FillExternal(t0, OwnHistoryOf(t0.blend.data(), c), &scratch, &own_scores);
        std::vector<int32_t> relevant(t0.relevant[i].begin(), t0.relevant[i].end());
        samples.push_back(t0.blend.Sample(scratch, {}, relevant, options_.pool_per_source,
                                          /*exclude_history=*/false));
        bar.Add(1);
      }
      bar.Finish();
      weights = TuneBlendWeights(samples, weights, 20, t0.blend.TuningOptions(), note);
      const SetRankingMetrics m = EvaluateBlend(samples, weights, 20);
      report.ablations["blend_t0"] = {{"recall@20", m.recall},
                                      {"ndcg@20", m.ndcg},
                                      {"propensity_roc_auc", nan},
                                      {"propensity_pr_auc", nan},
                                      {"n_customers", static_cast<double>(samples.size())}};
    }
    report.extra["weights"] = t0.blend.WeightsJson(weights);
    note(fmt::format("blend weights {}", report.extra["weights"].dump()));
    if (options_.use_ranker) add_ranker_groups(t0);
  }
  // The ranker's earlier training cut-offs (each with a month of data before it).
  if (options_.use_ranker) {
    for (int r = 2; r <= 1 + options_.ranker.extra_reference_times; ++r) {
      const int64_t R = T - r * window_s;
      if (R - first_time < window_s) break;
      RecCutoff older;
      RETURN_IF_ERROR(prepare(&older, R, fmt::format("ranker fit (cut-off - {} d)", r * options_.window_days)));
      add_ranker_groups(older);
    }
  }
  std::unique_ptr<rank::GbdtModel> ranker;
  if (options_.use_ranker) {
    report.extra["ranker_train_groups"] = ranker_groups.train.groups.size();
    report.extra["ranker_train_rows"] = ranker_groups.train.rows();
    report.extra["ranker_valid_groups"] = ranker_groups.valid.groups.size();
    report.extra["ranker_cutoffs"] = ranker_cutoffs;
    const auto start = std::chrono::steady_clock::now();
    auto trained = TrainRetailRanker(ranker_groups, options_.ranker);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (trained.ok()) {
      ranker = std::move(trained).value();
      report.extra["ranker_best_iteration"] = ranker->best_iteration();
      report.extra["ranker_valid_ndcg@20"] = ranker->best_score();
      report.extra["ranker_train_seconds"] = seconds;
      note(fmt::format("ranker: {} training groups ({} rows), {} validation groups; best round "
                       "{}, validation ndcg@20 {:.4f}; {:.1f} s",
                       ranker_groups.train.groups.size(), ranker_groups.train.rows(),
                       ranker_groups.valid.groups.size(), ranker->best_iteration(),
                       ranker->best_score(), seconds));
    } else {
      note("ranker not trained (the blend is the engine): " + trained.status().message());
      report.extra["ranker_error"] = trained.status().message();
    }
    ranker_groups = {};  // free the training rows
  }

  RecCutoff cut;
  RETURN_IF_ERROR(prepare(&cut, T, "final fit (before the cut-off)"));
  std::map<std::string, MeanAccumulator> recall, ndcg;
  int64_t relevant_total = 0, relevant_in_pool = 0;
  {
    BlendScratch scratch;
    std::vector<float> own_scores, blended(cut.blend.data().num_items());
    std::unique_ptr<RetailRankerFeatures> features;
    if (ranker != nullptr) {
      features = std::make_unique<RetailRankerFeatures>(log, T, cut.blend.MemberNames());
    }
    Progress bar("online-retail customers", cut.customers.size(), ctx.progress);
    auto add = [&](const std::string& name, std::span<const float> scores,
                   const std::unordered_set<int32_t>& relevant) {
      const std::vector<int32_t> top = TopKItems(scores, 20);
      auto m = SetRecallNdcg(top, relevant, 20);
      recall[name].Add(m ? std::optional<double>(m->recall) : std::nullopt);
      ndcg[name].Add(m ? std::optional<double>(m->ndcg) : std::nullopt);
    };
    for (size_t i = 0; i < cut.customers.size(); ++i) {
      const int32_t c = cut.customers[i];
      cut.blend.Score(RequestFor(cut.blend.data(), c, T * 1000), &scratch);
      const auto& relevant = cut.relevant[i];
      if (features != nullptr) {
        const std::vector<std::vector<float>> sources(
            scratch.z.begin(), scratch.z.begin() + static_cast<std::ptrdiff_t>(cut.blend.num_members()));
        add("ranker", RetailRankerScores(*ranker, *features, c, sources, options_.ranker),
            relevant);
        // Pool coverage at T (reported only; chooses nothing).
        const std::vector<int32_t> pool = features->Candidates(
            c, sources, options_.ranker.per_source, options_.ranker.max_own_items);
        relevant_total += static_cast<int64_t>(relevant.size());
        for (int32_t item : pool) relevant_in_pool += relevant.count(item);
      }
      FillExternal(cut, OwnHistoryOf(cut.blend.data(), c), &scratch, &own_scores);
      add("popular_30d", cut.popular_30d_raw, relevant);
      add("own_most_bought", own_scores, relevant);
      for (size_t m = 0; m < cut.blend.num_members(); ++m) {
        add(cut.blend.member_name(m), scratch.z[m], relevant);
      }
      cut.blend.Combine(scratch, weights, blended);
      add("blend", blended, relevant);
      bar.Add(1);
    }
    bar.Finish();
  }
  const std::string engine = ranker != nullptr ? "ranker" : "blend";
  report.extra["engine"] = engine;
  if (ranker != nullptr) {
    report.extra["ranker_pool_recall"] =
        relevant_total > 0 ? static_cast<double>(relevant_in_pool) / relevant_total : 0.0;
  }

  // ---- (b) propensity
  const CustomerFeatures test_features = CustomerFeaturesAt(log, T);
  const std::vector<int> test_labels =
      BuysInWindow(log, test_features.customers, T, T + window_s);
  const size_t cols = test_features.names.size();
  rank::TrainingSet older, newest, all_rows;
  for (auto* set : {&older, &newest, &all_rows}) set->feature_names = test_features.names;
  std::vector<float> rfm_train;
  std::vector<int> rfm_labels;
  int reference_times = 0;
  for (int r = 1; r <= options_.train_reference_times; ++r) {
    const int64_t R = T - r * window_s;
    if (R - first_time < window_s) break;  // needs a month of history before R
    ++reference_times;
    const CustomerFeatures f = CustomerFeaturesAt(log, R);
    const std::vector<int> labels = BuysInWindow(log, f.customers, R, R + window_s);
    for (size_t i = 0; i < f.customers.size(); ++i) {
      std::vector<float> row(f.x.begin() + i * cols, f.x.begin() + (i + 1) * cols);
      (r == 1 ? newest : older).AddRow(row, static_cast<float>(labels[i]));
      all_rows.AddRow(row, static_cast<float>(labels[i]));
    }
    const std::vector<float> rfm = RfmColumns(f);
    rfm_train.insert(rfm_train.end(), rfm.begin(), rfm.end());
    rfm_labels.insert(rfm_labels.end(), labels.begin(), labels.end());
  }
  double gbdt_auc = nan, gbdt_ap = nan, lr_auc = nan, lr_ap = nan;
  report.extra["propensity_reference_times"] = reference_times;
  report.extra["propensity_train_rows"] = all_rows.rows();
  if (all_rows.rows() == 0) {
    note("propensity: no reference time with a month of history before it; skipped");
  } else {
    rank::GbdtOptions gbdt;
    gbdt.objective = "binary:logistic";
    gbdt.max_depth = 4;
    gbdt.eta = 0.05;
    gbdt.min_child_weight = 5;
    gbdt.rounds = 400;
    gbdt.early_stopping_rounds = 40;
    gbdt.threads = options_.gbdt_threads;
    int rounds = 150;
    if (older.rows() > 0 && newest.rows() > 0) {
      // Early stopping: train on the older reference times, validate on T - 30 d.
      ASSIGN_OR_RETURN(auto probe, rank::GbdtModel::Train(older, &newest, gbdt));
      rounds = std::max(10, probe->best_iteration() + 1);
    }
    gbdt.rounds = rounds;
    gbdt.early_stopping_rounds = 0;
    ASSIGN_OR_RETURN(auto model, rank::GbdtModel::Train(all_rows, nullptr, gbdt));
    report.extra["propensity_gbdt_rounds"] = rounds;
    std::vector<double> p(test_features.customers.size());
    std::vector<float> out(p.size());
    if (!p.empty()) {
      RETURN_IF_ERROR(model->Predict(test_features.x.data(), p.size(), out.data()));
    }
    for (size_t i = 0; i < p.size(); ++i) p[i] = out[i];
    auto auc = RocAuc(p, test_labels);
    auto ap = AveragePrecision(p, test_labels);
    if (auc.ok()) gbdt_auc = *auc;
    if (ap.ok()) gbdt_ap = *ap;
    if (!auc.ok()) note("propensity: " + auc.status().message());

    LogisticRegression lr;
    RETURN_IF_ERROR(lr.Fit(rfm_train, rfm_labels, 3).WithContext("rfm_logistic"));
    const std::vector<float> rfm_test = RfmColumns(test_features);
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] = lr.Predict(std::span<const float>(rfm_test.data() + i * 3, 3));
    }
    auc = RocAuc(p, test_labels);
    ap = AveragePrecision(p, test_labels);
    if (auc.ok()) lr_auc = *auc;
    if (ap.ok()) lr_ap = *ap;
  }
  int64_t positives = 0;
  for (int y : test_labels) positives += y;
  const double n_customers = static_cast<double>(test_features.customers.size());

  for (const auto& [name, acc] : recall) {
    report.ablations[name] = {{"recall@20", acc.Mean()},
                              {"ndcg@20", ndcg[name].Mean()},
                              {"propensity_roc_auc", nan},
                              {"propensity_pr_auc", nan},
                              {"n_customers", n_customers}};
  }
  report.ablations["rfm_logistic"] = {{"recall@20", nan},
                                      {"ndcg@20", nan},
                                      {"propensity_roc_auc", lr_auc},
                                      {"propensity_pr_auc", lr_ap},
                                      {"n_customers", n_customers}};
  report.metrics = {{"recall@20", recall[engine].Mean()},
                    {"ndcg@20", ndcg[engine].Mean()},
                    {"propensity_roc_auc", gbdt_auc},
                    {"propensity_pr_auc", gbdt_ap},
                    {"n_customers", n_customers}};
  report.extra["n_customers_rec"] = cut.customers.size();
  report.extra["propensity_positives"] = positives;
  report.extra["propensity_base_rate"] = n_customers > 0 ? positives / n_customers : 0.0;
  report.extra["members"] = cut.blend.MemberNames();
  report.extra["malformed_rows"] = log.malformed_rows;
  report.extra["cutoff"] = FormatDate(T);
  report.extra["window_end"] = FormatDate(T + window_s);
  return report;
}

}  // namespace souk::eval
