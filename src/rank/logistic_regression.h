// LogisticRegression: L2-regularized logistic regression fitted by Newton's
// method (IRLS) on standardized features. The baseline of the intent and
// propensity evaluations; small dense problems only (cols <= ~50, the Hessian is
// cols^2 and solved by Gaussian elimination).
//
//   LogisticRegression lr;
//   RETURN_IF_ERROR(lr.Fit(x, labels, cols));   // x: rows * cols, row-major
//   double p = lr.Predict(row);                  // P(y = 1 | row)
//   double m = lr.Margin(row);                   // log-odds of the same
//
// Thread-safety: Predict / Margin / coefficients are const and thread-safe after
// Fit; Fit is not.
// Errors: InvalidArgument for shapes, non-finite values or labels not 0/1;
// Internal for a singular Hessian (cannot happen with l2 > 0).
// Cost: Fit O(iterations * rows * cols^2); Predict O(cols).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "common/status.h"

namespace souk::rank {

class LogisticRegression {
 public:
  struct Options {
    double l2 = 1.0;      // penalty on the (standardized) weights, not the bias
    int iterations = 50;  // Newton steps (stops earlier when converged)
  };
  // x: rows * cols row-major, labels 0/1. Errors: InvalidArgument for shapes,
  // non-finite values, or labels not 0/1.
  Status Fit(std::span<const float> x, std::span<const int> labels, size_t cols,
             const Options& options);
  Status Fit(std::span<const float> x, std::span<const int> labels, size_t cols) {
    return Fit(x, labels, cols, Options{});
  }
  // P(y = 1 | row); row has cols() values (extra values are ignored, missing
  // trailing ones count as the training mean).
  double Predict(std::span<const float> row) const;
  // The log-odds w . standardize(row) + bias (same conventions as Predict).
  double Margin(std::span<const float> row) const;
  size_t cols() const { return mean_.size(); }
  // Weights on the standardized features, then the bias.
  std::vector<double> coefficients() const;

 private:
  std::vector<double> mean_, scale_, w_;  // w_: cols weights + bias
};

}  // namespace souk::rank
