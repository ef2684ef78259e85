#include "rank/intent_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "common/clock.h"
#include "common/file.h"
#include "rank/intent_model_internal.h"

namespace souk::rank {
namespace {

constexpr int kFormatVersion = 1;
constexpr char kKind[] = "intent";
constexpr char kIntentFile[] = "intent.json";
constexpr int kMaxEarlyStoppingFolds = 8;  // the early-stopping slice is 1/8 of a fold's rows
constexpr int kHoldoutFolds = 5;           // folds < 2: calibrate on 1/5 of the groups
constexpr int kEceBins = 10;

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// The rows `idx` of `data` (features, labels, weights; no query groups).
TrainingSet Subset(const TrainingSet& data, std::span<const size_t> idx) {
  TrainingSet out;
  out.feature_names = data.feature_names;
  const size_t cols = data.cols();
  out.x.reserve(idx.size() * cols);
  out.label.reserve(idx.size());
  for (size_t r : idx) {
    out.x.insert(out.x.end(), data.x.begin() + r * cols, data.x.begin() + (r + 1) * cols);
    out.label.push_back(data.label[r]);
    if (!data.weight.empty()) out.weight.push_back(data.weight[r]);
  }
  return out;
}

// ROC-AUC with ties counted half (NaN without both classes).
double Auc(std::span<const double> p, std::span<const int> y) {
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  double pos = 0, neg = 0, rank_sum = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && p[order[j]] == p[order[i]]) ++j;
    const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (size_t k = i; k < j; ++k) {
      if (y[order[k]] == 1) {
        rank_sum += mid_rank;
        pos += 1;
      } else {
        neg += 1;
      }
    }
    i = j;
  }
  if (pos == 0 || neg == 0) return std::nan("");
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

// Summary of calibrated out-of-fold predictions: AUC, log loss, Brier, ECE.
nlohmann::json OofMetrics(std::span<const double> p, std::span<const int> y) {
  nlohmann::json j = nlohmann::json::object();
  if (p.empty()) return j;
  double logloss = 0, brier = 0, positives = 0;
  std::vector<double> bin_p(kEceBins, 0), bin_y(kEceBins, 0), bin_n(kEceBins, 0);
  for (size_t i = 0; i < p.size(); ++i) {
    const double q = std::clamp(p[i], 1e-15, 1 - 1e-15);
    logloss -= y[i] == 1 ? std::log(q) : std::log(1 - q);
    brier += (p[i] - y[i]) * (p[i] - y[i]);
    positives += y[i];
    const int b = std::clamp(static_cast<int>(p[i] * kEceBins), 0, kEceBins - 1);
    bin_p[b] += p[i];
    bin_y[b] += y[i];
    bin_n[b] += 1;
  }
  double ece = 0;
  for (int b = 0; b < kEceBins; ++b) ece += std::abs(bin_p[b] - bin_y[b]);
  const double n = static_cast<double>(p.size());
  j["oof_rows"] = p.size();
  j["oof_positives"] = positives;
  const double auc = Auc(p, y);
  if (std::isfinite(auc)) j["oof_auc"] = auc;
  j["oof_logloss"] = logloss / n;
  j["oof_brier"] = brier / n;
  j["oof_ece"] = ece / n;
  return j;
}

// One line on the progress stream (nothing when progress is off or absent).
void ProgressLine(const ProgressOptions* progress, const std::string& line) {
  if (progress == nullptr || progress->mode == ProgressMode::kOff || progress->out == nullptr) {
    return;
  }
  std::fprintf(progress->out, "intent model: %s\n", line.c_str());
  std::fflush(progress->out);
}

// Number of distinct groups (rows when `groups` is empty) holding a row with label `y`.
size_t GroupsWithLabel(std::span<const float> labels, std::span<const int64_t> groups, float y) {
  if (groups.empty()) return static_cast<size_t>(std::count(labels.begin(), labels.end(), y));
  std::vector<int64_t> g;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == y) g.push_back(groups[i]);
  }
  std::sort(g.begin(), g.end());
  return static_cast<size_t>(std::unique(g.begin(), g.end()) - g.begin());
}

