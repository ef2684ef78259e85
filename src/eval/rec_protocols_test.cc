#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "common/testing.h"
#include "eval/metrics.h"
#include "eval/online_retail_protocol.h"
#include "eval/rec_blend.h"
#include "eval/rec_cold_slots.h"
#include "eval/rec_data.h"
#include "eval/rec_metrics.h"
#include "eval/rec_retail_ranker.h"
#include "eval/sequential.h"
#include "eval/splits.h"
#include "eval/unisrec_protocol.h"

namespace souk::eval {
namespace {

using recommend::Candidate;
using recommend::CandidateSource;
using recommend::InteractionData;
using recommend::RecommendRequest;
using recommend::SourceRegistry;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// ---------------------------------------------------------------------------
// Test sources: a popularity count and a word-overlap "content" score, both
// recording what they were fitted on.

struct FitLog {
  std::vector<std::set<int32_t>> items;  // items with an interaction, per Fit
  std::vector<int64_t> max_timestamp_ms;
};

class CountSource final : public CandidateSource {
 public:
  explicit CountSource(std::shared_ptr<FitLog> log) : log_(std::move(log)) {}
  std::string Name() const override { return "test_count"; }
  Status Fit(const InteractionData& data, const ProgressOptions&) override {
    counts_.assign(data.num_items(), 0.f);
    std::set<int32_t> seen;
    int64_t max_ts = std::numeric_limits<int64_t>::min();
    for (const auto& x : data.interactions()) {
      counts_[x.item] += 1;
      seen.insert(x.item);
      max_ts = std::max(max_ts, x.timestamp_ms);
    }
    log_->items.push_back(std::move(seen));
    log_->max_timestamp_ms.push_back(max_ts);
    return OkStatus();
  }
  void Candidates(const RecommendRequest&, int k, std::vector<Candidate>* out) const override {
    std::vector<float> s = counts_;
    for (int32_t i : TopKItems(s, k)) out->push_back({i, s[i], {}});
  }
  void ScoreAll(const RecommendRequest&, std::span<float> scores) const override {
    std::copy(counts_.begin(), counts_.end(), scores.begin());
  }
  Status Save(const std::string&) const override { return OkStatus(); }
  Status Load(const std::string&, const InteractionData&) override { return OkStatus(); }

 private:
  std::shared_ptr<FitLog> log_;
  std::vector<float> counts_;
};

// Score = number of words an item's text shares with the history items' texts.
class WordOverlapSource final : public CandidateSource {
 public:
  std::string Name() const override { return "test_words"; }
  Status Fit(const InteractionData& data, const ProgressOptions&) override {
    words_.clear();
    for (const auto& item : data.items()) {
      std::set<std::string> w;
      std::string word;
      for (char c : item.text + " ") {
        if (c == ' ') {
          if (!word.empty()) w.insert(word);
          word.clear();
        } else {
          word += c;
        }
      }
      words_.push_back(std::move(w));
    }
    return OkStatus();
  }
  void Candidates(const RecommendRequest&, int, std::vector<Candidate>*) const override {}
  void ScoreAll(const RecommendRequest& req, std::span<float> scores) const override {
    std::set<std::string> context;
    for (const auto& e : req.history) {
      if (e.item >= 0 && e.item < static_cast<int32_t>(words_.size())) {
        context.insert(words_[e.item].begin(), words_[e.item].end());
      }
    }
    for (size_t i = 0; i < words_.size(); ++i) {
      float s = 0;
      for (const auto& w : words_[i]) s += context.count(w) ? 1.f : 0.f;
      scores[i] = context.empty() ? kNegInf : s;
    }
  }
  Status Save(const std::string&) const override { return OkStatus(); }
  Status Load(const std::string&, const InteractionData&) override { return OkStatus(); }

