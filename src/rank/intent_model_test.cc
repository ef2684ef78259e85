#include "rank/intent_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/testing.h"
#include "rank/intent_model_internal.h"

namespace souk::rank {
namespace {

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Rows in groups of 4 ("sessions"). The log-odds is -1 + 1.6 carts + 0.6 views
// (+ a small session effect); noise_a and noise_b are uninformative; views is
// missing (NaN) in 5% of rows, which then contribute nothing to the truth.
struct Synthetic {
  TrainingSet set;
  std::vector<int64_t> groups;
  std::vector<double> truth;  // the true probability per row
};

Synthetic MakeData(int rows, uint64_t seed, double bias = -1.0) {
  Synthetic d;
  d.set.feature_names = {"noise_a", "carts", "views", "noise_b"};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  double session_effect = 0;
  for (int i = 0; i < rows; ++i) {
    if (i % 4 == 0) session_effect = 0.2 * normal(rng);
    const double carts = normal(rng), views = normal(rng);
    const bool views_missing = u(rng) < 0.05;
    const double z = bias + 1.6 * carts + (views_missing ? 0 : 0.6 * views) + session_effect;
    const double p = Sigmoid(z);
    const int y = u(rng) < p ? 1 : 0;
    d.set.AddRow({static_cast<float>(u(rng)), static_cast<float>(carts),
                  views_missing ? std::nanf("") : static_cast<float>(views),
                  static_cast<float>(normal(rng))},
                 static_cast<float>(y));
    d.groups.push_back(static_cast<int64_t>(seed) * 1000000 + i / 4);
    d.truth.push_back(p);
  }
  return d;
}

double Auc(const std::vector<double>& p, const std::vector<int>& y) {
  std::vector<size_t> o(p.size());
  std::iota(o.begin(), o.end(), 0);
  std::sort(o.begin(), o.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  double pos = 0, neg = 0, rank_sum = 0;
  for (size_t i = 0; i < o.size();) {
    size_t j = i;
    while (j < o.size() && p[o[j]] == p[o[i]]) ++j;
    for (size_t k = i; k < j; ++k) {
      if (y[o[k]] == 1) {
        rank_sum += (i + 1 + j) / 2.0;
        ++pos;
      } else {
        ++neg;
      }
    }
    i = j;
  }
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

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

std::vector<int> Labels(const TrainingSet& s) {
  return std::vector<int>(s.label.begin(), s.label.end());
}

IntentModelOptions FastOptions() {
  IntentModelOptions o;
  o.gbdt.eta = 0.1;
  o.gbdt.rounds = 300;
  o.gbdt.early_stopping_rounds = 30;
  o.gbdt.max_depth = 3;
  return o;
}

// One model on 20k rows shared by the tests that only read it.
class IntentModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    train_ = new Synthetic(MakeData(20000, 1));
    test_ = new Synthetic(MakeData(20000, 2));
    auto m = IntentModel::Train(train_->set, FastOptions(), train_->groups);
    ASSERT_OK(m);
    model_ = std::move(m).value().release();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete train_;
    delete test_;
  }
  static IntentModel* model_;
  static Synthetic* train_;
  static Synthetic* test_;
};
IntentModel* IntentModelTest::model_ = nullptr;
Synthetic* IntentModelTest::train_ = nullptr;
Synthetic* IntentModelTest::test_ = nullptr;

TEST_F(IntentModelTest, RanksAndIsCalibratedOnHeldOutData) {
  ASSERT_NE(model_, nullptr);
  std::vector<double> p;
  ASSERT_OK(model_->PredictBatch(test_->set.x, &p));
  ASSERT_EQ(p.size(), test_->set.rows());
  const std::vector<int> y = Labels(test_->set);
  const double auc = Auc(p, y), oracle = Auc(test_->truth, y);
  EXPECT_GT(auc, 0.75);
  EXPECT_GT(auc, oracle - 0.015) << "oracle " << oracle;
  EXPECT_LT(Ece(p, y), 0.03);
  // Mean probability matches the base rate.
  const double mean_p = std::accumulate(p.begin(), p.end(), 0.0) / p.size();
  const double rate = std::accumulate(y.begin(), y.end(), 0.0) / y.size();
  EXPECT_NEAR(mean_p, rate, 0.015);
  // The model's probabilities track the truth.
  double err = 0;
  for (size_t i = 0; i < p.size(); ++i) err += std::abs(p[i] - test_->truth[i]);
  EXPECT_LT(err / p.size(), 0.05);
  EXPECT_GT(model_->rounds(), 10);
  EXPECT_EQ(model_->calibrator().kind(), CalibrationKind::kIsotonic);
}

TEST_F(IntentModelTest, OutOfFoldPredictionsCoverEveryRow) {
  const auto& oof = model_->oof_probabilities();
  ASSERT_EQ(oof.size(), train_->set.rows());
  EXPECT_EQ(model_->oof_labels(), Labels(train_->set));
  for (double v : oof) {
    ASSERT_TRUE(std::isfinite(v));
    ASSERT_GE(v, kMinProbability);
    ASSERT_LE(v, 1 - kMinProbability);
  }
  // Out-of-fold quality resembles held-out quality (no in-sample optimism).
  EXPECT_GT(Auc(oof, model_->oof_labels()), 0.75);
  EXPECT_LT(Ece(oof, model_->oof_labels()), 0.02);
}

TEST_F(IntentModelTest, PredictMatchesBatchAndMargin) {
  std::vector<double> batch;
  const size_t cols = test_->set.cols();
  const std::span<const float> x(test_->set.x.data(), 50 * cols);
  ASSERT_OK(model_->PredictBatch(x, &batch));
  ASSERT_EQ(batch.size(), 50u);
  for (size_t r = 0; r < 50; ++r) {
    const std::span<const float> row = x.subspan(r * cols, cols);
    EXPECT_DOUBLE_EQ(model_->Predict(row), batch[r]);
    EXPECT_DOUBLE_EQ(model_->calibrator().Apply(model_->Margin(row)), batch[r]);
  }
  // Wrong sizes.
  EXPECT_TRUE(std::isnan(model_->Predict(std::vector<float>{1, 2, 3})));
  EXPECT_TRUE(std::isnan(model_->Margin(std::vector<float>{1, 2, 3, 4, 5})));
  EXPECT_EQ(model_->PredictBatch(x.subspan(0, 7), &batch).code(), StatusCode::kInvalidArgument);
  // All-missing rows are scored.
  const std::vector<float> missing(cols, std::nanf(""));
  EXPECT_TRUE(std::isfinite(model_->Predict(missing)));
}

TEST_F(IntentModelTest, DriversNameTheInformativeFeatureFirst) {
  const std::vector<float> row = {0.5f, 2.5f, 0.1f, 0.0f};
  auto drivers = model_->Drivers(row, 2);
  ASSERT_OK(drivers);
  ASSERT_EQ(drivers->size(), 2u);
  EXPECT_EQ((*drivers)[0].feature, "carts");
  EXPECT_FLOAT_EQ((*drivers)[0].value, 2.5f);
  EXPECT_GT((*drivers)[0].contribution, 0.5);
  // Few carts push the other way.
  auto low = model_->Drivers(std::vector<float>{0.5f, -2.0f, 0.0f, 0.0f}, 1);
  ASSERT_OK(low);
  EXPECT_EQ((*low)[0].feature, "carts");
  EXPECT_LT((*low)[0].contribution, -0.5);
  // All of them, sorted by |contribution|; k beyond the features gives all.
  auto all = model_->Drivers(row, 10);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 4u);
  std::set<std::string> names;
  for (size_t i = 0; i < all->size(); ++i) {
    names.insert((*all)[i].feature);
    if (i > 0) {
      EXPECT_GE(std::abs((*all)[i - 1].contribution), std::abs((*all)[i].contribution));
    }
  }
  EXPECT_EQ(names.size(), 4u);
  // A missing value is reported as NaN.
  auto with_nan = model_->Drivers(std::vector<float>{0.5f, 1.0f, std::nanf(""), 0.0f}, 4);
  ASSERT_OK(with_nan);
  for (const Driver& d : *with_nan) {
    if (d.feature == "views") {
      EXPECT_TRUE(std::isnan(d.value));
    }
  }
  auto none = model_->Drivers(row, 0);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(model_->Drivers(std::vector<float>{1, 2}, 2).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(model_->Drivers(row, -1).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(IntentModelTest, SaveLoadGivesIdenticalPredictions) {
  const auto dir = souk::testing::TempDir("intent_model_save") / "session";
  ASSERT_OK(model_->Save(dir.string(), {{"trained_on", "synthetic"}}));
  EXPECT_TRUE(std::filesystem::exists(dir / "intent.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "model.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "manifest.json"));
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
  }
  ASSERT_OK_AND_ASSIGN(auto loaded, IntentModel::Load(dir.string()));
  EXPECT_EQ(loaded->feature_names(), model_->feature_names());
  EXPECT_EQ(loaded->rounds(), model_->rounds());
  EXPECT_EQ(loaded->calibrator().kind(), model_->calibrator().kind());
  const size_t cols = test_->set.cols();
  for (size_t r = 0; r < 200; ++r) {
    const std::span<const float> row(test_->set.x.data() + r * cols, cols);
    ASSERT_EQ(loaded->Predict(row), model_->Predict(row)) << r;
    ASSERT_EQ(loaded->Margin(row), model_->Margin(row)) << r;
  }
  auto d1 = model_->Drivers(std::span<const float>(test_->set.x.data(), cols), 4);
  auto d2 = loaded->Drivers(std::span<const float>(test_->set.x.data(), cols), 4);
  ASSERT_OK(d1);
  ASSERT_OK(d2);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*d1)[i].feature, (*d2)[i].feature);
    EXPECT_EQ((*d1)[i].contribution, (*d2)[i].contribution);
  }
  // intent.json content.
  std::ifstream in(dir / "intent.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["kind"], "intent");
  EXPECT_EQ(j["format_version"], 1);
  EXPECT_EQ(j["extra"]["trained_on"], "synthetic");
  EXPECT_EQ(j["calibration"]["kind"], "isotonic");
  EXPECT_GT(j["metrics"]["oof_auc"].get<double>(), 0.75);
  EXPECT_EQ(j["metrics"]["oof_rows"].get<size_t>(), train_->set.rows());
}

TEST_F(IntentModelTest, LoadReportsMissingAndCorruptFiles) {
  const auto root = souk::testing::TempDir("intent_model_load");
  auto missing = IntentModel::Load((root / "nothing").string());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("intent.json"), std::string::npos);

