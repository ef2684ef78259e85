#include "eval/ner_protocol.h"

#include <cstdio>
#include <fstream>
#include <random>

#include "common/testing.h"
#include "text/utf8.h"

namespace souk::eval {
namespace {

using search::EntityMatchStats;
using search::TaggedEntity;

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Appends the BIEOS lines of `word` tagged `type` ("" = O).
void AppendWord(std::string* out, const std::string& word, const std::string& type) {
  std::vector<std::string> chars;
  for (const text::CodePoint& c : text::DecodeUtf8(word)) {
    chars.push_back(word.substr(c.begin, c.end - c.begin));
  }
  for (size_t i = 0; i < chars.size(); ++i) {
    std::string tag = "O";
    if (!type.empty()) {
      tag = chars.size() == 1 ? "S-" : i == 0 ? "B-" : i + 1 == chars.size() ? "E-" : "I-";
      tag += type;
    }
    *out += chars[i] + "\t" + tag + "\n";
  }
}

// n sentences "[filler] brand product [filler]" in BIEOS.
std::string SyntheticBieos(size_t n, uint64_t seed) {
  static const std::vector<std::string> kBrands = {"耐克", "华为", "小米", "欧莱雅", "美的"};
  static const std::vector<std::string> kProducts = {"运动鞋", "手机", "耳机", "洗面奶", "电饭煲"};
  static const std::vector<std::string> kFillers = {"正品", "新款", "包邮", "特价", " "};
  std::mt19937_64 rng(seed);
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (rng() % 2) AppendWord(&out, kFillers[rng() % kFillers.size()], "");
    AppendWord(&out, kBrands[rng() % kBrands.size()], "HP");
    AppendWord(&out, kProducts[rng() % kProducts.size()], "HC");
    if (rng() % 2) AppendWord(&out, kFillers[rng() % kFillers.size()], "");
    out += "\n";
  }
  return out;
}

TEST(NerMetricsTest, MicroAndPerTypeKeys) {
  EntityMatchStats stats;
  stats.Add({{"HP", "a", 0, 1}, {"HC", "bc", 1, 3}}, {{"HP", "a", 0, 1}, {"HC", "b", 1, 2}});
  const auto m = NerMetrics(stats, {"HC", "HP"}, 1);
  EXPECT_DOUBLE_EQ(m.at("precision"), 0.5);
  EXPECT_DOUBLE_EQ(m.at("recall"), 0.5);
  EXPECT_DOUBLE_EQ(m.at("f1"), 0.5);
  EXPECT_DOUBLE_EQ(m.at("f1_HP"), 1.0);
  EXPECT_DOUBLE_EQ(m.at("precision_HP"), 1.0);
  EXPECT_DOUBLE_EQ(m.at("recall_HC"), 0.0);
  EXPECT_DOUBLE_EQ(m.at("f1_HC"), 0.0);
  EXPECT_DOUBLE_EQ(m.at("n_sentences"), 1);
  EXPECT_DOUBLE_EQ(m.at("n_entities"), 2);
  // A type the model knows but the data lacks still gets its keys (zeros).
  const auto m2 = NerMetrics(EntityMatchStats(), {"HP", "XX"}, 0);
  EXPECT_DOUBLE_EQ(m2.at("f1_XX"), 0.0);
  EXPECT_DOUBLE_EQ(m2.at("f1"), 0.0);
}

TEST(ParseGazetteerFlagTest, ExplicitTypeOrFromFileName) {
  auto a = ParseGazetteerFlag("HP=/data/my brands.txt");
  ASSERT_OK(a);
  EXPECT_EQ(a->first, "HP");
  EXPECT_EQ(a->second, "/data/my brands.txt");
  auto b = ParseGazetteerFlag("../shared/data/cn-ecommerce-ner/brand1.dic");
  ASSERT_OK(b);
  EXPECT_EQ(b->first, "HP");
  auto c = ParseGazetteerFlag("dicts/Product1.dic");
  ASSERT_OK(c);
  EXPECT_EQ(c->first, "HC");
  EXPECT_EQ(c->second, "dicts/Product1.dic");
  auto d = ParseGazetteerFlag("dicts/words.txt");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("TYPE=PATH"), std::string::npos);
  EXPECT_FALSE(ParseGazetteerFlag("HP=").ok());
}

TEST(ScoreLongestMatchTest, GreedyLongestMatchAgainstGold) {
  auto gold = search::ParseBieos(
      "耐\tB-HP\n克\tE-HP\n运\tB-HC\n动\tI-HC\n鞋\tE-HC\n\n"
      "鞋\tS-HC\n子\tO\n",
      "mem");
  ASSERT_OK(gold);
  search::Gazetteer gaz;
  gaz.Add("HP", "耐克");
  gaz.Add("HC", "运动");  // shorter than the gold entity: a miss
  gaz.Add("HC", "鞋子");  // longer than the gold entity: a miss and a false positive
  const EntityMatchStats s = ScoreLongestMatch(gaz, *gold);
  EXPECT_EQ(s.micro().gold, 3u);
  EXPECT_EQ(s.micro().predicted, 3u);  // 耐克, 运动, 鞋子
  EXPECT_EQ(s.micro().correct, 1u);
  EXPECT_EQ(s.ForType("HP").correct, 1u);
}

class NerProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("ner_protocol");
    WriteFile(dir_ / "train.bieos", SyntheticBieos(200, 1));
    WriteFile(dir_ / "dev.bieos", SyntheticBieos(40, 2));
    WriteFile(dir_ / "test.bieos", SyntheticBieos(30, 3));
    WriteFile(dir_ / "brands.dic", "耐克\n华为\n");
  }
  EvalContext Context() const {
    EvalContext ctx;
    ctx.task = "ner";
    ctx.inputs.train = (dir_ / "train.bieos").string();
    ctx.inputs.dev = (dir_ / "dev.bieos").string();
    ctx.inputs.gazetteers = {"HP=" + (dir_ / "brands.dic").string()};
    ctx.progress.mode = ProgressMode::kOff;
    return ctx;
  }
  std::filesystem::path dir_;
};

TEST_F(NerProtocolTest, ReportsOnDevWithAblations) {
  NerProtocol protocol;
  protocol.set_epochs(3);
  const std::string model = (dir_ / "tagger.bin").string();
  protocol.set_model_out(model);
  auto report = protocol.Run(Context());
  ASSERT_OK(report);
  EXPECT_EQ(report->dataset, "dev");
  for (const char* key : {"precision", "recall", "f1", "f1_HP", "f1_HC", "precision_HP",
                          "recall_HC", "n_sentences", "n_entities"}) {
    EXPECT_TRUE(report->metrics.count(key)) << key;
  }
  EXPECT_EQ(report->metrics.at("n_sentences"), 40);
  EXPECT_EQ(report->metrics.at("n_entities"), 80);
  EXPECT_GE(report->metrics.at("f1"), 0.95);  // the synthetic pattern is easy
  ASSERT_TRUE(report->ablations.count("no_gazetteer"));
  ASSERT_TRUE(report->ablations.count("gazetteer_longest_match"));
  ASSERT_TRUE(report->ablations.count("training_entities_longest_match"));
  EXPECT_FALSE(report->ablations.count("model_dev"));
  // Every brand and product of dev occurs in train, so longest match is exact here.
  EXPECT_DOUBLE_EQ(report->ablations.at("gazetteer_longest_match").at("f1"), 1.0);
  EXPECT_EQ(report->extra.at("scored_on"), "dev");
  EXPECT_EQ(report->extra.at("model").at("epochs"), 3);
  EXPECT_EQ(report->extra.at("gazetteers").size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(model));
  auto loaded = search::EntityTagger::Load(model);
  ASSERT_OK(loaded);
}

TEST_F(NerProtocolTest, ReportsOnTestWhenGiven) {
  NerProtocol protocol;
  protocol.set_epochs(2);
  EvalContext ctx = Context();
  ctx.inputs.test = (dir_ / "test.bieos").string();
  auto report = protocol.Run(ctx);
  ASSERT_OK(report);
  EXPECT_EQ(report->dataset, "test");
  EXPECT_EQ(report->metrics.at("n_sentences"), 30);
  EXPECT_EQ(report->extra.at("scored_on"), "test");
  ASSERT_TRUE(report->ablations.count("model_dev"));
  EXPECT_EQ(report->ablations.at("model_dev").at("n_sentences"), 40);
}

TEST_F(NerProtocolTest, BadInputsNameTheFlagOrLine) {
  NerProtocol protocol;
  protocol.set_epochs(1);
  {
    EvalContext ctx = Context();
    ctx.inputs.train.clear();
    auto r = protocol.Run(ctx);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("--train"), std::string::npos);
  }
  {
    EvalContext ctx = Context();
    ctx.inputs.dev = (dir_ / "missing.bieos").string();
    auto r = protocol.Run(ctx);
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
    EXPECT_NE(r.status().message().find("missing.bieos"), std::string::npos);
  }
  {
    EvalContext ctx = Context();
    WriteFile(dir_ / "words.dic", "耐克\n");
    ctx.inputs.gazetteers = {(dir_ / "words.dic").string()};  // type not in the name
    auto r = protocol.Run(ctx);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  {
    WriteFile(dir_ / "bad.bieos", "a\tO\nb\tO\nc\n");
    EvalContext ctx = Context();
    ctx.inputs.train = (dir_ / "bad.bieos").string();
    auto r = protocol.Run(ctx);
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find("bad.bieos:3"), std::string::npos) << r.status().message();
  }
}

// Real data (EVAL.md E): the numbers the README quotes.
TEST(NerProtocolDataTest, CnEcommerceNerOnDev) {
  SOUK_REQUIRE_DATA(train, "cn-ecommerce-ner/train.txt.bieos");
  SOUK_REQUIRE_DATA(dev, "cn-ecommerce-ner/dev.txt.bieos");
  SOUK_REQUIRE_DATA(brands, "cn-ecommerce-ner/brand1.dic");
  SOUK_REQUIRE_DATA(products, "cn-ecommerce-ner/product1.dic");
  EvalContext ctx;
  ctx.task = "ner";
  ctx.inputs.train = train.string();
  ctx.inputs.dev = dev.string();
  ctx.inputs.gazetteers = {brands.string(), products.string()};
  ctx.progress.mode = ProgressMode::kOff;
  NerProtocol protocol;
  auto report = RunProtocol(protocol, ctx);
  ASSERT_OK(report);
  std::printf("%s\n", ReportToJson(*report, true).dump(1).c_str());
  EXPECT_EQ(report->metrics.at("n_sentences"), 500);
  EXPECT_GE(report->metrics.at("f1"), 0.70);
  EXPECT_GT(report->metrics.at("f1"), report->ablations.at("no_gazetteer").at("f1"));
  EXPECT_GT(report->metrics.at("f1"), report->ablations.at("gazetteer_longest_match").at("f1"));
  EXPECT_EQ(report->extra.at("train").at("repaired_sentences"), 1);
}

}  // namespace
}  // namespace souk::eval
