#include "eval/intent_protocols.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <unordered_map>
#include <utility>

#include "common/hash.h"
#include "common/progress.h"
#include "common/time.h"
#include "eval/metrics.h"
#include "ingest/csv_reader.h"
#include "ingest/parse.h"
#include "rank/logistic_regression.h"

namespace souk::eval {
namespace {

using ingest::ParseNumber;

using online::SessionEvent;
using rank::LabeledSession;
using store::EventType;

double Sigmoid(double m) { return 1.0 / (1.0 + std::exp(-m)); }

// ---------------------------------------------------------------------------
// Metrics of one model on the test rows.

std::map<std::string, double> ScoreMetrics(const std::vector<double>& p, const std::vector<int>& y,
                                           bool probabilities) {
  std::map<std::string, double> m;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto auc = RocAuc(p, y);
  auto ap = AveragePrecision(p, y);
  m["roc_auc"] = auc.ok() ? *auc : nan;
  m["pr_auc"] = ap.ok() ? *ap : nan;
  double pos = 0;
  for (int v : y) pos += v;
  m["base_rate"] = y.empty() ? nan : pos / static_cast<double>(y.size());
  m["n_test"] = static_cast<double>(y.size());
  m["n_pos"] = pos;
  if (probabilities) {
    std::vector<double> clipped(p.size());
    for (size_t i = 0; i < p.size(); ++i) clipped[i] = std::clamp(p[i], 1e-6, 1.0 - 1e-6);
    auto ll = LogLoss(clipped, y);
    m["log_loss"] = ll.ok() ? *ll : nan;
    auto ece = ExpectedCalibrationError(p, y, 10);
    m["ece"] = ece.ok() ? ece->expected_calibration_error : nan;
  } else {
    m["log_loss"] = nan;
    m["ece"] = nan;
  }
  return m;
}

// Bootstrap 95% interval of the AUC of `a` and of AUC(a) - AUC(b) (paired).
struct BootstrapCi {
  double auc_low = 0, auc_high = 0, delta_low = 0, delta_high = 0;
};
BootstrapCi Bootstrap(const std::vector<double>& a, const std::vector<double>& b,
                      const std::vector<int>& y, int rounds, uint64_t seed) {
  BootstrapCi ci;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ci.auc_low = ci.auc_high = ci.delta_low = ci.delta_high = nan;
  if (rounds <= 0 || y.empty()) return ci;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, y.size() - 1);
  std::vector<double> aucs, deltas, sa(y.size()), sb(y.size());
  std::vector<int> sy(y.size());
  for (int r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < y.size(); ++i) {
      const size_t j = pick(rng);
      sa[i] = a[j];
      sb[i] = b[j];
      sy[i] = y[j];
    }
    auto x = RocAuc(sa, sy);
    auto z = RocAuc(sb, sy);
    if (!x.ok() || !z.ok()) continue;
    aucs.push_back(*x);
    deltas.push_back(*x - *z);
  }
  if (aucs.size() < 10) return ci;
  auto pct = [](std::vector<double>& v, double q) {
    std::sort(v.begin(), v.end());
    const double pos = q * static_cast<double>(v.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(v.size() - 1, lo + 1);
    return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
  };
  ci.auc_low = pct(aucs, 0.025);
  ci.auc_high = pct(aucs, 0.975);
  ci.delta_low = pct(deltas, 0.025);
  ci.delta_high = pct(deltas, 0.975);
  return ci;
}

// Column means over finite values (0 when a column has none).
std::vector<float> ColumnMeans(const std::vector<float>& x, size_t cols) {
  std::vector<double> sum(cols, 0), n(cols, 0);
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isfinite(x[i])) {
      sum[i % cols] += x[i];
      n[i % cols] += 1;
    }
  }
  std::vector<float> mean(cols, 0.0f);
  for (size_t c = 0; c < cols; ++c) {
    if (n[c] > 0) mean[c] = static_cast<float>(sum[c] / n[c]);
  }
  return mean;
}

void Impute(std::vector<float>& x, const std::vector<float>& mean) {
  const size_t cols = mean.size();
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) x[i] = mean[i % cols];
  }
}

