#include "eval/metrics.h"

#include <cmath>
#include <random>
#include <vector>

#include "common/testing.h"

namespace souk::eval {
namespace {

constexpr double kTol = 1e-9;

// log2 values used below: log2(3) = 1.5849625007, log2(5) = 2.3219280949,
// log2(6) = 2.5849625007.

TEST(GainTest, ProtocolAGain) {
  // g(r) = 2^(r-1) - 1: g(1) = 0, g(2) = 1, g(3) = 3, g(2.33) = 2^1.33 - 1.
  EXPECT_DOUBLE_EQ(ExponentialGainMinusOne(1), 0.0);
  EXPECT_DOUBLE_EQ(ExponentialGainMinusOne(2), 1.0);
  EXPECT_DOUBLE_EQ(ExponentialGainMinusOne(3), 3.0);
  EXPECT_NEAR(ExponentialGainMinusOne(2.33), std::pow(2.0, 1.33) - 1.0, kTol);
  EXPECT_DOUBLE_EQ(ExponentialGain(2), 3.0);
  EXPECT_DOUBLE_EQ(LinearGain(2.5), 2.5);
}

TEST(NdcgTest, FiveItemRankingWithGradedGains) {
  // Judged: A=3, B=2, C=2, D=1, E=3 (E never retrieved). Ranking: A, D, B, X (unjudged), C.
  // Gains g(r)=2^(r-1)-1: A=3, D=0, B=1, X=0, C=1.
  // DCG@5  = 3/log2(2) + 0/log2(3) + 1/log2(4) + 0/log2(5) + 1/log2(6)
  //        = 3 + 0 + 0.5 + 0 + 0.3868528 = 3.8868528
  // Ideal gains from ALL judged items, sorted: 3 (A), 3 (E), 1, 1, 0.
  // IDCG@5 = 3 + 3/1.5849625 + 1/2 + 1/2.3219281 + 0 = 3 + 1.8927893 + 0.5 + 0.4306766 = 5.8234658
  // NDCG@5 = 3.8868528 / 5.8234658 = 0.6674467
  const std::unordered_map<int64_t, double> judged = {{1, 3}, {2, 2}, {3, 2}, {4, 1}, {5, 3}};
  const std::vector<int64_t> ranked = {1, 4, 2, 99, 3};
  auto ndcg5 = NdcgAtKFromLabels(ranked, judged, 5, ExponentialGainMinusOne);
  ASSERT_TRUE(ndcg5.has_value());
  EXPECT_NEAR(*ndcg5, 0.667446659460885, 1e-9);
  // NDCG@3 = (3 + 0 + 0.5) / (3 + 1.8927893 + 0.5) = 3.5 / 5.3927893 = 0.6490148
  auto ndcg3 = NdcgAtKFromLabels(ranked, judged, 3, ExponentialGainMinusOne);
  ASSERT_TRUE(ndcg3.has_value());
  EXPECT_NEAR(*ndcg3, 0.649014791936513, 1e-9);
  // The gain-based form gives the same number.
  const std::vector<double> ranked_gains = {3, 0, 1, 0, 1};
  const std::vector<double> judged_gains = {3, 1, 1, 0, 3};
  EXPECT_NEAR(*NdcgAtK(ranked_gains, judged_gains, 5), *ndcg5, 1e-12);
}

TEST(NdcgTest, DcgDefinition) {
  const std::vector<double> gains = {1, 1, 1};
  // 1/log2(2) + 1/log2(3) + 1/log2(4) = 1 + 0.6309298 + 0.5
  EXPECT_NEAR(DcgAtK(gains, 3), 2.130929753571457, 1e-12);
  EXPECT_NEAR(DcgAtK(gains, 10), 2.130929753571457, 1e-12);  // k beyond the list
  EXPECT_EQ(DcgAtK(gains, 0), 0.0);
  EXPECT_EQ(DcgAtK({}, 5), 0.0);
}

TEST(NdcgTest, EdgeCases) {
  // Every judged item has r = 1 -> gain 0 -> ideal DCG 0 -> skipped.
  const std::unordered_map<int64_t, double> all_r1 = {{1, 1}, {2, 1}};
  EXPECT_FALSE(NdcgAtKFromLabels(std::vector<int64_t>{1, 2}, all_r1, 10, ExponentialGainMinusOne));
  // No judged items at all.
  EXPECT_FALSE(NdcgAtKFromLabels(std::vector<int64_t>{1}, {}, 10, ExponentialGainMinusOne));
  // Empty ranking with judged items: defined and 0.
  const std::unordered_map<int64_t, double> judged = {{1, 3}};
  auto empty = NdcgAtKFromLabels({}, judged, 10, ExponentialGainMinusOne);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, 0.0);
  // k <= 0.
  EXPECT_FALSE(NdcgAtKFromLabels(std::vector<int64_t>{1}, judged, 0, ExponentialGainMinusOne));
  // All-equal gains: any order of the judged items is ideal.
  EXPECT_NEAR(*NdcgAtK(std::vector<double>{2, 2, 2}, std::vector<double>{2, 2, 2}, 3), 1.0, kTol);
}

TEST(NdcgTest, PerfectRankingIsOne) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> label(1, 3);
  for (int trial = 0; trial < 20; ++trial) {
    std::unordered_map<int64_t, double> judged;
    std::vector<std::pair<double, int64_t>> by_label;
    for (int64_t id = 0; id < 15; ++id) {
      judged[id] = label(rng);
      by_label.emplace_back(judged[id], id);
    }
    std::sort(by_label.begin(), by_label.end(), std::greater<>());
    std::vector<int64_t> perfect;
    for (const auto& [l, id] : by_label) perfect.push_back(id);
    for (int k : {1, 5, 10, 15, 100}) {
      auto v = NdcgAtKFromLabels(perfect, judged, k, ExponentialGainMinusOne);
      if (!v) continue;  // all labels in the top k were 1
      EXPECT_NEAR(*v, 1.0, 1e-12) << "trial " << trial << " k " << k;
    }
    // Reversing the perfect ranking can only lower NDCG@5.
    std::vector<int64_t> reversed(perfect.rbegin(), perfect.rend());
    auto worse = NdcgAtKFromLabels(reversed, judged, 5, ExponentialGainMinusOne);
    if (worse) EXPECT_LE(*worse, 1.0);
  }
}

