// Pre-training and fine-tuning on real shop text (Home Depot titles and
// judged queries), small enough for CI: the losses fall, checkpoints resume,
// validation retrieval improves, LoRA leaves the base weights untouched.
#include "lm/bert_trainer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "common/sha256.h"
#include "common/testing.h"
#include "ingest/csv_reader.h"
#include "lm/bert_encoder.h"
#include "lm/wordpiece_tokenizer.h"

namespace souk::lm {
namespace {
namespace fs = std::filesystem;

struct HomeDepot {
  std::vector<std::string> titles;
  std::vector<TrainPair> pairs;
};

// The first `n_products` titles and pairs (query -> title, relevance >= 2.33)
// of the judgments whose product is among them.
HomeDepot ReadHomeDepot(const std::string& dir, size_t n_products) {
  HomeDepot hd;
  std::map<std::string, size_t> uid;
  auto products = ingest::CsvReader::Open(dir + "/products.csv");
  EXPECT_TRUE(products.ok());
  if (!products.ok()) return hd;
  const int c_uid = (*products)->Column("product_uid"), c_title = (*products)->Column("title");
  ingest::CsvRecord rec;
  while (hd.titles.size() < n_products && (*products)->Next(&rec)) {
    if (rec.error != ingest::RecordError::kNone) continue;
    uid[std::string(rec.fields[c_uid])] = hd.titles.size();
    hd.titles.emplace_back(rec.fields[c_title]);
  }
  auto judgments = ingest::CsvReader::Open(dir + "/judgments.dev.csv");
  EXPECT_TRUE(judgments.ok());
  if (!judgments.ok()) return hd;
  const int c_q = (*judgments)->Column("query"), c_p = (*judgments)->Column("product_uid"),
            c_r = (*judgments)->Column("relevance");
  while ((*judgments)->Next(&rec)) {
    if (rec.error != ingest::RecordError::kNone) continue;
    auto it = uid.find(std::string(rec.fields[c_p]));
    if (it == uid.end() || std::stod(std::string(rec.fields[c_r])) < 2.33) continue;
    hd.pairs.push_back({std::string(rec.fields[c_q]), hd.titles[it->second]});
  }
  return hd;
}

PretrainOptions TinyPretrain() {
  PretrainOptions o;
  o.hidden_size = 64;
  o.num_layers = 2;
  o.num_heads = 4;
  o.intermediate_size = 128;
  o.vocab_size = 2000;
  o.epochs = 2;
  o.batch_size = 32;
  o.learning_rate = 2e-3f;
  o.max_length = 24;
  o.threads = 1;
  o.checkpoint_every = 20;
  return o;
}

ProgressOptions Quiet() {
  ProgressOptions p;
  p.mode = ProgressMode::kOff;
  return p;
}

TEST(BertTrainerTest, PretrainFinetuneAndResumeOnHomeDepot) {
  SOUK_REQUIRE_DATA(dir, "homedepot");
  HomeDepot hd = ReadHomeDepot(dir, 4000);
  ASSERT_GT(hd.pairs.size(), 200u);
  const ProgressOptions quiet = Quiet();

  // Pre-training, interrupted by a time budget, then resumed to the end.
  fs::path base = testing::TempDir("bert_pretrain");
  PretrainOptions po = TinyPretrain();
  po.max_seconds = 1e-9;  // stops after the first step
  ASSERT_OK_AND_ASSIGN(TrainReport cut, PretrainEncoder(hd.titles, base, po, &quiet));
  EXPECT_TRUE(cut.stopped_early);
  EXPECT_EQ(cut.steps, 1);
  po.max_seconds = 0;
  ASSERT_OK_AND_ASSIGN(TrainReport full, PretrainEncoder(hd.titles, base, po, &quiet));
  EXPECT_TRUE(full.resumed);
  EXPECT_EQ(full.steps, 2 * (4000 / 32));
  ASSERT_GE(full.loss_curve.size(), 3u);
  // MLM loss starts near ln(vocab) ~ 7.6 and must clearly fall.
  EXPECT_GT(full.loss_curve.front(), 6.0);
  EXPECT_LT(full.loss_curve.back(), full.loss_curve.front() - 0.4);

  ASSERT_OK_AND_ASSIGN(auto pretrained, BertEncoder::Load(base));
  EXPECT_EQ(pretrained->Dim(), 64);
  EXPECT_EQ(pretrained->tokenizer().vocab_size(), 2000);

  // Contrastive fine-tuning: validation MRR@10 rises above the pre-trained
  // model's (the first point of the curve).
  FinetuneOptions fo;
  fo.epochs = 2;
  fo.batch_size = 32;
  fo.learning_rate = 2e-3f;
  fo.validation_fraction = 0.1;
  fo.validation_corpus = 1000;
  fo.threads = 1;
  fo.patience = 5;
  fs::path tuned = testing::TempDir("bert_finetune");
  ASSERT_OK_AND_ASSIGN(TrainReport ft, FinetuneEncoder(base, hd.pairs, hd.titles, tuned, fo, &quiet));
  ASSERT_GE(ft.validation_curve.size(), 2u);
  EXPECT_GT(ft.best_validation, ft.validation_curve.front() + 0.02);
  EXPECT_LT(ft.loss_curve.back(), ft.loss_curve.front());
  ASSERT_OK_AND_ASSIGN(auto tuned_encoder, BertEncoder::Load(tuned));
  std::vector<std::string> q = {hd.pairs[0].query};
  std::vector<float> a(64), b(64);
  ASSERT_OK(pretrained->Encode(q, TextKind::kQuery, a.data()));
  ASSERT_OK(tuned_encoder->Encode(q, TextKind::kQuery, b.data()));
  EXPECT_NE(a, b);

  // LoRA: base weights byte-identical, adapters saved, the encoder changes.
  FinetuneOptions lo = fo;
  lo.lora = true;
  lo.epochs = 1;
  lo.learning_rate = 5e-3f;
  fs::path lora = testing::TempDir("bert_lora");
  ASSERT_OK_AND_ASSIGN(TrainReport lr, FinetuneEncoder(base, hd.pairs, hd.titles, lora, lo, &quiet));
  EXPECT_GT(lr.steps, 0);
  ASSERT_TRUE(fs::exists(lora / "lora/adapter_model.safetensors"));
  ASSERT_OK_AND_ASSIGN(std::string base_hash, Sha256File(base / "model.safetensors"));
  ASSERT_OK_AND_ASSIGN(std::string lora_base_hash, Sha256File(lora / "model.safetensors"));
  EXPECT_EQ(base_hash, lora_base_hash);
  ASSERT_OK_AND_ASSIGN(auto lora_encoder, BertEncoder::Load(lora));
  EXPECT_NE(lora_encoder->Version(), pretrained->Version());
  std::vector<float> c(64);
  ASSERT_OK(lora_encoder->Encode(q, TextKind::kQuery, c.data()));
  EXPECT_NE(a, c);
}

TEST(BertTrainerTest, BadOptionsAndTooLittleData) {
  const ProgressOptions quiet = Quiet();
  std::vector<std::string> few = {"red drill", "blue hammer"};
  PretrainOptions po = TinyPretrain();
  fs::path out = testing::TempDir("bert_bad");
  auto r = PretrainEncoder(few, out, po, &quiet);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  po.num_heads = 5;
  EXPECT_EQ(PretrainEncoder(few, out, po, &quiet).status().code(), StatusCode::kInvalidArgument);
  FinetuneOptions fo;
  fo.batch_size = 1;
  std::vector<TrainPair> pairs = {{"drill", "red drill"}};
  EXPECT_EQ(FinetuneEncoder(out, pairs, few, out, fo, &quiet).status().code(), StatusCode::kInvalidArgument);
  fo.batch_size = 8;
  EXPECT_FALSE(FinetuneEncoder("/nonexistent/base", pairs, few, out, fo, &quiet).ok());
}

}  // namespace
}  // namespace souk::lm