// Logistic regression on `cols` columns of x (missing imputed with training means),
// scored on test rows.
StatusOr<std::vector<double>> LogisticScores(std::vector<float> train_x,
                                             const std::vector<int>& train_y,
                                             std::vector<float> test_x, size_t cols,
                                             double l2 = 1.0) {
  const std::vector<float> mean = ColumnMeans(train_x, cols);
  Impute(train_x, mean);
  Impute(test_x, mean);
  rank::LogisticRegression lr;
  rank::LogisticRegression::Options o;
  o.l2 = l2;
  RETURN_IF_ERROR(lr.Fit(train_x, train_y, cols, o));
  std::vector<double> out(test_x.size() / cols);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = lr.Predict(std::span<const float>(test_x.data() + i * cols, cols));
  }
  return out;
}

// Selected columns (by index) of a row-major matrix.
std::vector<float> Columns(const std::vector<float>& x, size_t cols, const std::vector<int>& pick,
                           bool log1p) {
  const size_t rows = x.size() / cols;
  std::vector<float> out;
  out.reserve(rows * pick.size());
  for (size_t r = 0; r < rows; ++r) {
    for (int c : pick) {
      float v = x[r * cols + static_cast<size_t>(c)];
      if (log1p && std::isfinite(v) && v > -1) v = std::log1p(v);
      out.push_back(v);
    }
  }
  return out;
}

nlohmann::json ReliabilityJson(const std::vector<double>& p, const std::vector<int>& y) {
  nlohmann::json bins = nlohmann::json::array();
  auto r = ExpectedCalibrationError(p, y, 10);
  if (!r.ok()) return bins;
  for (const auto& b : r->bins) {
    bins.push_back({{"lower", b.lower},
                    {"upper", b.upper},
                    {"count", b.count},
                    {"mean_prediction", b.mean_prediction},
                    {"observed_rate", b.observed_rate}});
  }
  return bins;
}

// Mean |SHAP| per feature over (up to 2000) rows, largest first.
nlohmann::json FeatureImportance(const rank::IntentModel& model, const std::vector<float>& x,
                                 size_t cols) {
  const size_t rows = std::min<size_t>(x.size() / cols, 2000);
  std::vector<double> sum(cols, 0);
  for (size_t r = 0; r < rows; ++r) {
    auto d = model.Drivers(std::span<const float>(x.data() + r * cols, cols),
                           static_cast<int>(cols));
    if (!d.ok()) break;
    for (const auto& drv : *d) {
      const auto& names = model.feature_names();
      const auto it = std::find(names.begin(), names.end(), drv.feature);
      if (it != names.end()) sum[static_cast<size_t>(it - names.begin())] += std::abs(drv.contribution);
    }
  }
  std::vector<size_t> order(cols);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sum[a] > sum[b]; });
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < std::min<size_t>(cols, 20); ++i) {
    out.push_back({{"feature", model.feature_names()[order[i]]},
                   {"mean_abs_shap", rows ? sum[order[i]] / static_cast<double>(rows) : 0.0}});
  }
  return out;
}

// ---------------------------------------------------------------------------
// Protocol classes.

class Rees46Protocol final : public EvalProtocol {
 public:
  std::string Name() const override { return "rees46"; }
  std::string Task() const override { return std::string(kTaskIntent); }
  std::string Description() const override {
    return "REES46 sessions: P(session contains a purchase) from the events before it (EVAL.md D)";
  }
  StatusOr<EvalReport> Run(const EvalContext& ctx) override {
    if (ctx.inputs.events.empty()) {
      return InvalidArgumentError("protocol rees46 needs --events FILE (2019-Oct.sample.csv)");
    }
    ASSIGN_OR_RETURN(IntentSessionData data, ReadRees46Sessions(ctx.inputs.events));
    ASSIGN_OR_RETURN(EvalReport report, EvaluateSessionIntent(data, {}, ctx.progress));
    report.dataset = std::filesystem::path(ctx.inputs.events).stem().string();
    return report;
  }
};

