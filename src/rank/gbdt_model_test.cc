#include "rank/gbdt_model.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/testing.h"

namespace souk::rank {
namespace {

// Queries of 20 candidates; the relevance grade is a noisy function of f0 and f1,
// f2 is noise. A ranker must learn to order by f0 + f1.
TrainingSet MakeRankingSet(int queries, uint64_t seed) {
  TrainingSet set;
  set.feature_names = {"f0", "f1", "noise"};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  for (int q = 0; q < queries; ++q) {
    for (int i = 0; i < 20; ++i) {
      const float f0 = u(rng), f1 = u(rng), f2 = u(rng);
      const float s = f0 + 0.5f * f1 + 0.1f * u(rng);
      const float grade = s > 1.1f ? 2 : s > 0.7f ? 1 : 0;
      set.AddRow({f0, f1, f2}, grade);
    }
    set.groups.push_back(20);
  }
  return set;
}

double MeanNdcg10(const GbdtModel& m, const TrainingSet& set) {
  std::vector<float> pred(set.rows());
  EXPECT_OK(m.Predict(set.x.data(), set.rows(), pred.data()));
  double total = 0;
  size_t row = 0;
  for (uint32_t g : set.groups) {
    std::vector<size_t> idx(g);
    for (size_t i = 0; i < g; ++i) idx[i] = row + i;
    auto dcg = [&](const std::vector<size_t>& order) {
      double d = 0;
      for (size_t r = 0; r < std::min<size_t>(10, order.size()); ++r) {
        d += (std::pow(2.0, set.label[order[r]]) - 1) / std::log2(r + 2.0);
      }
      return d;
    };
    std::vector<size_t> by_pred = idx, ideal = idx;
    std::sort(by_pred.begin(), by_pred.end(), [&](size_t a, size_t b) { return pred[a] > pred[b]; });
    std::sort(ideal.begin(), ideal.end(),
              [&](size_t a, size_t b) { return set.label[a] > set.label[b]; });
    const double id = dcg(ideal);
    total += id > 0 ? dcg(by_pred) / id : 1.0;
    row += g;
  }
  return total / set.groups.size();
}

TEST(GbdtModelTest, RankerLearnsTheRelevantFeatures) {
  const TrainingSet train = MakeRankingSet(200, 1), valid = MakeRankingSet(50, 2),
                    test = MakeRankingSet(100, 3);
  GbdtOptions o;
  o.rounds = 60;
  o.threads = 1;
  ASSERT_OK_AND_ASSIGN(auto model, GbdtModel::Train(train, &valid, o));
  EXPECT_GE(model->best_iteration(), 0);
  EXPECT_GT(MeanNdcg10(*model, test), 0.9);

  // The noise feature contributes far less than f0 on average.
  ASSERT_OK_AND_ASSIGN(std::vector<float> c, model->Contributions(test.x.data(), test.rows()));
  ASSERT_EQ(c.size(), test.rows() * 4);
  double abs0 = 0, abs2 = 0;
  for (size_t r = 0; r < test.rows(); ++r) {
    abs0 += std::abs(c[r * 4 + 0]);
    abs2 += std::abs(c[r * 4 + 2]);
  }
  EXPECT_GT(abs0, 5 * abs2);
}

TEST(GbdtModelTest, ContributionsSumToTheRegressionPrediction) {
  TrainingSet set;
  set.feature_names = {"a", "b"};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int i = 0; i < 500; ++i) {
    const float a = u(rng), b = u(rng);
    set.AddRow({a, b}, 2 * a - b * b);
  }
  GbdtOptions o;
  o.objective = "reg:squarederror";
  o.rounds = 200;
  o.early_stopping_rounds = 0;
  o.threads = 1;
  ASSERT_OK_AND_ASSIGN(auto model, GbdtModel::Train(set, nullptr, o));
  const std::vector<float> pred = model->Predict(set.x);
  ASSERT_OK_AND_ASSIGN(std::vector<float> c, model->Contributions(set.x.data(), 20));
  for (size_t r = 0; r < 20; ++r) {
    EXPECT_NEAR(c[r * 3] + c[r * 3 + 1] + c[r * 3 + 2], pred[r], 1e-4);
  }
  double se = 0;
  for (size_t r = 0; r < set.rows(); ++r) se += std::pow(pred[r] - set.label[r], 2);
  EXPECT_LT(std::sqrt(se / set.rows()), 0.2);
}

TEST(GbdtModelTest, SaveLoadRoundTripAndManifest) {
  const TrainingSet train = MakeRankingSet(50, 4);
  GbdtOptions o;
  o.rounds = 20;
  o.threads = 1;
  ASSERT_OK_AND_ASSIGN(auto model, GbdtModel::Train(train, nullptr, o));
  const std::string dir = (testing::TempDir("gbdt") / "m1").string();
  ASSERT_OK(model->Save(dir, {{"data_watermark", 42}}));
  ASSERT_OK_AND_ASSIGN(auto loaded, GbdtModel::Load(dir));
  EXPECT_EQ(loaded->feature_names(), model->feature_names());
  EXPECT_EQ(loaded->objective(), "rank:pairwise");
  EXPECT_EQ(loaded->Predict(train.x), model->Predict(train.x));
  std::ifstream mf(dir + "/manifest.json");
  const auto manifest = nlohmann::json::parse(mf);
  EXPECT_EQ(manifest["data_watermark"], 42);
  EXPECT_EQ(manifest["kind"], "gbdt");
}

TEST(GbdtModelTest, BadInputsAreClearErrors) {
  TrainingSet set = MakeRankingSet(3, 5);
  GbdtOptions o;
  o.objective = "rank:nonsense";
  EXPECT_EQ(GbdtModel::Train(set, nullptr, o).status().code(), StatusCode::kInvalidArgument);
  o.objective = "rank:pairwise";
  TrainingSet no_groups = set;
  no_groups.groups.clear();
  EXPECT_EQ(GbdtModel::Train(no_groups, nullptr, o).status().code(),
            StatusCode::kInvalidArgument);
  TrainingSet ragged = set;
  ragged.x.pop_back();
  EXPECT_EQ(GbdtModel::Train(ragged, nullptr, o).status().code(), StatusCode::kInvalidArgument);
  TrainingSet wrong_groups = set;
  wrong_groups.groups.back() += 1;
  EXPECT_EQ(GbdtModel::Train(wrong_groups, nullptr, o).status().code(),
            StatusCode::kInvalidArgument);

  const std::string dir = testing::TempDir("gbdt-bad").string();
  EXPECT_EQ(GbdtModel::Load(dir + "/absent").status().code(), StatusCode::kNotFound);
  std::filesystem::create_directories(dir + "/m");
  std::ofstream(dir + "/m/manifest.json") << "{not json";
  EXPECT_EQ(GbdtModel::Load(dir + "/m").status().code(), StatusCode::kDataLoss);
  ASSERT_OK_AND_ASSIGN(auto model, GbdtModel::Train(set, nullptr, o));
  ASSERT_OK(model->Save(dir + "/ok"));
  std::ofstream(dir + "/ok/model.json", std::ios::trunc) << "{\"truncated";
  EXPECT_EQ(GbdtModel::Load(dir + "/ok").status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace souk::rank