TEST(NdcgTest, SingleTarget) {
  EXPECT_DOUBLE_EQ(SingleTargetNdcgAtK(1, 10), 1.0);
  EXPECT_NEAR(SingleTargetNdcgAtK(2, 10), 1.0 / std::log2(3.0), kTol);  // 0.6309298
  EXPECT_NEAR(SingleTargetNdcgAtK(10, 10), 1.0 / std::log2(11.0), kTol);
  EXPECT_EQ(SingleTargetNdcgAtK(11, 10), 0.0);
  EXPECT_EQ(SingleTargetNdcgAtK(0, 10), 0.0);
  EXPECT_EQ(SingleTargetHitAtK(10, 10), 1.0);
  EXPECT_EQ(SingleTargetHitAtK(11, 10), 0.0);
}

TEST(RankingMetricsTest, HandComputed) {
  const std::vector<int64_t> ranked = {10, 20, 30, 40, 50};
  const std::unordered_set<int64_t> relevant = {20, 50, 60};
  // Recall@3: {20} of 3 relevant = 1/3. Recall@5: {20, 50} = 2/3.
  EXPECT_NEAR(*RecallAtK(ranked, relevant, 3), 1.0 / 3.0, kTol);
  EXPECT_NEAR(*RecallAtK(ranked, relevant, 5), 2.0 / 3.0, kTol);
  EXPECT_NEAR(*RecallAtK(ranked, relevant, 100), 2.0 / 3.0, kTol);
  // HitRate@1: 10 is not relevant -> 0; @2: 20 is -> 1.
  EXPECT_EQ(*HitRateAtK(ranked, relevant, 1), 0.0);
  EXPECT_EQ(*HitRateAtK(ranked, relevant, 2), 1.0);
  // Precision@5 = 2/5; Precision@10 = 2/10 (denominator k even past the list).
  EXPECT_NEAR(*PrecisionAtK(ranked, relevant, 5), 0.4, kTol);
  EXPECT_NEAR(*PrecisionAtK(ranked, relevant, 10), 0.2, kTol);
  // First relevant at rank 2 -> RR = 1/2; within the top 1 -> 0.
  EXPECT_NEAR(*ReciprocalRank(ranked, relevant), 0.5, kTol);
  EXPECT_EQ(*ReciprocalRank(ranked, relevant, 1), 0.0);
}