  const auto dir = root / "m";
  ASSERT_OK(model_->Save(dir.string()));
  auto rewrite = [&](const std::string& text) {
    std::ofstream(dir / "intent.json", std::ios::trunc) << text;
  };
  std::ifstream in(dir / "intent.json");
  const nlohmann::json good = nlohmann::json::parse(in);

  rewrite("{ not json");
  auto r = IntentModel::Load(dir.string());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("intent.json"), std::string::npos) << r.status().message();

  nlohmann::json j = good;
  j["format_version"] = 99;
  rewrite(j.dump());
  r = IntentModel::Load(dir.string());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("format_version"), std::string::npos);

  j = good;
  j["calibration"]["knots_p"] = {0.5};
  rewrite(j.dump());
  r = IntentModel::Load(dir.string());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("knots"), std::string::npos) << r.status().message();

  j = good;
  j["feature_names"] = {"a", "b", "c", "d"};
  rewrite(j.dump());
  r = IntentModel::Load(dir.string());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("feature_names"), std::string::npos);

  rewrite(good.dump());
  std::filesystem::remove(dir / "model.json");
  r = IntentModel::Load(dir.string());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("model.json"), std::string::npos);
}

TEST(IntentModelTrainTest, DriverTiesKeepFeatureOrder) {
  // Two constant columns are never split on: both contribute exactly 0 and
  // must follow the informative column in feature order.
  Synthetic d = MakeData(1200, 13);
  TrainingSet s;
  s.feature_names = {"const_b", "carts", "const_a"};
  for (size_t r = 0; r < d.set.rows(); ++r) {
    s.AddRow({1.0f, d.set.x[r * 4 + 1], 2.0f}, d.set.label[r]);
  }
  ASSERT_OK_AND_ASSIGN(auto m, IntentModel::Train(s, FastOptions(), d.groups));
  ASSERT_OK_AND_ASSIGN(auto drivers, m->Drivers(std::vector<float>{1.0f, 1.5f, 2.0f}, 3));
  ASSERT_EQ(drivers.size(), 3u);
  EXPECT_EQ(drivers[0].feature, "carts");
  EXPECT_EQ(drivers[1].feature, "const_b");
  EXPECT_EQ(drivers[2].feature, "const_a");
  EXPECT_EQ(drivers[1].contribution, 0.0);
  EXPECT_EQ(drivers[2].contribution, 0.0);
}