class OnlineShoppersProtocol final : public EvalProtocol {
 public:
  std::string Name() const override { return "online-shoppers"; }
  std::string Task() const override { return std::string(kTaskIntent); }
  std::string Description() const override {
    return "UCI Online Shoppers: Revenue from session aggregates, file-order 70/30 (EVAL.md D)";
  }
  StatusOr<EvalReport> Run(const EvalContext& ctx) override {
    if (ctx.inputs.data.size() != 1) {
      return InvalidArgumentError(
          "protocol online-shoppers needs exactly one --data FILE (online_shoppers_intention.csv)");
    }
    ASSIGN_OR_RETURN(EvalReport report, EvaluateOnlineShoppers(ctx.inputs.data[0], {}, ctx.progress));
    report.dataset = std::filesystem::path(ctx.inputs.data[0]).stem().string();
    return report;
  }
};

class SyntheticIntentProtocol final : public EvalProtocol {
 public:
  std::string Name() const override { return "synthetic"; }
  std::string Task() const override { return std::string(kTaskIntent); }
  std::string Description() const override {
    return "a `souk generate` store (--dir): session conversion against the generator's ground truth";
  }
  StatusOr<EvalReport> Run(const EvalContext& ctx) override {
    if (ctx.inputs.dir.empty()) {
      return InvalidArgumentError("protocol synthetic needs --dir DIR (a `souk generate` output folder)");
    }
    ASSIGN_OR_RETURN(IntentSessionData data, ReadSyntheticSessions(ctx.inputs.dir));
    ASSIGN_OR_RETURN(EvalReport report, EvaluateSessionIntent(data, {}, ctx.progress));
    report.dataset = std::filesystem::path(ctx.inputs.dir).filename().string();
    if (report.dataset.empty()) report.dataset = "synthetic";
    return report;
  }
};

}  // namespace

// ---------------------------------------------------------------------------
// Sessions.

StatusOr<IntentSessionData> ReadRees46Sessions(const std::string& path) {
  ASSIGN_OR_RETURN(auto reader, ingest::CsvReader::Open(path));
  const char* kCols[] = {"event_time", "event_type", "product_id", "category_id",
                         "category_code", "brand", "price", "user_id", "user_session"};
  int col[9];
  for (int i = 0; i < 9; ++i) {
    col[i] = reader->Column(kCols[i]);
    if (col[i] < 0) {
      return InvalidArgumentError(fmt::format("{}: missing column '{}' (REES46 events need {})",
                                              path, kCols[i],
                                              "event_time,event_type,product_id,category_id,"
                                              "category_code,brand,price,user_id,user_session"));
    }
  }
  std::vector<RawIntentEvent> events;
  int64_t rows = 0, bad = 0;
  ingest::CsvRecord rec;
  while (reader->Next(&rec)) {
    ++rows;
    if (rec.error != ingest::RecordError::kNone) {
      ++bad;
      continue;
    }
    auto f = [&](int i) { return rec.fields[static_cast<size_t>(col[i])]; };
    const auto ts = ParseTimestampMs(f(0));
    const std::string_view type = f(1);
    EventType t;
    if (type == "view") {
      t = EventType::kView;
    } else if (type == "cart") {
      t = EventType::kAddToCart;
    } else if (type == "remove_from_cart") {
      t = EventType::kRemoveFromCart;
    } else if (type == "purchase") {
      t = EventType::kPurchase;
    } else {
      ++bad;
      continue;
    }
    if (!ts || f(8).empty()) {
      ++bad;
      continue;
    }
    RawIntentEvent e;
    e.session = std::string(f(8));
    e.user = std::string(f(7));
    e.event.ts_ms = *ts;
    e.event.type = t;
    e.event.item_id = std::string(f(2));
    e.event.category = std::string(f(3));
    e.event.brand = std::string(f(5));
    if (auto p = ParseNumber(f(6)); p && *p >= 0) e.event.price = *p;
    events.push_back(std::move(e));
  }
  RETURN_IF_ERROR(reader->status());
  if (events.empty()) {
    return InvalidArgumentError(fmt::format("{}: no usable events ({} rows, {} malformed)", path,
                                            rows, bad));
  }
  IntentSessionData data = BuildIntentSessions(std::move(events), nullptr);
  data.rows = rows;
  data.bad_rows = bad;
  return data;
}

