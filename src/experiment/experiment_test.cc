#include <fmt/format.h>
#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <numbers>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/sha256.h"
#include "common/testing.h"
#include "experiment/analysis.h"
#include "experiment/experiment.h"
#include "experiment/experiment_store.h"

namespace souk::experiment {
namespace {

using nlohmann::json;

json TwoArmBody() {
  return json::parse(R"({
    "name": "home_v2",
    "description": "new home pipeline",
    "surface": "recommend",
    "variants": [
      {"name": "a", "share": 0.5},
      {"name": "b", "share": 0.5, "config": {"pipeline": "home_v2"}}
    ]
  })");
}

// The message of a failed StatusOr (fails the test when it succeeded).
template <typename T>
std::string ErrorOf(const StatusOr<T>& s) {
  EXPECT_FALSE(s.ok());
  return s.ok() ? "" : s.status().message();
}

std::string SpecError(json j) { return ErrorOf(SpecFromJson(j)); }

// ---------------------------------------------------------------------------
// Spec parsing and validation

TEST(SpecTest, ParsesFractionsAndFillsDefaults) {
  ASSERT_OK_AND_ASSIGN(ExperimentSpec spec, SpecFromJson(TwoArmBody()));
  EXPECT_EQ(spec.name, "home_v2");
  EXPECT_EQ(spec.surface, "recommend");
  ASSERT_EQ(spec.variants.size(), 2u);
  EXPECT_DOUBLE_EQ(spec.variants[0].share, 0.5);
  EXPECT_EQ(spec.variants[0].config, json::object());
  EXPECT_EQ(spec.variants[1].config["pipeline"], "home_v2");
  EXPECT_EQ(spec.control, "a");
  EXPECT_EQ(spec.status, "running");
  EXPECT_EQ(spec.created_ms, 0);
}

TEST(SpecTest, SurfaceDefaultsToAnyAndControlCanBeNamed) {
  json j = TwoArmBody();
  j.erase("surface");
  j["control"] = "b";
  ASSERT_OK_AND_ASSIGN(ExperimentSpec spec, SpecFromJson(j));
  EXPECT_EQ(spec.surface, "any");
  EXPECT_EQ(spec.control, "b");
}

TEST(SpecTest, IntegerPercentagesAreDividedBy100) {
  json j = TwoArmBody();
  j["variants"][0]["share"] = 30;
  j["variants"][1]["share"] = 70;
  ASSERT_OK_AND_ASSIGN(ExperimentSpec spec, SpecFromJson(j));
  EXPECT_DOUBLE_EQ(spec.variants[0].share, 0.3);
  EXPECT_DOUBLE_EQ(spec.variants[1].share, 0.7);
}

TEST(SpecTest, SharesWithinToleranceAccepted) {
  json j = TwoArmBody();
  j["variants"] = json::parse(
      R"([{"name":"a","share":0.3333333},{"name":"b","share":0.3333333},{"name":"c","share":0.3333334}])");
  EXPECT_OK(SpecFromJson(j));
}

TEST(SpecTest, WeightsThatDoNotSumToOneOr100AreRejected) {
  json j = TwoArmBody();
  j["variants"][0]["share"] = 1;
  j["variants"][1]["share"] = 3;
  std::string e = SpecError(j);
  EXPECT_NE(e.find("variants: shares must be fractions summing to 1"), std::string::npos) << e;
  EXPECT_NE(e.find("got a sum of 4"), std::string::npos) << e;
  j["variants"][0]["share"] = 0.5;
  j["variants"][1]["share"] = 0.4;
  e = SpecError(j);
  EXPECT_NE(e.find("got a sum of 0.9"), std::string::npos) << e;
  // Non-integer "percentages" summing to 100 are not percentages.
  j["variants"][0]["share"] = 49.5;
  j["variants"][1]["share"] = 50.5;
  EXPECT_NE(SpecError(j).find("sum of 100"), std::string::npos);
}

TEST(SpecTest, UnknownFieldsAreNamed) {
  json j = TwoArmBody();
  j["colour"] = "red";
  std::string e = SpecError(j);
  EXPECT_EQ(e.rfind("colour: unknown field", 0), 0u) << e;
  EXPECT_NE(e.find("variants"), std::string::npos) << "should list the known fields: " << e;

  j = TwoArmBody();
  j["variants"][1]["wieght"] = 0.5;
  e = SpecError(j);
  EXPECT_EQ(e.rfind("variants[1].wieght: unknown field", 0), 0u) << e;
}

TEST(SpecTest, TypeAndValueErrorsNameTheJsonPath) {
  struct Case {
    std::string pointer;  // JSON pointer to change
    json value;           // new value
    std::string prefix;   // expected start of the error message
  };
  const std::vector<Case> cases = {
      {"/name", 7, "name: must be a string"},
      {"/name", "Home V2", "name: must match [a-z0-9][a-z0-9_-]{0,63}, got 'Home V2'"},
      {"/name", "-x", "name: must match"},
      {"/name", std::string(65, 'a'), "name: must match"},
      {"/description", json::array(), "description: must be a string"},
      {"/description", std::string(5000, 'x'), "description: must be at most 4096 bytes"},
      {"/surface", "home", "surface: must be one of search, recommend, any; got 'home'"},
      {"/variants", json::object(), "variants: must be an array"},
      {"/variants/0", "a", "variants[0]: must be an object"},
      {"/variants/0/name", 1, "variants[0].name: must be a string, got number"},
      {"/variants/1/name", "a", "variants[1].name: duplicate variant name 'a'"},
      {"/variants/1/name", "B!", "variants[1].name: must match"},
      {"/variants/1/share", "0.5", "variants[1].share: must be a number, got string"},
      {"/variants/1/share", true, "variants[1].share: must be a number, got boolean"},
      {"/variants/1/share", -0.5, "variants[1].share: must be > 0"},
      {"/variants/0/config", json::array(), "variants[0].config: must be a JSON object, got array"},
      {"/control", "c", "control: 'c' is not a variant"},
      {"/status", "paused", "status: must be running or stopped"},
      {"/created_ms", -5, "created_ms: must be a non-negative integer"},
      {"/created_ms", 1.5, "created_ms: must be a non-negative integer"},
  };
  for (const Case& c : cases) {
    json j = TwoArmBody();
    j[json::json_pointer(c.pointer)] = c.value;
    const std::string e = SpecError(j);
    EXPECT_EQ(e.rfind(c.prefix, 0), 0u) << c.pointer << " -> " << e;
  }
}

TEST(SpecTest, MissingAndStructuralErrors) {
  json j = TwoArmBody();
  j.erase("name");
  EXPECT_EQ(SpecError(j), "name: is required");
  j = TwoArmBody();
  j.erase("variants");
  EXPECT_EQ(SpecError(j), "variants: is required");
  j = TwoArmBody();
  j["variants"][1].erase("share");
  EXPECT_EQ(SpecError(j), "variants[1].share: is required");
  j = TwoArmBody();
  j["variants"] = json::parse(R"([{"name":"a","share":1}])");
  EXPECT_EQ(SpecError(j), "variants: need at least 2 variants, got 1");
  EXPECT_EQ(SpecError(json::array()).rfind("experiment: must be a JSON object", 0), 0u);
  j = TwoArmBody();
  j["status"] = "running";
  j["stopped_ms"] = 5;
  EXPECT_EQ(SpecError(j), "stopped_ms: must be 0 while the experiment is running");
}

TEST(SpecTest, ValidateSpecNamesFieldOfStruct) {
  ExperimentSpec spec;
  spec.name = "x";
  spec.variants = {
      {"a", 0.5, json::object()}, {"b", -0.2, json::object()}, {"c", 0.7, json::object()}};
  Status s = ValidateSpec(spec);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("variants[1].share: must be in (0, 1], got -0.2", 0), 0u)
      << s.message();
  spec.variants[1].share = 0.2;
  s = ValidateSpec(spec);
  EXPECT_EQ(s.message().rfind("variants: shares must sum to 1", 0), 0u) << s.message();
  spec.variants[2].share = 0.3;
  EXPECT_OK(ValidateSpec(spec));
  EXPECT_EQ(ControlName(spec), "a");  // empty control = first variant
  spec.description = "caf\xc3";
  s = ValidateSpec(spec);
  EXPECT_EQ(s.message(), "description: is not valid UTF-8 (byte offset 3)");
}

