#include "experiment/analysis.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <map>

namespace souk::experiment {
namespace {

constexpr double kEps = 1e-15;
constexpr double kTiny = 1e-300;
constexpr int kMaxIterations = 100000;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// exp(a*log(x) - x - lgamma(a)): the common factor of P(a, x) and Q(a, x).
double GammaPrefactor(double a, double x) { return std::exp(a * std::log(x) - x - std::lgamma(a)); }

// P(a, x) by its power series; converges quickly for x < a + 1.
double GammaSeries(double a, double x) {
  double term = 1.0 / a;
  double sum = term;
  double ap = a;
  for (int i = 0; i < kMaxIterations; ++i) {
    ap += 1;
    term *= x / ap;
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * kEps) break;
  }
  return sum * GammaPrefactor(a, x);
}

// Q(a, x) by its continued fraction (modified Lentz); for x >= a + 1.
double GammaContinuedFraction(double a, double x) {
  double b = x + 1 - a;
  double c = 1 / kTiny;
  double d = 1 / b;
  double h = d;
  for (int i = 1; i < kMaxIterations; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < kEps) break;
  }
  return GammaPrefactor(a, x) * h;
}

// The continued fraction of I_x(a, b) (modified Lentz), used where it converges
// quickly: x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double a, double b, double x) {
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1;
  double d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m < kMaxIterations; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < kEps) break;
  }
  return h;
}

// Two-sided tail of Student t: P(|T| >= |t|) = I_{dof/(dof+t^2)}(dof/2, 1/2).
double StudentTTwoSided(double t, double dof) {
  if (std::isinf(t)) return 0;
  return RegularizedBeta(dof / 2, 0.5, dof / (dof + t * t));
}

// Two-sided quantile z with P(|Z| <= z) = confidence.
double NormalCritical(double confidence) { return NormalQuantile(1 - (1 - confidence) / 2); }

nlohmann::json Num(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); }

nlohmann::json IntervalJson(const Interval& i) {
  return {{"value", Num(i.value)}, {"low", Num(i.low)}, {"high", Num(i.high)}};
}
nlohmann::json IntervalJson(const std::optional<Interval>& i) {
  if (!i) return {{"value", nullptr}, {"low", nullptr}, {"high", nullptr}};
  return IntervalJson(*i);
}

std::string FormatP(double p) {
  if (!std::isfinite(p)) return "p = n/a";
  if (p < 0.001) return "p < 0.001";
  return fmt::format("p = {:.3f}", p);
}

std::string ConfidenceLabel(double confidence) { return fmt::format("{:g}% CI", confidence * 100); }

}  // namespace

