#include "eval/sequential.h"

#include <cmath>
#include <fstream>

#include "common/testing.h"

namespace souk::eval {
namespace {

// Six users, items 1..23 (dense index = id - 1 since every id 1..23 occurs).
//   user: train part          | valid | test
//   1:    1 2 3               | 4     | 5
//   2:    2                   | 3     | 4
//   3:    3                   | 1     | 6
//   4:    (none)              | 7     | 2
//   5:    (none)              | -     | 5      (one item: test target only)
//   6:    8 9 ... 21          | 22    | 23
// Popularity on the train parts: 2 -> 2, 3 -> 2, 1 -> 1, 8..21 -> 1, others 0.
// Full order (score desc, ties by id): 2, 3, 1, 8, 9, ..., 21, 4, 5, 6, 7, 22, 23.
constexpr char kTinyFile[] =
    "1 1 2 3 4 5\n"
    "2 2 3 4\n"
    "3 3 1 6\n"
    "4 7 2\n"
    "5 5\n"
    "\n"
    "6 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23\n";

double Inv(double rank) { return 1.0 / std::log2(rank + 1.0); }

std::string WriteTiny(const std::string& name) {
  const auto dir = souk::testing::TempDir("eval_seq");
  const auto path = dir / name;
  std::ofstream(path) << kTinyFile;
  return path.string();
}

TEST(SequenceFileTest, ParsesAndMapsItems) {
  auto data = ParseSequenceText(kTinyFile, "tiny");
  ASSERT_OK(data);
  EXPECT_EQ(data->user_ids, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(data->num_items(), 23);
  EXPECT_EQ(data->item_ids.front(), 1);
  EXPECT_EQ(data->item_ids.back(), 23);
  EXPECT_EQ(data->sequences[3], (std::vector<int32_t>{6, 1}));  // items 7, 2
}

TEST(SequenceFileTest, ItemsAreDenseInIdOrder) {
  auto data = ParseSequenceText("1 100 7\n2 7 50\n", "x");
  ASSERT_OK(data);
  EXPECT_EQ(data->item_ids, (std::vector<int64_t>{7, 50, 100}));
  EXPECT_EQ(data->sequences[0], (std::vector<int32_t>{2, 0}));
  EXPECT_EQ(data->sequences[1], (std::vector<int32_t>{0, 1}));
}

TEST(SequenceFileTest, Errors) {
  auto bad = ParseSequenceText("1 2 3\n2 4 x5\n", "seq.txt");
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("seq.txt:2"), std::string::npos);
  EXPECT_NE(bad.status().message().find("x5"), std::string::npos);
  EXPECT_EQ(ParseSequenceText("1 -4\n", "s").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ReadSequenceFile("/nonexistent/seq.txt").status().code(), StatusCode::kNotFound);
}

TEST(RankOfTargetTest, RemovesHistoryKeepsTargetAndBreaksTiesById) {
  // Items 0..5 with scores; ties between 1 and 2 (and 4, 5).
  const std::vector<float> scores = {5, 3, 3, 9, 1, 1};
  std::vector<uint8_t> mask(scores.size(), 0);
  // Order: 3, 0, 1, 2, 4, 5.
  EXPECT_EQ(RankOfTarget(scores, 2, {}, mask), 4);
  EXPECT_EQ(RankOfTarget(scores, 1, {}, mask), 3);
  // History {3, 1} removed: order 0, 2, 4, 5.
  EXPECT_EQ(RankOfTarget(scores, 2, std::vector<int32_t>{3, 1}, mask), 2);
  // The target stays even when the user saw it before (repeat purchase).
  EXPECT_EQ(RankOfTarget(scores, 2, std::vector<int32_t>{2, 3}, mask), 3);
  // History {4}: order 3, 0, 1, 2, 5 -> item 5 is 5th.
  EXPECT_EQ(RankOfTarget(scores, 5, std::vector<int32_t>{4}, mask), 5);
  for (uint8_t m : mask) EXPECT_EQ(m, 0);  // scratch restored
}

TEST(EvaluateSequentialTest, PopularityOnTinyFileByHand) {
  auto data = ParseSequenceText(kTinyFile, "tiny");
  ASSERT_OK(data);
  PopularityScorer pop;
  ASSERT_OK(pop.Fit(LeaveOneOutTrainParts(*data), data->num_items()));
  ProgressOptions quiet;
  quiet.mode = ProgressMode::kOff;

  // Test targets (history = all earlier items removed, target kept):
  //   u1 target 5, history {1,2,3,4}: ahead 8..21 (14)          -> rank 15
  //   u2 target 4, history {2,3}:     ahead 1, 8..21 (15)        -> rank 16
  //   u3 target 6, history {3,1}:     ahead 2, 8..21, 4, 5 (17)  -> rank 18
  //   u4 target 2, history {7}:                                  -> rank 1
  //   u5 target 5, history {}:        ahead 2,3,1,8..21,4 (18)   -> rank 19
  //   u6 target 23, history 8..22:    ahead 2,3,1,4,5,6,7 (7)    -> rank 8
  // HR@10 = 2/6; NDCG@10 = (1 + 1/log2 9) / 6 = 0.2192441
  // HR@20 = 6/6; NDCG@20 = (1/log2 16 + 1/log2 17 + 1/log2 19 + 1 + 1/log2 20 + 1/log2 9) / 6
  //                      = 0.3794838
  auto test = EvaluateSequential(*data, pop, LeaveOneOutTarget::kTest, quiet);
  EXPECT_EQ(test["n_users"], 6);
  EXPECT_NEAR(test["hr@10"], 2.0 / 6.0, 1e-12);
  EXPECT_NEAR(test["ndcg@10"], (1 + Inv(8)) / 6, 1e-12);
  EXPECT_NEAR(test["ndcg@10"], 0.2192441461309548, 1e-9);
  EXPECT_NEAR(test["hr@20"], 1.0, 1e-12);
  EXPECT_NEAR(test["ndcg@20"], (Inv(15) + Inv(16) + Inv(18) + 1 + Inv(19) + Inv(8)) / 6, 1e-12);
  EXPECT_NEAR(test["ndcg@20"], 0.37948375757172537, 1e-9);

  // Validation targets (history = train part; user 5 has none):
  //   u1 target 4, history {1,2,3}: ahead 8..21      -> rank 15
  //   u2 target 3, history {2}:                       -> rank 1
  //   u3 target 1, history {3}:     ahead 2           -> rank 2
  //   u4 target 7, history {}:      ahead 20 items    -> rank 21 (miss at 20)
  //   u6 target 22, history 8..21:  ahead 2,3,1,4..7  -> rank 8
  // HR@10 = 3/5, NDCG@10 = (1 + 1/log2 3 + 1/log2 9) / 5 = 0.3892789
  // HR@20 = 4/5, NDCG@20 = NDCG@10 + (1/log2 16)/5 = 0.4392789
  auto valid = EvaluateSequential(*data, pop, LeaveOneOutTarget::kValid, quiet);
  EXPECT_EQ(valid["n_users"], 5);
  EXPECT_NEAR(valid["hr@10"], 0.6, 1e-12);
  EXPECT_NEAR(valid["ndcg@10"], 0.3892789260714372, 1e-9);
  EXPECT_NEAR(valid["hr@20"], 0.8, 1e-12);
  EXPECT_NEAR(valid["ndcg@20"], 0.43927892607143726, 1e-9);
}

// Prefers low item ids: score = -dense index.
class LowIdFirst final : public SequenceScorer {
 public:
  std::string Name() const override { return "low-id"; }
  Status Fit(std::span<const std::vector<int32_t>> train, int32_t num_items) override {
    fitted_ = true;
    return OkStatus();
  }
  void ScoreAll(std::span<const int32_t> history, std::span<float> scores) const override {
    for (size_t i = 0; i < scores.size(); ++i) scores[i] = -static_cast<float>(i);
  }
  bool fitted_ = false;
};

TEST(AmazonSeqProtocolTest, RunsPopularityThroughTheFrame) {
  AmazonSeqProtocol protocol;
  EvalContext ctx;
  ctx.progress.mode = ProgressMode::kOff;
  ctx.inputs.data = {WriteTiny("tiny-seq.txt")};
  auto report = RunProtocol(protocol, ctx);
  ASSERT_OK(report);
  EXPECT_EQ(report->protocol, "amazon-seq");
  EXPECT_EQ(report->dataset, "tiny-seq");
  EXPECT_NEAR(report->metrics.at("ndcg@10"), 0.2192441461309548, 1e-9);
  EXPECT_EQ(report->metrics.at("n_users"), 6);
  EXPECT_EQ(report->metrics, report->ablations.at("popularity"));
  EXPECT_NEAR(report->ablations.at("popularity_valid").at("hr@20"), 0.8, 1e-12);
  for (const char* key : {"hr@10", "ndcg@10", "hr@20", "ndcg@20", "n_users"}) {
    EXPECT_TRUE(report->metrics.count(key)) << key;
  }
}

TEST(AmazonSeqProtocolTest, ModelVariantPlugsIn) {
  AmazonSeqProtocol protocol;
  ASSERT_OK(protocol.AddModel("low-id", [] { return std::make_unique<LowIdFirst>(); }));
  EXPECT_EQ(protocol.AddModel("low-id", [] { return std::make_unique<LowIdFirst>(); }).code(),
            StatusCode::kAlreadyExists);
  protocol.set_model("low-id");
  EvalContext ctx;
  ctx.progress.mode = ProgressMode::kOff;
  ctx.inputs.data = {WriteTiny("tiny.txt")};
  auto report = RunProtocol(protocol, ctx);
  ASSERT_OK(report);
  // Order by id with history removed: test ranks u1..u6 = 1, 2, 4, 2, 5, 8 (all <= 10).
  EXPECT_NEAR(report->metrics.at("hr@10"), 1.0, 1e-12);
  EXPECT_NEAR(report->metrics.at("ndcg@10"), (1 + Inv(2) + Inv(4) + Inv(2) + Inv(5) + Inv(8)) / 6,
              1e-12);
  EXPECT_TRUE(report->ablations.count("low-id_valid"));
  EXPECT_NEAR(report->ablations.at("popularity").at("ndcg@10"), 0.2192441461309548, 1e-9);
}

TEST(AmazonSeqProtocolTest, InputErrorsNameFlagAndPath) {
  AmazonSeqProtocol protocol;
  EvalContext ctx;
  ctx.progress.mode = ProgressMode::kOff;
  auto none = protocol.Run(ctx);
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("--data"), std::string::npos);

