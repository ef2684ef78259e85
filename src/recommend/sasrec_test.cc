#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/testing.h"
#include "recommend/sasrec_model.h"
#include "recommend/sasrec_source.h"
#include "recommend/sasrec_trainer.h"

namespace souk::recommend {
namespace {

using json = nlohmann::json;

constexpr int32_t kItems = 24;

// Sequences where item i is always followed by item (i+1) % kItems.
std::vector<std::vector<int32_t>> SuccessorSequences(int users, int length, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int32_t>> out;
  for (int u = 0; u < users; ++u) {
    const int32_t start = static_cast<int32_t>(rng() % kItems);
    std::vector<int32_t> seq;
    for (int i = 0; i < length; ++i) seq.push_back((start + i) % kItems);
    out.push_back(std::move(seq));
  }
  return out;
}

SasRecOptions SmallOptions() {
  SasRecOptions o;
  o.loss = "ce";
  o.max_len = 10;
  o.hidden = 32;
  o.blocks = 2;
  o.heads = 2;
  o.dropout = 0.1f;
  o.epochs = 30;
  o.batch_size = 32;
  o.lr = 5e-3f;
  o.patience = 0;
  o.threads = 1;
  return o;
}

ProgressOptions Quiet() {
  ProgressOptions p;
  p.mode = ProgressMode::kOff;
  return p;
}

int32_t ArgMax(const std::vector<float>& s) {
  return static_cast<int32_t>(std::max_element(s.begin(), s.end()) - s.begin());
}

// Fraction of random histories whose top-scored item is the successor.
double SuccessorAccuracy(const SasRecModel& model, uint64_t seed) {
  std::mt19937_64 rng(seed);
  int hits = 0;
  const int trials = 60;
  std::vector<float> scores(kItems);
  for (int t = 0; t < trials; ++t) {
    const int32_t start = static_cast<int32_t>(rng() % kItems);
    const int len = 1 + static_cast<int>(rng() % 7);
    std::vector<int32_t> history;
    for (int i = 0; i < len; ++i) history.push_back((start + i) % kItems);
    model.ScoreNext(history, scores);
    hits += ArgMax(scores) == (history.back() + 1) % kItems ? 1 : 0;
  }
  return static_cast<double>(hits) / trials;
}

std::unique_ptr<SasRecModel> TrainOrDie(const SasRecOptions& o,
                                        const std::vector<std::vector<int32_t>>& seqs,
                                        const SasRecValidation* valid = nullptr,
                                        const SasRecItemText* text = nullptr,
                                        SasRecTrainReport* report = nullptr) {
  auto model = SasRecModel::Train(seqs, kItems, o, valid, text, Quiet(), report);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? std::move(model).value() : nullptr;
}

TEST(SasRecModelTest, FullSoftmaxLearnsTheSuccessorPattern) {
  const auto seqs = SuccessorSequences(200, 8, 1);
  auto model = TrainOrDie(SmallOptions(), seqs);
  ASSERT_NE(model, nullptr);
  EXPECT_GE(SuccessorAccuracy(*model, 7), 0.9);
}

TEST(SasRecModelTest, SampledSoftmaxAndBceLearnThePatternToo) {
  const auto seqs = SuccessorSequences(200, 8, 2);
  SasRecOptions o = SmallOptions();
  o.loss = "sampled";
  o.negatives = 8;
  o.sampling = "popularity";
  auto sampled = TrainOrDie(o, seqs);
  ASSERT_NE(sampled, nullptr);
  EXPECT_GE(SuccessorAccuracy(*sampled, 8), 0.8);

  // One negative per position learns more slowly: far above chance (1/24)
  // after the same number of epochs is what is asked of it.
  o.loss = "bce";
  auto bce = TrainOrDie(o, seqs);
  ASSERT_NE(bce, nullptr);
  EXPECT_GE(SuccessorAccuracy(*bce, 9), 0.4);
}

TEST(SasRecModelTest, UntrainedModelDoesNotKnowThePattern) {
  // Guards the accuracy assertions above: one epoch at a tiny learning rate
  // must stay near chance (1/24).
  const auto seqs = SuccessorSequences(50, 8, 3);
  SasRecOptions o = SmallOptions();
  o.epochs = 1;
  o.lr = 1e-6f;
  auto model = TrainOrDie(o, seqs);
  ASSERT_NE(model, nullptr);
  EXPECT_LT(SuccessorAccuracy(*model, 10), 0.4);
}

TEST(SasRecModelTest, DeterministicGivenSeedOnOneThread) {
  const auto seqs = SuccessorSequences(80, 6, 4);
  SasRecOptions o = SmallOptions();
  o.epochs = 3;
  auto a = TrainOrDie(o, seqs);
  auto b = TrainOrDie(o, seqs);
  o.seed = 99;
  auto c = TrainOrDie(o, seqs);
  ASSERT_TRUE(a && b && c);
  std::vector<float> sa(kItems), sb(kItems), sc(kItems);
  const std::vector<int32_t> h = {3, 4, 5};
  a->ScoreNext(h, sa);
  b->ScoreNext(h, sb);
  c->ScoreNext(h, sc);
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(SasRecNetTest, CausalMaskingKeepsEarlierPositions) {
  torch::manual_seed(5);
  sasrec::NetConfig config;
  config.num_items = 30;
  config.max_len = 8;
  config.hidden = 16;
  config.heads = 2;
  sasrec::SasRecNet net(config);
  net->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor a = torch::tensor({{4, 9, 2, 17, 5, 11}}, torch::kLong);
  torch::Tensor b = a.clone();
  b[0][5] = 23;  // change only the last item
  torch::Tensor ha = net->forward(a, net->ItemTable());
  torch::Tensor hb = net->forward(b, net->ItemTable());
  EXPECT_TRUE(torch::allclose(ha.narrow(1, 0, 5), hb.narrow(1, 0, 5), 1e-6, 1e-6));
  EXPECT_FALSE(torch::allclose(ha.select(1, 5), hb.select(1, 5), 1e-4, 1e-4));
  // Changing an early item changes the later positions (attention is live).
  torch::Tensor c = a.clone();
  c[0][1] = 29;
  torch::Tensor hc = net->forward(c, net->ItemTable());
  EXPECT_TRUE(torch::allclose(ha.select(1, 0), hc.select(1, 0), 1e-6, 1e-6));
  EXPECT_FALSE(torch::allclose(ha.select(1, 4), hc.select(1, 4), 1e-4, 1e-4));
}

TEST(SasRecNetTest, LeftPaddingDoesNotChangeTheOutput) {
  torch::manual_seed(6);
  sasrec::NetConfig config;
  config.num_items = 30;
  config.max_len = 10;
  config.hidden = 16;
  config.heads = 1;
  config.text_dim = 5;
  sasrec::SasRecNet net(config);
  net->SetText(torch::randn({31, 5}));
  net->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor table = net->ItemTable();
  torch::Tensor a = torch::tensor({{7, 3, 12, 8}}, torch::kLong);
  torch::Tensor padded = torch::tensor({{0, 0, 0, 0, 7, 3, 12, 8}}, torch::kLong);
  torch::Tensor ha = net->forward(a, table);
  torch::Tensor hp = net->forward(padded, table);
  EXPECT_TRUE(torch::allclose(ha, hp.narrow(1, 4, 4), 1e-5, 1e-5));
  EXPECT_EQ(hp.narrow(1, 0, 4).abs().max().item<float>(), 0.0f);
  EXPECT_FALSE(torch::isnan(hp).any().item<bool>());
  // In a batch with a longer row, the short row is unchanged as well.
  torch::Tensor batch = torch::tensor({{0, 0, 0, 0, 0, 7, 3, 12, 8}, {1, 2, 3, 4, 5, 6, 7, 8, 9}},
                                      torch::kLong);
  torch::Tensor hb = net->forward(batch, table);
  EXPECT_TRUE(torch::allclose(ha[0], hb[0].narrow(0, 5, 4), 1e-5, 1e-5));
}

TEST(SasRecModelTest, SaveLoadRoundTripGivesIdenticalScores) {
  const auto seqs = SuccessorSequences(60, 6, 11);
  SasRecOptions o = SmallOptions();
  o.epochs = 2;
  SasRecItemText text;
  text.dim = 4;
  for (int i = 0; i < kItems * 4; ++i) text.values.push_back(std::sin(0.37f * i));
  auto model = TrainOrDie(o, seqs, nullptr, &text);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->text_dim(), 4);
  const auto dir = testing::TempDir("sasrec_roundtrip");
  ASSERT_OK(model->Save(dir / "m"));
  auto loaded = SasRecModel::Load(dir / "m");
  ASSERT_OK(loaded.status());
  const std::vector<int32_t> h = {1, 5, 9, 2};
  std::vector<float> a(kItems), b(kItems);
  model->ScoreNext(h, a);
  (*loaded)->ScoreNext(h, b);
  EXPECT_EQ(a, b);
  EXPECT_EQ((*loaded)->options().hidden, o.hidden);
  EXPECT_EQ((*loaded)->text_dim(), 4);

  // Batch scoring agrees with one-at-a-time scoring.
  std::vector<std::vector<int32_t>> hs = {h, {3}, {}};
  std::vector<float> batch(3 * kItems);
  model->ScoreNextBatch(hs, batch);
  for (int i = 0; i < kItems; ++i) EXPECT_NEAR(batch[i], a[i], 1e-4);
  for (int i = 0; i < kItems; ++i) EXPECT_EQ(batch[2 * kItems + i], 0.0f);  // empty history

  // A manifest of another kind is refused.
  std::ofstream(dir / "m" / "manifest.json") << R"({"kind": "ease", "format_version": 1})";
  auto wrong = SasRecModel::Load(dir / "m");
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SasRecModel::Load(dir / "missing").status().code(), StatusCode::kNotFound);
}

TEST(SasRecModelTest, ValidationKeepsTheBestEpochAndStopsEarly) {
  const auto seqs = SuccessorSequences(120, 8, 12);
  std::vector<std::vector<int32_t>> train;
  std::vector<int32_t> targets;
  for (const auto& s : seqs) {
    train.emplace_back(s.begin(), s.end() - 1);
    targets.push_back(s.back());
  }
  SasRecOptions o = SmallOptions();
  o.epochs = 60;
  o.patience = 3;
  SasRecValidation valid{train, targets};
  SasRecTrainReport report;
  auto model = TrainOrDie(o, train, &valid, nullptr, &report);
  ASSERT_NE(model, nullptr);
  ASSERT_FALSE(report.epochs.empty());
  EXPECT_GE(report.best_epoch, 1);
  double best = -1;
  for (const auto& e : report.epochs) best = std::max(best, e.valid_ndcg10);
  EXPECT_DOUBLE_EQ(report.best_valid_ndcg10, best);
  EXPECT_GT(report.best_valid_ndcg10, 0.8);  // the pattern is learnable
  if (report.stopped_early) {
    EXPECT_EQ(static_cast<int>(report.epochs.size()), report.best_epoch + o.patience);
  }
  // The kept weights reproduce the best validation NDCG@10 (full ranking,
  // history items removed except the target).
  double ndcg = 0;
  std::vector<float> scores(kItems);
  for (size_t u = 0; u < train.size(); ++u) {
    model->ScoreNext(train[u], scores);
    const float st = scores[targets[u]];
    int rank = 1;
    for (int32_t j = 0; j < kItems; ++j) {
      const bool in_history = std::find(train[u].begin(), train[u].end(), j) != train[u].end();
      if (j == targets[u] || (in_history && j != targets[u])) continue;
      rank += (scores[j] > st || (scores[j] == st && j < targets[u])) ? 1 : 0;
    }
    if (rank <= 10) ndcg += 1.0 / std::log2(rank + 1.0);
  }
  EXPECT_NEAR(ndcg / train.size(), report.best_valid_ndcg10, 1e-6);
}

TEST(SasRecModelTest, BadOptionsAndInputsAreInvalidArgument) {
  for (const json& bad : {json{{"hidden", 0}}, json{{"hidden", 64}, {"heads", 3}},
                          json{{"loss", "hinge"}}, json{{"dropout", 1.0}},
                          json{{"epochs", "ten"}}, json{{"activation", "tanh"}},
                          json{{"lr", -1}}, json{{"sampling", "zipf"}}, json{{"bogus", 1}},
                          json{{"validate", 3}}, json{{"seed", -4}}}) {
    auto source = SasRecSource::Create(bad);
    EXPECT_EQ(source.status().code(), StatusCode::kInvalidArgument) << bad.dump();
  }
  auto named = SasRecSource::Create(json{{"heads", 3}});
  EXPECT_NE(named.status().message().find("heads"), std::string::npos);
  EXPECT_OK(SasRecSource::Create(json{{"hidden", 32}, {"validate", true}}).status());

  SasRecOptions o = SmallOptions();
  std::vector<std::vector<int32_t>> seqs = {{1, 2, 3}, {4, kItems}};
  auto out_of_range = SasRecModel::Train(seqs, kItems, o, nullptr, nullptr, Quiet());
  EXPECT_EQ(out_of_range.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out_of_range.status().message().find("sequence 1"), std::string::npos);
  std::vector<std::vector<int32_t>> singletons = {{1}, {2}};
  EXPECT_EQ(SasRecModel::Train(singletons, kItems, o, nullptr, nullptr, Quiet()).status().code(),
            StatusCode::kFailedPrecondition);
  SasRecItemText text;
  text.dim = 3;
  text.values.assign(5, 0.f);
  EXPECT_EQ(SasRecModel::Train(SuccessorSequences(5, 4, 1), kItems, o, nullptr, &text, Quiet())
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// The candidate source.

InteractionData SuccessorData(int users, int length) {
  InteractionData data;
  for (int i = 0; i < kItems; ++i) data.AddItem({.external_id = "sku-" + std::to_string(i)});
  std::mt19937_64 rng(21);
  int64_t t = 1000;
  for (int u = 0; u < users; ++u) {
    data.AddUser("u" + std::to_string(u));
    const int32_t start = static_cast<int32_t>(rng() % kItems);
    for (int i = 0; i < length; ++i) {
      const int32_t item = (start + i) % kItems;
      EXPECT_OK(data.Add({.user = u, .item = item, .type = EventType::kView, .timestamp_ms = t++}));
      // Repeats and zero-weight events do not break the pattern.
      if (i % 3 == 0) {
        EXPECT_OK(data.Add({.user = u, .item = item, .type = EventType::kView, .timestamp_ms = t++}));
        EXPECT_OK(data.Add(
            {.user = u, .item = (item + 7) % kItems, .type = EventType::kImpression,
             .timestamp_ms = t++}));
      }
    }
  }
  data.Finalize();
  return data;
}

std::vector<HistoryEvent> Views(std::vector<int32_t> items) {
  std::vector<HistoryEvent> out;
  int64_t t = 1;
  for (int32_t i : items) out.push_back({.item = i, .type = EventType::kView, .timestamp_ms = t++});
  return out;
}

class SasRecSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new InteractionData(SuccessorData(200, 8));
    SourceRegistry registry;
    ASSERT_OK(RegisterSasRecSource(registry));
    EXPECT_EQ(RegisterSasRecSource(registry).code(), StatusCode::kAlreadyExists);
    auto created = registry.Create(
        "sasrec", json{{"loss", "ce"}, {"max_len", 10}, {"hidden", 32}, {"heads", 2}, {"dropout", 0.1},
                       {"epochs", 30}, {"batch_size", 32}, {"lr", 5e-3}, {"patience", 0},
                       {"threads", 1}});
    ASSERT_OK(created.status());
    source_ = created->release();
    ASSERT_OK(source_->Fit(*data_, Quiet()));
  }
  static void TearDownTestSuite() {
    delete source_;
    delete data_;
  }
  static InteractionData* data_;
  static CandidateSource* source_;
};
InteractionData* SasRecSourceTest::data_ = nullptr;
CandidateSource* SasRecSourceTest::source_ = nullptr;

TEST_F(SasRecSourceTest, ProposesTheNextItemWithAReason) {
  EXPECT_EQ(source_->Name(), "sasrec");
  int hits = 0;
  for (int32_t start = 0; start < kItems; ++start) {
    RecommendRequest req;
    req.history = Views({start, (start + 1) % kItems, (start + 2) % kItems});
    std::vector<Candidate> out;
    source_->Candidates(req, 5, &out);
    ASSERT_EQ(out.size(), 5u);
    hits += out[0].item == (start + 3) % kItems ? 1 : 0;
    for (size_t i = 1; i < out.size(); ++i) EXPECT_GE(out[i - 1].score, out[i].score);
    EXPECT_EQ(out[0].reason.source, "sasrec");
    EXPECT_EQ(out[0].reason.kind, "next_in_sequence");
    EXPECT_EQ(out[0].reason.evidence_item, (start + 2) % kItems);
  }
  EXPECT_GE(hits, kItems * 9 / 10);
}

TEST_F(SasRecSourceTest, EmptyUnknownAndDegenerateRequests) {
  std::vector<Candidate> out;
  RecommendRequest empty;
  source_->Candidates(empty, 10, &out);
  EXPECT_TRUE(out.empty());
  std::vector<float> scores(kItems);
  source_->ScoreAll(empty, scores);
  for (float s : scores) EXPECT_TRUE(std::isinf(s) && s < 0);

  RecommendRequest unknown;
  unknown.history = Views({-3, 5000, kItems});
  source_->Candidates(unknown, 10, &out);
  EXPECT_TRUE(out.empty());

  // Unknown items and zero-weight events are ignored.
  RecommendRequest clean, noisy;
  clean.history = Views({4, 5, 6});
  noisy.history = Views({4, 999, 5, -1, 6});
  noisy.history.push_back({.item = 11, .type = EventType::kImpression, .timestamp_ms = 99});
  std::vector<Candidate> a, b;
  source_->Candidates(clean, 5, &a);
  source_->Candidates(noisy, 5, &b);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].item, b[i].item);
    EXPECT_FLOAT_EQ(a[i].score, b[i].score);
  }
  EXPECT_EQ(b[0].reason.evidence_item, 6);

  out.clear();
  source_->Candidates(clean, 0, &out);
  source_->Candidates(clean, -2, &out);
  EXPECT_TRUE(out.empty());
  source_->Candidates(clean, 1 << 30, &out);
  EXPECT_EQ(out.size(), static_cast<size_t>(kItems));  // clamped to the catalog
}

