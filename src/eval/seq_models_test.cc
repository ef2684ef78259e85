#include "eval/seq_models.h"

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "common/testing.h"

namespace souk::eval {
namespace {

recommend::SasRecOptions Small() {
  recommend::SasRecOptions o;
  o.loss = "ce";
  o.max_len = 10;
  o.hidden = 32;
  o.heads = 2;
  o.dropout = 0.1f;
  o.epochs = 30;
  o.batch_size = 32;
  o.lr = 5e-3f;
  o.patience = 5;
  o.threads = 1;
  return o;
}

ProgressOptions Quiet() {
  ProgressOptions p;
  p.mode = ProgressMode::kOff;
  return p;
}

// 150 users, item ids 100..119, each line a run of consecutive items (mod 20).
SequenceDataset SuccessorDataset() {
  std::string text;
  for (int u = 0; u < 150; ++u) {
    text += std::to_string(u);
    const int start = (u * 7) % 20;
    for (int i = 0; i < 9; ++i) text += " " + std::to_string(100 + (start + i) % 20);
    text += "\n";
  }
  auto data = ParseSequenceText(text, "synthetic");
  EXPECT_TRUE(data.ok());
  return std::move(data).value();
}

TEST(SasRecScorerTest, LearnsTheProtocolBTestTargets) {
  const SequenceDataset data = SuccessorDataset();
  const auto train = LeaveOneOutTrainParts(data);
  const auto valid = LeaveOneOutValidTargets(data);
  SasRecScorer scorer(Small(), Quiet());
  EXPECT_EQ(scorer.Name(), "sasrec");
  scorer.SetValidationTargets(valid);
  ASSERT_OK(scorer.Fit(train, data.num_items()));
  EXPECT_GE(scorer.report().best_epoch, 1);
  EXPECT_GT(scorer.report().best_valid_ndcg10, 0.5);
  const auto test = EvaluateSequential(data, scorer, LeaveOneOutTarget::kTest, Quiet());
  EXPECT_GT(test.at("ndcg@10"), 0.7);
  EXPECT_EQ(test.at("n_users"), 150);
  PopularityScorer popularity;
  ASSERT_OK(popularity.Fit(train, data.num_items()));
  const auto pop = EvaluateSequential(data, popularity, LeaveOneOutTarget::kTest, Quiet());
  EXPECT_GT(test.at("ndcg@10"), pop.at("ndcg@10") + 0.3);
}

TEST(SasRecScorerTest, MismatchedValidationTargetsAreRejected) {
  const SequenceDataset data = SuccessorDataset();
  const auto train = LeaveOneOutTrainParts(data);
  SasRecScorer scorer(Small(), Quiet());
  std::vector<int32_t> too_few = {1, 2};
  scorer.SetValidationTargets(too_few);
  EXPECT_EQ(scorer.Fit(train, data.num_items()).code(), StatusCode::kInvalidArgument);
  std::vector<float> scores(data.num_items(), 1.0f);
  scorer.ScoreAll(train[0], scores);  // unfitted: zeros, no crash
  EXPECT_EQ(*std::max_element(scores.begin(), scores.end()), 0.0f);
}

TEST(SasRecScorerTest, AddSequenceModelsRegistersSasRec) {
  AmazonSeqProtocol protocol;
  ASSERT_OK(AddSequenceModels(protocol));
  const auto names = protocol.ModelNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "sasrec"), names.end());
  EXPECT_EQ(AddSequenceModels(protocol).code(), StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace souk::eval