// Trains one booster on `train_idx` with early stopping on a group-aware slice of
// it; returns the booster and its best round count.
StatusOr<std::unique_ptr<GbdtModel>> TrainFoldBooster(const TrainingSet& data,
                                                      std::span<const int64_t> groups,
                                                      std::span<const size_t> train_idx,
                                                      const IntentModelOptions& options,
                                                      uint64_t seed, size_t* es_rows) {
  *es_rows = 0;
  if (options.gbdt.early_stopping_rounds <= 0) {
    const TrainingSet train = Subset(data, train_idx);
    return GbdtModel::Train(train, nullptr, options.gbdt);
  }
  std::vector<float> labels;
  std::vector<int64_t> sub_groups;
  labels.reserve(train_idx.size());
  for (size_t r : train_idx) {
    labels.push_back(data.label[r]);
    if (!groups.empty()) sub_groups.push_back(groups[r]);
  }
  const size_t minority = std::min(GroupsWithLabel(labels, sub_groups, 1.0f),
                                   GroupsWithLabel(labels, sub_groups, 0.0f));
  const int inner = static_cast<int>(
      std::clamp<size_t>(minority, 2, static_cast<size_t>(kMaxEarlyStoppingFolds)));
  const std::vector<int> inner_fold = internal::AssignFolds(labels, sub_groups, inner, seed);
  std::vector<size_t> fit_idx, es_idx;
  for (size_t i = 0; i < train_idx.size(); ++i) {
    (inner_fold[i] == 0 ? es_idx : fit_idx).push_back(train_idx[i]);
  }
  *es_rows = es_idx.size();
  const TrainingSet fit = Subset(data, fit_idx), es = Subset(data, es_idx);
  return GbdtModel::Train(fit, &es, options.gbdt);
}

Status CheckOptions(const IntentModelOptions& options) {
  if (options.gbdt.objective != "binary:logistic") {
    return InvalidArgumentError(fmt::format(
        "intent model: objective must be binary:logistic, got '{}'", options.gbdt.objective));
  }
  if (options.gbdt.rounds <= 0) {
    return InvalidArgumentError(
        fmt::format("intent model: rounds must be positive, got {}", options.gbdt.rounds));
  }
  if (options.folds < 0 || options.folds > 100) {
    return InvalidArgumentError(
        fmt::format("intent model: folds must be in [0, 100], got {}", options.folds));
  }
  return OkStatus();
}

}  // namespace

namespace internal {

std::vector<int> AssignFolds(std::span<const float> labels, std::span<const int64_t> groups,
                             int folds, uint64_t seed) {
  const size_t n = labels.size();
  folds = std::max(1, folds);
  // Dense group ids in order of first appearance.
  std::vector<size_t> gid(n);
  size_t num_groups = 0;
  if (groups.empty()) {
    std::iota(gid.begin(), gid.end(), 0);
    num_groups = n;
  } else {
    std::unordered_map<int64_t, size_t> ids;
    ids.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      auto [it, inserted] = ids.try_emplace(groups[i], num_groups);
      if (inserted) ++num_groups;
      gid[i] = it->second;
    }
  }
  const size_t positives = static_cast<size_t>(std::count(labels.begin(), labels.end(), 1.0f));
  const float minority_label = positives * 2 <= n ? 1.0f : 0.0f;
  std::vector<size_t> group_rows(num_groups, 0);
  std::vector<uint8_t> has_minority(num_groups, 0);
  for (size_t i = 0; i < n; ++i) {
    ++group_rows[gid[i]];
    if (labels[i] == minority_label) has_minority[gid[i]] = 1;
  }
  std::vector<size_t> order(num_groups);
  std::iota(order.begin(), order.end(), 0);
  uint64_t state = seed;
  for (size_t i = num_groups; i > 1; --i) {
    std::swap(order[i - 1], order[SplitMix64(&state) % i]);
  }
  std::vector<int> group_fold(num_groups, 0);
  std::vector<size_t> fold_minority(folds, 0), fold_rows(folds, 0);
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t g : order) {
      if (has_minority[g] != (pass == 0 ? 1 : 0)) continue;
      int best = 0;
      for (int f = 1; f < folds; ++f) {
        const bool fewer = pass == 0 ? std::tie(fold_minority[f], fold_rows[f]) <
                                           std::tie(fold_minority[best], fold_rows[best])
                                     : fold_rows[f] < fold_rows[best];
        if (fewer) best = f;
      }
      group_fold[g] = best;
      fold_minority[best] += has_minority[g];
      fold_rows[best] += group_rows[g];
    }
  }
  std::vector<int> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = group_fold[gid[i]];
  return out;
}