TEST_F(SasRecSourceTest, LongHistoriesWorkAndOnlyTheTailMatters) {
  RecommendRequest tail, huge;
  std::vector<int32_t> items;
  for (int i = 0; i < 10000; ++i) items.push_back((i * 7) % kItems);
  std::vector<int32_t> last(items.end() - 10, items.end());
  huge.history = Views(items);
  tail.history = Views(last);
  std::vector<Candidate> a, b;
  const auto start = std::chrono::steady_clock::now();
  source_->Candidates(huge, 10, &a);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  source_->Candidates(tail, 10, &b);
  ASSERT_EQ(a.size(), 10u);
  ASSERT_EQ(b.size(), 10u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].item, b[i].item);
  EXPECT_LT(ms, 200.0);
  EXPECT_EQ(SasRecSource::SequenceOf(huge.history, kItems, 10), last);
}

TEST_F(SasRecSourceTest, SaveLoadAndMismatchedData) {
  const auto dir = testing::TempDir("sasrec_source") / "src";
  ASSERT_OK(source_->Save(dir.string()));
  SasRecSource loaded;
  ASSERT_OK(loaded.Load(dir.string(), *data_));
  RecommendRequest req;
  req.history = Views({10, 11, 12});
  std::vector<float> a(kItems), b(kItems);
  source_->ScoreAll(req, a);
  loaded.ScoreAll(req, b);
  EXPECT_EQ(a, b);

  InteractionData other;
  other.AddItem({.external_id = "x"});
  other.Finalize();
  SasRecSource wrong;
  EXPECT_EQ(wrong.Load(dir.string(), other).code(), StatusCode::kFailedPrecondition);
  SasRecSource unfitted;
  EXPECT_EQ(unfitted.Save((dir.parent_path() / "none").string()).code(),
            StatusCode::kFailedPrecondition);
  std::vector<Candidate> out;
  unfitted.Candidates(req, 5, &out);
  EXPECT_TRUE(out.empty());
}

TEST(SasRecSourceFitTest, NoTransitionsIsFailedPrecondition) {
  InteractionData data;
  data.AddItem({.external_id = "a"});
  data.AddItem({.external_id = "b"});
  data.AddUser("u");
  ASSERT_OK(data.Add({.user = 0, .item = 0, .type = EventType::kView, .timestamp_ms = 1}));
  ASSERT_OK(data.Add({.user = 0, .item = 0, .type = EventType::kView, .timestamp_ms = 2}));
  ASSERT_OK(data.Add({.user = 0, .item = 1, .type = EventType::kImpression, .timestamp_ms = 3}));
  data.Finalize();
  SasRecSource source;
  EXPECT_EQ(source.Fit(data, Quiet()).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace souk::recommend
