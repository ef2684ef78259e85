#include "index/autocomplete.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "common/testing.h"
#include "ingest/csv_reader.h"

namespace souk::index {
namespace {

using Strings = std::vector<std::string>;

Strings Texts(const std::vector<Completion>& c) {
  Strings out;
  for (const Completion& x : c) out.push_back(x.text);
  return out;
}

class AutocompleteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto analyzer = text::Analyzer::Create();
    ASSERT_OK(analyzer);
    analyzer_ = std::move(*analyzer);
  }
  std::unique_ptr<text::Analyzer> analyzer_;
};

TEST_F(AutocompleteTest, PrefixMatchesRankedByWeight) {
  Autocomplete ac(*analyzer_);
  ASSERT_OK(ac.Add("Samsung 55 in. TV", 1, "title"));
  ASSERT_OK(ac.Add("Samsung Galaxy S23", 1, "title"));
  ASSERT_OK(ac.Add("samsung tv", 50, "query"));
  ASSERT_OK(ac.Add("Sony Headphones", 3, "title"));
  ASSERT_OK(ac.Add("TV Stand", 2, "title"));
  ASSERT_OK(ac.Add("Samsung TV Stand", 4, "title"));
  ac.Build();
  EXPECT_EQ(ac.size(), 6u);

  std::vector<Completion> c = ac.Complete("Sams", 10);
  EXPECT_EQ(Texts(c), (Strings{"samsung tv", "samsung tv stand", "samsung 55 in. tv",
                               "samsung galaxy s23"}));
  EXPECT_EQ(c[0].source, "query");
  EXPECT_EQ(c[0].weight, 50);
  EXPECT_FALSE(c[0].word_match);
  EXPECT_EQ(c[1].display, "Samsung TV Stand");
  EXPECT_EQ(c[1].source, "title");
  // n bounds the answer; the best ones are kept.
  EXPECT_EQ(Texts(ac.Complete("sams", 2)), (Strings{"samsung tv", "samsung tv stand"}));
  EXPECT_TRUE(ac.Complete("xyz", 5).empty());
  EXPECT_TRUE(ac.Complete("", 5).empty());
  EXPECT_TRUE(ac.Complete("   ", 5).empty());
  EXPECT_TRUE(ac.Complete("sams", 0).empty());
}

TEST_F(AutocompleteTest, WordStartsAreASecondTier) {
  Autocomplete ac(*analyzer_);
  ASSERT_OK(ac.Add("Samsung TV Stand", 100, "title"));
  ASSERT_OK(ac.Add("Walnut TV Stand", 5, "title"));
  ASSERT_OK(ac.Add("TV Wall Mount", 1, "title"));
  ASSERT_OK(ac.Add("tvs", 2, "query"));
  ac.Build();
  std::vector<Completion> c = ac.Complete("tv", 10);
  // Texts starting with "tv" come first even with lower weights.
  EXPECT_EQ(Texts(c), (Strings{"tvs", "tv wall mount", "samsung tv stand", "walnut tv stand"}));
  EXPECT_FALSE(c[1].word_match);
  EXPECT_TRUE(c[2].word_match);
  // "stand" only occurs at a word start inside texts.
  EXPECT_EQ(Texts(ac.Complete("stan", 10)), (Strings{"samsung tv stand", "walnut tv stand"}));
  // A trailing space means the word is complete.
  EXPECT_EQ(Texts(ac.Complete("tv ", 10)), (Strings{"tv wall mount", "samsung tv stand",
                                                     "walnut tv stand"}));
  // Mid-word substrings are not completions.
  EXPECT_TRUE(ac.Complete("alnut", 10).empty());
}

TEST_F(AutocompleteTest, NormalizationFoldsCaseWidthAndScript) {
  Autocomplete ac(*analyzer_);
  ASSERT_OK(ac.Add("ＳＡＭＳＵＮＧ Soundbar", 1, "title"));
  ASSERT_OK(ac.Add("華為手機 Mate 60", 3, "title"));
  ASSERT_OK(ac.Add("小米电视", 2, "title"));
  ac.Build();
  EXPECT_EQ(Texts(ac.Complete("samsung s", 5)), (Strings{"samsung soundbar"}));
  EXPECT_EQ(Texts(ac.Complete("ＳＡＭ", 5)), (Strings{"samsung soundbar"}));
  // Traditional and simplified prefixes both find the (simplified) text.
  EXPECT_EQ(Texts(ac.Complete("华为", 5)), (Strings{"华为手机 mate 60"}));
  EXPECT_EQ(Texts(ac.Complete("華為", 5)), (Strings{"华为手机 mate 60"}));
  // Word starts inside a Han run come from the segmenter.
  std::vector<Completion> tv = ac.Complete("電視", 5);
  ASSERT_EQ(Texts(tv), (Strings{"小米电视"}));
  EXPECT_TRUE(tv[0].word_match);
}