int MedianRounds(std::vector<int> rounds) {
  if (rounds.empty()) return 0;
  std::sort(rounds.begin(), rounds.end());
  const size_t m = rounds.size() / 2;
  if (rounds.size() % 2 == 1) return rounds[m];
  return (rounds[m - 1] + rounds[m] + 1) / 2;
}

}  // namespace internal

IntentModel::~IntentModel() = default;

StatusOr<std::unique_ptr<IntentModel>> IntentModel::Train(const TrainingSet& data,
                                                          const IntentModelOptions& options,
                                                          std::span<const int64_t> groups,
                                                          const ProgressOptions* progress) {
  RETURN_IF_ERROR(CheckOptions(options));
  RETURN_IF_ERROR(data.Validate().WithContext("intent model"));
  const size_t rows = data.rows();
  if (rows == 0) return InvalidArgumentError("intent model: the training set is empty");
  if (!data.groups.empty()) {
    return InvalidArgumentError(
        "intent model: the training set has query groups; pass row groups as `groups`");
  }
  if (!groups.empty() && groups.size() != rows) {
    return InvalidArgumentError(
        fmt::format("intent model: {} groups for {} rows", groups.size(), rows));
  }
  std::vector<int> labels(rows);
  for (size_t i = 0; i < rows; ++i) {
    if (data.label[i] != 0.0f && data.label[i] != 1.0f) {
      return InvalidArgumentError(
          fmt::format("intent model: label {} at row {} is not 0/1", data.label[i], i));
    }
    labels[i] = static_cast<int>(data.label[i]);
  }
  const size_t positives = static_cast<size_t>(std::count(labels.begin(), labels.end(), 1));
  if (positives == 0 || positives == rows) {
    return InvalidArgumentError(
        fmt::format("intent model: all {} labels are {}; needs both classes", rows,
                    positives == 0 ? 0 : 1));
  }
  const bool minority_is_positive = positives * 2 <= rows;
  const size_t minority_groups =
      GroupsWithLabel(data.label, groups, minority_is_positive ? 1.0f : 0.0f);
  const char* minority_name = minority_is_positive ? "positive" : "negative";
  if (minority_groups < 4) {
    return InvalidArgumentError(fmt::format(
        "intent model: only {} {} {} (label {}); needs at least 4 to calibrate out of fold",
        minority_groups, groups.empty() ? "rows" : "groups", minority_name,
        minority_is_positive ? 1 : 0));
  }
  const Clock& clock = progress != nullptr && progress->clock != nullptr ? *progress->clock
                                                                         : RealClock();
  const int64_t start_us = clock.MonotonicMicros();
  auto elapsed = [&] { return (clock.MonotonicMicros() - start_us) / 1e6; };

  // Folds: at least 2 minority groups in each.
  const bool cross_fit = options.folds >= 2;
  const int wanted = cross_fit ? options.folds : kHoldoutFolds;
  const int folds = std::min<int>(wanted, static_cast<int>(minority_groups / 2));
  if (folds < wanted) {
    ProgressLine(progress, fmt::format("{} {} {}: using {} folds instead of {}", minority_groups,
                                       minority_name, groups.empty() ? "rows" : "groups", folds,
                                       wanted));
  }
  const std::vector<int> fold = internal::AssignFolds(data.label, groups, folds, options.seed);
  const int passes = cross_fit ? folds : 1;  // holdout: fold 0 is held out

  std::vector<double> oof_margin;
  std::vector<size_t> oof_rows;
  std::vector<int> best_rounds;
  for (int f = 0; f < passes; ++f) {
    std::vector<size_t> train_idx, test_idx;
    for (size_t i = 0; i < rows; ++i) (fold[i] == f ? test_idx : train_idx).push_back(i);
    size_t es_rows = 0;
    auto booster = TrainFoldBooster(data, groups, train_idx, options,
                                    options.seed + 1000003ull * (f + 1), &es_rows);
    if (!booster.ok()) {
      return booster.status().WithContext(fmt::format("intent model: fold {}/{}", f + 1, passes));
    }
    const TrainingSet test = Subset(data, test_idx);
    std::vector<float> margins(test.rows());
    RETURN_IF_ERROR((*booster)->PredictMargin(test.x.data(), test.rows(), margins.data()));
    double logloss = 0;
    for (size_t i = 0; i < test_idx.size(); ++i) {
      oof_margin.push_back(margins[i]);
      oof_rows.push_back(test_idx[i]);
      const double p = std::clamp(Sigmoid(margins[i]), 1e-15, 1 - 1e-15);
      logloss -= labels[test_idx[i]] == 1 ? std::log(p) : std::log(1 - p);
    }
    best_rounds.push_back((*booster)->best_iteration() + 1);
    ProgressLine(progress,
                 fmt::format("{} {}/{}: trained on {} rows ({} for early stopping), best round "
                             "{}, held-out {} rows logloss {:.4f}, {:.1f}s",
                             cross_fit ? "fold" : "holdout", f + 1, passes,
                             train_idx.size() - es_rows, es_rows, best_rounds.back(),
                             test_idx.size(), logloss / std::max<size_t>(1, test_idx.size()),
                             elapsed()));
  }

  std::unique_ptr<IntentModel> model(new IntentModel());
  // Calibrate on the out-of-fold margins, kept in row order.
  std::vector<size_t> order(oof_rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return oof_rows[a] < oof_rows[b]; });
  std::vector<double> m;
  std::vector<int> oof_labels;
  m.reserve(order.size());
  oof_labels.reserve(order.size());
  for (size_t i : order) {
    m.push_back(oof_margin[i]);
    oof_labels.push_back(labels[oof_rows[i]]);
  }
  RETURN_IF_ERROR(model->calibrator_.Fit(m, oof_labels, options.calibration)
                      .WithContext("intent model: calibrating out-of-fold margins"));
  model->oof_.reserve(m.size());
  for (double v : m) model->oof_.push_back(model->calibrator_.Apply(v));
  model->oof_labels_ = std::move(oof_labels);

  // The final booster on every row for the median best round.
  model->rounds_ = std::max(1, internal::MedianRounds(best_rounds));
  GbdtOptions final_options = options.gbdt;
  final_options.rounds = model->rounds_;
  final_options.early_stopping_rounds = 0;
  TrainingSet all;
  all.feature_names = data.feature_names;
  all.x = data.x;
  all.label = data.label;
  all.weight = data.weight;
  auto booster = GbdtModel::Train(all, nullptr, final_options);
  if (!booster.ok()) return booster.status().WithContext("intent model: final booster");
  model->booster_ = std::move(booster).value();
  const nlohmann::json metrics = OofMetrics(model->oof_, model->oof_labels_);
  ProgressLine(progress,
               fmt::format("calibration {} on {} out-of-fold rows (AUC {:.4f}, ECE {:.4f}); "
                           "final booster {} rounds on {} rows, {:.1f}s",
                           CalibrationKindName(options.calibration), model->oof_.size(),
                           metrics.value("oof_auc", std::nan("")),
                           metrics.value("oof_ece", std::nan("")), model->rounds_, rows,
                           elapsed()));
  return model;
}