StatusOr<IntentSessionData> ReadSyntheticSessions(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path root(dir);
  const fs::path items_path = root / "items.jsonl", events_path = root / "events.csv",
                 truth_path = root / "ground_truth" / "sessions.csv";
  for (const auto& p : {items_path, events_path, truth_path}) {
    if (!fs::exists(p)) {
      return NotFoundError(fmt::format("{}: not found (--dir must be a `souk generate` folder)",
                                       p.string()));
    }
  }
  struct ItemRow {
    std::string category, brand;
    double price = online::kNaN;
  };
  std::unordered_map<std::string, ItemRow> items;
  {
    std::ifstream in(items_path);
    std::string line;
    int64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object() || !j.contains("id") || !j["id"].is_string()) {
        return DataLossError(fmt::format("{}:{}: not an item JSON object with an id",
                                         items_path.string(), n));
      }
      ItemRow r;
      if (j.contains("category") && j["category"].is_string()) r.category = j["category"];
      if (j.contains("brand") && j["brand"].is_string()) r.brand = j["brand"];
      if (j.contains("price") && j["price"].is_number()) r.price = j["price"].get<double>();
      items[j["id"].get<std::string>()] = std::move(r);
    }
  }
  std::unordered_map<std::string, bool> truth;
  {
    ASSIGN_OR_RETURN(auto reader, ingest::CsvReader::Open(truth_path.string()));
    const int sid = reader->Column("session_id"), conv = reader->Column("converted");
    if (sid < 0 || conv < 0) {
      return InvalidArgumentError(
          fmt::format("{}: needs columns session_id and converted", truth_path.string()));
    }
    ingest::CsvRecord rec;
    while (reader->Next(&rec)) {
      if (rec.error != ingest::RecordError::kNone) continue;
      truth[std::string(rec.fields[static_cast<size_t>(sid)])] =
          rec.fields[static_cast<size_t>(conv)] == "1";
    }
    RETURN_IF_ERROR(reader->status());
  }
  ASSIGN_OR_RETURN(auto reader, ingest::CsvReader::Open(events_path.string()));
  const int cu = reader->Column("user_id"), cs = reader->Column("session_id"),
            ci = reader->Column("item_id"), ct = reader->Column("type"),
            cp = reader->Column("price"), cq = reader->Column("quantity"),
            cts = reader->Column("timestamp");
  if (cu < 0 || cs < 0 || ci < 0 || ct < 0 || cp < 0 || cq < 0 || cts < 0) {
    return InvalidArgumentError(fmt::format(
        "{}: needs columns user_id,session_id,item_id,type,quantity,price,timestamp",
        events_path.string()));
  }
  std::vector<RawIntentEvent> events;
  int64_t rows = 0, bad = 0;
  ingest::CsvRecord rec;
  while (reader->Next(&rec)) {
    ++rows;
    if (rec.error != ingest::RecordError::kNone) {
      ++bad;
      continue;
    }
    auto f = [&](int i) { return rec.fields[static_cast<size_t>(i)]; };
    const auto type = store::ParseEventType(f(ct));
    const auto ts = ParseTimestampMs(f(cts));
    if (!type || !ts || f(cs).empty()) {
      ++bad;
      continue;
    }
    if (*type == EventType::kImpression) continue;  // shown, not acted on
    RawIntentEvent e;
    e.session = std::string(f(cs));
    e.user = std::string(f(cu));
    e.event.ts_ms = *ts;
    e.event.type = *type;
    e.event.item_id = std::string(f(ci));
    if (auto it = items.find(e.event.item_id); it != items.end()) {
      e.event.category = it->second.category;
      e.event.brand = it->second.brand;
      e.event.price = it->second.price;
    }
    if (auto p = ParseNumber(f(cp)); p && *p >= 0) e.event.price = *p;
    if (auto q = ParseNumber(f(cq)); q) e.event.quantity = *q;
    events.push_back(std::move(e));
  }
  RETURN_IF_ERROR(reader->status());
  IntentSessionData data = BuildIntentSessions(std::move(events), &truth);
  data.rows = rows;
  data.bad_rows = bad;
  return data;
}

// ---------------------------------------------------------------------------
// The session evaluation.