TEST(SpecTest, JsonRoundTrip) {
  json j = TwoArmBody();
  j["control"] = "b";
  j["status"] = "stopped";
  j["created_ms"] = 1000;
  j["stopped_ms"] = 2000;
  ASSERT_OK_AND_ASSIGN(ExperimentSpec spec, SpecFromJson(j));
  json out = SpecToJson(spec);
  ASSERT_OK_AND_ASSIGN(ExperimentSpec again, SpecFromJson(out));
  EXPECT_EQ(SpecToJson(again), out);
  EXPECT_EQ(out["control"], "b");
  EXPECT_EQ(out["stopped_ms"], 2000);
  EXPECT_EQ(out["variants"][1]["config"]["pipeline"], "home_v2");
}

// ---------------------------------------------------------------------------
// Assignment

ExperimentSpec MakeSpec(const std::string& name, const std::vector<double>& shares) {
  ExperimentSpec spec;
  spec.name = name;
  for (size_t i = 0; i < shares.size(); ++i) {
    spec.variants.push_back(
        {std::string(1, static_cast<char>('a' + i)), shares[i], json::object()});
  }
  spec.control = "a";
  return spec;
}

TEST(AssignTest, PointIsFirst8BytesOfSha256BigEndian) {
  // Independent path: common/sha256 hex digest of the same key.
  for (const std::string user : {"u1", "user-42", "ü"}) {
    const std::string hex = Sha256Hex("exp1\n" + user);
    const uint64_t x = std::stoull(hex.substr(0, 16), nullptr, 16);
    EXPECT_DOUBLE_EQ(AssignmentPoint("exp1", user), std::ldexp(static_cast<double>(x), -64))
        << user;
  }
}

TEST(AssignTest, DeterministicAndEmptyUserUnassigned) {
  const ExperimentSpec spec = MakeSpec("exp1", {0.5, 0.5});
  for (int i = 0; i < 1000; ++i) {
    const std::string user = "user" + std::to_string(i);
    const std::string v = Assign(spec, user);
    ASSERT_TRUE(v == "a" || v == "b");
    EXPECT_EQ(Assign(spec, user), v);
    const double u = AssignmentPoint("exp1", user);
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    EXPECT_EQ(v, u < 0.5 ? "a" : "b");
  }
  EXPECT_EQ(Assign(spec, ""), "");
  EXPECT_EQ(Assign(ExperimentSpec{}, "u1"), "");
}

