#include "text/stemmer.h"

#include <gtest/gtest.h>

#include "common/testing.h"

namespace souk::text {
namespace {

TEST(StemmerTest, EnglishStems) {
  auto s = Stemmer::Create("english");
  ASSERT_OK(s);
  EXPECT_EQ((*s)->Stem("running"), "run");
  EXPECT_EQ((*s)->Stem("shoes"), "shoe");
  EXPECT_EQ((*s)->Stem("batteries"), "batteri");
  EXPECT_EQ((*s)->Stem("faucet"), "faucet");
  std::vector<std::string> words = {"running", "shoes"};
  (*s)->StemAll(words);
  EXPECT_EQ(words, (std::vector<std::string>{"run", "shoe"}));
}

TEST(StemmerTest, ChineseNeverStemmed) {
  auto s = Stemmer::Create("english");
  ASSERT_OK(s);
  EXPECT_EQ((*s)->Stem("手机"), "手机");
  EXPECT_EQ((*s)->Stem("iphone手机s"), "iphone手机s");
  EXPECT_EQ((*s)->Stem("カタカナ"), "カタカナ");
}

TEST(StemmerTest, NoneIsIdentity) {
  auto s = Stemmer::Create("none");
  ASSERT_OK(s);
  EXPECT_TRUE((*s)->is_none());
  EXPECT_EQ((*s)->Stem("running"), "running");
}

TEST(StemmerTest, OtherLanguages) {
  auto fr = Stemmer::Create("french");
  ASSERT_OK(fr);
  EXPECT_EQ((*fr)->Stem("chaussures"), "chaussur");
  auto de = Stemmer::Create("german");
  ASSERT_OK(de);
  EXPECT_EQ((*de)->language(), "german");
}

TEST(StemmerTest, UnknownLanguageIsInvalidArgumentNamingIt) {
  auto s = Stemmer::Create("klingon");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("klingon"), std::string::npos);
  EXPECT_NE(s.status().message().find("english"), std::string::npos);
}

}  // namespace
}  // namespace souk::text