StatusOr<EvalReport> EvaluateSessionIntent(const IntentSessionData& data,
                                           const SessionIntentOptions& options,
                                           const ProgressOptions& progress) {
  const size_t n = data.sessions.size();
  const size_t n_train = static_cast<size_t>(std::floor(options.train_fraction * static_cast<double>(n)));
  if (n_train < 10 || n - n_train < 10) {
    return InvalidArgumentError(fmt::format(
        "intent evaluation needs at least 10 training and 10 test sessions, got {} sessions", n));
  }
  std::span<const LabeledSession> train(data.sessions.data(), n_train);
  std::span<const LabeledSession> test(data.sessions.data() + n_train, n - n_train);

  const rank::IntentSignals signals;
  rank::IntentPriors priors;
  std::vector<int64_t> groups;
  rank::TrainingSet ts =
      rank::BuildSessionTrainingSet(train, signals, options.prior_folds, &priors, &groups);
  const size_t cols = ts.cols();
  std::vector<int> train_y(ts.rows());
  for (size_t i = 0; i < ts.rows(); ++i) train_y[i] = ts.label[i] > 0.5f ? 1 : 0;

  std::vector<float> test_x;
  test_x.reserve(test.size() * cols);
  std::vector<int> test_y;
  for (const LabeledSession& s : test) {
    const std::vector<float> row = rank::SessionFeatures(
        s.counters, s.events, s.has_customer ? &s.customer : nullptr, priors, signals, s.cut_ms);
    test_x.insert(test_x.end(), row.begin(), row.end());
    test_y.push_back(s.converted ? 1 : 0);
  }

  ASSIGN_OR_RETURN(auto model, rank::IntentModel::Train(ts, options.model, groups, &progress));
  std::vector<double> engine, uncal(test.size());
  RETURN_IF_ERROR(model->PredictBatch(test_x, &engine));
  for (size_t i = 0; i < test.size(); ++i) {
    uncal[i] = Sigmoid(model->Margin(std::span<const float>(test_x.data() + i * cols, cols)));
  }

  ASSIGN_OR_RETURN(std::vector<double> lr, LogisticScores(ts.x, train_y, test_x, cols));

  auto index_of = [&](std::string_view name) {
    const auto it = std::find(ts.feature_names.begin(), ts.feature_names.end(), name);
    return it == ts.feature_names.end() ? -1 : static_cast<int>(it - ts.feature_names.begin());
  };
  std::vector<int> count_cols;
  for (const char* name : {"n_views", "n_carts", "n_distinct_items", "duration_s"}) {
    const int c = index_of(name);
    if (c < 0) return InternalError(fmt::format("session feature '{}' missing", name));
    count_cols.push_back(c);
  }
  ASSIGN_OR_RETURN(std::vector<double> counts,
                   LogisticScores(Columns(ts.x, cols, count_cols, true), train_y,
                                  Columns(test_x, cols, count_cols, true), count_cols.size()));

  // has_add_to_cart: the training conversion rate of sessions with / without one.
  const int has_cart = index_of("has_cart");
  if (has_cart < 0) return InternalError("session feature 'has_cart' missing");
  double pos[2] = {0, 0}, tot[2] = {0, 0};
  for (size_t i = 0; i < ts.rows(); ++i) {
    const int g = ts.x[i * cols + static_cast<size_t>(has_cart)] > 0.5f ? 1 : 0;
    tot[g] += 1;
    pos[g] += train_y[i];
  }
  std::vector<double> heuristic(test.size());
  for (size_t i = 0; i < test.size(); ++i) {
    const int g = test_x[i * cols + static_cast<size_t>(has_cart)] > 0.5f ? 1 : 0;
    heuristic[i] = (pos[g] + 0.5) / (tot[g] + 1.0);
  }

  EvalReport report;
  report.metrics = ScoreMetrics(engine, test_y, true);
  if (std::isnan(report.metrics["roc_auc"])) {
    return FailedPreconditionError(
        "the test sessions have a single class; ROC-AUC is undefined (too little data?)");
  }
  const BootstrapCi ci = Bootstrap(engine, lr, test_y, options.bootstrap, options.seed);
  report.metrics["roc_auc_ci_low"] = ci.auc_low;
  report.metrics["roc_auc_ci_high"] = ci.auc_high;
  report.metrics["delta_vs_lr_ci_low"] = ci.delta_low;
  report.metrics["delta_vs_lr_ci_high"] = ci.delta_high;
  report.metrics["n_train"] = static_cast<double>(ts.rows());
  report.ablations["engine_uncalibrated"] = ScoreMetrics(uncal, test_y, true);
  report.ablations["logistic_regression"] = ScoreMetrics(lr, test_y, true);
  report.ablations["logistic_counts"] = ScoreMetrics(counts, test_y, true);
  report.ablations["has_add_to_cart"] = ScoreMetrics(heuristic, test_y, true);
  const BootstrapCi ci_h = Bootstrap(engine, heuristic, test_y, options.bootstrap, options.seed + 1);
  report.metrics["delta_vs_cart_ci_low"] = ci_h.delta_low;
  report.metrics["delta_vs_cart_ci_high"] = ci_h.delta_high;

  report.extra = {
      {"reliability", ReliabilityJson(engine, test_y)},
      {"feature_importance", FeatureImportance(*model, test_x, cols)},
      {"counts",
       {{"sessions", n},
        {"train_sessions", n_train},
        {"test_sessions", n - n_train},
        {"rows", data.rows},
        {"bad_rows", data.bad_rows},
        {"dropped_first_purchase", data.dropped_first_purchase},
        {"unlabeled", data.unlabeled}}},
      {"model", {{"rounds", model->rounds()}, {"calibration",
                 std::string(rank::CalibrationKindName(model->calibrator().kind()))}}},
  };
  return report;
}