TEST(GbdtMarginTest, MarginIsTheLogOddsOfTheBinaryPrediction) {
  Synthetic d = MakeData(2000, 12);
  GbdtOptions o;
  o.objective = "binary:logistic";
  o.rounds = 40;
  ASSERT_OK_AND_ASSIGN(auto m, GbdtModel::Train(d.set, nullptr, o));
  const size_t rows = 100;
  std::vector<float> p(rows), margin(rows);
  ASSERT_OK(m->Predict(d.set.x.data(), rows, p.data()));
  ASSERT_OK(m->PredictMargin(d.set.x.data(), rows, margin.data()));
  double spread = 0;
  for (size_t i = 0; i < rows; ++i) {
    EXPECT_NEAR(Sigmoid(margin[i]), p[i], 1e-5) << i;
    spread = std::max(spread, std::abs(static_cast<double>(margin[i])));
  }
  EXPECT_GT(spread, 1.0);  // margins are log-odds, not probabilities
  // The margin is the sum of the contributions (bias included).
  ASSERT_OK_AND_ASSIGN(auto contrib, m->Contributions(d.set.x.data(), 1));
  double sum = 0;
  for (float c : contrib) sum += c;
  EXPECT_NEAR(sum, margin[0], 1e-4);
}

// ---------------------------------------------------------------------------
// Folds