TEST(AssignTest, SharesRespectedOver100kUsers) {
  const std::vector<double> shares = {0.2, 0.3, 0.5};
  const ExperimentSpec spec = MakeSpec("split3", shares);
  const int n = 100000;
  std::map<std::string, int> counts;
  for (int i = 0; i < n; ++i) counts[Assign(spec, "user" + std::to_string(i))]++;
  ASSERT_EQ(counts.size(), 3u);
  for (size_t i = 0; i < shares.size(); ++i) {
    const double expected = n * shares[i];
    const double sigma = std::sqrt(n * shares[i] * (1 - shares[i]));
    const int got = counts[spec.variants[i].name];
    EXPECT_LT(std::fabs(got - expected), 4.5 * sigma) << spec.variants[i].name << " " << got;
  }
  // And the SRM check agrees the split is fine.
  SrmResult srm = SrmCheck({counts["a"], counts["b"], counts["c"]}, shares, 0.001);
  EXPECT_FALSE(srm.mismatch) << srm.chi2;
}

TEST(AssignTest, ExperimentsAreIndependent) {
  const ExperimentSpec e1 = MakeSpec("first", {0.5, 0.5});
  const ExperimentSpec e2 = MakeSpec("second", {0.5, 0.5});
  std::vector<int64_t> cells(4, 0);  // (e1 variant, e2 variant)
  int same = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const std::string user = "user" + std::to_string(i);
    const int a = Assign(e1, user) == "b";
    const int b = Assign(e2, user) == "b";
    cells[2 * a + b]++;
    same += a == b;
  }
  // Under independence every cell holds a quarter of the users.
  SrmResult r = SrmCheck(cells, {0.25, 0.25, 0.25, 0.25}, 0.001);
  EXPECT_FALSE(r.mismatch) << "chi2 " << r.chi2;
  EXPECT_NEAR(same, n / 2, 4.5 * std::sqrt(n * 0.25));
}

// ---------------------------------------------------------------------------
// Distributions

TEST(StatsTest, NormalQuantile) {
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-9);
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.025), -1.959963984540054, 1e-9);
  EXPECT_NEAR(NormalQuantile(0.995), 2.5758293035489, 1e-9);
  EXPECT_NEAR(NormalCdf(NormalQuantile(1e-10)), 1e-10, 1e-16);
  EXPECT_TRUE(std::isinf(NormalQuantile(1.0)));
  EXPECT_TRUE(std::isnan(NormalQuantile(1.5)));
}

TEST(StatsTest, ChiSquareKnownValues) {
  EXPECT_NEAR(ChiSquareSurvival(3.841, 1), 0.05, 1e-4);
  EXPECT_NEAR(ChiSquareSurvival(5.991, 2), 0.05, 1e-4);
  EXPECT_NEAR(ChiSquareSurvival(7.815, 3), 0.05, 1e-4);
  EXPECT_NEAR(ChiSquareSurvival(10.828, 1), 0.001, 1e-6);
  EXPECT_DOUBLE_EQ(ChiSquareSurvival(0, 3), 1.0);
  // Closed forms: 1 dof erfc(sqrt(x/2)); 2 dof exp(-x/2); 3 dof erfc(sqrt(x/2)) +
  // sqrt(2x/pi) exp(-x/2); 4 dof exp(-x/2)(1 + x/2). Both the series (x < a+1)
  // and the continued fraction branch are exercised.
  for (double x : {0.01, 0.3, 1.0, 2.5, 4.0, 9.0, 30.0, 100.0}) {
    const double h = x / 2;
    const double q1 = std::erfc(std::sqrt(h));
    const double q2 = std::exp(-h);
    const double q3 = q1 + std::sqrt(2 * x / std::numbers::pi) * std::exp(-h);
    const double q4 = std::exp(-h) * (1 + h);
    EXPECT_NEAR(ChiSquareSurvival(x, 1), q1, 1e-12 + 1e-10 * q1) << x;
    EXPECT_NEAR(ChiSquareSurvival(x, 2), q2, 1e-12 + 1e-10 * q2) << x;
    EXPECT_NEAR(ChiSquareSurvival(x, 3), q3, 1e-12 + 1e-10 * q3) << x;
    EXPECT_NEAR(ChiSquareSurvival(x, 4), q4, 1e-12 + 1e-10 * q4) << x;
    EXPECT_NEAR(RegularizedGammaP(1.7, x) + RegularizedGammaQ(1.7, x), 1.0, 1e-12);
  }
}

TEST(StatsTest, IncompleteBetaAndStudentT) {
  for (double x : {0.01, 0.2, 0.5, 0.8, 0.99}) {
    EXPECT_NEAR(RegularizedBeta(2.5, 1, x), std::pow(x, 2.5), 1e-12) << x;
    EXPECT_NEAR(RegularizedBeta(1, 3.5, x), 1 - std::pow(1 - x, 3.5), 1e-12) << x;
  }
  EXPECT_NEAR(RegularizedBeta(7, 7, 0.5), 0.5, 1e-12);
  for (double t : {-30.0, -2.0, -0.3, 0.0, 0.7, 3.0, 50.0}) {
    // 1 dof: Cauchy; 2 dof: 1/2 + t / (2 sqrt(2 + t^2)).
    EXPECT_NEAR(StudentTCdf(t, 1), 0.5 + std::atan(t) / std::numbers::pi, 1e-12) << t;
    EXPECT_NEAR(StudentTCdf(t, 2), 0.5 + t / (2 * std::sqrt(2 + t * t)), 1e-12) << t;
  }
  EXPECT_NEAR(StudentTQuantile(0.975, 10), 2.228138852, 1e-7);
  EXPECT_NEAR(StudentTQuantile(0.975, 1e7), 1.959964, 1e-5);  // approaches the normal
  EXPECT_NEAR(StudentTQuantile(0.025, 10), -2.228138852, 1e-7);
}

// ---------------------------------------------------------------------------
// Intervals and tests

