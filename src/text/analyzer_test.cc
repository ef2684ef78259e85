#include "text/analyzer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/testing.h"
#include "text/utf8.h"

namespace souk::text {
namespace {

using Strings = std::vector<std::string>;

class AnalyzerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto a = Analyzer::Create();
    ASSERT_OK(a);
    analyzer_ = std::move(a).value().release();
  }
  static void TearDownTestSuite() {
    delete analyzer_;
    analyzer_ = nullptr;
  }
  static const Analyzer* analyzer_;
};
const Analyzer* AnalyzerTest::analyzer_ = nullptr;

TEST_F(AnalyzerTest, EnglishStemming) {
  EXPECT_EQ(analyzer_->Terms("Running Shoes"), (Strings{"run", "shoe"}));
}

TEST_F(AnalyzerTest, MixedChineseTitle) {
  EXPECT_EQ(analyzer_->Terms("華為Ｍａｔｅ６０ Pro手機 256GB"),
            (Strings{"华为", "mate60", "pro", "手机", "256gb"}));
}

TEST_F(AnalyzerTest, QuantitiesMergeIntoOneTerm) {
  EXPECT_EQ(analyzer_->Terms("Water 5 L"), (Strings{"water", "5000ml"}));
  EXPECT_EQ(analyzer_->Terms("water 5000ml"), (Strings{"water", "5000ml"}));
  EXPECT_EQ(analyzer_->Terms("大米3斤装"), analyzer_->Terms("大米1.5千克装"));
  const std::vector<AnalyzedToken> tokens = analyzer_->Analyze("大米3斤装");
  bool found = false;
  for (const AnalyzedToken& t : tokens) {
    if (t.term == "1500g") {
      found = true;
      EXPECT_EQ(t.kind, TokenKind::kQuantity);
      EXPECT_EQ(t.original, "3斤");
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(analyzer_->Terms("１２ ｏｚ cans"), (Strings{"340.2g", "can"}));
}

TEST_F(AnalyzerTest, OffsetsReferToOriginalInput) {
  const std::string input = "  ＡＰＰＬＥ 電腦  Straße 5 L ";
  const std::vector<AnalyzedToken> tokens = analyzer_->Analyze(input);
  std::map<std::string, std::string> original;
  uint32_t last_end = 0;
  for (const AnalyzedToken& t : tokens) {
    EXPECT_LE(last_end, t.begin);
    ASSERT_LE(t.end, input.size());
    EXPECT_EQ(t.original, input.substr(t.begin, t.end - t.begin));
    original[t.term] = t.original;
    last_end = t.end;
  }
  EXPECT_EQ(original["appl"], "ＡＰＰＬＥ");
  EXPECT_EQ(original["电脑"], "電腦");
  EXPECT_EQ(original["strass"], "Straße");
  EXPECT_EQ(original["5000ml"], "5 L");
}

TEST_F(AnalyzerTest, SymbolsDroppedByDefault) {
  EXPECT_EQ(analyzer_->Terms("Wi-Fi + Bluetooth, 100% cotton!"),
            (Strings{"wi", "fi", "bluetooth", "100", "cotton"}));
  Analyzer::Options o;
  o.keep_symbols = true;
  auto a = Analyzer::Create(o);
  ASSERT_OK(a);
  EXPECT_EQ((*a)->Terms("a + b"), (Strings{"a", "+", "b"}));
}

TEST_F(AnalyzerTest, NoStemmingOption) {
  Analyzer::Options o;
  o.stem_language = "none";
  auto a = Analyzer::Create(o);
  ASSERT_OK(a);
  EXPECT_EQ((*a)->Terms("Running Shoes"), (Strings{"running", "shoes"}));
  o.stem_language = "klingon";
  auto bad = Analyzer::Create(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("klingon"), std::string::npos);
}

TEST_F(AnalyzerTest, InvalidUtf8AndEmpty) {
  EXPECT_TRUE(analyzer_->Terms("").empty());
  const std::string input = "ok\xFF\xFEgo\xE4";
  for (const AnalyzedToken& t : analyzer_->Analyze(input)) {
    EXPECT_TRUE(IsValidUtf8(t.term));
    EXPECT_LE(t.end, input.size());
    EXPECT_LT(t.begin, t.end);
  }
}

TEST_F(AnalyzerTest, HomeDepotTitles) {
  SOUK_REQUIRE_DATA(path, "homedepot/products.csv");
  std::ifstream in(path);
  ASSERT_TRUE(in.good());
  std::map<std::string, std::string> titles;  // product_uid -> title
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line) && titles.size() < 2000) {
    const size_t comma = line.find(',');
    ASSERT_NE(comma, std::string::npos) << line;
    titles[line.substr(0, comma)] = line.substr(comma + 1);
  }
  ASSERT_EQ(titles.count("100001"), 1u);
  EXPECT_EQ(analyzer_->Terms(titles["100001"]),
            (Strings{"simpson", "strong", "tie", "12", "gaug", "angl"}));
  const Strings behr = analyzer_->Terms(titles["100002"]);
  EXPECT_NE(std::find(behr.begin(), behr.end(), "3785ml"), behr.end());  // "1-gal."
  EXPECT_NE(std::find(behr.begin(), behr.end(), "textur"), behr.end());
  const Strings whirlpool = analyzer_->Terms(titles["100006"]);
  EXPECT_NE(std::find(whirlpool.begin(), whirlpool.end(), "microwav"), whirlpool.end());
  EXPECT_NE(std::find(whirlpool.begin(), whirlpool.end(), "1.9"), whirlpool.end());
  // Every title yields terms with exact offsets.
  size_t with_quantity = 0;
  for (const auto& [uid, title] : titles) {
    const std::vector<AnalyzedToken> tokens = analyzer_->Analyze(title);
    ASSERT_FALSE(tokens.empty()) << uid << ": " << title;
    for (const AnalyzedToken& t : tokens) {
      ASSERT_LE(t.end, title.size());
      ASSERT_EQ(t.original, title.substr(t.begin, t.end - t.begin));
      if (t.kind == TokenKind::kQuantity) ++with_quantity;
    }
  }
  // Home Depot titles are full of "in.", "ft.", "gal.", "oz.": many quantities.
  EXPECT_GT(with_quantity, titles.size() / 5);
}

}  // namespace
}  // namespace souk::text
