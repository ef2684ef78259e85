// Probability calibration for binary scores: Platt scaling (a logistic fit on the
// margin) or isotonic regression (pool-adjacent-violators on the margin order,
// then linear interpolation between the block centres so that distinct margins
// keep distinct probabilities and the ranking is preserved where possible).
//
//   Calibrator c; c.Fit(margins, labels, CalibrationKind::kIsotonic);
//   double p = c.Apply(margin);           // in [kMinProbability, 1 - kMinProbability]
//   nlohmann::json j = c.ToJson();  Calibrator::FromJson(j)
//
// Margins are raw log-odds (XGBoost output_margin, or any monotone score). Kind
// kNone applies the logistic function only.
//
// Thread-safety: Apply is const and thread-safe after Fit / FromJson.
// Errors: InvalidArgument for size mismatch, non-finite margins, labels not 0/1,
// or (for Platt / isotonic) fewer than 2 rows or a single class.
// Cost: Fit O(n log n); Apply O(log blocks).
#pragma once

#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace souk::rank {

enum class CalibrationKind { kNone, kPlatt, kIsotonic };

inline constexpr double kMinProbability = 1e-4;

// "none" | "platt" | "isotonic"; InvalidArgument naming the value otherwise.
StatusOr<CalibrationKind> ParseCalibrationKind(std::string_view name);
std::string_view CalibrationKindName(CalibrationKind kind);

class Calibrator {
 public:
  Status Fit(std::span<const double> margins, std::span<const int> labels, CalibrationKind kind);
  double Apply(double margin) const;
  CalibrationKind kind() const { return kind_; }

  nlohmann::json ToJson() const;
  // DataLoss naming the bad field for malformed input.
  static StatusOr<Calibrator> FromJson(const nlohmann::json& j);

 private:
  CalibrationKind kind_ = CalibrationKind::kNone;
  double a_ = 1.0, b_ = 0.0;                // Platt: p = sigmoid(a * margin + b)
  std::vector<double> knots_x_, knots_p_;   // isotonic: margin -> probability, ascending
};

// Reliability curves and ECE: eval/metrics.h ExpectedCalibrationError.

}  // namespace souk::rank