TEST(StatsTest, WilsonInterval) {
  Interval w = WilsonInterval(50, 100, 0.95);
  EXPECT_DOUBLE_EQ(w.value, 0.5);
  EXPECT_NEAR(w.low, 0.4038, 5e-5);
  EXPECT_NEAR(w.high, 0.5962, 5e-5);
  // 0 of 10: [0, z^2 / (n + z^2)].
  const double z2 = 1.959963984540054 * 1.959963984540054;
  w = WilsonInterval(0, 10, 0.95);
  EXPECT_DOUBLE_EQ(w.low, 0.0);
  EXPECT_NEAR(w.high, z2 / (10 + z2), 1e-12);
  w = WilsonInterval(0, 0, 0.95);
  EXPECT_EQ(w.low, 0.0);
  EXPECT_EQ(w.high, 1.0);
  // A higher confidence widens the interval.
  Interval w99 = WilsonInterval(50, 100, 0.99);
  EXPECT_LT(w99.low, 0.4038);
  EXPECT_GT(w99.high, 0.5962);
}

TEST(StatsTest, TwoProportionZTest) {
  // 100/1000 vs 120/1000: pooled p = 0.11, z = 1.4293, two-sided p = 0.152918.
  EXPECT_NEAR(*TwoProportionPValue(100, 1000, 120, 1000), 0.1529178, 1e-6);
  EXPECT_NEAR(*TwoProportionPValue(120, 1000, 100, 1000), 0.1529178, 1e-6);
  EXPECT_DOUBLE_EQ(*TwoProportionPValue(0, 10, 0, 20), 1.0);
  EXPECT_FALSE(TwoProportionPValue(1, 0, 1, 10).has_value());
}

TEST(StatsTest, NewcombeDifferenceInterval) {
  // Newcombe (1998), example (56/70 vs 48/80), method 10: 0.0524 .. 0.3339.
  std::optional<Interval> d = ProportionDiffInterval(48, 80, 56, 70, 0.95);
  ASSERT_TRUE(d.has_value());
  EXPECT_NEAR(d->value, 0.2, 1e-12);
  EXPECT_NEAR(d->low, 0.0524, 1e-4);
  EXPECT_NEAR(d->high, 0.3339, 1e-4);
  EXPECT_FALSE(ProportionDiffInterval(1, 0, 1, 2, 0.95).has_value());
}

TEST(StatsTest, MeanAndWelch) {
  Moments a, b;
  for (double x : {1, 2, 3, 4, 5}) a.Add(x);
  for (double x : {2, 4, 6, 8, 10}) b.Add(x);
  EXPECT_DOUBLE_EQ(a.mean, 3);
  EXPECT_DOUBLE_EQ(a.SampleVariance(), 2.5);
  EXPECT_DOUBLE_EQ(b.SampleVariance(), 10);
  std::optional<Interval> m = MeanInterval(a, 0.95);
  ASSERT_TRUE(m.has_value());
  EXPECT_NEAR(m->high - m->value, 1.959963985 * std::sqrt(2.5 / 5), 1e-8);
  // Welch: se^2 = 0.5 + 2 = 2.5, t = 3 / sqrt(2.5) = 1.8974, dof = 6.25 / 1.0625 = 5.882;
  // two-sided p = 0.10753 (numerical integration of the t density).
  std::optional<WelchResult> w = WelchTest(a, b, 0.95);
  ASSERT_TRUE(w.has_value());
  EXPECT_NEAR(w->dof, 5.882352941, 1e-8);
  EXPECT_NEAR(w->diff.value, 3.0, 1e-12);
  EXPECT_NEAR(w->p_value, 0.107531, 2e-5);
  const double t = StudentTQuantile(0.975, w->dof);
  EXPECT_NEAR(w->diff.high - w->diff.value, t * std::sqrt(2.5), 1e-9);
  EXPECT_GT(t, 2.4);  // wider than the normal interval at ~6 dof
  Moments one;
  one.Add(1);
  EXPECT_FALSE(WelchTest(one, b, 0.95).has_value());
  Moments zeros_a, zeros_b;
  for (int i = 0; i < 5; ++i) {
    zeros_a.Add(0);
    zeros_b.Add(0);
  }
  EXPECT_DOUBLE_EQ(WelchTest(zeros_a, zeros_b, 0.95)->p_value, 1.0);
}

TEST(StatsTest, SampleRatioMismatch) {
  SrmResult bad = SrmCheck({6000, 4000}, {0.5, 0.5}, 0.001);
  EXPECT_NEAR(bad.chi2, 400.0, 1e-9);
  EXPECT_TRUE(bad.mismatch);
  EXPECT_LT(bad.p_value, 1e-80);
  SrmResult fine = SrmCheck({5050, 4950}, {0.5, 0.5}, 0.001);
  EXPECT_NEAR(fine.chi2, 1.0, 1e-9);
  EXPECT_NEAR(fine.p_value, 0.3173105, 1e-6);
  EXPECT_FALSE(fine.mismatch);
  // 20/80 split observed as 2000/8000 exactly: chi2 0.
  SrmResult exact = SrmCheck({2000, 8000}, {0.2, 0.8}, 0.001);
  EXPECT_NEAR(exact.chi2, 0.0, 1e-9);
  EXPECT_FALSE(exact.mismatch);
  EXPECT_FALSE(SrmCheck({0, 0}, {0.5, 0.5}, 0.001).mismatch);
}

// ---------------------------------------------------------------------------
// Results JSON

