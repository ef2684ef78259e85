#include "text/normalizer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>

#include "common/testing.h"
#include "text/utf8.h"

namespace souk::text {
namespace {

class NormalizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto n = Normalizer::Create(Normalizer::Options{});
    ASSERT_OK(n);
    normalizer_ = std::move(n).value().release();
  }
  static void TearDownTestSuite() {
    delete normalizer_;
    normalizer_ = nullptr;
  }
  static std::string N(std::string_view s) { return normalizer_->Normalize(s); }
  static const Normalizer* normalizer_;
};
const Normalizer* NormalizerTest::normalizer_ = nullptr;

TEST_F(NormalizerTest, FullWidthAsciiBecomesHalfWidthLowerCase) {
  EXPECT_EQ(N("ＡＢＣ１２３"), "abc123");
  EXPECT_EQ(N("ｉＰｈｏｎｅ　１５"), "iphone 15");  // U+3000 ideographic space
}

TEST_F(NormalizerTest, CjkPunctuationFoldsToAscii) {
  EXPECT_EQ(N("你好，世界！"), "你好,世界!");
  EXPECT_EQ(N("真的吗？（是的）。"), "真的吗?(是的).");
  EXPECT_EQ(N("「新品」上市、包邮"), "\"新品\"上市,包邮");
  EXPECT_EQ(N("【正品】《说明书》"), "[正品]<说明书>");
  EXPECT_EQ(N("“quoted” ‘single’"), "\"quoted\" 'single'");
}

TEST_F(NormalizerTest, CjkPunctuationKeptWhenOptionOff) {
  Normalizer::Options o;
  o.fold_cjk_punctuation = false;
  auto n = Normalizer::Create(o);
  ASSERT_OK(n);
  EXPECT_EQ((*n)->Normalize("「新品」。"), "「新品」。");
  // NFKC still folds the full-width comma.
  EXPECT_EQ((*n)->Normalize("a，b"), "a,b");
}

TEST_F(NormalizerTest, NfkcLigaturesAndCompatibilityForms) {
  EXPECT_EQ(N("ﬁle ﬂow"), "file flow");
  EXPECT_EQ(N("①"), "1");
  EXPECT_EQ(N("㎏"), "kg");
  EXPECT_EQ(N("ｶﾀｶﾅ"), "カタカナ");  // half-width katakana -> full width
}

TEST_F(NormalizerTest, FullCaseFolding) {
  EXPECT_EQ(N("Straße"), "strasse");
  EXPECT_EQ(N("STRASSE"), "strasse");
  EXPECT_EQ(N("ΣΊΣΥΦΟΣ"), N("σίσυφος"));
  EXPECT_EQ(N("İstanbul").substr(0, 1), "i");
}

TEST_F(NormalizerTest, AccentsStrippedButKanaVoicingKept) {
  EXPECT_EQ(N("Café Crème Brûlée"), "cafe creme brulee");
  EXPECT_EQ(N("Cafe\xCC\x81"), "cafe");  // decomposed e + U+0301
  EXPECT_EQ(N("ガギグ"), "ガギグ");
  EXPECT_EQ(N("한국어"), "한국어");
  Normalizer::Options o;
  o.strip_accents = false;
  auto n = Normalizer::Create(o);
  ASSERT_OK(n);
  EXPECT_EQ((*n)->Normalize("Café"), "café");
}

TEST_F(NormalizerTest, TraditionalToSimplified) {
  EXPECT_EQ(N("電腦"), "电脑");
  EXPECT_EQ(N("軟體"), "软体");
  EXPECT_EQ(N("蘋果手機"), "苹果手机");
  EXPECT_EQ(N("华为手机"), "华为手机");  // simplified stays
}

TEST_F(NormalizerTest, TraditionalKeptWhenOptionOff) {
  Normalizer::Options o;
  o.traditional_to_simplified = false;
  auto n = Normalizer::Create(o);
  ASSERT_OK(n);
  EXPECT_EQ((*n)->Normalize("電腦"), "電腦");
}

TEST_F(NormalizerTest, MixedText) {
  EXPECT_EQ(N("  華為Ｍａｔｅ６０　Pro\t手機，256GB  "), "华为mate60 pro 手机,256gb");
  EXPECT_EQ(N("Apple iPhone 15 Pro Max（256GB）藍色"), "apple iphone 15 pro max(256gb)蓝色");
}

TEST_F(NormalizerTest, WhitespaceAndControls) {
  EXPECT_EQ(N("  a \t\n b\r\n"), "a b");
  EXPECT_EQ(N("a\x01" "b\x7f" "c"), "abc");
  EXPECT_EQ(N("\xEF\xBB\xBF" "bom"), "bom");            // U+FEFF
  EXPECT_EQ(N("zero\xE2\x80\x8Bwidth"), "zerowidth");   // U+200B
  EXPECT_EQ(N("a\xC2\xA0" "b"), "a b");                 // NBSP
  EXPECT_EQ(N(""), "");
  EXPECT_EQ(N(" \t "), "");
}