TEST(AssignFoldsTest, KeepsGroupsTogetherAndSpreadsPositives) {
  // 3000 rows in groups of 1..6 rows; 4% of groups contain a positive.
  std::mt19937_64 rng(3);
  std::vector<float> labels;
  std::vector<int64_t> groups;
  int64_t g = 500;
  while (labels.size() < 3000) {
    const int size = 1 + static_cast<int>(rng() % 6);
    const bool pos = rng() % 25 == 0;
    for (int i = 0; i < size; ++i) {
      labels.push_back(pos && i == size - 1 ? 1.0f : 0.0f);
      groups.push_back(g);
    }
    g += 1 + static_cast<int64_t>(rng() % 3);  // sparse, non-consecutive ids
  }
  // Interleave: a group's rows need not be adjacent.
  std::vector<size_t> perm(labels.size());
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<float> l2;
  std::vector<int64_t> g2;
  for (size_t i : perm) {
    l2.push_back(labels[i]);
    g2.push_back(groups[i]);
  }
  const std::vector<int> folds = internal::AssignFolds(l2, g2, 5, 7);
  ASSERT_EQ(folds.size(), l2.size());
  std::map<int64_t, int> fold_of;
  std::vector<int> rows(5, 0), positives(5, 0);
  for (size_t i = 0; i < l2.size(); ++i) {
    ASSERT_GE(folds[i], 0);
    ASSERT_LT(folds[i], 5);
    auto [it, inserted] = fold_of.emplace(g2[i], folds[i]);
    EXPECT_EQ(it->second, folds[i]) << "group " << g2[i] << " split across folds";
    ++rows[folds[i]];
    positives[folds[i]] += static_cast<int>(l2[i]);
  }
  const int total_pos = std::accumulate(positives.begin(), positives.end(), 0);
  for (int f = 0; f < 5; ++f) {
    EXPECT_NEAR(rows[f], 600, 30) << f;
    EXPECT_GE(positives[f], total_pos / 5) << f;
    EXPECT_LE(positives[f], total_pos / 5 + 1) << f;
  }
  // Deterministic for a seed; another seed deals differently.
  EXPECT_EQ(internal::AssignFolds(l2, g2, 5, 7), folds);
  EXPECT_NE(internal::AssignFolds(l2, g2, 5, 8), folds);
}

