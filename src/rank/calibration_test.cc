#include "rank/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "common/testing.h"

namespace souk::rank {
namespace {

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Expected calibration error over 10 equal-width probability bins.
double Ece(const std::vector<double>& p, const std::vector<int>& y) {
  constexpr int kBins = 10;
  std::vector<double> sp(kBins, 0), sy(kBins, 0);
  for (size_t i = 0; i < p.size(); ++i) {
    const int b = std::clamp(static_cast<int>(p[i] * kBins), 0, kBins - 1);
    sp[b] += p[i];
    sy[b] += y[i];
  }
  double e = 0;
  for (int b = 0; b < kBins; ++b) e += std::abs(sp[b] - sy[b]);
  return e / static_cast<double>(p.size());
}

// Margins ~ N(0, sd); labels ~ Bernoulli(sigmoid(a * m + b)).
void Draw(int n, double sd, double a, double b, uint64_t seed, std::vector<double>* m,
          std::vector<int>* y) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, sd);
  std::uniform_real_distribution<double> u(0, 1);
  m->clear();
  y->clear();
  for (int i = 0; i < n; ++i) {
    const double v = normal(rng);
    m->push_back(v);
    y->push_back(u(rng) < Sigmoid(a * v + b) ? 1 : 0);
  }
}

TEST(CalibrationKindTest, ParsesAndNamesKinds) {
  for (CalibrationKind k : {CalibrationKind::kNone, CalibrationKind::kPlatt,
                            CalibrationKind::kIsotonic}) {
    auto parsed = ParseCalibrationKind(CalibrationKindName(k));
    ASSERT_OK(parsed);
    EXPECT_EQ(*parsed, k);
  }
  auto bad = ParseCalibrationKind("beta");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("beta"), std::string::npos);
}

TEST(CalibratorTest, NoneIsTheClippedLogistic) {
  Calibrator c;
  EXPECT_NEAR(c.Apply(0.0), 0.5, 1e-12);
  EXPECT_NEAR(c.Apply(1.0), Sigmoid(1.0), 1e-12);
  EXPECT_DOUBLE_EQ(c.Apply(100.0), 1 - kMinProbability);
  EXPECT_DOUBLE_EQ(c.Apply(-100.0), kMinProbability);
  EXPECT_TRUE(std::isnan(c.Apply(std::nan(""))));
}

TEST(CalibratorTest, PlattRecoversTheTrueSlopeAndIntercept) {
  std::vector<double> m;
  std::vector<int> y;
  const double a = 1.7, b = -0.6;
  Draw(60000, 1.5, a, b, 11, &m, &y);
  Calibrator c;
  ASSERT_OK(c.Fit(m, y, CalibrationKind::kPlatt));
  EXPECT_EQ(c.kind(), CalibrationKind::kPlatt);
  const nlohmann::json j = c.ToJson();
  EXPECT_NEAR(j["a"].get<double>(), a, 0.06);
  EXPECT_NEAR(j["b"].get<double>(), b, 0.04);
  EXPECT_NEAR(c.Apply(0.5), Sigmoid(a * 0.5 + b), 0.01);
  // A second data set with a different relation gives a different fit.
  Draw(60000, 1.5, 0.5, 1.0, 12, &m, &y);
  ASSERT_OK(c.Fit(m, y, CalibrationKind::kPlatt));
  EXPECT_NEAR(c.ToJson()["a"].get<double>(), 0.5, 0.05);
  EXPECT_NEAR(c.ToJson()["b"].get<double>(), 1.0, 0.05);
}

TEST(CalibratorTest, PlattUsesSmoothedTargetsOnSeparableData) {
  // Perfectly separable: an unsmoothed fit would diverge; Platt's targets keep
  // the slope finite and the probabilities strictly inside (0, 1).
  std::vector<double> m = {-2, -1, -0.5, 0.5, 1, 2};
  std::vector<int> y = {0, 0, 0, 1, 1, 1};
  Calibrator c;
  ASSERT_OK(c.Fit(m, y, CalibrationKind::kPlatt));
  const double a = c.ToJson()["a"].get<double>();
  EXPECT_TRUE(std::isfinite(a));
  EXPECT_GT(a, 0);
  // The fitted probability of the extreme positive is near the target 4/5, not 1.
  EXPECT_LT(c.Apply(2.0), 0.95);
  EXPECT_GT(c.Apply(2.0), 0.7);
  EXPECT_LT(c.Apply(-2.0), 0.3);
}