// ---------------------------------------------------------------------------
// Online Shoppers.

namespace {

struct ShopperRows {
  std::vector<std::vector<double>> raw;  // 17 columns as numbers (Month 1..12, VisitorType 0..2)
  std::vector<int> label;
};

constexpr const char* kShopperCols[] = {
    "Administrative", "Administrative_Duration", "Informational", "Informational_Duration",
    "ProductRelated", "ProductRelated_Duration", "BounceRates",  "ExitRates",
    "PageValues",     "SpecialDay",              "Month",        "OperatingSystems",
    "Browser",        "Region",                  "TrafficType",  "VisitorType",
    "Weekend"};
constexpr int kShopperNumCols = 17;

std::optional<double> ParseMonth(std::string_view s) {
  static const char* kNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (s.substr(0, 3) == kNames[i]) return i + 1;
  }
  return std::nullopt;
}

std::optional<int> ParseBool(std::string_view s) {
  if (s == "TRUE" || s == "True" || s == "true" || s == "YES" || s == "Yes" || s == "1") return 1;
  if (s == "FALSE" || s == "False" || s == "false" || s == "NO" || s == "No" || s == "0") return 0;
  return std::nullopt;
}

StatusOr<ShopperRows> ReadShoppers(const std::string& path) {
  ASSIGN_OR_RETURN(auto reader, ingest::CsvReader::Open(path));
  int col[kShopperNumCols];
  for (int i = 0; i < kShopperNumCols; ++i) {
    col[i] = reader->Column(kShopperCols[i]);
    if (col[i] < 0) {
      return InvalidArgumentError(fmt::format("{}: missing column '{}'", path, kShopperCols[i]));
    }
  }
  const int rev = reader->Column("Revenue");
  if (rev < 0) return InvalidArgumentError(fmt::format("{}: missing column 'Revenue'", path));
  ShopperRows rows;
  ingest::CsvRecord rec;
  while (reader->Next(&rec)) {
    if (rec.error != ingest::RecordError::kNone) {
      return InvalidArgumentError(
          fmt::format("{}:{}: malformed row: {}", path, rec.line, rec.error_detail));
    }
    std::vector<double> v(kShopperNumCols);
    for (int i = 0; i < kShopperNumCols; ++i) {
      const std::string_view f = rec.fields[static_cast<size_t>(col[i])];
      std::optional<double> x;
      if (i == 10) {
        x = ParseMonth(f);
      } else if (i == 15) {
        x = f == "Returning_Visitor" ? 0.0 : f == "New_Visitor" ? 1.0 : 2.0;
      } else if (i == 16) {
        if (auto b = ParseBool(f)) x = *b;
      } else {
        x = ParseNumber(f);
      }
      if (!x) {
        return InvalidArgumentError(fmt::format("{}:{}: column {}: cannot parse '{}'", path,
                                                rec.line, kShopperCols[i], f));
      }
      v[static_cast<size_t>(i)] = *x;
    }
    const auto y = ParseBool(rec.fields[static_cast<size_t>(rev)]);
    if (!y) {
      return InvalidArgumentError(fmt::format("{}:{}: column Revenue: cannot parse '{}'", path,
                                              rec.line, rec.fields[static_cast<size_t>(rev)]));
    }
    rows.raw.push_back(std::move(v));
    rows.label.push_back(*y);
  }
  RETURN_IF_ERROR(reader->status());
  return rows;
}