TEST(AssignFoldsTest, WithoutGroupsEveryRowIsItsOwnGroup) {
  std::vector<float> labels(103, 0.0f);
  for (int i = 0; i < 10; ++i) labels[i * 10] = 1.0f;
  const std::vector<int> folds = internal::AssignFolds(labels, {}, 4, 1);
  std::vector<int> rows(4, 0), pos(4, 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    ++rows[folds[i]];
    pos[folds[i]] += static_cast<int>(labels[i]);
  }
  for (int f = 0; f < 4; ++f) {
    EXPECT_GE(rows[f], 25);
    EXPECT_LE(rows[f], 26);
    EXPECT_GE(pos[f], 2);
    EXPECT_LE(pos[f], 3);
  }
  // Positives as the majority: negatives are spread instead.
  std::vector<float> flipped(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) flipped[i] = 1.0f - labels[i];
  const std::vector<int> f2 = internal::AssignFolds(flipped, {}, 4, 1);
  std::vector<int> neg(4, 0);
  for (size_t i = 0; i < flipped.size(); ++i) neg[f2[i]] += flipped[i] == 0.0f;
  for (int f = 0; f < 4; ++f) EXPECT_GE(neg[f], 2);
}

TEST(MedianRoundsTest, TakesTheMiddle) {
  EXPECT_EQ(internal::MedianRounds({}), 0);
  EXPECT_EQ(internal::MedianRounds({7}), 7);
  EXPECT_EQ(internal::MedianRounds({90, 10, 40}), 40);
  EXPECT_EQ(internal::MedianRounds({10, 40, 41, 300}), 41);
}

// ---------------------------------------------------------------------------
// Training variants and bad input

TEST(IntentModelTrainTest, GroupsAreNeverSplitAcrossFolds) {
  // Each group's rows are identical copies with the same label: if a group were
  // split, the out-of-fold prediction of its rows would be in-sample for the
  // copies and thus near-perfect. With groups respected, out-of-fold AUC stays
  // near that of the noisy truth.
  Synthetic base = MakeData(800, 9);
  TrainingSet dup;
  dup.feature_names = base.set.feature_names;
  std::vector<int64_t> groups;
  for (size_t r = 0; r < base.set.rows(); ++r) {
    const std::vector<float> row(base.set.x.begin() + r * 4, base.set.x.begin() + (r + 1) * 4);
    for (int c = 0; c < 4; ++c) {
      dup.AddRow(row, base.set.label[r]);
      groups.push_back(static_cast<int64_t>(r));
    }
  }
  IntentModelOptions o = FastOptions();
  o.gbdt.max_depth = 6;
  o.gbdt.min_child_weight = 1;
  o.gbdt.early_stopping_rounds = 0;  // overfit on purpose
  o.gbdt.rounds = 60;
  o.folds = 3;
  o.gbdt.eta = 0.3;
  ASSERT_OK_AND_ASSIGN(auto grouped, IntentModel::Train(dup, o, groups));
  ASSERT_OK_AND_ASSIGN(auto ungrouped, IntentModel::Train(dup, o));
  const double auc_grouped = Auc(grouped->oof_probabilities(), grouped->oof_labels());
  const double auc_ungrouped = Auc(ungrouped->oof_probabilities(), ungrouped->oof_labels());
  std::vector<double> truth;
  for (double t : base.truth) truth.insert(truth.end(), 4, t);
  const double oracle = Auc(truth, grouped->oof_labels());
  EXPECT_LT(auc_grouped, oracle + 0.01) << "oracle " << oracle;
  EXPECT_GT(auc_ungrouped, auc_grouped + 0.05) << "leaky folds should look better";
}