StatusOr<std::unique_ptr<IntentModel>> IntentModel::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path path = fs::path(dir) / kIntentFile;
  std::ifstream in(path);
  if (!in) return NotFoundError(fmt::format("no intent model file: {}", path.string()));
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLossError(fmt::format("{}: not a JSON object", path.string()));
  }
  if (!j.contains("kind") || !j["kind"].is_string() || j["kind"].get<std::string>() != kKind) {
    return DataLossError(fmt::format("{}: field 'kind' is not '{}'", path.string(), kKind));
  }
  if (!j.contains("format_version") || !j["format_version"].is_number_integer() ||
      j["format_version"].get<int>() != kFormatVersion) {
    return DataLossError(fmt::format("{}: unsupported format_version {} (expected {})",
                                     path.string(),
                                     j.contains("format_version") ? j["format_version"].dump()
                                                                  : "(missing)",
                                     kFormatVersion));
  }
  std::unique_ptr<IntentModel> model(new IntentModel());
  if (!j.contains("calibration")) {
    return DataLossError(fmt::format("{}: field 'calibration' missing", path.string()));
  }
  auto calibrator = Calibrator::FromJson(j["calibration"]);
  if (!calibrator.ok()) return calibrator.status().WithContext(path.string());
  model->calibrator_ = std::move(calibrator).value();
  if (!j.contains("feature_names") || !j["feature_names"].is_array()) {
    return DataLossError(fmt::format("{}: field 'feature_names' missing", path.string()));
  }
  std::vector<std::string> names;
  for (const auto& v : j["feature_names"]) {
    if (!v.is_string()) {
      return DataLossError(fmt::format("{}: field 'feature_names' has a non-string", path.string()));
    }
    names.push_back(v.get<std::string>());
  }
  if (j.contains("rounds") && j["rounds"].is_number_integer()) {
    model->rounds_ = j["rounds"].get<int>();
  }
  ASSIGN_OR_RETURN(model->booster_, GbdtModel::Load(dir));
  if (model->booster_->feature_names() != names) {
    return DataLossError(fmt::format(
        "{}: feature_names ({}) differ from the booster's in {} ({})", path.string(),
        names.size(), (fs::path(dir) / "manifest.json").string(),
        model->booster_->feature_names().size()));
  }
  if (model->booster_->objective() != "binary:logistic") {
    return DataLossError(fmt::format("{}: the booster's objective is '{}', not binary:logistic",
                                     dir, model->booster_->objective()));
  }
  return model;
}