void Moments::Add(double x) {
  ++n;
  const double delta = x - mean;
  mean += delta / static_cast<double>(n);
  m2 += delta * (x - mean);
}

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double NormalQuantile(double p) {
  if (std::isnan(p) || p < 0 || p > 1) return kNaN;
  if (p == 0) return -std::numeric_limits<double>::infinity();
  if (p == 1) return std::numeric_limits<double>::infinity();
  if (p > 0.5) return -NormalQuantile(1 - p);
  // Bisection on the lower half: NormalCdf is monotone and exact via erfc.
  double lo = -40, hi = 0;
  for (int i = 0; i < 200 && hi - lo > 1e-15; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (NormalCdf(mid) < p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

double RegularizedGammaP(double a, double x) {
  if (!(a > 0) || !(x >= 0)) return kNaN;
  if (x == 0) return 0;
  if (std::isinf(x)) return 1;
  return x < a + 1 ? GammaSeries(a, x) : 1 - GammaContinuedFraction(a, x);
}

double RegularizedGammaQ(double a, double x) {
  if (!(a > 0) || !(x >= 0)) return kNaN;
  if (x == 0) return 1;
  if (std::isinf(x)) return 0;
  return x < a + 1 ? 1 - GammaSeries(a, x) : GammaContinuedFraction(a, x);
}

double RegularizedBeta(double a, double b, double x) {
  if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return kNaN;
  if (x == 0) return 0;
  if (x == 1) return 1;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1 - front * BetaContinuedFraction(b, a, 1 - x) / b;
}

double ChiSquareSurvival(double x, double dof) {
  if (!(dof > 0) || std::isnan(x)) return kNaN;
  if (x <= 0) return 1;
  return RegularizedGammaQ(dof / 2, x / 2);
}

double StudentTCdf(double t, double dof) {
  if (!(dof > 0) || std::isnan(t)) return kNaN;
  const double tail = 0.5 * StudentTTwoSided(t, dof);  // P(T >= |t|)
  return t < 0 ? tail : 1 - tail;
}

double StudentTQuantile(double p, double dof) {
  if (!(dof > 0) || std::isnan(p) || p < 0 || p > 1) return kNaN;
  if (p == 0) return -std::numeric_limits<double>::infinity();
  if (p == 1) return std::numeric_limits<double>::infinity();
  if (p < 0.5) return -StudentTQuantile(1 - p, dof);
  double lo = 0, hi = 1;
  while (StudentTCdf(hi, dof) < p && hi < 1e300) {
    lo = hi;
    hi *= 2;
  }
  for (int i = 0; i < 300 && hi - lo > 1e-13 * std::max(1.0, hi); ++i) {
    const double mid = 0.5 * (lo + hi);
    if (StudentTCdf(mid, dof) < p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

Interval WilsonInterval(int64_t successes, int64_t n, double confidence) {
  if (n <= 0) return {0, 0, 1};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  const double z = NormalCritical(confidence);
  const double z2 = z * z;
  const double denom = 1 + z2 / nn;
  const double center = (p + z2 / (2 * nn)) / denom;
  const double half = z / denom * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  // The bounds are exactly 0 / 1 at the extremes; avoid rounding residue there.
  const double low = successes <= 0 ? 0.0 : std::max(0.0, center - half);
  const double high = successes >= n ? 1.0 : std::min(1.0, center + half);
  return {p, low, high};
}

std::optional<Interval> ProportionDiffInterval(int64_t successes_a, int64_t n_a,
                                               int64_t successes_b, int64_t n_b,
                                               double confidence) {
  if (n_a <= 0 || n_b <= 0) return std::nullopt;
  const Interval a = WilsonInterval(successes_a, n_a, confidence);
  const Interval b = WilsonInterval(successes_b, n_b, confidence);
  const double d = b.value - a.value;
  return Interval{d, d - std::hypot(b.value - b.low, a.high - a.value),
                  d + std::hypot(b.high - b.value, a.value - a.low)};
}

std::optional<double> TwoProportionPValue(int64_t successes_a, int64_t n_a, int64_t successes_b,
                                          int64_t n_b) {
  if (n_a <= 0 || n_b <= 0) return std::nullopt;
  const double na = static_cast<double>(n_a), nb = static_cast<double>(n_b);
  const double pa = successes_a / na, pb = successes_b / nb;
  const double pooled = static_cast<double>(successes_a + successes_b) / (na + nb);
  const double se = std::sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb));
  if (!(se > 0)) return 1.0;
  const double z = (pb - pa) / se;
  return std::erfc(std::fabs(z) / std::sqrt(2.0));
}

std::optional<Interval> MeanInterval(const Moments& m, double confidence) {
  if (m.n <= 0) return std::nullopt;
  const double half =
      NormalCritical(confidence) * std::sqrt(m.SampleVariance() / static_cast<double>(m.n));
  return Interval{m.mean, m.mean - half, m.mean + half};
}

std::optional<WelchResult> WelchTest(const Moments& a, const Moments& b, double confidence) {
  if (a.n < 2 || b.n < 2) return std::nullopt;
  const double va = a.SampleVariance() / static_cast<double>(a.n);
  const double vb = b.SampleVariance() / static_cast<double>(b.n);
  const double diff = b.mean - a.mean;
  const double se = std::sqrt(va + vb);
  WelchResult r;
  if (!(se > 0)) {
    r.diff = {diff, diff, diff};
    r.p_value = diff == 0 ? 1.0 : 0.0;
    r.dof = static_cast<double>(a.n + b.n - 2);
    return r;
  }
  r.dof = (va + vb) * (va + vb) /
          (va * va / static_cast<double>(a.n - 1) + vb * vb / static_cast<double>(b.n - 1));
  r.p_value = StudentTTwoSided(diff / se, r.dof);
  const double t = StudentTQuantile(1 - (1 - confidence) / 2, r.dof);
  r.diff = {diff, diff - t * se, diff + t * se};
  return r;
}

SrmResult SrmCheck(const std::vector<int64_t>& observed, const std::vector<double>& shares,
                   double alpha) {
  SrmResult r;
  int64_t total = 0;
  for (int64_t o : observed) total += o;
  if (total <= 0 || observed.size() < 2 || observed.size() != shares.size()) return r;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double expected = static_cast<double>(total) * shares[i];
    if (!(expected > 0)) continue;
    const double d = static_cast<double>(observed[i]) - expected;
    r.chi2 += d * d / expected;
  }
  r.p_value = ChiSquareSurvival(r.chi2, static_cast<double>(observed.size() - 1));
  r.mismatch = r.p_value < alpha;
  return r;
}

StatusOr<nlohmann::json> AnalyzeCounts(const ExperimentSpec& spec,
                                       const std::vector<VariantCounts>& counts,
                                       const AnalyzeOptions& options, int64_t computed_ms) {
  if (!(options.confidence > 0 && options.confidence < 1)) {
    return InvalidArgumentError(
        fmt::format("confidence: must be in (0, 1), got {}", options.confidence));
  }
  if (!(options.srm_alpha > 0 && options.srm_alpha < 1)) {
    return InvalidArgumentError(
        fmt::format("srm_alpha: must be in (0, 1), got {}", options.srm_alpha));
  }
  std::map<std::string, const VariantCounts*> by_name;
  for (const VariantCounts& c : counts) {
    if (FindVariant(spec, c.name) < 0) {
      return InvalidArgumentError(
          fmt::format("counts for '{}', which is not a variant of "
                      "experiment '{}'",
                      c.name, spec.name));
    }
    by_name[c.name] = &c;
  }
  // One row per configured variant, in spec order.
  std::vector<VariantCounts> rows;
  for (const Variant& v : spec.variants) {
    auto it = by_name.find(v.name);
    VariantCounts row = it == by_name.end() ? VariantCounts{} : *it->second;
    row.name = v.name;
    rows.push_back(std::move(row));
  }
  const double conf = options.confidence;
  const std::string ci = ConfidenceLabel(conf);

  // Sample ratio mismatch.
  std::vector<int64_t> observed;
  std::vector<double> shares;
  nlohmann::json expected_json = nlohmann::json::object();
  nlohmann::json observed_json = nlohmann::json::object();
  int64_t total_users = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    observed.push_back(rows[i].users);
    shares.push_back(spec.variants[i].share);
    expected_json[rows[i].name] = spec.variants[i].share;
    observed_json[rows[i].name] = rows[i].users;
    total_users += rows[i].users;
  }
  const SrmResult srm = SrmCheck(observed, shares, options.srm_alpha);
  std::string warning;
  if (srm.mismatch) {
    std::string obs, exp;
    for (size_t i = 0; i < rows.size(); ++i) {
      const std::string sep = i ? ", " : "";
      obs += fmt::format(
          "{}{}={} ({:.1f}%)", sep, rows[i].name, rows[i].users,
          100.0 * static_cast<double>(rows[i].users) / static_cast<double>(total_users));
      exp += fmt::format("{}{}={:.1f}%", sep, rows[i].name, 100.0 * spec.variants[i].share);
    }
    warning = fmt::format(
        "sample ratio mismatch: exposed users {} vs configured {} (chi2 = {:.2f}, {} < {:g}); "
        "assignment or exposure logging is biased, so the comparisons are not trustworthy",
        obs, exp, srm.chi2, FormatP(srm.p_value), options.srm_alpha);
  }

  const std::string& control_name = ControlName(spec);
  const VariantCounts* control = nullptr;
  for (const VariantCounts& r : rows) {
    if (r.name == control_name) control = &r;
  }

  nlohmann::json variants = nlohmann::json::array();
  for (size_t i = 0; i < rows.size(); ++i) {
    const VariantCounts& r = rows[i];
    const bool is_control = &r == control;
    const Interval conversion = WilsonInterval(r.purchase_users, r.users, conf);
    const std::optional<Interval> rpu = MeanInterval(r.revenue_per_user, conf);
    nlohmann::json v = {
        {"name", r.name},
        {"share", spec.variants[i].share},
        {"control", is_control},
        {"users", r.users},
        {"exposures", r.exposures},
        {"clicks", r.click_users},
        {"carts", r.cart_users},
        {"purchases", r.purchases},
        {"purchasers", r.purchase_users},
        {"revenue", Num(r.revenue)},
        {"click_rate", IntervalJson(WilsonInterval(r.click_users, r.users, conf))},
        {"cart_rate", IntervalJson(WilsonInterval(r.cart_users, r.users, conf))},
        {"conversion_rate", IntervalJson(conversion)},
        {"revenue_per_user", IntervalJson(rpu)},
    };
    std::string summary;
    if (is_control) {
      v["vs_control"] = nullptr;
      if (r.users == 0) {
        summary = "control: no exposed users yet";
      } else {
        summary = fmt::format(
            "control: conversion {:.2f}% ({} {:.2f}..{:.2f}%), {} users, revenue per user {:.2f}",
            100 * conversion.value, ci, 100 * conversion.low, 100 * conversion.high, r.users,
            r.revenue_per_user.mean);
      }
    } else if (control == nullptr || control->users == 0 || r.users == 0) {
      v["vs_control"] = nullptr;
      summary = r.users == 0 ? "no exposed users yet"
                             : "no comparison yet: the control has no exposed users";
    } else {
      const std::optional<Interval> diff = ProportionDiffInterval(
          control->purchase_users, control->users, r.purchase_users, r.users, conf);
      const std::optional<double> p =
          TwoProportionPValue(control->purchase_users, control->users, r.purchase_users, r.users);
      const std::optional<WelchResult> welch =
          WelchTest(control->revenue_per_user, r.revenue_per_user, conf);
      const double control_rate =
          static_cast<double>(control->purchase_users) / static_cast<double>(control->users);
      const bool significant = p && *p < 1 - conf;
      nlohmann::json lift = control_rate > 0 ? Num(diff->value / control_rate) : nlohmann::json();
      v["vs_control"] = {
          {"conversion_diff", IntervalJson(diff)},
          {"conversion_lift", lift},
          {"p_value", p ? Num(*p) : nlohmann::json()},
          {"revenue_diff", welch ? IntervalJson(welch->diff) : IntervalJson(std::nullopt)},
          {"revenue_p_value", welch ? Num(welch->p_value) : nlohmann::json()},
          {"significant", significant},
      };
      summary =
          fmt::format("conversion {:+.2f} pp ({} {:+.2f}..{:+.2f}), {}, {}", 100 * diff->value, ci,
                      100 * diff->low, 100 * diff->high, FormatP(p.value_or(kNaN)),
                      significant ? "significant" : "not significant");
      if (welch) {
        summary +=
            fmt::format("; revenue per user {:+.2f} ({} {:+.2f}..{:+.2f}), {}", welch->diff.value,
                        ci, welch->diff.low, welch->diff.high, FormatP(welch->p_value));
      }
      if (srm.mismatch) summary += " (unreliable: sample ratio mismatch)";
    }
    v["summary"] = summary;
    variants.push_back(std::move(v));
  }

  return nlohmann::json{
      {"experiment", SpecToJson(spec)},
      {"computed_ms", computed_ms},
      {"confidence", conf},
      {"srm",
       {{"chi2", Num(srm.chi2)},
        {"p_value", Num(srm.p_value)},
        {"mismatch", srm.mismatch},
        {"expected", expected_json},
        {"observed", observed_json},
        {"warning", warning}}},
      {"variants", std::move(variants)},
  };
}

}  // namespace souk::experiment