TEST(IntentModelTrainTest, HoldoutCalibrationAndPlattAndProgress) {
  Synthetic d = MakeData(3000, 4);
  IntentModelOptions o = FastOptions();
  o.folds = 0;
  o.calibration = CalibrationKind::kPlatt;
  std::FILE* log = std::tmpfile();
  ASSERT_NE(log, nullptr);
  ProgressOptions progress;
  progress.mode = ProgressMode::kLines;
  progress.out = log;
  ASSERT_OK_AND_ASSIGN(auto m, IntentModel::Train(d.set, o, d.groups, &progress));
  // The calibrator saw about a fifth of the groups.
  EXPECT_GT(m->oof_probabilities().size(), 500u);
  EXPECT_LT(m->oof_probabilities().size(), 700u);
  EXPECT_EQ(m->oof_labels().size(), m->oof_probabilities().size());
  EXPECT_EQ(m->calibrator().kind(), CalibrationKind::kPlatt);
  Synthetic t = MakeData(3000, 5);
  std::vector<double> p;
  ASSERT_OK(m->PredictBatch(t.set.x, &p));
  EXPECT_GT(Auc(p, Labels(t.set)), 0.75);
  EXPECT_LT(Ece(p, Labels(t.set)), 0.05);
  std::rewind(log);
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof buf, log) != nullptr) text += buf;
  std::fclose(log);
  EXPECT_NE(text.find("intent model: holdout 1/1"), std::string::npos) << text;
  EXPECT_NE(text.find("calibration platt"), std::string::npos) << text;
}

TEST(IntentModelTrainTest, FewPositivesReduceTheFolds) {
  Synthetic d = MakeData(400, 6, -1.0);
  // Keep exactly 6 positives.
  int kept = 0;
  for (float& y : d.set.label) {
    if (y == 1.0f && ++kept > 6) y = 0.0f;
  }
  ASSERT_EQ(kept > 6 ? 6 : kept, 6);
  IntentModelOptions o = FastOptions();
  std::FILE* log = std::tmpfile();
  ASSERT_NE(log, nullptr);
  ProgressOptions progress;
  progress.mode = ProgressMode::kLines;
  progress.out = log;
  ASSERT_OK_AND_ASSIGN(auto m, IntentModel::Train(d.set, o, {}, &progress));
  EXPECT_EQ(m->oof_probabilities().size(), d.set.rows());
  std::rewind(log);
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof buf, log) != nullptr) text += buf;
  std::fclose(log);
  EXPECT_NE(text.find("using 3 folds instead of 5"), std::string::npos) << text;
  EXPECT_NE(text.find("fold 3/3"), std::string::npos) << text;
  EXPECT_EQ(text.find("fold 4/"), std::string::npos) << text;

  // Three positives are too few.
  kept = 0;
  for (float& y : d.set.label) {
    if (y == 1.0f && ++kept > 3) y = 0.0f;
  }
  auto r = IntentModel::Train(d.set, o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("only 3 rows positive"), std::string::npos)
      << r.status().message();
}

TEST(IntentModelTrainTest, RejectsBadInput) {
  Synthetic d = MakeData(200, 8);
  const IntentModelOptions o = FastOptions();
  auto expect_invalid = [](const StatusOr<std::unique_ptr<IntentModel>>& r,
                           const std::string& needle) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  };
  {  // single class
    TrainingSet s = d.set;
    std::fill(s.label.begin(), s.label.end(), 0.0f);
    expect_invalid(IntentModel::Train(s, o), "needs both classes");
  }
  {  // shape mismatch
    TrainingSet s = d.set;
    s.x.pop_back();
    expect_invalid(IntentModel::Train(s, o), "values for 200 rows x 4 features");
  }
  {  // NaN label
    TrainingSet s = d.set;
    s.label[17] = std::nanf("");
    expect_invalid(IntentModel::Train(s, o), "label");
  }
  {  // label not 0/1
    TrainingSet s = d.set;
    s.label[5] = 2.0f;
    expect_invalid(IntentModel::Train(s, o), "label 2 at row 5");
  }
  {  // groups of the wrong length
    std::vector<int64_t> g(d.groups.begin(), d.groups.end() - 1);
    expect_invalid(IntentModel::Train(d.set, o, g), "199 groups for 200 rows");
  }
  {  // empty
    TrainingSet s;
    s.feature_names = d.set.feature_names;
    expect_invalid(IntentModel::Train(s, o), "empty");
  }
  {  // options
    IntentModelOptions bad = o;
    bad.gbdt.objective = "rank:pairwise";
    expect_invalid(IntentModel::Train(d.set, bad), "binary:logistic");
    bad = o;
    bad.folds = -1;
    expect_invalid(IntentModel::Train(d.set, bad), "folds");
  }
}

}  // namespace
}  // namespace souk::rank