VariantCounts Counts(const std::string& name, int64_t users, int64_t purchasers,
                     double revenue_each) {
  VariantCounts c;
  c.name = name;
  c.users = users;
  c.exposures = 2 * users;
  c.click_users = users / 2;
  c.cart_users = users / 4;
  c.purchase_users = purchasers;
  c.purchases = purchasers;
  c.revenue = revenue_each * static_cast<double>(purchasers);
  for (int64_t i = 0; i < users; ++i) c.revenue_per_user.Add(i < purchasers ? revenue_each : 0);
  return c;
}

TEST(AnalyzeCountsTest, ShapeAndComparison) {
  ExperimentSpec spec = MakeSpec("exp", {0.5, 0.5});
  ASSERT_OK_AND_ASSIGN(
      json r,
      AnalyzeCounts(spec, {Counts("a", 1000, 100, 20), Counts("b", 1000, 120, 20)}, {}, 1234));
  EXPECT_EQ(r["computed_ms"], 1234);
  EXPECT_EQ(r["confidence"], 0.95);
  EXPECT_EQ(r["experiment"]["name"], "exp");
  EXPECT_EQ(r["srm"]["mismatch"], false);
  EXPECT_EQ(r["srm"]["observed"]["a"], 1000);
  EXPECT_EQ(r["srm"]["expected"]["b"], 0.5);
  EXPECT_EQ(r["srm"]["warning"], "");
  ASSERT_EQ(r["variants"].size(), 2u);
  const json& a = r["variants"][0];
  const json& b = r["variants"][1];
  EXPECT_EQ(a["control"], true);
  EXPECT_TRUE(a["vs_control"].is_null());
  EXPECT_EQ(a["users"], 1000);
  EXPECT_EQ(a["exposures"], 2000);
  EXPECT_EQ(a["clicks"], 500);
  EXPECT_EQ(a["carts"], 250);
  EXPECT_EQ(a["purchases"], 100);
  EXPECT_DOUBLE_EQ(a["revenue"].get<double>(), 2000.0);
  EXPECT_DOUBLE_EQ(a["conversion_rate"]["value"].get<double>(), 0.1);
  EXPECT_DOUBLE_EQ(a["click_rate"]["value"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(a["revenue_per_user"]["value"].get<double>(), 2.0);
  EXPECT_EQ(b["control"], false);
  const json& vs = b["vs_control"];
  EXPECT_NEAR(vs["conversion_diff"]["value"].get<double>(), 0.02, 1e-12);
  EXPECT_NEAR(vs["conversion_lift"].get<double>(), 0.2, 1e-12);
  EXPECT_NEAR(vs["p_value"].get<double>(), 0.1529178, 1e-6);
  EXPECT_EQ(vs["significant"], false);
  EXPECT_LT(vs["conversion_diff"]["low"].get<double>(), 0);
  EXPECT_GT(vs["conversion_diff"]["high"].get<double>(), 0.02);
  EXPECT_NEAR(vs["revenue_diff"]["value"].get<double>(), 0.4, 1e-9);
  EXPECT_TRUE(vs["revenue_p_value"].is_number());
  const std::string summary = b["summary"];
  EXPECT_EQ(summary.rfind("conversion +2.00 pp (95% CI ", 0), 0u) << summary;
  EXPECT_NE(summary.find("p = 0.153, not significant"), std::string::npos) << summary;
  EXPECT_EQ(a["summary"].get<std::string>().rfind("control: conversion 10.00%", 0), 0u);
}

TEST(AnalyzeCountsTest, SrmWarningAndMissingVariants) {
  ExperimentSpec spec = MakeSpec("exp", {0.5, 0.5});
  ASSERT_OK_AND_ASSIGN(
      json r, AnalyzeCounts(spec, {Counts("a", 6000, 600, 1), Counts("b", 4000, 400, 1)}, {}, 0));
  EXPECT_EQ(r["srm"]["mismatch"], true);
  const std::string w = r["srm"]["warning"];
  EXPECT_NE(w.find("sample ratio mismatch"), std::string::npos) << w;
  EXPECT_NE(w.find("a=6000 (60.0%)"), std::string::npos) << w;
  EXPECT_NE(r["variants"][1]["summary"].get<std::string>().find("unreliable"), std::string::npos);

  // No data for b yet: zeros, no comparison, nulls where nothing can be computed.
  ASSERT_OK_AND_ASSIGN(json r2, AnalyzeCounts(spec, {Counts("a", 10, 1, 1)}, {}, 0));
  EXPECT_EQ(r2["variants"][1]["users"], 0);
  EXPECT_TRUE(r2["variants"][1]["vs_control"].is_null());
  EXPECT_TRUE(r2["variants"][1]["revenue_per_user"]["value"].is_null());
  EXPECT_EQ(r2["variants"][1]["summary"], "no exposed users yet");
}

TEST(AnalyzeCountsTest, RejectsBadOptionsAndUnknownVariants) {
  ExperimentSpec spec = MakeSpec("exp", {0.5, 0.5});
  AnalyzeOptions o;
  o.confidence = 1.5;
  EXPECT_EQ(ErrorOf(AnalyzeCounts(spec, {}, o, 0)).rfind("confidence: must be in (0, 1)", 0), 0u);
  o = {};
  o.srm_alpha = 0;
  EXPECT_EQ(ErrorOf(AnalyzeCounts(spec, {}, o, 0)).rfind("srm_alpha", 0), 0u);
  EXPECT_NE(ErrorOf(AnalyzeCounts(spec, {Counts("zz", 1, 0, 0)}, {}, 0)).find("'zz'"),
            std::string::npos);
}

// Binomial A/A simulations: the test's false-positive rate matches its level.
TEST(AnalyzeCountsTest, AaFalsePositiveRateNearAlpha) {
  std::mt19937_64 rng(20240607);
  std::binomial_distribution<int64_t> draw(20000, 0.10);
  int significant = 0;
  const int runs = 400;
  for (int i = 0; i < runs; ++i) {
    const int64_t xa = draw(rng), xb = draw(rng);
    if (*TwoProportionPValue(xa, 20000, xb, 20000) < 0.05) ++significant;
  }
  EXPECT_GE(significant, 8);   // 2%
  EXPECT_LE(significant, 36);  // 9%
}

// ---------------------------------------------------------------------------
// Store

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("experiment_store");
    file_ = dir_ / "sub" / "experiments.db";
    options_.clock = &clock_;
  }
  std::unique_ptr<ExperimentStore> OpenStore() {
    auto s = ExperimentStore::Open(file_, options_);
    EXPECT_OK(s);
    return s.ok() ? std::move(s).value() : nullptr;
  }
  ExperimentSpec Spec(const std::string& name, const std::string& surface = "any") {
    ExperimentSpec s = MakeSpec(name, {0.5, 0.5});
    s.surface = surface;
    return s;
  }
  // Rows of `table` for `user`, read straight from the file.
  int64_t RowsFor(const std::string& table, const std::string& user) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(file_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    const std::string sql = "SELECT COUNT(*) FROM " + table + " WHERE user = ?";
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
    sqlite3_bind_text(st, 1, user.c_str(), -1, SQLITE_TRANSIENT);
    int64_t n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }

  std::filesystem::path dir_, file_;
  FakeClock clock_{1'700'000'000'000'000};
  ExperimentStoreOptions options_;
};

const VariantCounts& Find(const std::vector<VariantCounts>& v, const std::string& name) {
  for (const VariantCounts& c : v) {
    if (c.name == name) return c;
  }
  static const VariantCounts kNone;
  ADD_FAILURE() << "no variant " << name;
  return kNone;
}

TEST_F(StoreTest, CreateListStopAndRunning) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->Create(Spec("first", "search")));
  clock_.Advance(1000);
  ExperimentSpec second = Spec("second", "recommend");
  second.control = "";
  ASSERT_OK(store->Create(second));
  clock_.Advance(1000);
  ASSERT_OK(store->Create(Spec("third", "any")));

  Status dup = store->Create(Spec("first"));
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(dup.message().find("'first'"), std::string::npos);
  ExperimentSpec stopped = Spec("fourth");
  stopped.status = "stopped";
  stopped.stopped_ms = 5;
  EXPECT_EQ(store->Create(stopped).code(), StatusCode::kInvalidArgument);
  ExperimentSpec invalid = Spec("Bad Name");
  EXPECT_EQ(store->Create(invalid).code(), StatusCode::kInvalidArgument);

  ASSERT_OK_AND_ASSIGN(auto list, store->List());
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "third");  // newest first
  EXPECT_EQ(list[2].name, "first");
  EXPECT_EQ(list[2].created_ms, 1'700'000'000'000);
  ASSERT_OK_AND_ASSIGN(ExperimentSpec got, store->Get("second"));
  EXPECT_EQ(got.control, "a");  // filled in

  auto search = store->Running("search");
  ASSERT_EQ(search.size(), 2u);
  EXPECT_EQ(search[0].name, "first");
  EXPECT_EQ(search[1].name, "third");
  EXPECT_EQ(store->Running("recommend").size(), 2u);

  ASSERT_OK(store->Stop("first", 1'700'000'005'000));
  EXPECT_OK(store->Stop("first", 1'700'000'009'000));  // no-op
  EXPECT_EQ(store->Stop("nope", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Get("nope").status().code(), StatusCode::kNotFound);
  ASSERT_EQ(store->Running("search").size(), 1u);
  EXPECT_EQ(store->RunningSnapshot()->size(), 2u);

  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(ExperimentSpec first, store->Get("first"));
  EXPECT_EQ(first.status, "stopped");
  EXPECT_EQ(first.stopped_ms, 1'700'000'005'000);
  EXPECT_EQ(store->Running("search").size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto list2, store->List());
  EXPECT_EQ(list2.size(), 3u);
}