// The isotonic (PAV) solution by the min-max formula over distinct margin levels:
// f(i) = max_{j <= i} min_{k >= i} mean(y over levels j..k). Returns per level.
std::vector<double> MinMaxIsotonic(const std::vector<double>& pos, const std::vector<double>& n) {
  const size_t L = pos.size();
  std::vector<double> f(L);
  for (size_t i = 0; i < L; ++i) {
    double best = -1;
    for (size_t j = 0; j <= i; ++j) {
      double lo = 2;
      double sp = 0, sn = 0;
      for (size_t k = j; k < L; ++k) {
        sp += pos[k];
        sn += n[k];
        if (k >= i) lo = std::min(lo, sp / sn);
      }
      best = std::max(best, lo);
    }
    f[i] = best;
  }
  return f;
}

TEST(CalibratorTest, IsotonicKnotsAreThePavSolution) {
  // Integer margins with ties, labels noisy and non-monotone.
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> level(0, 29);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> m;
  std::vector<int> y;
  for (int i = 0; i < 400; ++i) {
    const int l = level(rng);
    m.push_back(l * 0.25 - 3);
    y.push_back(u(rng) < 0.2 + 0.02 * l + 0.15 * std::sin(l) ? 1 : 0);
  }
  Calibrator c;
  ASSERT_OK(c.Fit(m, y, CalibrationKind::kIsotonic));
  // Reference: per distinct margin level, then maximal constant runs.
  std::vector<double> levels = m;
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  std::vector<double> pos(levels.size(), 0), cnt(levels.size(), 0);
  for (size_t i = 0; i < m.size(); ++i) {
    const size_t l = std::lower_bound(levels.begin(), levels.end(), m[i]) - levels.begin();
    pos[l] += y[i];
    cnt[l] += 1;
  }
  const std::vector<double> f = MinMaxIsotonic(pos, cnt);
  std::vector<double> ref_x, ref_p;
  for (size_t l = 0; l < levels.size();) {
    size_t e = l;
    double sx = 0, sn = 0;
    while (e < levels.size() && std::abs(f[e] - f[l]) < 1e-12) {
      sx += levels[e] * cnt[e];
      sn += cnt[e];
      ++e;
    }
    ref_x.push_back(sx / sn);
    ref_p.push_back(std::clamp(f[l], kMinProbability, 1 - kMinProbability));
    l = e;
  }
  const nlohmann::json j = c.ToJson();
  const auto kx = j["knots_x"].get<std::vector<double>>();
  const auto kp = j["knots_p"].get<std::vector<double>>();
  ASSERT_EQ(kx.size(), ref_x.size());
  ASSERT_GE(kx.size(), 3u);
  for (size_t i = 0; i < kx.size(); ++i) {
    EXPECT_NEAR(kx[i], ref_x[i], 1e-9) << i;
    EXPECT_NEAR(kp[i], ref_p[i], 1e-9) << i;
    EXPECT_NEAR(c.Apply(kx[i]), ref_p[i], 1e-9) << i;
  }
  // Constant beyond the ends, linear between knots.
  EXPECT_DOUBLE_EQ(c.Apply(-100), kp.front());
  EXPECT_DOUBLE_EQ(c.Apply(100), kp.back());
  const double mid = (kx[0] + kx[1]) / 2;
  EXPECT_NEAR(c.Apply(mid), (kp[0] + kp[1]) / 2, 1e-12);
}

TEST(CalibratorTest, IsotonicIsMonotoneAndFixesMiscalibration) {
  // Scores whose logistic is badly miscalibrated: the truth is sigmoid(0.4 m + 0.8).
  std::vector<double> train_m, test_m;
  std::vector<int> train_y, test_y;
  Draw(20000, 2.5, 0.4, 0.8, 21, &train_m, &train_y);
  Draw(20000, 2.5, 0.4, 0.8, 22, &test_m, &test_y);
  Calibrator c;
  ASSERT_OK(c.Fit(train_m, train_y, CalibrationKind::kIsotonic));
  std::vector<double> raw, calibrated;
  for (double v : test_m) {
    raw.push_back(Sigmoid(v));
    calibrated.push_back(c.Apply(v));
  }
  const double ece_raw = Ece(raw, test_y), ece_cal = Ece(calibrated, test_y);
  EXPECT_GT(ece_raw, 0.08);
  EXPECT_LT(ece_cal, 0.02) << "raw " << ece_raw;
  // Monotone over a fine grid, and within the clip range.
  double prev = -1;
  for (double v = -12; v <= 12; v += 0.01) {
    const double p = c.Apply(v);
    EXPECT_GE(p, prev) << v;
    EXPECT_GE(p, kMinProbability);
    EXPECT_LE(p, 1 - kMinProbability);
    prev = p;
  }
  // Platt fits this family exactly, so it also calibrates well.
  Calibrator platt;
  ASSERT_OK(platt.Fit(train_m, train_y, CalibrationKind::kPlatt));
  std::vector<double> platt_p;
  for (double v : test_m) platt_p.push_back(platt.Apply(v));
  EXPECT_LT(Ece(platt_p, test_y), 0.02);
}

