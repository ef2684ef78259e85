// Statistics of A/B experiments: confidence intervals, tests against the
// control variant, the sample-ratio-mismatch (SRM) check, and the results JSON
// served by GET /v1/experiments/{name}/results.
//
// Everything here is a pure function of its arguments (no I/O, no clock);
// thread-safe. Each function is O(1) except AnalyzeCounts (O(variants)) and the
// special functions (a few hundred floating-point iterations at most).
//
// Results JSON (AnalyzeCounts):
// {"experiment": {SpecToJson(spec)},
//  "computed_ms": 1700000000000,          // when the numbers were computed
//  "confidence": 0.95,
//  "srm": {"chi2": 1.2, "p_value": 0.27, "mismatch": false,
//          "expected": {"a": 0.5, "b": 0.5},  // configured shares
//          "observed": {"a": 5012, "b": 4988}, // exposed users
//          "warning": ""},                      // non-empty exactly when mismatch
//  "variants": [
//   {"name": "a", "share": 0.5, "control": true,
//    "users": 5012,        // distinct exposed users
//    "exposures": 9000,    // exposure events
//    "clicks": 700,        // users with >= 1 click at/after their first exposure
//    "carts": 300,         // users with >= 1 add_to_cart ...
//    "purchases": 160,     // purchase events (users with a purchase: conversion_rate.value*users)
//    "purchasers": 150,    // users with >= 1 purchase
//    "revenue": 5400.5,    // total purchase revenue
//    "click_rate":      {"value": .., "low": .., "high": ..},  // Wilson, per exposed user
//    "cart_rate":       {...},
//    "conversion_rate": {...},                                  // purchasers / users
//    "revenue_per_user": {...},  // mean over exposed users (0 without purchase), normal CI
//    "vs_control": null for the control, else
//      {"conversion_diff": {"value","low","high"},  // absolute, Newcombe hybrid score CI
//       "conversion_lift": 0.12 | null,             // relative (diff / control rate)
//       "p_value": 0.03,                            // two-proportion z-test (pooled)
//       "revenue_diff": {"value","low","high"},     // Welch CI (Student t quantile)
//       "revenue_p_value": 0.2 | null,              // Welch t-test
//       "significant": true},                       // p_value < 1 - confidence
//    "summary": "conversion +1.2 pp (95% CI +0.3..+2.1), p = 0.008, significant; ..."}]}
// Numbers that cannot be computed (no users, a single user, a zero control rate)
// are JSON null.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "experiment/experiment.h"

namespace souk::experiment {

struct AnalyzeOptions {
  double confidence = 0.95;  // level of every interval; significance is p < 1 - confidence
  double srm_alpha = 0.001;  // SRM is flagged when the chi-square p-value is below this
};

// A point estimate with a two-sided interval.
struct Interval {
  double value = 0;
  double low = 0;
  double high = 0;
};

// Running mean and variance (Welford); numerically stable for large n.
struct Moments {
  int64_t n = 0;
  double mean = 0;
  double m2 = 0;  // sum of squared deviations from the mean
  void Add(double x);
  // Sample variance (n - 1 denominator); 0 when n < 2.
  double SampleVariance() const { return n > 1 ? m2 / static_cast<double>(n - 1) : 0.0; }
};

// What the store aggregates per variant before the statistics.
struct VariantCounts {
  std::string name;
  int64_t users = 0;           // distinct exposed users
  int64_t exposures = 0;       // exposure events
  int64_t click_users = 0;     // users with >= 1 attributed click
  int64_t cart_users = 0;      // users with >= 1 attributed add_to_cart
  int64_t purchase_users = 0;  // users with >= 1 attributed purchase
  int64_t purchases = 0;       // attributed purchase events
  double revenue = 0;          // attributed purchase revenue
  // Revenue per exposed user (one value per user, 0 for users without purchase).
  // revenue_per_user.n should equal `users`.
  Moments revenue_per_user;
};

// --- Distributions --------------------------------------------------------

// Standard normal CDF.
double NormalCdf(double x);
// Inverse of NormalCdf for p in (0, 1); -inf/+inf at 0/1, NaN outside [0, 1].
double NormalQuantile(double p);
// Regularized lower incomplete gamma P(a, x) and its complement Q(a, x) = 1 - P,
// for a > 0, x >= 0 (NaN otherwise). Accurate to ~1e-14 relative.
double RegularizedGammaP(double a, double x);
double RegularizedGammaQ(double a, double x);
// Regularized incomplete beta I_x(a, b) for a, b > 0, x in [0, 1] (NaN otherwise).
double RegularizedBeta(double a, double b, double x);
// P(X > x) for X ~ chi-square with `dof` degrees of freedom (dof > 0).
double ChiSquareSurvival(double x, double dof);
// Student t CDF with `dof` > 0 degrees of freedom (non-integer dof allowed).
double StudentTCdf(double t, double dof);
// The t value with P(T <= t) = p, by bisection on StudentTCdf.
double StudentTQuantile(double p, double dof);

// --- Intervals and tests ----------------------------------------------------

// Wilson score interval of a binomial proportion successes / n at `confidence`.
// n == 0 gives {0, 0, 1}. Requires 0 <= successes <= n.
Interval WilsonInterval(int64_t successes, int64_t n, double confidence);

// Difference p_b - p_a with Newcombe's hybrid score interval (method 10) built
// from the two Wilson intervals. Either n == 0 gives nullopt.
std::optional<Interval> ProportionDiffInterval(int64_t successes_a, int64_t n_a,
                                               int64_t successes_b, int64_t n_b, double confidence);

// Two-sided p-value of the pooled two-proportion z-test of p_a == p_b.
// 1 when the pooled variance is 0 (both rates 0 or both 1); nullopt if a n == 0.
std::optional<double> TwoProportionPValue(int64_t successes_a, int64_t n_a, int64_t successes_b,
                                          int64_t n_b);

// Mean with a normal-approximation interval mean +- z * sqrt(s^2 / n).
// nullopt when n == 0; with n == 1 the interval is the point.
std::optional<Interval> MeanInterval(const Moments& m, double confidence);

// Welch's comparison of means (b - a): the difference with a Student-t interval
// on the Welch-Satterthwaite degrees of freedom, and the two-sided p-value.
struct WelchResult {
  Interval diff;
  double p_value = 1;
  double dof = 0;
};
// nullopt when either sample has fewer than 2 values. When both variances are
// 0, p is 1 for equal means and 0 otherwise.
std::optional<WelchResult> WelchTest(const Moments& a, const Moments& b, double confidence);

// Sample-ratio-mismatch check: chi-square goodness of fit of the observed user
// counts against the expected shares (k - 1 degrees of freedom).
struct SrmResult {
  double chi2 = 0;
  double p_value = 1;
  bool mismatch = false;  // total > 0 and p_value < alpha
};
// `observed` and `shares` have the same size >= 2; shares > 0 summing to 1.
SrmResult SrmCheck(const std::vector<int64_t>& observed, const std::vector<double>& shares,
                   double alpha);

// --- Results ---------------------------------------------------------------

// Builds the results JSON documented at the top of this file. `counts` is
// matched to spec.variants by name (variants without counts count as zero;
// counts for unknown variants are an error).
// Errors: InvalidArgument for confidence or srm_alpha outside (0, 1) or an
// unknown variant name.
StatusOr<nlohmann::json> AnalyzeCounts(const ExperimentSpec& spec,
                                       const std::vector<VariantCounts>& counts,
                                       const AnalyzeOptions& options, int64_t computed_ms);

}  // namespace souk::experiment