TEST_F(StoreTest, ExposuresOutcomesAttributionAndReopen) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->Create(Spec("exp")));
  // u1, u2 in a; u3 in b. u1 first exposed at 1000 (the 2000 exposure arrives first).
  ASSERT_OK(store->LogExposures({
      {"exp", "a", "u1", "r1", "search", 2000},
      {"exp", "a", "u1", "r2", "search", 1000},
      {"exp", "a", "u2", "r3", "search", 1500},
      {"exp", "b", "u3", "r4", "recommend", 1200},
  }));
  ASSERT_OK(store->LogOutcomes({
      {"u1", "purchase", 10.0, 900},  // before u1's first exposure: ignored
      {"u1", "click", 0, 1000},       // at the first exposure: counted
      {"u1", "purchase", 25.0, 1100},
      {"u1", "purchase", 5.0, 3000},
      {"u2", "add_to_cart", 0, 1600},
      {"u3", "click", 0, 1300},
      {"u3", "purchase", 40.0, 1300},
      {"stranger", "purchase", 99.0, 5000},  // never exposed: dropped
  }));
  EXPECT_EQ(RowsFor("outcomes", "stranger"), 0);
  EXPECT_EQ(RowsFor("outcomes", "u1"), 4);
  EXPECT_EQ(RowsFor("exposures", "u1"), 2);

  auto check = [&](ExperimentStore& s) {
    ASSERT_OK_AND_ASSIGN(auto counts, s.Counts("exp"));
    const VariantCounts& a = Find(counts, "a");
    EXPECT_EQ(a.users, 2);
    EXPECT_EQ(a.exposures, 3);
    EXPECT_EQ(a.click_users, 1);
    EXPECT_EQ(a.cart_users, 1);
    EXPECT_EQ(a.purchase_users, 1);
    EXPECT_EQ(a.purchases, 2);
    EXPECT_DOUBLE_EQ(a.revenue, 30.0);
    EXPECT_EQ(a.revenue_per_user.n, 2);
    EXPECT_DOUBLE_EQ(a.revenue_per_user.mean, 15.0);
    const VariantCounts& b = Find(counts, "b");
    EXPECT_EQ(b.users, 1);
    EXPECT_EQ(b.purchases, 1);
    EXPECT_DOUBLE_EQ(b.revenue, 40.0);
    ASSERT_OK_AND_ASSIGN(json r, s.Analyze("exp"));
    EXPECT_EQ(r["variants"][0]["users"], 2);
    EXPECT_EQ(r["variants"][0]["purchases"], 2);
    EXPECT_DOUBLE_EQ(r["variants"][0]["conversion_rate"]["value"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(r["variants"][1]["conversion_rate"]["value"].get<double>(), 1.0);
    EXPECT_EQ(r["computed_ms"], 1'700'000'000'000);
  };
  check(*store);
  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  check(*store);
  EXPECT_EQ(store->Analyze("nope").status().code(), StatusCode::kNotFound);
  AnalyzeOptions bad;
  bad.confidence = 0;
  EXPECT_EQ(store->Analyze("exp", bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, StoppedExperimentIgnoresLaterOutcomes) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ExperimentSpec spec = Spec("exp");
  spec.created_ms = 100;
  ASSERT_OK(store->Create(spec));
  ASSERT_OK(
      store->LogExposures({{"exp", "a", "u1", "", "", 1000}, {"exp", "b", "u2", "", "", 1000}}));
  ASSERT_OK(store->LogOutcomes({{"u1", "purchase", 1, 1500}, {"u2", "purchase", 1, 2500}}));
  ASSERT_OK(store->Stop("exp", 2000));
  // A late exposure (racing Stop) of a new user is not analyzed either.
  ASSERT_OK(store->LogExposures({{"exp", "b", "u3", "", "", 2100}}));
  ASSERT_OK_AND_ASSIGN(auto counts, store->Counts("exp"));
  EXPECT_EQ(Find(counts, "a").purchase_users, 1);
  EXPECT_EQ(Find(counts, "b").purchase_users, 0);
  EXPECT_EQ(Find(counts, "b").users, 1);
}

TEST_F(StoreTest, BadBatchesAreRejectedWhole) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->Create(Spec("exp")));
  Status s = store->LogExposures({{"exp", "a", "u1", "", "", 1}, {"exp", "c", "u2", "", "", 1}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "exposures[1].variant: 'c' is not a variant of experiment 'exp'");
  s = store->LogExposures({{"zzz", "a", "u1", "", "", 1}});
  EXPECT_EQ(s.message(), "exposures[0].experiment: unknown experiment 'zzz'");
  s = store->LogExposures({{"exp", "a", "", "", "", 1}});
  EXPECT_EQ(s.message(), "exposures[0].user: must not be empty");
  EXPECT_EQ(RowsFor("exposures", "u1"), 0);
  EXPECT_EQ(RowsFor("assignments", "u1"), 0);

  ASSERT_OK(store->LogExposures({{"exp", "a", "u1", "", "", 1}}));
  s = store->LogOutcomes({{"u1", "click", 0, 5}, {"u1", "view", 0, 5}});
  EXPECT_EQ(s.message(), "outcomes[1].type: must be click, add_to_cart or purchase, got 'view'");
  s = store->LogOutcomes({{"u1", "purchase", -3, 5}});
  EXPECT_EQ(s.message().rfind("outcomes[0].revenue: must be a finite number >= 0", 0), 0u);
  s = store->LogOutcomes({{"u1", "purchase", std::nan(""), 5}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RowsFor("outcomes", "u1"), 0);
}

TEST_F(StoreTest, ForgetUserRemovesRows) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->Create(Spec("exp")));
  ASSERT_OK(store->Create(Spec("exp2")));
  ASSERT_OK(store->LogExposures({{"exp", "a", "u1", "r", "search", 10},
                                 {"exp2", "b", "u1", "r", "search", 10},
                                 {"exp", "b", "u2", "r", "search", 10}}));
  ASSERT_OK(store->LogOutcomes({{"u1", "purchase", 3, 20}, {"u2", "purchase", 4, 20}}));
  ASSERT_OK(store->ForgetUser("u1"));
  EXPECT_EQ(RowsFor("exposures", "u1"), 0);
  EXPECT_EQ(RowsFor("assignments", "u1"), 0);
  EXPECT_EQ(RowsFor("outcomes", "u1"), 0);
  EXPECT_EQ(RowsFor("outcomes", "u2"), 1);
  ASSERT_OK_AND_ASSIGN(auto counts, store->Counts("exp"));
  EXPECT_EQ(Find(counts, "a").users, 0);
  EXPECT_EQ(Find(counts, "b").users, 1);
  EXPECT_OK(store->ForgetUser("never-seen"));
  EXPECT_EQ(store->ForgetUser("").code(), StatusCode::kInvalidArgument);
  // A later outcome of the forgotten user is dropped: no exposure left.
  ASSERT_OK(store->LogOutcomes({{"u1", "purchase", 3, 30}}));
  EXPECT_EQ(RowsFor("outcomes", "u1"), 0);
}