// The engine's columns: raw ones plus derived.
std::vector<std::string> ShopperEngineNames() {
  std::vector<std::string> names(std::begin(kShopperCols), std::end(kShopperCols));
  for (const char* d : {"log_page_values", "has_page_value", "pages_total", "duration_total",
                        "product_duration_per_page", "page_value_per_product_page",
                        "exit_minus_bounce"}) {
    names.push_back(d);
  }
  for (int m = 1; m <= 12; ++m) names.push_back(fmt::format("month_{}", m));
  for (int v = 0; v < 3; ++v) names.push_back(fmt::format("visitor_{}", v));
  for (int t = 1; t <= 20; ++t) names.push_back(fmt::format("traffic_{}", t));
  return names;
}
std::vector<float> ShopperEngineRow(const std::vector<double>& r) {
  std::vector<float> out(r.begin(), r.end());
  const double pages = r[0] + r[2] + r[4];
  out.push_back(static_cast<float>(std::log1p(std::max(0.0, r[8]))));
  out.push_back(r[8] > 0 ? 1.0f : 0.0f);
  out.push_back(static_cast<float>(pages));
  out.push_back(static_cast<float>(r[1] + r[3] + r[5]));
  out.push_back(static_cast<float>(r[5] / std::max(1.0, r[4])));
  out.push_back(static_cast<float>(r[8] / std::max(1.0, r[4])));
  out.push_back(static_cast<float>(r[7] - r[6]));
  // One-hot month, visitor type and traffic type (categories, not orders:
  // +0.015 ROC-AUC over the codes alone, docs/BENCHMARKS.md).
  for (int m = 1; m <= 12; ++m) out.push_back(r[10] == m ? 1.0f : 0.0f);
  for (int v = 0; v < 3; ++v) out.push_back(r[15] == v ? 1.0f : 0.0f);
  for (int t = 1; t <= 20; ++t) out.push_back(r[14] == t ? 1.0f : 0.0f);
  return out;
}
// Logistic-regression columns: log1p counts/durations/page values, rates, one-hot
// month (12) and visitor type (3), weekend, special day.
std::vector<float> ShopperLinearRow(const std::vector<double>& r) {
  std::vector<float> out;
  for (int i : {0, 1, 2, 3, 4, 5, 8}) out.push_back(static_cast<float>(std::log1p(std::max(0.0, r[i]))));
  out.push_back(static_cast<float>(r[6]));
  out.push_back(static_cast<float>(r[7]));
  out.push_back(static_cast<float>(r[9]));
  out.push_back(static_cast<float>(r[16]));
  for (int m = 1; m <= 12; ++m) out.push_back(r[10] == m ? 1.0f : 0.0f);
  for (int v = 0; v < 3; ++v) out.push_back(r[15] == v ? 1.0f : 0.0f);
  return out;
}

}  // namespace

