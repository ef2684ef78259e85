#include "rank/logistic_regression.h"

#include <cmath>
#include <span>
#include <vector>

#include "common/testing.h"

namespace souk::rank {
namespace {

TEST(LogisticRegressionTest, FitsTheOptimumOfThePenalizedLikelihood) {
  // y = 1 mostly for large x0; x1 is noise.
  std::vector<float> x;
  std::vector<int> y;
  for (int i = 0; i < 200; ++i) {
    const float a = static_cast<float>(i % 20) - 10.f;
    const float b = static_cast<float>((i * 7) % 13);
    x.insert(x.end(), {a, b});
    y.push_back((a + ((i * 5) % 7) - 3 > 0) ? 1 : 0);
  }
  LogisticRegression lr;
  ASSERT_OK(lr.Fit(x, y, 2, {.l2 = 0.5, .iterations = 100}));
  EXPECT_EQ(lr.cols(), 2u);
  // Stationarity: the bias is unpenalized, so mean(p) == mean(y).
  double sum_p = 0, sum_y = 0;
  for (size_t r = 0; r < y.size(); ++r) {
    sum_p += lr.Predict(std::span<const float>(x.data() + 2 * r, 2));
    sum_y += y[r];
  }
  EXPECT_NEAR(sum_p, sum_y, 1e-6);
  EXPECT_GT(lr.Predict(std::vector<float>{8.f, 5.f}), 0.9);
  EXPECT_LT(lr.Predict(std::vector<float>{-8.f, 5.f}), 0.1);
  const auto w = lr.coefficients();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_GT(std::abs(w[0]), 5 * std::abs(w[1]));
  // Bad input is reported.
  EXPECT_FALSE(lr.Fit(x, std::vector<int>(3, 1), 2).ok());
  std::vector<int> bad_labels(y.size(), 2);
  const Status s = lr.Fit(x, bad_labels, 2);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("label 2 at row 0"), std::string::npos) << s.message();
}

TEST(LogisticRegressionTest, MarginIsTheLogOddsOfPredict) {
  std::vector<float> x;
  std::vector<int> y;
  for (int i = 0; i < 300; ++i) {
    const float a = static_cast<float>((i * 37) % 101) / 10.f - 5.f;
    const float b = static_cast<float>((i * 11) % 17) / 4.f;
    x.insert(x.end(), {a, b});
    y.push_back(a + 0.5f * b + static_cast<float>((i * 13) % 9) - 5.f > 0 ? 1 : 0);
  }
  LogisticRegression lr;
  ASSERT_OK(lr.Fit(x, y, 2));
  const auto w = lr.coefficients();
  for (const std::vector<float>& row :
       {std::vector<float>{0.f, 0.f}, {3.f, 1.f}, {-4.f, 2.5f}, {1.5f, -2.f}}) {
    const double m = lr.Margin(row);
    EXPECT_NEAR(lr.Predict(row), 1 / (1 + std::exp(-m)), 1e-12);
    EXPECT_NEAR(std::log(lr.Predict(row) / (1 - lr.Predict(row))), m, 1e-9);
  }
  // Linear in the features: the margin difference is the weight per unit.
  const double d0 = lr.Margin(std::vector<float>{1.f, 0.f}) - lr.Margin(std::vector<float>{0.f, 0.f});
  const double d1 = lr.Margin(std::vector<float>{0.f, 1.f}) - lr.Margin(std::vector<float>{0.f, 0.f});
  EXPECT_GT(d0, 0);
  EXPECT_GT(d1, 0);
  EXPECT_NEAR(d0 + d1, lr.Margin(std::vector<float>{1.f, 1.f}) -
                           lr.Margin(std::vector<float>{0.f, 0.f}),
              1e-9);
  // Non-finite features are rejected.
  x[5] = std::nanf("");
  const Status s = lr.Fit(x, y, 2);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("row 2 column 1"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace souk::rank
