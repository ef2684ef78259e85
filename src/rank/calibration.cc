#include "rank/calibration.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace souk::rank {
namespace {

double Clip(double p) { return std::clamp(p, kMinProbability, 1.0 - kMinProbability); }

double Sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

// log(1 + e^z) without overflow.
double Softplus(double z) { return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))); }

Status CheckInputs(std::span<const double> margins, std::span<const int> labels) {
  if (margins.size() != labels.size()) {
    return InvalidArgumentError(fmt::format("calibration: {} margins but {} labels",
                                            margins.size(), labels.size()));
  }
  for (size_t i = 0; i < margins.size(); ++i) {
    if (!std::isfinite(margins[i])) {
      return InvalidArgumentError(
          fmt::format("calibration: margin {} at row {} is not finite", margins[i], i));
    }
    if (labels[i] != 0 && labels[i] != 1) {
      return InvalidArgumentError(
          fmt::format("calibration: label {} at row {} is not 0/1", labels[i], i));
    }
  }
  return OkStatus();
}

// Platt scaling: minimizes the cross-entropy of sigmoid(a * m + b) against the
// smoothed targets (n+ + 1) / (n+ + 2) for positives and 1 / (n- + 2) for
// negatives, by Newton's method with step halving.
Status FitPlatt(std::span<const double> m, std::span<const int> y, double* a_out,
                double* b_out) {
  double n_pos = 0, n_neg = 0;
  for (int v : y) (v == 1 ? n_pos : n_neg) += 1;
  const double t_pos = (n_pos + 1) / (n_pos + 2), t_neg = 1 / (n_neg + 2);
  auto loss = [&](double a, double b) {
    double l = 0;
    for (size_t i = 0; i < m.size(); ++i) {
      const double z = a * m[i] + b;
      l += Softplus(z) - (y[i] == 1 ? t_pos : t_neg) * z;
    }
    return l;
  };
  double a = 0, b = std::log((n_pos + 1) / (n_neg + 1));
  double f = loss(a, b);
  for (int it = 0; it < 100; ++it) {
    double ga = 0, gb = 0, haa = 1e-12, hab = 0, hbb = 1e-12;
    for (size_t i = 0; i < m.size(); ++i) {
      const double p = Sigmoid(a * m[i] + b);
      const double g = p - (y[i] == 1 ? t_pos : t_neg);
      const double h = std::max(p * (1 - p), 1e-12);
      ga += g * m[i];
      gb += g;
      haa += h * m[i] * m[i];
      hab += h * m[i];
      hbb += h;
    }
    if (std::abs(ga) < 1e-10 && std::abs(gb) < 1e-10) break;
    const double det = haa * hbb - hab * hab;
    if (!(det > 0)) break;  // all margins equal: the slope is undetermined; keep b
    const double da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
    double step = 1;
    bool improved = false;
    while (step >= 1e-10) {
      const double na = a - step * da, nb = b - step * db;
      const double nf = loss(na, nb);
      if (nf < f + 1e-4 * step * (-(ga * da + gb * db))) {
        a = na;
        b = nb;
        const double change = std::abs(f - nf);
        f = nf;
        improved = change > 1e-12 * std::max(1.0, std::abs(f));
        break;
      }
      step /= 2;
    }
    if (!improved) break;
  }
  if (!std::isfinite(a) || !std::isfinite(b)) {
    return InternalError("calibration: Platt scaling diverged");
  }
  *a_out = a;
  *b_out = b;
  return OkStatus();
}

// Isotonic regression by pool-adjacent-violators over rows sorted by margin
// (equal margins pooled first). Knots: (mean margin, rate) of each final block.
void FitIsotonic(std::span<const double> m, std::span<const int> y, std::vector<double>* xs,
                 std::vector<double>* ps) {
  std::vector<size_t> order(m.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return m[i] < m[j]; });
  struct Block {
    double sum_y = 0, sum_m = 0, n = 0;
    double rate() const { return sum_y / n; }
  };
  std::vector<Block> blocks;
  for (size_t k = 0; k < order.size();) {
    Block b;
    const double level = m[order[k]];
    for (; k < order.size() && m[order[k]] == level; ++k) {
      b.sum_y += y[order[k]];
      b.sum_m += level;
      b.n += 1;
    }
    // Pool while the previous block's rate is not below this one's, so the
    // final blocks have strictly increasing rates (maximal constant runs).
    while (!blocks.empty() && blocks.back().sum_y * b.n >= b.sum_y * blocks.back().n) {
      b.sum_y += blocks.back().sum_y;
      b.sum_m += blocks.back().sum_m;
      b.n += blocks.back().n;
      blocks.pop_back();
    }
    blocks.push_back(b);
  }
  xs->clear();
  ps->clear();
  for (const Block& b : blocks) {
    xs->push_back(b.sum_m / b.n);
    ps->push_back(Clip(b.rate()));
  }
}

}  // namespace

StatusOr<CalibrationKind> ParseCalibrationKind(std::string_view name) {
  if (name == "none") return CalibrationKind::kNone;
  if (name == "platt") return CalibrationKind::kPlatt;
  if (name == "isotonic") return CalibrationKind::kIsotonic;
  return InvalidArgumentError(
      fmt::format("unknown calibration '{}' (none, platt, isotonic)", name));
}

std::string_view CalibrationKindName(CalibrationKind kind) {
  switch (kind) {
    case CalibrationKind::kNone:
      return "none";
    case CalibrationKind::kPlatt:
      return "platt";
    case CalibrationKind::kIsotonic:
      return "isotonic";
  }
  return "none";
}

