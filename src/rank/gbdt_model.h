// GbdtModel: gradient-boosted trees (XGBoost) for learning-to-rank, relevance
// regression and intent classification. The only place XGBoost is included;
// its errors become Status here.
//
//   TrainingSet (row-major features, labels, optional row weights, query groups)
//     -> GbdtModel::Train (objective rank:pairwise / rank:ndcg / reg:squarederror /
//        binary:logistic, early stopping on a validation set)
//     -> Predict (in-place, no DMatrix, one thread) / Contributions (SHAP values
//        per feature, for explanations)
//     -> Save(dir): model.json + manifest.json {kind, format_version, objective,
//        feature_names, best_iteration, metrics, extra}
//
// Thread-safety: Predict and Contributions may be called concurrently after
// Train/Load (XGBoost's in-place prediction is thread-safe); Save is const.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/progress.h"
#include "common/status.h"

namespace souk::rank {

struct TrainingSet {
  std::vector<std::string> feature_names;  // f columns
  std::vector<float> x;                    // rows * f, row-major; NaN = missing
  std::vector<float> label;                // one per row
  std::vector<float> weight;               // per row (empty = all 1); ranking objectives
                                           // use per-group weights: the first row's weight
  std::vector<uint32_t> groups;            // ranking: sizes of consecutive query groups
  size_t rows() const { return label.size(); }
  size_t cols() const { return feature_names.size(); }
  // Appends one row (x.size() must be a multiple of cols()).
  void AddRow(const std::vector<float>& features, float y, float w = 1.0f);
  // Checks shapes: InvalidArgument naming the mismatch.
  Status Validate() const;
};

struct GbdtOptions {
  std::string objective = "rank:pairwise";  // rank:pairwise | rank:ndcg | reg:squarederror |
                                            // binary:logistic
  std::string eval_metric = "";             // "" = ndcg@10 for rank:*, rmse, logloss
  int rounds = 400;                         // maximum boosting rounds
  int early_stopping_rounds = 40;           // on the validation set (0 = off)
  double eta = 0.08;
  int max_depth = 6;
  double min_child_weight = 1.0;
  double subsample = 0.8;
  double colsample_bytree = 0.9;
  double lambda = 1.0;
  int threads = 2;                          // training threads (prediction uses 1)
  uint64_t seed = 1;
};

class GbdtModel {
 public:
  ~GbdtModel();
  GbdtModel(const GbdtModel&) = delete;
  GbdtModel& operator=(const GbdtModel&) = delete;

  // Trains on `train`; with `valid` the best round by the eval metric is kept
  // (early stopping). Errors: InvalidArgument for bad shapes/options, Internal
  // for an XGBoost failure (its message included).
  static StatusOr<std::unique_ptr<GbdtModel>> Train(const TrainingSet& train,
                                                    const TrainingSet* valid,
                                                    const GbdtOptions& options,
                                                    const ProgressOptions* progress = nullptr);
  // Loads what Save wrote. NotFound / DataLoss naming the file.
  static StatusOr<std::unique_ptr<GbdtModel>> Load(const std::string& dir);
  // Writes model.json and manifest.json into dir (created), via temporary names
  // and renames so a crash never leaves a half model. `extra` is merged into the
  // manifest (data watermark, metrics, ...).
  Status Save(const std::string& dir, const nlohmann::json& extra = nullptr) const;

  const std::vector<std::string>& feature_names() const { return feature_names_; }
  const std::string& objective() const { return objective_; }
  int best_iteration() const { return best_iteration_; }
  // Validation metric at the best iteration (NaN without validation).
  double best_score() const { return best_score_; }

  // Scores rows x (rows * cols floats). Errors: InvalidArgument on shape.
  Status Predict(const float* x, size_t rows, float* out) const;
  std::vector<float> Predict(const std::vector<float>& x) const;  // empty on error
  // Raw scores before the objective's link function (XGBoost output_margin):
  // log-odds for binary:logistic, the same as Predict for the other objectives.
  // Errors: InvalidArgument on shape.
  Status PredictMargin(const float* x, size_t rows, float* out) const;
  // Per-feature contributions (TreeSHAP) to the margin: rows * (cols + 1),
  // the last column of each row is the bias. Sum of a row = margin prediction.
  StatusOr<std::vector<float>> Contributions(const float* x, size_t rows) const;

 private:
  GbdtModel() = default;
  // In-place prediction with the given XGBoost prediction config.
  Status PredictDense(const float* x, size_t rows, const std::string& config, float* out) const;
  void* booster_ = nullptr;  // BoosterHandle
  std::vector<std::string> feature_names_;
  std::string objective_;
  int best_iteration_ = -1;
  double best_score_ = 0;
  std::string predict_config_;
};

}  // namespace souk::rank
