#include "text/segmenter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common/testing.h"
#include "text/normalizer.h"
#include "text/utf8.h"

namespace souk::text {
namespace {

std::vector<std::string> Texts(const std::vector<Token>& tokens) {
  std::vector<std::string> out;
  for (const Token& t : tokens) out.push_back(t.text);
  return out;
}

std::unique_ptr<Segmenter> MakeSegmenter() {
  auto s = Segmenter::Create();
  EXPECT_OK(s);
  return std::move(s).value();
}

TEST(SegmenterTest, MixedChineseEnglishTitle) {
  auto seg = MakeSegmenter();
  const std::string input = "华为mate60 pro手机 256gb";
  const std::vector<Token> tokens = seg->Segment(input);
  EXPECT_EQ(Texts(tokens),
            (std::vector<std::string>{"华为", "mate60", "pro", "手机", "256gb"}));
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(tokens[0].kind, TokenKind::kCjk);
  EXPECT_EQ(tokens[1].kind, TokenKind::kWord);
  EXPECT_EQ(tokens[3].kind, TokenKind::kCjk);
  EXPECT_EQ(tokens[4].kind, TokenKind::kWord);
  for (const Token& t : tokens) EXPECT_EQ(input.substr(t.begin, t.end - t.begin), t.text);
}

TEST(SegmenterTest, ChineseWordsFromDictionary) {
  auto seg = MakeSegmenter();
  const std::vector<std::string> words = Texts(seg->Segment("我想买一台笔记本电脑"));
  // ICU's dictionary finds multi-character words ("一台", "电脑"), not just characters.
  EXPECT_NE(std::find(words.begin(), words.end(), "一台"), words.end());
  EXPECT_NE(std::find(words.begin(), words.end(), "电脑"), words.end());
  std::string joined;
  for (const std::string& w : words) joined += w;
  EXPECT_EQ(joined, "我想买一台笔记本电脑");
}

TEST(SegmenterTest, LexiconMergesWordsIcuSplits) {
  Segmenter::Options plain;
  plain.builtin_lexicon = false;
  auto icu_only = Segmenter::Create(plain);
  ASSERT_OK(icu_only);
  // Without a lexicon ICU splits the brand into characters.
  EXPECT_EQ(Texts((*icu_only)->Segment("华为手机")), (std::vector<std::string>{"华", "为", "手机"}));
  auto with_builtin = MakeSegmenter();
  EXPECT_EQ(Texts(with_builtin->Segment("华为手机")), (std::vector<std::string>{"华为", "手机"}));

  Segmenter::Options custom;
  custom.lexicon = {"笔记本", "一个词太长了不能进入词典"};
  auto seg = Segmenter::Create(custom);
  ASSERT_OK(seg);
  const std::string input = "一台笔记本电脑";
  const std::vector<Token> tokens = (*seg)->Segment(input);
  EXPECT_EQ(Texts(tokens), (std::vector<std::string>{"一台", "笔记本", "电脑"}));
  for (const Token& t : tokens) EXPECT_EQ(input.substr(t.begin, t.end - t.begin), t.text);
}

TEST(SegmenterTest, LexiconFile) {
  const auto dir = souk::testing::TempDir("lexicon");
  const std::string path = (dir / "words.txt").string();
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("# brands\n笔记本\t100\n\n", f);
  std::fclose(f);
  Segmenter::Options o;
  o.lexicon_path = path;
  auto seg = Segmenter::Create(o);
  ASSERT_OK(seg);
  EXPECT_EQ(Texts((*seg)->Segment("笔记本")), (std::vector<std::string>{"笔记本"}));
  o.lexicon_path = "/nonexistent/words.txt";
  auto missing = Segmenter::Create(o);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/words.txt"), std::string::npos);
}

TEST(SegmenterTest, DropsWhitespaceAndPunctuation) {
  auto seg = MakeSegmenter();
  EXPECT_EQ(Texts(seg->Segment("  hello, world!!  (new) ... ")),
            (std::vector<std::string>{"hello", "world", "new"}));
  EXPECT_TRUE(seg->Segment("").empty());
  EXPECT_TRUE(seg->Segment(" ,.!?()[]\"' ").empty());
}

TEST(SegmenterTest, NumbersAndSymbols) {
  auto seg = MakeSegmenter();
  const std::vector<Token> tokens = seg->Segment("price 1,299.50 + 20% off");
  EXPECT_EQ(Texts(tokens),
            (std::vector<std::string>{"price", "1,299.50", "+", "20", "off"}));  // % is Po
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(tokens[1].kind, TokenKind::kNumber);
  EXPECT_EQ(tokens[2].kind, TokenKind::kOther);
  Segmenter::Options o;
  o.keep_symbols = false;
  auto plain = Segmenter::Create(o);
  ASSERT_OK(plain);
  EXPECT_EQ(Texts((*plain)->Segment("price 1,299.50 + 20% off")),
            (std::vector<std::string>{"price", "1,299.50", "20", "off"}));
}

TEST(SegmenterTest, InvalidUtf8HasExactOffsets) {
  auto seg = MakeSegmenter();
  const std::string input = std::string("ab\xFF") + "cd 手\xE6\x9C" + " xy";
  const std::vector<Token> tokens = seg->Segment(input);
  uint32_t last_end = 0;
  for (const Token& t : tokens) {
    EXPECT_LE(last_end, t.begin);
    EXPECT_LT(t.begin, t.end);
    EXPECT_LE(t.end, input.size());
    EXPECT_TRUE(IsValidUtf8(t.text));
    last_end = t.end;
  }
  ASSERT_FALSE(tokens.empty());
  EXPECT_EQ(tokens.back().text, "xy");
  EXPECT_EQ(tokens.back().begin, input.size() - 2);
}

TEST(SegmenterTest, KanaAndHangulAreCjk) {
  auto seg = MakeSegmenter();
  for (const Token& t : seg->Segment("カタカナ 한국어")) EXPECT_EQ(t.kind, TokenKind::kCjk) << t.text;
}

TEST(ClassifyTokenTest, Kinds) {
  EXPECT_EQ(ClassifyToken("shoe"), TokenKind::kWord);
  EXPECT_EQ(ClassifyToken("256gb"), TokenKind::kWord);
  EXPECT_EQ(ClassifyToken("1,000"), TokenKind::kNumber);
  EXPECT_EQ(ClassifyToken("手机"), TokenKind::kCjk);
  EXPECT_EQ(ClassifyToken("€"), TokenKind::kOther);
  EXPECT_EQ(TokenKindName(TokenKind::kQuantity), "quantity");
}

}  // namespace
}  // namespace souk::text