TEST_F(StoreTest, RejectsOtherSchemaVersionAndGarbage) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto reopened = ExperimentStore::Open(file_, options_);
  EXPECT_EQ(reopened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(reopened.status().message().find("schema version 99"), std::string::npos);

  const auto garbage = dir_ / "garbage.db";
  std::ofstream(garbage) << std::string(4096, 'x');
  auto g = ExperimentStore::Open(garbage, options_);
  EXPECT_EQ(g.status().code(), StatusCode::kDataLoss) << g.status().ToString();
  EXPECT_NE(g.status().message().find("garbage.db"), std::string::npos);
}

TEST_F(StoreTest, ConcurrentLoggingAndAnalysis) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ExperimentSpec spec = Spec("exp");
  ASSERT_OK(store->Create(spec));
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < 20; ++b) {
        std::vector<Exposure> batch;
        std::vector<Outcome> outcomes;
        for (int i = 0; i < 50; ++i) {
          const std::string user = fmt::format("t{}-{}", t, b * 50 + i);
          batch.push_back({"exp", Assign(spec, user), user, "", "search", 10});
          outcomes.push_back({user, "click", 0, 20});
        }
        EXPECT_OK(store->LogExposures(batch));
        EXPECT_OK(store->LogOutcomes(outcomes));
        EXPECT_EQ(store->Running("search").size(), 1u);
      }
    });
  }
  for (int i = 0; i < 5; ++i) EXPECT_OK(store->Analyze("exp"));
  for (auto& th : threads) th.join();
  ASSERT_OK_AND_ASSIGN(auto counts, store->Counts("exp"));
  EXPECT_EQ(counts[0].users + counts[1].users, 3000);
  EXPECT_EQ(counts[0].click_users + counts[1].click_users, 3000);
}