TEST(RankingMetricsTest, EdgeCases) {
  const std::vector<int64_t> ranked = {1, 2};
  const std::unordered_set<int64_t> none;
  EXPECT_FALSE(RecallAtK(ranked, none, 5));
  EXPECT_FALSE(HitRateAtK(ranked, none, 5));
  EXPECT_FALSE(ReciprocalRank(ranked, none));
  EXPECT_EQ(*PrecisionAtK(ranked, none, 5), 0.0);
  EXPECT_FALSE(PrecisionAtK(ranked, none, 0));
  // Empty ranking.
  const std::unordered_set<int64_t> rel = {1};
  EXPECT_EQ(*RecallAtK({}, rel, 5), 0.0);
  EXPECT_EQ(*ReciprocalRank({}, rel), 0.0);
  // A duplicated relevant id counts once for recall.
  EXPECT_EQ(*RecallAtK(std::vector<int64_t>{1, 1}, std::unordered_set<int64_t>{1, 2}, 2), 0.5);
}

TEST(RocAucTest, SmallSetWithTies) {
  // Positives score {0.9, 0.8, 0.5}, negatives {0.8, 0.7, 0.5}.
  // Pairs (pos beats neg = 1, tie = 1/2):
  //   0.9: 1 + 1 + 1 = 3;  0.8: 0.5 + 1 + 1 = 2.5;  0.5: 0 + 0 + 0.5 = 0.5  -> 6 / 9.
  // Via ranks: ascending 0.5,0.5 -> 1.5; 0.7 -> 3; 0.8,0.8 -> 4.5; 0.9 -> 6;
  //   R_pos = 6 + 4.5 + 1.5 = 12; U = 12 - 3*4/2 = 6; AUC = 6/9.
  const std::vector<double> scores = {0.9, 0.8, 0.8, 0.7, 0.5, 0.5};
  const std::vector<int> labels = {1, 1, 0, 0, 1, 0};
  auto auc = RocAuc(scores, labels);
  ASSERT_OK(auc);
  EXPECT_NEAR(*auc, 6.0 / 9.0, kTol);
}

TEST(RocAucTest, AllEqualScoresIsHalf) {
  const std::vector<double> scores = {0.3, 0.3, 0.3, 0.3};
  const std::vector<int> labels = {1, 0, 0, 1};
  EXPECT_NEAR(*RocAuc(scores, labels), 0.5, kTol);
}

TEST(RocAucTest, PropertiesOnRandomDataWithTies) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> score(0, 9);  // few values -> many ties
  std::bernoulli_distribution label(0.3);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> s, neg;
    std::vector<int> y;
    for (int i = 0; i < 60; ++i) {
      s.push_back(score(rng));
      neg.push_back(-s.back());
      y.push_back(label(rng) ? 1 : 0);
    }
    auto auc = RocAuc(s, y);
    if (!auc.ok()) continue;  // a single class in this draw
    // Reversed scores give 1 - AUC.
    EXPECT_NEAR(*RocAuc(neg, y), 1.0 - *auc, 1e-12);
    // Brute force over pairs.
    double wins = 0, pairs = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      for (size_t j = 0; j < s.size(); ++j) {
        if (y[i] == 1 && y[j] == 0) {
          wins += s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
          pairs += 1;
        }
      }
    }
    EXPECT_NEAR(*auc, wins / pairs, 1e-12);
  }
  // Perfect separation.
  EXPECT_NEAR(*RocAuc(std::vector<double>{3, 2, 1}, std::vector<int>{1, 1, 0}), 1.0, kTol);
}