TEST_F(AutocompleteTest, DuplicatesMergeAndRebuildKeepsEarlierEntries) {
  Autocomplete ac(*analyzer_);
  ASSERT_OK(ac.Add("Cordless Drill", 1, "title"));
  ASSERT_OK(ac.Add("cordless drill", 10, "query"));
  ac.Build();
  ASSERT_OK(ac.Add("CORDLESS DRILL", 5, "query"));
  ASSERT_OK(ac.Add("Cordless Impact Driver", 3, "title"));
  // Not visible before Build.
  EXPECT_EQ(ac.Complete("cordless", 10).size(), 1u);
  ac.Build();
  std::vector<Completion> c = ac.Complete("cord", 10);
  ASSERT_EQ(Texts(c), (Strings{"cordless drill", "cordless impact driver"}));
  EXPECT_EQ(c[0].weight, 16);
  EXPECT_EQ(c[0].source, "query");
  EXPECT_EQ(c[0].display, "cordless drill");  // the largest single Add
}

TEST_F(AutocompleteTest, BadInput) {
  Autocomplete ac(*analyzer_);
  EXPECT_EQ(ac.Add("tv", -1, "query").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ac.Add("tv", std::nan(""), "query").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ac.Add("tv", 1, "").code(), StatusCode::kInvalidArgument);
  Status st = ac.Add(" \t ", 1, "title");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("empty after normalization"), std::string::npos);
  ASSERT_OK(ac.Add("\xff\xfe broken utf8 title", 1, "title"));
  ac.Build();
  EXPECT_EQ(ac.size(), 1u);
  EXPECT_EQ(ac.Complete("\xff", 3).size(), 1u);  // U+FFFD on both sides
}

TEST_F(AutocompleteTest, HomeDepotTitles) {
  SOUK_REQUIRE_DATA(path, "homedepot/products.csv");
  auto reader = ingest::CsvReader::Open(path.string());
  ASSERT_OK(reader);
  const int title = (*reader)->Column("title");
  ASSERT_GE(title, 0);
  Autocomplete ac(*analyzer_);
  ingest::CsvRecord rec;
  size_t n = 0;
  const auto start = std::chrono::steady_clock::now();
  while ((*reader)->Next(&rec)) {
    if (rec.error != ingest::RecordError::kNone) continue;
    ASSERT_OK(ac.Add(rec.fields[title], 1, "title"));
    ++n;
  }
  ASSERT_OK(ac.Add("angle bracket", 40, "query"));
  ac.Build();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "autocomplete: %zu titles -> %zu entries in %.2f s\n", n, ac.size(), secs);
  EXPECT_EQ(n, 54667u);
  EXPECT_GT(ac.size(), 50000u);  // a few titles repeat

  std::vector<Completion> c = ac.Complete("Angle B", 10);
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].text, "angle bracket");
  EXPECT_EQ(c[0].source, "query");
  for (const Completion& x : c) {
    if (!x.word_match) {
      EXPECT_EQ(x.text.rfind("angle b", 0), 0u) << x.text;
    }
  }
  // "Simpson Strong-Tie" titles start with the prefix; the answer is full.
  std::vector<Completion> s = ac.Complete("simpson strong", 20);
  EXPECT_EQ(s.size(), 20u);
  for (const Completion& x : s) EXPECT_EQ(x.text.rfind("simpson strong", 0), 0u) << x.text;
  // Word-start tier: "bracket" is rarely the first word of a title.
  std::vector<Completion> b = ac.Complete("bracket", 10);
  EXPECT_EQ(b.size(), 10u);
  bool any_word_match = false;
  for (const Completion& x : b) any_word_match |= x.word_match;
  EXPECT_TRUE(any_word_match);

  const auto q0 = std::chrono::steady_clock::now();
  size_t total = 0;
  for (const char* p : {"a", "s", "sa", "ang", "simpson", "ge", "whi", "3", "bosch", "led"}) {
    total += ac.Complete(p, 10).size();
  }
  const double per_query_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - q0).count() / 10;
  std::fprintf(stderr, "autocomplete: %.3f ms per Complete (n=10)\n", per_query_ms);
  EXPECT_EQ(total, 100u);
}

}  // namespace
}  // namespace souk::index