TEST_F(NormalizerTest, InvalidUtf8BecomesReplacementCharacter) {
  const std::string bad = std::string("ab\xFF") + "c\xE4\xBD" + "d\xC0\xAF" + "\xED\xA0\x80";
  const std::string out = N(bad);
  EXPECT_TRUE(IsValidUtf8(out));
  EXPECT_EQ(out.substr(0, 2), "ab");
  EXPECT_NE(out.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(out, "ab\xEF\xBF\xBD" "c\xEF\xBF\xBD" "d\xEF\xBF\xBD\xEF\xBF\xBD"
                 "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  // Embedded NUL is a control character and is dropped, not a terminator.
  EXPECT_EQ(N(std::string("a\0b", 3)), "ab");
}

TEST_F(NormalizerTest, IdempotentOnCraftedCases) {
  const char* cases[] = {"ＡＢＣ１２３", "Straße", "ﬁ", "電腦軟體", "「」、。", "ᾳ ΐ ǰ ẛ̣",
                         "\xEF\xB9\x81x\xEF\xB9\x82", "Å Ω K", "a\xCC\x81\xCC\xA3", "¼ ½ ⅓",
                         "ﾊﾟﾋﾟﾌﾟ", "𝐀𝐁𝐂", "\xE0\xA4\x95\xE0\xA5\x8D\xE0\xA4\xB7", "㍻ ㋿", "ǅǈ"};
  for (const char* c : cases) {
    const std::string once = N(c);
    EXPECT_EQ(N(once), once) << "input: " << c;
  }
}

TEST_F(NormalizerTest, IdempotentOnRandomCodePoints) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> range(0, 5);
  for (int round = 0; round < 3000; ++round) {
    std::string s;
    const int len = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < len; ++k) {
      char32_t cp = 0;
      switch (range(rng)) {
        case 0: cp = 0x20 + rng() % 0x60; break;      // ASCII
        case 1: cp = 0xA0 + rng() % 0x500; break;     // Latin/Greek/Cyrillic + marks
        case 2: cp = 0x2000 + rng() % 0x1000; break;  // punctuation, symbols, CJK punct
        case 3: cp = 0x4E00 + rng() % 0x5200; break;  // Han
        case 4: cp = 0xF900 + rng() % 0x700; break;   // compatibility forms, full width
        default: cp = 0x3000 + rng() % 0x400; break;  // CJK symbols, kana
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
      AppendUtf8(cp, s);
    }
    const std::string once = N(s);
    ASSERT_TRUE(IsValidUtf8(once));
    ASSERT_EQ(N(once), once) << "input: " << s;
  }
}

TEST_F(NormalizerTest, OffsetsMapBackToSource) {
  const std::string input = "ＡＢ 電腦  Café";
  const NormalizedText nt = normalizer_->NormalizeWithOffsets(input);
  EXPECT_EQ(nt.text, "ab 电脑 cafe");
  ASSERT_EQ(nt.source_begin.size(), nt.text.size());
  ASSERT_EQ(nt.source_end.size(), nt.text.size());
  // "ab" came from the two full-width letters (3 bytes each).
  EXPECT_EQ(nt.SourceSpan(0, 2), std::make_pair(0u, 6u));
  // "电脑" came from "電腦".
  const size_t dian = nt.text.find("电脑");
  const auto span = nt.SourceSpan(static_cast<uint32_t>(dian), static_cast<uint32_t>(dian + 6));
  EXPECT_EQ(input.substr(span.first, span.second - span.first), "電腦");
  const size_t cafe = nt.text.find("cafe");
  const auto cspan = nt.SourceSpan(static_cast<uint32_t>(cafe), static_cast<uint32_t>(cafe + 4));
  EXPECT_EQ(input.substr(cspan.first, cspan.second - cspan.first), "Café");
  for (size_t k = 1; k < nt.text.size(); ++k) {
    EXPECT_LE(nt.source_begin[k - 1], nt.source_begin[k]);
    EXPECT_LE(nt.source_end[k], input.size());
  }
}

TEST_F(NormalizerTest, MissingOpenccConfigNamesThePath) {
  Normalizer::Options o;
  o.opencc_config = "/nonexistent/opencc/t2s.json";
  auto n = Normalizer::Create(o);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kNotFound);
  EXPECT_NE(n.status().message().find("/nonexistent/opencc/t2s.json"), std::string::npos);
}

TEST_F(NormalizerTest, BadOpenccConfigIsAnError) {
  const auto dir = souk::testing::TempDir("opencc_bad");
  const std::string path = (dir / "bad.json").string();
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("{ not json", f);
  std::fclose(f);
  Normalizer::Options o;
  o.opencc_config = path;
  auto n = Normalizer::Create(o);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find(path), std::string::npos);
}

TEST_F(NormalizerTest, ConcurrentCallsAgree) {
  const std::string input = "華為Ｍａｔｅ６０ Pro 手機 Straße ﬁ";
  const std::string expected = N(input);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 200; ++k) {
        if (normalizer_->Normalize(input) != expected) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace souk::text