StatusOr<EvalReport> EvaluateOnlineShoppers(const std::string& path,
                                            const SessionIntentOptions& options,
                                            const ProgressOptions& progress) {
  ASSIGN_OR_RETURN(ShopperRows rows, ReadShoppers(path));
  const size_t n = rows.label.size();
  const size_t n_train = static_cast<size_t>(std::floor(options.train_fraction * static_cast<double>(n)));
  if (n_train < 10 || n - n_train < 10) {
    return InvalidArgumentError(fmt::format("{}: too few rows ({})", path, n));
  }
  std::vector<int> train_y(rows.label.begin(), rows.label.begin() + static_cast<std::ptrdiff_t>(n_train));
  std::vector<int> test_y(rows.label.begin() + static_cast<std::ptrdiff_t>(n_train), rows.label.end());

  // Engine.
  rank::TrainingSet ts;
  ts.feature_names = ShopperEngineNames();
  std::vector<float> test_x;
  for (size_t i = 0; i < n; ++i) {
    const std::vector<float> row = ShopperEngineRow(rows.raw[i]);
    if (i < n_train) {
      ts.AddRow(row, static_cast<float>(rows.label[i]));
    } else {
      test_x.insert(test_x.end(), row.begin(), row.end());
    }
  }
  ASSIGN_OR_RETURN(auto model, rank::IntentModel::Train(ts, options.model, {}, &progress));
  std::vector<double> engine;
  RETURN_IF_ERROR(model->PredictBatch(test_x, &engine));

  // XGBoost with default settings on the raw columns.
  rank::TrainingSet raw;
  for (const char* c : kShopperCols) raw.feature_names.emplace_back(c);
  std::vector<float> raw_test;
  for (size_t i = 0; i < n; ++i) {
    std::vector<float> row(rows.raw[i].begin(), rows.raw[i].end());
    if (i < n_train) {
      raw.AddRow(row, static_cast<float>(rows.label[i]));
    } else {
      raw_test.insert(raw_test.end(), row.begin(), row.end());
    }
  }
  rank::GbdtOptions def;
  def.objective = "binary:logistic";
  def.eval_metric = "logloss";
  def.rounds = 100;
  def.early_stopping_rounds = 0;
  def.eta = 0.3;
  def.max_depth = 6;
  def.min_child_weight = 1;
  def.subsample = 1;
  def.colsample_bytree = 1;
  def.lambda = 1;
  ASSIGN_OR_RETURN(auto xgb, rank::GbdtModel::Train(raw, nullptr, def));
  std::vector<float> xgb_p(n - n_train);
  RETURN_IF_ERROR(xgb->Predict(raw_test.data(), xgb_p.size(), xgb_p.data()));
  std::vector<double> xgb_d(xgb_p.begin(), xgb_p.end());

  // Logistic regression.
  std::vector<float> lin_train, lin_test;
  size_t lin_cols = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::vector<float> row = ShopperLinearRow(rows.raw[i]);
    lin_cols = row.size();
    (i < n_train ? lin_train : lin_test).insert((i < n_train ? lin_train : lin_test).end(),
                                                row.begin(), row.end());
  }
  ASSIGN_OR_RETURN(std::vector<double> lr, LogisticScores(lin_train, train_y, lin_test, lin_cols));

  EvalReport report;
  report.metrics = ScoreMetrics(engine, test_y, true);
  const BootstrapCi ci = Bootstrap(engine, lr, test_y, options.bootstrap, options.seed);
  report.metrics["roc_auc_ci_low"] = ci.auc_low;
  report.metrics["roc_auc_ci_high"] = ci.auc_high;
  report.metrics["delta_vs_lr_ci_low"] = ci.delta_low;
  report.metrics["delta_vs_lr_ci_high"] = ci.delta_high;
  report.metrics["n_train"] = static_cast<double>(n_train);
  report.ablations["logistic_regression"] = ScoreMetrics(lr, test_y, true);
  report.ablations["xgboost_default"] = ScoreMetrics(xgb_d, test_y, true);
  report.extra = {{"reliability", ReliabilityJson(engine, test_y)},
                  {"feature_importance", FeatureImportance(*model, test_x, ts.cols())},
                  {"model", {{"rounds", model->rounds()}}}};
  return report;
}

Status AddIntentProtocols(ProtocolRegistry& registry) {
  RETURN_IF_ERROR(registry.Register(std::make_unique<Rees46Protocol>()));
  RETURN_IF_ERROR(registry.Register(std::make_unique<OnlineShoppersProtocol>()));
  RETURN_IF_ERROR(registry.Register(std::make_unique<SyntheticIntentProtocol>()));
  return OkStatus();
}

}  // namespace souk::eval