  ctx.inputs.data = {"/nonexistent/Beauty.txt"};
  auto missing = protocol.Run(ctx);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("--data"), std::string::npos);
  EXPECT_NE(missing.status().message().find("/nonexistent/Beauty.txt"), std::string::npos);

  ctx.inputs.data = {WriteTiny("t.txt")};
  protocol.set_model("sasrec-not-built");
  auto unknown = protocol.Run(ctx);
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("popularity"), std::string::npos);
}

TEST(AmazonSeqProtocolTest, BeautyPopularityMatchesPublishedProtocolNumber) {
  SOUK_REQUIRE_DATA(path, "amazon-beauty/Beauty.txt");
  AmazonSeqProtocol protocol;
  EvalContext ctx;
  ctx.progress.mode = ProgressMode::kOff;
  ctx.inputs.data = {path.string()};
  auto report = RunProtocol(protocol, ctx);
  ASSERT_OK(report);
  EXPECT_EQ(report->dataset, "Beauty");
  EXPECT_EQ(report->metrics.at("n_users"), 22363);
  const double ndcg10 = report->metrics.at("ndcg@10");
  // EVAL.md: popularity NDCG@10 under exactly this protocol is 0.0055.
  EXPECT_GT(ndcg10, 0.004);
  EXPECT_LT(ndcg10, 0.007);
  EXPECT_GE(report->metrics.at("hr@20"), report->metrics.at("hr@10"));
  EXPECT_GE(report->metrics.at("ndcg@20"), ndcg10);
  std::printf(
      "Beauty popularity: hr@10 %.6f ndcg@10 %.6f hr@20 %.6f ndcg@20 %.6f (valid ndcg@10 %.6f)\n",
      report->metrics.at("hr@10"), ndcg10, report->metrics.at("hr@20"),
      report->metrics.at("ndcg@20"), report->ablations.at("popularity_valid").at("ndcg@10"));
}

}  // namespace
}  // namespace souk::eval

namespace souk::eval {
namespace {

TEST(LeaveOneOutValidTargetsTest, SecondToLastOrMinusOne) {
  auto data = ParseSequenceText("1 10 11 12\n2 10\n3 11 12\n", "t");
  ASSERT_TRUE(data.ok());
  std::vector<int32_t> valid = LeaveOneOutValidTargets(*data);
  ASSERT_EQ(valid.size(), 3u);
  EXPECT_EQ(valid[0], 1);   // items 10,11,12 -> dense 0,1,2; valid = 11
  EXPECT_EQ(valid[1], -1);
  EXPECT_EQ(valid[2], 1);   // two items: valid = 11 (dense 1), test = 12, empty train part
}

}  // namespace
}  // namespace souk::eval