TEST(CalibratorTest, RejectsBadInputAndKeepsThePreviousFit) {
  Calibrator c;
  const std::vector<double> m = {0.1, 0.5, 0.9, 1.5};
  const std::vector<int> y = {0, 1, 0, 1};
  ASSERT_OK(c.Fit(m, y, CalibrationKind::kPlatt));
  const double before = c.Apply(0.7);

  Status s = c.Fit(m, std::vector<int>{0, 1, 1}, CalibrationKind::kIsotonic);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("4 margins but 3 labels"), std::string::npos) << s.message();

  s = c.Fit(std::vector<double>{0.1, std::nan(""), 0.3, 0.4}, y, CalibrationKind::kIsotonic);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("row 1"), std::string::npos) << s.message();

  s = c.Fit(std::vector<double>{0.1, std::numeric_limits<double>::infinity(), 0.3, 0.4}, y,
            CalibrationKind::kNone);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);

  s = c.Fit(m, std::vector<int>{0, 1, 2, 1}, CalibrationKind::kPlatt);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("label 2 at row 2"), std::string::npos) << s.message();

  s = c.Fit(m, std::vector<int>{1, 1, 1, 1}, CalibrationKind::kIsotonic);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("both classes"), std::string::npos) << s.message();

  s = c.Fit(std::vector<double>{0.3}, std::vector<int>{1}, CalibrationKind::kPlatt);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("at least 2 rows"), std::string::npos) << s.message();

  EXPECT_EQ(c.kind(), CalibrationKind::kPlatt);
  EXPECT_DOUBLE_EQ(c.Apply(0.7), before);
}

TEST(CalibratorTest, JsonRoundTripGivesIdenticalOutputs) {
  std::vector<double> m;
  std::vector<int> y;
  Draw(3000, 2.0, 0.7, -0.3, 31, &m, &y);
  for (CalibrationKind kind : {CalibrationKind::kNone, CalibrationKind::kPlatt,
                               CalibrationKind::kIsotonic}) {
    Calibrator c;
    ASSERT_OK(c.Fit(m, y, kind));
    // Through text, as it is stored.
    const nlohmann::json j = nlohmann::json::parse(c.ToJson().dump());
    auto back = Calibrator::FromJson(j);
    ASSERT_OK(back);
    EXPECT_EQ(back->kind(), kind);
    for (double v = -8; v <= 8; v += 0.037) {
      EXPECT_EQ(back->Apply(v), c.Apply(v)) << CalibrationKindName(kind) << " at " << v;
    }
  }
}

TEST(CalibratorTest, FromJsonRejectsMalformedInput) {
  auto expect_loss = [](const nlohmann::json& j, const std::string& needle) {
    auto c = Calibrator::FromJson(j);
    ASSERT_FALSE(c.ok()) << j.dump();
    EXPECT_EQ(c.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(c.status().message().find(needle), std::string::npos) << c.status().message();
  };
  expect_loss(nlohmann::json::array(), "not a JSON object");
  expect_loss({{"a", 1}}, "'kind'");
  expect_loss({{"kind", "sigmoid"}}, "sigmoid");
  expect_loss({{"kind", "platt"}, {"a", 1.0}}, "'b'");
  expect_loss({{"kind", "platt"}, {"a", "x"}, {"b", 0}}, "'a'");
  expect_loss({{"kind", "isotonic"}, {"knots_x", {0.0, 1.0}}}, "'knots_p'");
  expect_loss({{"kind", "isotonic"}, {"knots_x", {0.0, 1.0}}, {"knots_p", {0.2}}},
              "equally long");
  expect_loss({{"kind", "isotonic"}, {"knots_x", {1.0, 0.0}}, {"knots_p", {0.2, 0.3}}},
              "not increasing");
  expect_loss({{"kind", "isotonic"}, {"knots_x", {0.0, 1.0}}, {"knots_p", {0.2, 1.5}}},
              "not a probability");
  expect_loss({{"kind", "isotonic"}, {"knots_x", {0.0, "z"}}, {"knots_p", {0.2, 0.3}}},
              "entry 1");
}

}  // namespace
}  // namespace souk::rank