Status IntentModel::Save(const std::string& dir, const nlohmann::json& extra) const {
  // The booster first (model.json, manifest.json), intent.json last: each file
  // is written to a temporary name and renamed, and Load checks they agree.
  RETURN_IF_ERROR(booster_->Save(dir, nlohmann::json{{"intent_model", true}}));
  nlohmann::json metrics = OofMetrics(oof_, oof_labels_);
  metrics["rounds"] = rounds_;
  const nlohmann::json j = {
      {"kind", kKind},
      {"format_version", kFormatVersion},
      {"calibration", calibrator_.ToJson()},
      {"feature_names", booster_->feature_names()},
      {"rounds", rounds_},
      {"metrics", metrics},
      {"extra", extra.is_null() ? nlohmann::json::object() : extra},
  };
  return WriteFileAtomically(std::filesystem::path(dir) / kIntentFile, j.dump(2) + "\n");
}

double IntentModel::Margin(std::span<const float> row) const {
  if (row.size() != booster_->feature_names().size()) return std::nan("");
  float margin = 0;
  if (!booster_->PredictMargin(row.data(), 1, &margin).ok()) return std::nan("");
  return margin;
}

double IntentModel::Predict(std::span<const float> row) const {
  return calibrator_.Apply(Margin(row));
}

Status IntentModel::PredictBatch(std::span<const float> x, std::vector<double>* out) const {
  const size_t cols = booster_->feature_names().size();
  if (x.size() % cols != 0) {
    return InvalidArgumentError(fmt::format(
        "intent model: {} values are not a whole number of rows of {} features", x.size(), cols));
  }
  const size_t rows = x.size() / cols;
  std::vector<float> margins(rows);
  RETURN_IF_ERROR(booster_->PredictMargin(x.data(), rows, margins.data()));
  out->resize(rows);
  for (size_t i = 0; i < rows; ++i) (*out)[i] = calibrator_.Apply(margins[i]);
  return OkStatus();
}

StatusOr<std::vector<Driver>> IntentModel::Drivers(std::span<const float> row, int k) const {
  const std::vector<std::string>& names = booster_->feature_names();
  if (row.size() != names.size()) {
    return InvalidArgumentError(fmt::format("intent model: drivers of a row of {} values; the "
                                            "model has {} features",
                                            row.size(), names.size()));
  }
  if (k < 0) return InvalidArgumentError(fmt::format("intent model: {} drivers requested", k));
  ASSIGN_OR_RETURN(std::vector<float> contributions, booster_->Contributions(row.data(), 1));
  std::vector<Driver> drivers(names.size());
  for (size_t j = 0; j < names.size(); ++j) {
    drivers[j] = Driver{names[j], row[j], contributions[j]};
  }
  std::stable_sort(drivers.begin(), drivers.end(), [](const Driver& a, const Driver& b) {
    return std::abs(a.contribution) > std::abs(b.contribution);
  });
  drivers.resize(std::min(drivers.size(), static_cast<size_t>(k)));
  return drivers;
}

const std::vector<std::string>& IntentModel::feature_names() const {
  return booster_->feature_names();
}

}  // namespace souk::rank