// A simulated experiment end to end through the store: B converts 12%, A 10%,
// ~20k users per arm; the analysis must call it significant.
TEST_F(StoreTest, SimulatedExperimentDetectsRealLift) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ExperimentSpec spec = Spec("lift");
  ASSERT_OK(store->Create(spec));
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<Exposure> exposures;
  std::vector<Outcome> outcomes;
  for (int i = 0; i < 40000; ++i) {
    const std::string user = "user" + std::to_string(i);
    const std::string variant = Assign(spec, user);
    exposures.push_back({"lift", variant, user, "", "recommend", 1000 + i});
    if (unit(rng) < 0.3) outcomes.push_back({user, "click", 0, 2000 + i});
    const double rate = variant == "b" ? 0.12 : 0.10;
    if (unit(rng) < rate) outcomes.push_back({user, "purchase", 20 + 10 * unit(rng), 3000 + i});
    if (exposures.size() == 2000) {
      ASSERT_OK(store->LogExposures(exposures));
      exposures.clear();
    }
  }
  ASSERT_OK(store->LogExposures(exposures));
  ASSERT_OK(store->LogOutcomes(outcomes));
  ASSERT_OK_AND_ASSIGN(json r, store->Analyze("lift"));
  EXPECT_EQ(r["srm"]["mismatch"], false) << r["srm"].dump();
  const json& b = r["variants"][1];
  ASSERT_EQ(b["name"], "b");
  EXPECT_NEAR(b["users"].get<double>(), 20000, 600);
  const json& vs = b["vs_control"];
  EXPECT_EQ(vs["significant"], true) << b.dump();
  EXPECT_LT(vs["p_value"].get<double>(), 0.001);
  EXPECT_GT(vs["conversion_diff"]["low"].get<double>(), 0);
  EXPECT_LT(vs["conversion_diff"]["low"].get<double>(), 0.02);
  EXPECT_GT(vs["conversion_diff"]["high"].get<double>(), 0.02);
  EXPECT_NEAR(r["variants"][0]["conversion_rate"]["value"].get<double>(), 0.10, 0.01);
  EXPECT_NE(b["summary"].get<std::string>().find(", significant"), std::string::npos);
  EXPECT_LT(vs["revenue_p_value"].get<double>(), 0.01);  // more buyers, same basket size
}

// A/A: both arms convert 10% with 20k users each -> not significant.
TEST(SimulationTest, AaIsNotSignificant) {
  ExperimentSpec spec = MakeSpec("aa", {0.5, 0.5});
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<VariantCounts> counts(2);
  counts[0].name = "a";
  counts[1].name = "b";
  for (int arm = 0; arm < 2; ++arm) {
    for (int i = 0; i < 20000; ++i) {
      VariantCounts& c = counts[arm];
      c.users++;
      c.exposures++;
      const bool buys = unit(rng) < 0.10;
      const double revenue = buys ? 20 + 10 * unit(rng) : 0;
      c.purchase_users += buys;
      c.purchases += buys;
      c.revenue += revenue;
      c.revenue_per_user.Add(revenue);
    }
  }
  ASSERT_OK_AND_ASSIGN(json r, AnalyzeCounts(spec, counts, {}, 0));
  const json& vs = r["variants"][1]["vs_control"];
  EXPECT_EQ(vs["significant"], false) << r.dump();
  EXPECT_GT(vs["p_value"].get<double>(), 0.05);
  EXPECT_LT(vs["conversion_diff"]["low"].get<double>(), 0);
  EXPECT_GT(vs["conversion_diff"]["high"].get<double>(), 0);
  EXPECT_EQ(r["srm"]["mismatch"], false);
}

}  // namespace
}  // namespace souk::experiment