TEST(RocAucTest, Errors) {
  EXPECT_EQ(RocAuc(std::vector<double>{1, 2}, std::vector<int>{1, 1}).status().code(),
            StatusCode::kFailedPrecondition);  // no negatives
  EXPECT_EQ(RocAuc(std::vector<double>{1, 2}, std::vector<int>{0, 0}).status().code(),
            StatusCode::kFailedPrecondition);  // no positives
  EXPECT_EQ(RocAuc({}, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RocAuc(std::vector<double>{1}, std::vector<int>{1, 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(RocAuc(std::vector<double>{1, 2}, std::vector<int>{1, 2}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(RocAuc(std::vector<double>{1, NAN}, std::vector<int>{1, 0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(AveragePrecisionTest, HandComputed) {
  // Labels in score order [1, 0, 1, 0, 1]: precision at each positive 1/1, 2/3, 3/5;
  // each adds recall 1/3: AP = (1 + 0.6666667 + 0.6) / 3 = 0.7555556.
  const std::vector<double> scores = {5, 4, 3, 2, 1};
  const std::vector<int> labels = {1, 0, 1, 0, 1};
  EXPECT_NEAR(*AveragePrecision(scores, labels), 0.7555555555555555, kTol);
}

TEST(AveragePrecisionTest, TiesFormOneThreshold) {
  // Thresholds: 0.9 -> TP 1, seen 1: R 0.5, P 1 -> +0.5 * 1
  //             0.8 (two tied items) -> TP 2, seen 3: R 1, P 2/3 -> +0.5 * 2/3
  //             0.1 -> recall unchanged -> +0.     AP = 0.5 + 0.3333333 = 0.8333333.
  const std::vector<double> scores = {0.9, 0.8, 0.8, 0.1};
  const std::vector<int> labels = {1, 0, 1, 0};
  EXPECT_NEAR(*AveragePrecision(scores, labels), 0.5 + 1.0 / 3.0, kTol);
  // The order of tied items does not matter.
  const std::vector<int> swapped = {1, 1, 0, 0};
  const std::vector<double> scores2 = {0.9, 0.8, 0.8, 0.1};
  EXPECT_NEAR(*AveragePrecision(scores2, swapped), 0.5 + 1.0 / 3.0, kTol);
  // All equal scores: one threshold, AP = base rate.
  EXPECT_NEAR(*AveragePrecision(std::vector<double>{1, 1, 1, 1}, std::vector<int>{1, 0, 0, 0}),
              0.25, kTol);
  EXPECT_EQ(AveragePrecision(std::vector<double>{1, 2}, std::vector<int>{0, 0}).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(LogLossTest, HandComputedWithClipping) {
  // -ln(0.9) = 0.1053605, -ln(1 - 0.2) = 0.2231436, p = 0 clipped to 1e-15: -ln(1e-15) = 34.5387764
  // mean = 34.8672805 / 3 = 11.6224268
  const std::vector<double> p = {0.9, 0.2, 0.0};
  const std::vector<int> y = {1, 0, 1};
  EXPECT_NEAR(*LogLoss(p, y), 11.622426820627574, 1e-9);
  EXPECT_NEAR(*LogLoss(std::vector<double>{1.0, 0.0}, std::vector<int>{1, 0}), 1e-15, 1e-15);
  EXPECT_EQ(LogLoss(std::vector<double>{1.5}, std::vector<int>{1}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(RmseTest, HandComputed) {
  // Errors 0, 1, 2 -> squares 0, 1, 4 -> mean 5/3 -> sqrt = 1.2909944.
  EXPECT_NEAR(*Rmse(std::vector<double>{1, 2, 3}, std::vector<double>{1, 3, 5}), 1.2909944487358056,
              kTol);
  EXPECT_EQ(*Rmse(std::vector<double>{2}, std::vector<double>{2}), 0.0);
  EXPECT_EQ(Rmse({}, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(CalibrationTest, HandComputedTenBins) {
  // Bin 0 [0, .1): {0.05 / y0}      mean .05,  rate 0    -> |.05|  * 1/5 = 0.010
  // Bin 1 [.1, .2): {0.15/y1, 0.12/y0} mean .135, rate .5 -> |.365| * 2/5 = 0.146
  // Bin 9 [.9, 1]: {0.95/y1, 1.0/y1} mean .975, rate 1    -> |.025| * 2/5 = 0.010
  // ECE = 0.166
  const std::vector<double> p = {0.05, 0.15, 0.12, 0.95, 1.0};
  const std::vector<int> y = {0, 1, 0, 1, 1};
  auto report = ExpectedCalibrationError(p, y);
  ASSERT_OK(report);
  EXPECT_NEAR(report->expected_calibration_error, 0.166, 1e-12);
  ASSERT_EQ(report->bins.size(), 10u);
  EXPECT_EQ(report->bins[1].count, 2);
  EXPECT_NEAR(report->bins[1].mean_prediction, 0.135, 1e-12);
  EXPECT_NEAR(report->bins[1].observed_rate, 0.5, 1e-12);
  EXPECT_EQ(report->bins[9].count, 2);  // p = 1.0 falls into the last bin
  EXPECT_EQ(report->bins[5].count, 0);
  EXPECT_NEAR(report->bins[5].lower, 0.5, 1e-12);
  EXPECT_NEAR(report->bins[5].upper, 0.6, 1e-12);
  // Perfect calibration in one bin.
  auto perfect = ExpectedCalibrationError(std::vector<double>{0.5, 0.5}, std::vector<int>{1, 0}, 2);
  EXPECT_NEAR(perfect->expected_calibration_error, 0.0, 1e-12);
  EXPECT_EQ(ExpectedCalibrationError(p, y, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(BeyondAccuracyTest, Coverage) {
  const std::vector<std::vector<int64_t>> lists = {{1, 2}, {2, 3}};
  EXPECT_NEAR(*CatalogCoverage(lists, 10), 0.3, kTol);  // {1, 2, 3} of 10
  EXPECT_FALSE(CatalogCoverage(lists, 0));
  EXPECT_EQ(*CatalogCoverage({}, 10), 0.0);
}

TEST(BeyondAccuracyTest, IntraListDiversity) {
  // |1-2| = 1, |1-4| = 3, |2-4| = 2 -> mean of 3 pairs = 2.
  const std::vector<int64_t> list = {1, 2, 4};
  auto d = IntraListDiversity(list, [](int64_t a, int64_t b) { return std::abs(double(a - b)); });
  EXPECT_NEAR(*d, 2.0, kTol);
  // Categories a, a, b: pairs (a,a)=0, (a,b)=1, (a,b)=1 -> 2/3.
  const std::vector<std::string> cats = {"a", "a", "b"};
  EXPECT_NEAR(*IntraListDiversity(cats), 2.0 / 3.0, kTol);
  EXPECT_FALSE(IntraListDiversity(std::vector<std::string>{"a"}));
  EXPECT_FALSE(IntraListDiversity(std::vector<int64_t>{}, [](int64_t, int64_t) { return 1.0; }));
}

TEST(BeyondAccuracyTest, Novelty) {
  // Total 16 interactions; item 1 has 8 (share 1/2 -> 1 bit), item 2 has 2 (1/8 -> 3 bits),
  // item 3 unseen (counted as 1: 1/16 -> 4 bits).
  // List [1, 2] -> mean 2; list [3] -> 4; empty list skipped -> mean over lists 3.
  const std::unordered_map<int64_t, int64_t> pop = {{1, 8}, {2, 2}};
  const std::vector<std::vector<int64_t>> lists = {{1, 2}, {3}, {}};
  EXPECT_NEAR(*Novelty(lists, pop, 16), 3.0, kTol);
  EXPECT_FALSE(Novelty(lists, pop, 0));
  EXPECT_FALSE(Novelty(std::vector<std::vector<int64_t>>{{}}, pop, 16));
}

TEST(MeanAccumulatorTest, SkipsUndefined) {
  MeanAccumulator m;
  EXPECT_EQ(m.Mean(), 0.0);
  m.Add(std::optional<double>(1.0));
  m.Add(std::nullopt);
  m.Add(0.5);
  EXPECT_DOUBLE_EQ(m.Mean(), 0.75);
  EXPECT_EQ(m.count(), 2);
  EXPECT_EQ(m.skipped(), 1);
}

}  // namespace
}  // namespace souk::eval