 private:
  std::vector<std::set<std::string>> words_;
};

std::shared_ptr<SourceRegistry> TestRegistry(std::shared_ptr<FitLog> log) {
  auto registry = std::make_shared<SourceRegistry>();
  EXPECT_OK(registry->Register("test_count", [log](const nlohmann::json&) {
    return StatusOr<std::unique_ptr<CandidateSource>>(std::make_unique<CountSource>(log));
  }));
  EXPECT_OK(registry->Register("test_words", [](const nlohmann::json&) {
    return StatusOr<std::unique_ptr<CandidateSource>>(std::make_unique<WordOverlapSource>());
  }));
  return registry;
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// Independent FNV-1a 64 (the cold rule), written out here on purpose.
uint64_t ReferenceFnv(const std::string& s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::set<std::string> Keys(const nlohmann::json& object) {
  std::set<std::string> keys;
  for (auto it = object.begin(); it != object.end(); ++it) keys.insert(it.key());
  return keys;
}

// ---------------------------------------------------------------------------
// Metrics

TEST(RecMetricsTest, TopKItemsOrdersByScoreThenIndexAndSkipsExcluded) {
  const std::vector<float> scores = {0.5f, 2.f, 0.5f, std::nanf(""), 3.f, 2.f};
  EXPECT_EQ(TopKItems(scores, 4), (std::vector<int32_t>{4, 1, 5, 0}));
  const std::vector<uint8_t> excluded = {0, 1, 0, 0, 0, 0};
  EXPECT_EQ(TopKItems(scores, 3, excluded), (std::vector<int32_t>{4, 5, 0}));
  EXPECT_EQ(TopKItems(scores, 100), (std::vector<int32_t>{4, 1, 5, 0, 2, 3}));
  EXPECT_TRUE(TopKItems(scores, 0).empty());
}

TEST(RecMetricsTest, SetRecallNdcgKnownValues) {
  const std::vector<int32_t> ranked = {5, 3, 9, 1};
  const std::unordered_set<int32_t> relevant = {3, 1, 7};
  auto at3 = SetRecallNdcg(ranked, relevant, 3);
  ASSERT_TRUE(at3.has_value());
  const double idcg3 = 1.0 + 1.0 / std::log2(3.0) + 0.5;
  EXPECT_NEAR(at3->recall, 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(at3->ndcg, (1.0 / std::log2(3.0)) / idcg3, 1e-12);
  EXPECT_NEAR(at3->ndcg, 0.296082, 1e-6);
  auto at4 = SetRecallNdcg(ranked, relevant, 4);
  EXPECT_NEAR(at4->recall, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(at4->ndcg, (1.0 / std::log2(3.0) + 1.0 / std::log2(5.0)) / idcg3, 1e-12);
  // Agrees with the graded NDCG of metrics.h under linear gains of 1.
  std::vector<int64_t> ranked64(ranked.begin(), ranked.end());
  auto graded = NdcgAtKFromLabels(ranked64, {{3, 1.0}, {1, 1.0}, {7, 1.0}}, 4, LinearGain);
  EXPECT_NEAR(*graded, at4->ndcg, 1e-12);
  // One relevant item: IDCG = 1.
  auto single = SetRecallNdcg(ranked, {9}, 10);
  EXPECT_NEAR(single->ndcg, 0.5, 1e-12);
  EXPECT_FALSE(SetRecallNdcg(ranked, {}, 10).has_value());
  // A duplicate in the ranking is counted once.
  auto dup = SetRecallNdcg(std::vector<int32_t>{3, 3}, {3, 1}, 2);
  EXPECT_NEAR(dup->recall, 0.5, 1e-12);
}

TEST(RecMetricsTest, StandardizeScoresFillsUnknownWithTheLowest) {
  std::vector<float> s = {kNegInf, 1.f, 3.f};
  StandardizeScores(s);
  const double sd = std::sqrt(24.0 / 27.0);
  EXPECT_NEAR(s[0], (1 - 5.0 / 3) / sd, 1e-5);
  EXPECT_NEAR(s[1], (1 - 5.0 / 3) / sd, 1e-5);
  EXPECT_NEAR(s[2], (3 - 5.0 / 3) / sd, 1e-5);
  std::vector<float> constant = {2.f, 2.f, kNegInf};
  StandardizeScores(constant);
  EXPECT_EQ(constant, (std::vector<float>{0.f, 0.f, 0.f}));
}

TEST(RecMetricsTest, BlendTuningFindsTheInformativeFeature) {
  // Feature 0 is noise that prefers a wrong item, feature 1 points at the target.
  std::vector<BlendSample> samples;
  for (int s = 0; s < 20; ++s) {
    BlendSample b;
    b.items = {0, 1, 2, 3};
    const int target = s % 4;
    for (int i = 0; i < 4; ++i) {
      const float noise = (i == (target + 1) % 4) ? 1.f : 0.f;
      const float signal = (i == target) ? 0.6f : 0.f;
      b.features.insert(b.features.end(), {noise, signal});
      b.relevant.push_back(i == target ? 1 : 0);
    }
    b.num_relevant = 1;
    samples.push_back(std::move(b));
  }
  const std::vector<float> start = {1.f, 1.f};
  const SetRankingMetrics before = EvaluateBlend(samples, start, 1);
  EXPECT_NEAR(before.recall, 0.0, 1e-12);  // noise 1 beats signal 0.6 everywhere
  std::vector<float> tuned = TuneBlendWeights(samples, start, 1, BlendTuningOptions{});
  const SetRankingMetrics after = EvaluateBlend(samples, tuned, 1);
  EXPECT_NEAR(after.recall, 1.0, 1e-12);
  EXPECT_GT(tuned[1] * 0.6f, tuned[0]);
  // A relevant item outside the pool is a miss: recall halves with two relevant.
  for (auto& b : samples) b.num_relevant = 2;
  EXPECT_NEAR(EvaluateBlend(samples, tuned, 1).recall, 0.5, 1e-12);
}

// ---------------------------------------------------------------------------
// Cold rule

TEST(ColdItemsTest, FnvOfTheDecimalIdString) {
  EXPECT_EQ(ReferenceFnv(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(ReferenceFnv("a"), 0xaf63dc4c8601ec8cull);  // published FNV-1a 64 test vector
  EXPECT_EQ(Fnv1a64("1"), ReferenceFnv("1"));
  EXPECT_EQ(ReferenceFnv("1"), 0xaf63ac4c86019afcull);  // % 10 == 8: not cold
  EXPECT_FALSE(IsUnisrecColdItem(1));
  int64_t cold = 0;
  for (int32_t i = 0; i < 1585; ++i) {
    const bool expected = ReferenceFnv(std::to_string(i)) % 10 == 0;
    ASSERT_EQ(IsUnisrecColdItem(i), expected) << i;
    cold += expected;
  }
  EXPECT_EQ(cold, 160);  // of the 1,585 Scientific items
  for (int32_t i : {3, 25, 36}) EXPECT_TRUE(IsUnisrecColdItem(i)) << i;
}

// ---------------------------------------------------------------------------
// Protocol C on a tiny UniSRec folder

struct TinyUnisrec {
  std::filesystem::path dir;
  std::vector<std::vector<int32_t>> sequences;  // per user, full
};

// 40 items in 4 families (item % 4), each with the family word in its text;
// every user buys 6 items of one family. Cold items: 3, 25, 36.
TinyUnisrec WriteTinyUnisrec(const std::string& tag) {
  TinyUnisrec t;
  t.dir = souk::testing::TempDir(tag);
  const char* family[] = {"alpha", "beta", "gamma", "delta"};
  std::string item2index, text = "item_id:token\ttext:token_seq\n";
  for (int i = 0; i < 40; ++i) {
    item2index += fmt::format("ASIN{:03d}\t{}\n", i, i);
    text += fmt::format("ASIN{:03d}\t{} thing number{} \n", i, family[i % 4], i);
  }
  std::string user2index, train = "user_id:token\titem_id_list:token_seq\titem_id:token\n";
  std::string valid = train, test = train;
  for (int u = 0; u < 24; ++u) {
    user2index += fmt::format("U{}\t{}\n", u, u);
    const int f = u % 4;
    std::vector<int32_t> seq;
    for (int p = 0; p < 6; ++p) seq.push_back(f + 4 * ((u / 4 + 3 * p) % 10));
    // Every third user ends with a cold item of the family (3 or 36 / 25).
    if (u % 3 == 0) {
      if (f == 3) seq.back() = 3;
      if (f == 1) seq.back() = 25;
      if (f == 0) seq.back() = 36;
    }
    t.sequences.push_back(seq);
    auto row = [&](size_t len) {
      std::vector<std::string> h;
      for (size_t i = 0; i < len; ++i) h.push_back(std::to_string(seq[i]));
      return fmt::format("{}\t{}\t{}\n", u, fmt::join(h, " "), seq[len]);
    };
    for (size_t len = 1; len + 2 < seq.size(); ++len) train += row(len);
    valid += row(seq.size() - 2);
    test += row(seq.size() - 1);
  }
  WriteFile(t.dir / "Tiny.item2index", item2index);
  WriteFile(t.dir / "Tiny.user2index", user2index);
  WriteFile(t.dir / "Tiny.text", text);
  WriteFile(t.dir / "Tiny.train.inter", train);
  WriteFile(t.dir / "Tiny.valid.inter", valid);
  WriteFile(t.dir / "Tiny.test.inter", test);
  return t;
}

TEST(UnisrecDataTest, ReadsTheFolderAndRebuildsTrainSequences) {
  TinyUnisrec t = WriteTinyUnisrec("unisrec_read");
  ASSERT_OK_AND_ASSIGN(UnisrecDataset data, ReadUnisrecDir(t.dir.string()));
  EXPECT_EQ(data.name, "Tiny");
  EXPECT_EQ(data.num_items(), 40);
  EXPECT_EQ(data.num_users(), 24);
  EXPECT_EQ(data.item_tokens[7], "ASIN007");
  EXPECT_EQ(data.item_texts[7], "delta thing number7");
  EXPECT_EQ(data.test.size(), 24u);
  EXPECT_EQ(data.test[5].history.size(), 5u);
  EXPECT_EQ(data.test[5].target, t.sequences[5][5]);
  const auto seqs = UnisrecTrainSequences(data);
  for (int u = 0; u < 24; ++u) {
    EXPECT_EQ(seqs[u], std::vector<int32_t>(t.sequences[u].begin(), t.sequences[u].end() - 2));
  }
}

TEST(UnisrecDataTest, MalformedFilesNameFileAndLine) {
  TinyUnisrec t = WriteTinyUnisrec("unisrec_bad");
  WriteFile(t.dir / "Tiny.valid.inter",
            "user_id:token\titem_id_list:token_seq\titem_id:token\n0\t1 2\t3\n1\t4 x\t5\n");
  auto data = ReadUnisrecDir(t.dir.string());
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(data.status().message().find("Tiny.valid.inter:3"), std::string::npos)
      << data.status().message();
  WriteFile(t.dir / "Tiny.valid.inter",
            "user_id:token\titem_id_list:token_seq\titem_id:token\n0\t1 2\t40\n");
  data = ReadUnisrecDir(t.dir.string());
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.status().message().find("outside the index"), std::string::npos);
  EXPECT_EQ(ReadUnisrecDir((t.dir / "nope").string()).status().code(), StatusCode::kNotFound);
}

TEST(UnisrecProtocolTest, ColdItemsNeverReachTrainingAndTheJsonKeysAreExact) {
  TinyUnisrec t = WriteTinyUnisrec("unisrec_run");
  auto log = std::make_shared<FitLog>();
  UnisrecOptions options;
  options.sources = {{"test_count", {}}, {"test_words", {}}, {"not_built", {}}};
  options.content_source = "test_words";
  options.pool_per_source = 40;
  UnisrecProtocol protocol(TestRegistry(log), options);
  EvalContext ctx;
  ctx.task = "rec";
  ctx.inputs.dir = t.dir.string();
  ctx.progress.mode = ProgressMode::kOff;
  ASSERT_OK_AND_ASSIGN(EvalReport report, RunProtocol(protocol, ctx));

  // Two fits: tuning (cold and simulated-cold items removed), final (cold removed).
  ASSERT_EQ(log->items.size(), 2u);
  for (int32_t cold : {3, 25, 36}) {
    EXPECT_EQ(log->items[0].count(cold), 0u) << cold;
    EXPECT_EQ(log->items[1].count(cold), 0u) << cold;
  }
  for (int32_t simulated : {2, 24, 37}) EXPECT_EQ(log->items[0].count(simulated), 0u);
  bool simulated_in_final = false;
  for (int32_t simulated : {2, 24, 37}) simulated_in_final |= log->items[1].count(simulated) > 0;
  EXPECT_TRUE(simulated_in_final);

  const nlohmann::json json = ReportToJson(report, /*full=*/false);
  EXPECT_EQ(Keys(json), (std::set<std::string>{"protocol", "dataset", "metrics", "ablations",
                                               "seconds"}));
  EXPECT_EQ(json["protocol"], "amazon-unisrec");
  EXPECT_EQ(json["dataset"], "Tiny");
  EXPECT_EQ(Keys(json["metrics"]),
            (std::set<std::string>{"recall@10", "ndcg@10", "recall@50", "cold_recall@10",
                                   "cold_ndcg@10", "n_cold"}));
  int64_t cold_targets = 0;
  for (const auto& seq : t.sequences) cold_targets += IsUnisrecColdItem(seq.back());
  EXPECT_GE(cold_targets, 4);
  EXPECT_EQ(json["metrics"]["n_cold"], cold_targets);
  for (const char* name : {"popularity", "test_count", "test_words", "blend",
                           "blend_no_cold_terms", "blend_valid", "test_words_valid"}) {
    EXPECT_TRUE(json["ablations"].contains(name)) << name;
  }
  // Popularity never ranks a cold item above a counted one; the word overlap
  // finds the cold targets of the family among the 10 items of the family.
  EXPECT_EQ(report.ablations["popularity"]["cold_recall@10"], 0.0);
  EXPECT_GT(report.ablations["test_words"]["cold_recall@10"], 0.0);
  EXPECT_GE(report.metrics["recall@50"], report.metrics["recall@10"]);
}

TEST(UnisrecProtocolTest, MissingDirNamesTheFlag) {
  UnisrecProtocol protocol(TestRegistry(std::make_shared<FitLog>()));
  EvalContext ctx;
  ctx.task = "rec";
  auto r = protocol.Run(ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--dir"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Protocol F on a tiny invoice file

constexpr char kRetailHeader[] =
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";

// 100 customers buying from 2011-01-03 (cut-off 2011-04-01): even ones every
// month up to April, odd ones in January only.
std::string TinyRetailCsv() {
  std::string csv = kRetailHeader;
  int invoice = 500000;
  for (int c = 0; c < 100; ++c) {
    for (int month = 1; month <= 4; ++month) {
      if (c % 2 == 1 && month > 1) continue;
      for (int visit = 0; visit < 2; ++visit) {
        const int day = 3 + 10 * visit + c % 8;
        ++invoice;
        for (int k = 0; k < 3; ++k) {
          const int item = (c + k + month) % 6;
          csv += fmt::format("{},SKU{},\"ITEM {}, NICE\",{},2011-{:02d}-{:02d} 10:00:00,1.5,{}.0,{}\n",
                             invoice, item, item, 1 + k, month, day, 12340 + c,
                             c % 2 ? "France" : "United Kingdom");
        }
      }
    }
  }
  csv += "C600001,SKU1,ITEM 1,-2,2011-02-05 10:00:00,1.5,12340.0,United Kingdom\n";
  csv += "600002,SKU2,ITEM 2,3,2011-02-05 10:00:00,1.5,,United Kingdom\n";
  csv += "600003,SKU2,ITEM 2,many,2011-02-05 10:00:00,1.5,12341.0,United Kingdom\n";
  csv += "600004,SKU2,ITEM 2,3,2011-02-05 10:00:00,1.5\n";
  return csv;
}

TEST(RetailDataTest, CountsRowKindsAndNamesMalformedRows) {
  auto dir = souk::testing::TempDir("retail_read");
  const std::string path = (dir / "retail.csv").string();
  WriteFile(path, TinyRetailCsv());
  const std::vector<std::string> paths = {path};
  ProgressOptions quiet;
  quiet.mode = ProgressMode::kOff;
  ASSERT_OK_AND_ASSIGN(RetailLog log, ReadOnlineRetail(paths, quiet));
  EXPECT_EQ(log.customer_ids.size(), 100u);
  EXPECT_EQ(log.customer_ids[0], "12340");
  EXPECT_EQ(log.item_descriptions[0].find("ITEM"), 0u);
  EXPECT_EQ(log.rows_not_purchase, 1);
  EXPECT_EQ(log.rows_without_customer, 1);
  EXPECT_EQ(log.malformed_rows, 2);
  ASSERT_EQ(log.malformed_examples.size(), 2u);
  EXPECT_NE(log.malformed_examples[0].find("retail.csv:"), std::string::npos);
  EXPECT_NE(log.malformed_examples[0].find("Quantity 'many'"), std::string::npos);
  for (size_t i = 1; i < log.purchases.size(); ++i) {
    EXPECT_LE(log.purchases[i - 1].time_s, log.purchases[i].time_s);
  }

  // Nothing usable: a clear error naming the file and the first bad line.
  const std::string bad = (dir / "bad.csv").string();
  WriteFile(bad, std::string(kRetailHeader) +
                     "1,SKU1,X,oops,2011-02-05 10:00:00,1.5,1.0,UK\n");
  auto none = ReadOnlineRetail(std::vector<std::string>{bad}, quiet);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no usable purchase rows"), std::string::npos);
  EXPECT_NE(none.status().message().find("bad.csv:2"), std::string::npos)
      << none.status().message();
  // A missing column is named.
  WriteFile(bad, "InvoiceNo,StockCode\n1,2\n");
  auto missing = ReadOnlineRetail(std::vector<std::string>{bad}, quiet);
  EXPECT_NE(missing.status().message().find("missing column Description"), std::string::npos);
}

TEST(RetailLeakageTest, FeaturesAndFitsUseOnlyPurchasesBeforeTheReference) {
  auto dir = souk::testing::TempDir("retail_leak");
  const std::string path = (dir / "retail.csv").string();
  WriteFile(path, TinyRetailCsv());
  ProgressOptions quiet;
  quiet.mode = ProgressMode::kOff;
  ASSERT_OK_AND_ASSIGN(RetailLog log, ReadOnlineRetail(std::vector<std::string>{path}, quiet));
  ASSERT_OK_AND_ASSIGN(int64_t R, ParseDate("2011-04-01"));
  const CustomerFeatures before = CustomerFeaturesAt(log, R);

  // Change everything at or after R (and add a purchase exactly at R).
  RetailLog changed = log;
  for (RetailPurchase& p : changed.purchases) {
    if (p.time_s >= R) {
      p.quantity *= 10;
      p.item = 0;
    }
  }
  changed.purchases.push_back({.customer = 7, .item = 1, .invoice = 0, .time_s = R,
                               .quantity = 5, .unit_price = 100});
  const CustomerFeatures after = CustomerFeaturesAt(changed, R);
  EXPECT_EQ(before.customers, after.customers);
  ASSERT_EQ(before.x.size(), after.x.size());
  for (size_t i = 0; i < before.x.size(); ++i) {
    if (std::isnan(before.x[i])) {
      EXPECT_TRUE(std::isnan(after.x[i]));
    } else {
      EXPECT_EQ(before.x[i], after.x[i]) << before.names[i % before.names.size()];
    }
  }
  // Odd customers stopped in January: recency > 30 days at R.
  EXPECT_EQ(before.customers.size(), 100u);
  EXPECT_GT(before.x[1 * before.names.size()], 30.f);
  EXPECT_LT(before.x[0 * before.names.size()], 30.f);
  const InteractionData data = RetailInteractions(log, R);
  for (const auto& x : data.interactions()) EXPECT_LT(x.timestamp_ms, R * 1000);
  const std::vector<int> buys = BuysInWindow(log, before.customers, R, R + 30 * 86400);
  for (size_t i = 0; i < buys.size(); ++i) EXPECT_EQ(buys[i], i % 2 == 0 ? 1 : 0) << i;

  // The protocol's fits: tuning before T - 30 d, final before T.
  auto fits = std::make_shared<FitLog>();
  OnlineRetailOptions options;
  options.sources = {{"test_count", {}}};
  OnlineRetailProtocol protocol(TestRegistry(fits), options);
  EvalContext ctx;
  ctx.task = "rec";
  ctx.inputs.data = {path};
  ctx.inputs.cutoff = "2011-04-01";
  ctx.progress.mode = ProgressMode::kOff;
  ASSERT_OK_AND_ASSIGN(EvalReport report, RunProtocol(protocol, ctx));
  ASSERT_EQ(fits->max_timestamp_ms.size(), 2u);
  EXPECT_LT(fits->max_timestamp_ms[0], (R - 30 * 86400) * 1000);
  EXPECT_LT(fits->max_timestamp_ms[1], R * 1000);

  const nlohmann::json json = ReportToJson(report, false);
  EXPECT_EQ(json["protocol"], "online-retail");
  const std::set<std::string> keys = {"recall@20", "ndcg@20", "propensity_roc_auc",
                                      "propensity_pr_auc", "n_customers"};
  EXPECT_EQ(Keys(json["metrics"]), keys);
  for (const char* name : {"popular_30d", "own_most_bought", "rfm_logistic", "test_count",
                           "blend", "ranker"}) {
    ASSERT_TRUE(json["ablations"].contains(name)) << name;
    EXPECT_EQ(Keys(json["ablations"][name]), keys) << name;
  }
  EXPECT_EQ(json["metrics"]["n_customers"], 100);
  // Even customers re-buy their own items in the window: own history finds them.
  EXPECT_GT(report.ablations["own_most_bought"]["recall@20"], 0.5);
  // The ranker is the engine; it trained on groups before T only.
  EXPECT_EQ(report.extra["engine"], "ranker");
  EXPECT_EQ(report.metrics["recall@20"], report.ablations["ranker"]["recall@20"]);
  EXPECT_GT(report.extra["ranker_train_groups"].get<int64_t>(), 0);
  for (const auto& c : report.extra["ranker_cutoffs"]) {
    ASSERT_OK_AND_ASSIGN(int64_t cutoff, ParseDate(c["cutoff"].get<std::string>()));
    EXPECT_LE(cutoff + 30 * 86400, R);  // its label window ends by T
  }
  EXPECT_TRUE(json["ablations"]["popular_30d"]["propensity_roc_auc"].is_null());
  // The active (even) customers are the buyers: the propensity ranks them first.
  EXPECT_DOUBLE_EQ(report.metrics["propensity_roc_auc"], 1.0);
  EXPECT_DOUBLE_EQ(report.ablations["rfm_logistic"]["propensity_roc_auc"], 1.0);
}

// ---------------------------------------------------------------------------
// The retail ranker

TEST(RetailRankerTest, FeaturesAndPoolsUseOnlyPurchasesBeforeTheReference) {
  auto dir = souk::testing::TempDir("retail_ranker_leak");
  const std::string path = (dir / "retail.csv").string();
  WriteFile(path, TinyRetailCsv());
  ProgressOptions quiet;
  quiet.mode = ProgressMode::kOff;
  ASSERT_OK_AND_ASSIGN(RetailLog log, ReadOnlineRetail(std::vector<std::string>{path}, quiet));
  ASSERT_OK_AND_ASSIGN(int64_t R, ParseDate("2011-03-15"));
  RetailLog changed = log;
  for (RetailPurchase& p : changed.purchases) {
    if (p.time_s >= R) {
      p.quantity *= 10;
      p.unit_price += 3;
      p.item = 5;
    }
  }
  changed.purchases.push_back({.customer = 3, .item = 2, .invoice = 1, .time_s = R,
                               .quantity = 5, .unit_price = 100});
  const std::vector<std::string> sources = {"s"};
  const RetailRankerFeatures a(log, R, sources), b(changed, R, sources);
  ASSERT_EQ(a.names(), b.names());
  EXPECT_EQ(a.popular_30d(), b.popular_30d());
  const size_t num_items = log.item_codes.size();
  std::vector<std::vector<float>> scores(1, std::vector<float>(num_items));
  for (size_t i = 0; i < num_items; ++i) scores[0][i] = static_cast<float>((i * 7) % 5);
  int64_t with_own = 0;
  for (int32_t c = 0; c < static_cast<int32_t>(log.customer_ids.size()); ++c) {
    ASSERT_EQ(a.HasHistory(c), b.HasHistory(c));
    const std::vector<int32_t> pool = a.Candidates(c, scores, 2, 300);
    ASSERT_EQ(pool, b.Candidates(c, scores, 2, 300)) << c;
    const std::vector<float> xa = a.Rows(c, pool, scores), xb = b.Rows(c, pool, scores);
    ASSERT_EQ(xa.size(), pool.size() * a.num_features());
    for (size_t k = 0; k < xa.size(); ++k) {
      if (std::isnan(xa[k])) {
        EXPECT_TRUE(std::isnan(xb[k])) << a.names()[k % a.num_features()];
      } else {
        EXPECT_EQ(xa[k], xb[k]) << a.names()[k % a.num_features()];
      }
    }
    with_own += xa[0] > 0;  // own_invoices of the first pool item
  }
  EXPECT_GT(with_own, 0);
  // Values at R, by hand: customer 0 (even: two invoices a month, Jan to Mar 13).
  const std::vector<int32_t> one = {static_cast<int32_t>(0)};
  const std::vector<float> row = a.Rows(0, one, scores);
  auto col = [&](const std::string& name) {
    const auto it = std::find(a.names().begin(), a.names().end(), name);
    EXPECT_NE(it, a.names().end()) << name;
    return row[static_cast<size_t>(it - a.names().begin())];
  };
  // Customer 0's invoices before 2011-03-15: Jan 3, Jan 13, Feb 3, Feb 13, Mar 3, Mar 13.
  EXPECT_EQ(col("cust_invoices"), 6.f);
  EXPECT_NEAR(col("cust_recency_days"), 2 - 10.0 / 24, 1e-4);  // Mar 13 10:00 -> Mar 15
  EXPECT_TRUE(std::isfinite(col("src_s")));
  // Source scores of items 0..5: 0, 2, 4, 1, 3, 0: item 0 is fifth (ties by index).
  EXPECT_EQ(col("src_s_rank"), 4.f);
  EXPECT_EQ(col("src_s"), 0.f);
}

// Customers buy two staples every two weeks and three random one-off items a
// month from a hot set that is more popular overall; the ranker must learn
// that a customer's own staples come back.
RetailLog RepeatBuyersLog(int64_t start_s, int days) {
  RetailLog log;
  const int customers = 60, staples = 20, hot = 10;
  for (int c = 0; c < customers; ++c) {
    log.customer_ids.push_back(std::to_string(1000 + c));
    log.customer_countries.push_back("United Kingdom");
  }
  for (int i = 0; i < staples + hot; ++i) {
    log.item_codes.push_back(fmt::format("I{}", i));
    log.item_descriptions.push_back("");
  }
  uint64_t rng = 12345;
  auto next = [&] {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int>((rng >> 33) % 1000000);
  };
  for (int day = 0; day < days; ++day) {
    for (int c = 0; c < customers; ++c) {
      const int64_t t = start_s + int64_t{day} * 86400 + c * 60;
      auto buy = [&](int item) {
        log.invoice_ids.push_back(std::to_string(log.invoice_ids.size()));
        log.purchases.push_back({.customer = c,
                                 .item = item,
                                 .invoice = static_cast<int32_t>(log.invoice_ids.size() - 1),
                                 .time_s = t,
                                 .quantity = 1,
                                 .unit_price = 2});
      };
      if ((day + c) % 14 == 0) {
        buy(c % staples);
        buy((c + 7) % staples);
      }
      if ((day + 3 * c) % 10 == 0) buy(staples + next() % hot);
    }
  }
  return log;
}

TEST(RetailRankerTest, LearnsThatRepeatBuyersRebuy) {
  const int64_t start = 1'300'000'000;
  const RetailLog log = RepeatBuyersLog(start, 200);
  const int64_t window = 30 * 86400;
  const int64_t test_ref = start + 160 * 86400;
  RetailRankerOptions options;
  options.per_source = 30;
  options.valid_fraction = 0.25;
  auto window_items = [&](int64_t from) {
    std::vector<std::unordered_set<int32_t>> out(log.customer_ids.size());
    for (const RetailPurchase& p : log.purchases) {
      if (p.time_s >= from && p.time_s < from + window) out[p.customer].insert(p.item);
    }
    return out;
  };
  std::vector<int32_t> customers(log.customer_ids.size());
  for (size_t c = 0; c < customers.size(); ++c) customers[c] = static_cast<int32_t>(c);
  auto no_sources = [](int32_t) { return std::vector<std::vector<float>>{}; };
  RetailRankerGroups groups;
  for (int64_t R : {test_ref - 3 * window, test_ref - 2 * window, test_ref - window}) {
    const RetailRankerFeatures features(log, R, {});
    const auto relevant = window_items(R);
    AddRankerGroups(log, features, customers, relevant, no_sources, options, &groups);
  }
  EXPECT_EQ(groups.customers, 3 * 60);
  EXPECT_EQ(groups.relevant_in_pool, groups.relevant);  // 30 items: every item is in the pool
  EXPECT_GT(groups.valid.groups.size(), 0u);
  ASSERT_OK_AND_ASSIGN(auto model, TrainRetailRanker(groups, options));

  const RetailRankerFeatures at_test(log, test_ref, {});
  const auto relevant = window_items(test_ref);
  MeanAccumulator ranker_recall, popular_recall, staples_recall;
  int staples_first = 0;
  for (int32_t c : customers) {
    const std::vector<float> scores = RetailRankerScores(*model, at_test, c, {}, options);
    const std::vector<int32_t> top = TopKItems(scores, 2);
    const std::set<int32_t> staples = {c % 20, (c + 7) % 20};
    staples_first += std::set<int32_t>(top.begin(), top.end()) == staples;
    ranker_recall.Add(SetRecallNdcg(top, relevant[c], 2)->recall);
    const std::vector<int32_t> staple_list(staples.begin(), staples.end());
    staples_recall.Add(SetRecallNdcg(staple_list, relevant[c], 2)->recall);
    popular_recall.Add(
        SetRecallNdcg(TopKItems(at_test.popular_30d(), 2), relevant[c], 2)->recall);
  }
  EXPECT_GE(staples_first, 57);  // nearly every customer: own staples on top
  // The staples are what can be known (the hot items are random draws).
  EXPECT_GE(ranker_recall.Mean(), 0.95 * staples_recall.Mean());
  EXPECT_GT(ranker_recall.Mean(), 2 * popular_recall.Mean());
  // Without a positive group training is refused with a clear error.
  EXPECT_EQ(TrainRetailRanker(RetailRankerGroups{}, options).status().code(),
            StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------
// Cold slots

TEST(ColdSlotsTest, PlacesTheBestCandidatesAtTheSlotsOnlyAboveTheThreshold) {
  // Items 0..9 warm by decreasing score 10..1 (0 best); 10, 11, 12 candidates.
  std::vector<float> warm = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1, -1, -2, -3};
  std::vector<float> cold = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3.f, 5.f, 1.f};
  std::vector<uint8_t> candidate = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
  std::vector<uint8_t> excluded(13, 0);
  excluded[1] = 1;  // history: warm order is 0, 2, 3, ...
  ColdSlotConfig config{.min_score = 2.f, .slots = {1, 4, 6}};
  std::vector<float> out(13);
  PlaceColdItems(warm, cold, candidate, excluded, config, out);
  std::vector<uint8_t> mask(13, 0);
  const std::vector<int32_t> history = {1};
  // 11 (cold 5) at final position 1+0, 10 (cold 3) at 4+1; 12 is below the threshold.
  EXPECT_EQ(RankOfTarget(out, 11, history, mask), 2);
  EXPECT_EQ(RankOfTarget(out, 10, history, mask), 6);
  EXPECT_EQ(RankOfTarget(out, 12, history, mask), 12);  // last of the 12 kept items
  EXPECT_EQ(RankOfTarget(out, 0, history, mask), 1);
  EXPECT_EQ(RankOfTarget(out, 2, history, mask), 3);
  EXPECT_EQ(RankOfTarget(out, 6, history, mask), 8);  // warm position 5 -> 5 + 2 cold above
  EXPECT_EQ(RankOfTarget(out, 5, history, mask), 7);  // warm position 4 -> 4 + 2 cold above
  EXPECT_EQ(out[12], warm[12]);
  // No slot: the warm scores unchanged.
  PlaceColdItems(warm, cold, candidate, excluded, ColdSlotConfig{}, out);
  EXPECT_EQ(out, warm);
}

TEST(ColdSlotsTest, CompactRankAgreesWithTheFullRanking) {
  const int n = 300;
  uint64_t rng = 7;
  auto uniform = [&] {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>((rng >> 11) % 1000003) / 1000003.f;
  };
  std::vector<float> warm(n), cold(n), out(n);
  std::vector<uint8_t> candidate(n), excluded(n), mask(n, 0);
  const std::vector<float> thresholds = {0.2f, 0.6f, 0.9f};
  const std::vector<ColdSlotConfig> grid = ColdSlotGrid(thresholds);
  ASSERT_GT(grid.size(), 20u);
  EXPECT_TRUE(grid[0].slots.empty());
  int64_t checked = 0, moved = 0;
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<int32_t> history;
    for (int i = 0; i < n; ++i) {
      candidate[i] = uniform() < 0.1f;
      warm[i] = (candidate[i] ? -1.f : 0.f) + 3 * uniform();
      cold[i] = candidate[i] ? uniform() : 0.f;
      excluded[i] = uniform() < 0.05f;
      if (excluded[i]) history.push_back(i);
    }
    for (int32_t target = 0; target < n; target += 7) {
      if (excluded[target]) continue;
      const ColdSlotRow row = MakeColdSlotRow(warm, cold, candidate, excluded, target, 5);
      for (size_t g = 0; g < grid.size(); g += 5) {
        PlaceColdItems(warm, cold, candidate, excluded, grid[g], out);
        const int64_t full = RankOfTarget(out, target, history, mask);
        ASSERT_EQ(RankWithColdSlots(row, grid[g]), full)
            << "trial " << trial << " target " << target << " " << grid[g].ToString();
        ++checked;
        moved += full != RankOfTarget(warm, target, history, mask);
      }
    }
  }
  EXPECT_GT(checked, 1000);
  EXPECT_GT(moved, 100);
}

TEST(RetailProtocolTest, FlagErrorsNameTheFlag) {
  OnlineRetailProtocol protocol(TestRegistry(std::make_shared<FitLog>()));
  EvalContext ctx;
  ctx.task = "rec";
  ctx.progress.mode = ProgressMode::kOff;
  ctx.inputs.data = {"/nonexistent/retail.csv"};
  auto r = protocol.Run(ctx);
  EXPECT_NE(r.status().message().find("--cutoff"), std::string::npos) << r.status().message();
  ctx.inputs.cutoff = "2011-13-01";
  r = protocol.Run(ctx);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--cutoff"), std::string::npos) << r.status().message();
  ctx.inputs.cutoff = "2011-04-01";
  r = protocol.Run(ctx);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("--data"), std::string::npos);
  EXPECT_NE(r.status().message().find("/nonexistent/retail.csv"), std::string::npos);
  // A cut-off too early to tune on.
  auto dir = souk::testing::TempDir("retail_early");
  const std::string path = (dir / "retail.csv").string();
  WriteFile(path, TinyRetailCsv());
  ctx.inputs.data = {path};
  ctx.inputs.cutoff = "2011-01-20";
  r = protocol.Run(ctx);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--cutoff 2011-01-20"), std::string::npos)
      << r.status().message();
}

// LogisticRegressionTest moved to rank/logistic_regression_test.cc.

}  // namespace
}  // namespace souk::eval