Status Calibrator::Fit(std::span<const double> margins, std::span<const int> labels,
                       CalibrationKind kind) {
  RETURN_IF_ERROR(CheckInputs(margins, labels));
  if (kind == CalibrationKind::kNone) {
    *this = Calibrator();
    return OkStatus();
  }
  if (margins.size() < 2) {
    return InvalidArgumentError(fmt::format("calibration ({}): needs at least 2 rows, got {}",
                                            CalibrationKindName(kind), margins.size()));
  }
  const size_t positives = static_cast<size_t>(std::count(labels.begin(), labels.end(), 1));
  if (positives == 0 || positives == labels.size()) {
    return InvalidArgumentError(fmt::format(
        "calibration ({}): all {} labels are {}; needs both classes", CalibrationKindName(kind),
        labels.size(), positives == 0 ? 0 : 1));
  }
  Calibrator fitted;
  fitted.kind_ = kind;
  if (kind == CalibrationKind::kPlatt) {
    RETURN_IF_ERROR(FitPlatt(margins, labels, &fitted.a_, &fitted.b_));
  } else {
    FitIsotonic(margins, labels, &fitted.knots_x_, &fitted.knots_p_);
  }
  *this = std::move(fitted);
  return OkStatus();
}

double Calibrator::Apply(double margin) const {
  if (std::isnan(margin)) return margin;
  switch (kind_) {
    case CalibrationKind::kNone:
      return Clip(Sigmoid(margin));
    case CalibrationKind::kPlatt:
      return Clip(Sigmoid(a_ * margin + b_));
    case CalibrationKind::kIsotonic: {
      if (knots_x_.empty()) return Clip(Sigmoid(margin));
      if (margin <= knots_x_.front()) return knots_p_.front();
      if (margin >= knots_x_.back()) return knots_p_.back();
      const size_t hi = static_cast<size_t>(
          std::upper_bound(knots_x_.begin(), knots_x_.end(), margin) - knots_x_.begin());
      const size_t lo = hi - 1;
      const double t = (margin - knots_x_[lo]) / (knots_x_[hi] - knots_x_[lo]);
      return Clip(knots_p_[lo] + t * (knots_p_[hi] - knots_p_[lo]));
    }
  }
  return Clip(Sigmoid(margin));
}

nlohmann::json Calibrator::ToJson() const {
  nlohmann::json j = {{"kind", std::string(CalibrationKindName(kind_))}};
  if (kind_ == CalibrationKind::kPlatt) {
    j["a"] = a_;
    j["b"] = b_;
  } else if (kind_ == CalibrationKind::kIsotonic) {
    j["knots_x"] = knots_x_;
    j["knots_p"] = knots_p_;
  }
  return j;
}

StatusOr<Calibrator> Calibrator::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return DataLossError("calibration: not a JSON object");
  if (!j.contains("kind") || !j["kind"].is_string()) {
    return DataLossError("calibration: field 'kind' missing or not a string");
  }
  auto kind = ParseCalibrationKind(j["kind"].get<std::string>());
  if (!kind.ok()) return DataLossError(fmt::format("calibration: field 'kind': {}",
                                                   kind.status().message()));
  Calibrator c;
  c.kind_ = *kind;
  auto number = [&](const char* field, double* out) -> Status {
    if (!j.contains(field) || !j[field].is_number()) {
      return DataLossError(fmt::format("calibration: field '{}' missing or not a number", field));
    }
    *out = j[field].get<double>();
    if (!std::isfinite(*out)) {
      return DataLossError(fmt::format("calibration: field '{}' is not finite", field));
    }
    return OkStatus();
  };
  auto numbers = [&](const char* field, std::vector<double>* out) -> Status {
    if (!j.contains(field) || !j[field].is_array()) {
      return DataLossError(fmt::format("calibration: field '{}' missing or not an array", field));
    }
    out->clear();
    for (size_t i = 0; i < j[field].size(); ++i) {
      const auto& v = j[field][i];
      if (!v.is_number() || !std::isfinite(v.get<double>())) {
        return DataLossError(
            fmt::format("calibration: field '{}' entry {} is not a finite number", field, i));
      }
      out->push_back(v.get<double>());
    }
    return OkStatus();
  };
  if (c.kind_ == CalibrationKind::kPlatt) {
    RETURN_IF_ERROR(number("a", &c.a_));
    RETURN_IF_ERROR(number("b", &c.b_));
  } else if (c.kind_ == CalibrationKind::kIsotonic) {
    RETURN_IF_ERROR(numbers("knots_x", &c.knots_x_));
    RETURN_IF_ERROR(numbers("knots_p", &c.knots_p_));
    if (c.knots_x_.empty() || c.knots_x_.size() != c.knots_p_.size()) {
      return DataLossError(fmt::format(
          "calibration: fields 'knots_x' ({}) and 'knots_p' ({}) must be non-empty and equally "
          "long",
          c.knots_x_.size(), c.knots_p_.size()));
    }
    for (size_t i = 0; i < c.knots_x_.size(); ++i) {
      if (c.knots_p_[i] < 0 || c.knots_p_[i] > 1) {
        return DataLossError(
            fmt::format("calibration: field 'knots_p' entry {} is not a probability", i));
      }
      if (i > 0 && (c.knots_x_[i] <= c.knots_x_[i - 1] || c.knots_p_[i] < c.knots_p_[i - 1])) {
        return DataLossError(fmt::format(
            "calibration: knots not increasing at entry {} of 'knots_x' / 'knots_p'", i));
      }
    }
  }
  return c;
}

}  // namespace souk::rank
