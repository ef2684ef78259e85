#include "rank/logistic_regression.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace souk::rank {

Status LogisticRegression::Fit(std::span<const float> x, std::span<const int> labels, size_t cols,
                               const Options& options) {
  if (cols == 0 || labels.empty() || x.size() != labels.size() * cols) {
    return InvalidArgumentError(fmt::format(
        "logistic regression: {} values for {} rows x {} columns", x.size(), labels.size(), cols));
  }
  const size_t rows = labels.size();
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      return InvalidArgumentError(fmt::format(
          "logistic regression: non-finite feature at row {} column {}", i / cols, i % cols));
    }
  }
  for (size_t r = 0; r < rows; ++r) {
    if (labels[r] != 0 && labels[r] != 1) {
      return InvalidArgumentError(
          fmt::format("logistic regression: label {} at row {} is not 0/1", labels[r], r));
    }
  }
  mean_.assign(cols, 0);
  scale_.assign(cols, 1);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t j = 0; j < cols; ++j) mean_[j] += x[r * cols + j];
  }
  for (double& m : mean_) m /= static_cast<double>(rows);
  std::vector<double> var(cols, 0);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t j = 0; j < cols; ++j) {
      const double d = x[r * cols + j] - mean_[j];
      var[j] += d * d;
    }
  }
  for (size_t j = 0; j < cols; ++j) {
    const double sd = std::sqrt(var[j] / static_cast<double>(rows));
    scale_[j] = sd > 1e-12 ? sd : 1.0;
  }
  const size_t d = cols + 1;  // + bias
  w_.assign(d, 0);
  std::vector<double> z(d), grad(d), hess(d * d);
  for (int it = 0; it < options.iterations; ++it) {
    std::fill(grad.begin(), grad.end(), 0);
    std::fill(hess.begin(), hess.end(), 0);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t j = 0; j < cols; ++j) z[j] = (x[r * cols + j] - mean_[j]) / scale_[j];
      z[cols] = 1;
      double margin = 0;
      for (size_t j = 0; j < d; ++j) margin += w_[j] * z[j];
      const double p = 1 / (1 + std::exp(-margin));
      const double g = p - labels[r], h = std::max(p * (1 - p), 1e-12);
      for (size_t j = 0; j < d; ++j) {
        grad[j] += g * z[j];
        for (size_t k = 0; k <= j; ++k) hess[j * d + k] += h * z[j] * z[k];
      }
    }
    for (size_t j = 0; j < d; ++j) {
      for (size_t k = 0; k < j; ++k) hess[k * d + j] = hess[j * d + k];
      if (j < cols) {
        grad[j] += options.l2 * w_[j];
        hess[j * d + j] += options.l2;
      }
    }
    hess[d * d - 1] += 1e-9;
    // Solve hess * step = grad (Gaussian elimination with partial pivoting).
    std::vector<double> a = hess, b = grad;
    for (size_t col = 0; col < d; ++col) {
      size_t pivot = col;
      for (size_t r = col + 1; r < d; ++r) {
        if (std::abs(a[r * d + col]) > std::abs(a[pivot * d + col])) pivot = r;
      }
      if (std::abs(a[pivot * d + col]) < 1e-15) {
        return InternalError("logistic regression: singular Hessian");
      }
      if (pivot != col) {
        for (size_t k = 0; k < d; ++k) std::swap(a[col * d + k], a[pivot * d + k]);
        std::swap(b[col], b[pivot]);
      }
      for (size_t r = col + 1; r < d; ++r) {
        const double f = a[r * d + col] / a[col * d + col];
        for (size_t k = col; k < d; ++k) a[r * d + k] -= f * a[col * d + k];
        b[r] -= f * b[col];
      }
    }
    std::vector<double> step(d);
    for (size_t r = d; r-- > 0;) {
      double s = b[r];
      for (size_t k = r + 1; k < d; ++k) s -= a[r * d + k] * step[k];
      step[r] = s / a[r * d + r];
    }
    double change = 0;
    for (size_t j = 0; j < d; ++j) {
      w_[j] -= step[j];
      change = std::max(change, std::abs(step[j]));
    }
    if (change < 1e-8) break;
  }
  return OkStatus();
}

double LogisticRegression::Margin(std::span<const float> row) const {
  double margin = w_.empty() ? 0 : w_.back();
  for (size_t j = 0; j < mean_.size() && j < row.size(); ++j) {
    margin += w_[j] * (row[j] - mean_[j]) / scale_[j];
  }
  return margin;
}

double LogisticRegression::Predict(std::span<const float> row) const {
  return 1 / (1 + std::exp(-Margin(row)));
}

std::vector<double> LogisticRegression::coefficients() const { return w_; }

}  // namespace souk::rank
