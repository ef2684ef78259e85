// IntentModel: a calibrated binary classifier (XGBoost binary:logistic + Platt or
// isotonic calibration) with per-prediction drivers. Used for the three intent
// models (session, item, customer; rank/intent_features.h builds their rows) and
// by the intent evaluations.
//
// Training (cross-fitted calibration, so the calibrator never sees in-sample
// margins):
//   1. split rows into `folds` folds (by `groups` when given, so rows of one
//      group stay together; deterministic from `seed`);
//   2. per fold: train on the other folds with early stopping on a slice of
//      them, record the out-of-fold margins and the best round;
//   3. fit the calibrator on the out-of-fold margins;
//   4. train the final booster on all rows for the median best round.
// With folds < 2 the calibrator is fit on a held-out 20% (by group) instead.
// oof_probabilities() returns the calibrated out-of-fold predictions (for
// reporting calibration on training data).
//
//   Predict(row)      calibrated P(y = 1)
//   Margin(row)       raw log-odds of the final booster
//   Drivers(row, k)   the k features with the largest |TreeSHAP contribution|,
//                     with their values and signed contributions (log-odds)
//
// Save(dir): the booster (rank/gbdt_model.h format) plus intent.json {kind:
// "intent", format_version, calibration, feature_names, metrics, extra}, written
// through temporary names and renames. Load validates both.
//
// Thread-safety: Predict / Margin / Drivers are const and thread-safe.
// Errors: InvalidArgument for shapes, labels not 0/1, a single class, bad
// options; DataLoss / NotFound at Load naming the file.
// Cost: Train ~ (folds + 1) boosters; Predict one tree walk (no DMatrix).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "rank/calibration.h"
#include "rank/gbdt_model.h"

namespace souk::rank {

struct IntentModelOptions {
  GbdtOptions gbdt = [] {
    GbdtOptions o;
    o.objective = "binary:logistic";
    o.eval_metric = "logloss";
    o.rounds = 600;
    o.early_stopping_rounds = 50;
    o.eta = 0.05;
    o.max_depth = 4;
    o.min_child_weight = 2.0;
    o.subsample = 0.8;
    o.colsample_bytree = 0.8;
    o.lambda = 2.0;
    return o;
  }();
  CalibrationKind calibration = CalibrationKind::kIsotonic;
  int folds = 5;
  uint64_t seed = 7;
};

struct Driver {
  std::string feature;        // feature name
  float value = 0;            // the row's value (NaN = missing)
  double contribution = 0;    // signed contribution to the log-odds
};

class IntentModel {
 public:
  ~IntentModel();
  // `groups` (optional, one per row): rows sharing a value stay in one fold.
  static StatusOr<std::unique_ptr<IntentModel>> Train(const TrainingSet& data,
                                                      const IntentModelOptions& options,
                                                      std::span<const int64_t> groups = {},
                                                      const ProgressOptions* progress = nullptr);
  static StatusOr<std::unique_ptr<IntentModel>> Load(const std::string& dir);
  Status Save(const std::string& dir, const nlohmann::json& extra = nullptr) const;

  double Predict(std::span<const float> row) const;  // NaN when row.size() != cols
  double Margin(std::span<const float> row) const;
  // Batch: rows * cols floats -> rows probabilities.
  Status PredictBatch(std::span<const float> x, std::vector<double>* out) const;
  StatusOr<std::vector<Driver>> Drivers(std::span<const float> row, int k) const;

  const std::vector<std::string>& feature_names() const;
  const Calibrator& calibrator() const { return calibrator_; }
  const std::vector<double>& oof_probabilities() const { return oof_; }
  const std::vector<int>& oof_labels() const { return oof_labels_; }
  int rounds() const { return rounds_; }

 private:
  IntentModel() = default;
  std::unique_ptr<GbdtModel> booster_;
  Calibrator calibrator_;
  std::vector<double> oof_;
  std::vector<int> oof_labels_;
  int rounds_ = 0;
};

}  // namespace souk::rank
