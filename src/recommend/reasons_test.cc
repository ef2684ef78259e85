#include "recommend/reasons.h"

#include "common/testing.h"

namespace souk::recommend {
namespace {

InteractionData Catalog() {
  InteractionData d;
  d.AddItem({.external_id = "mug", .title = "Blue mug", .category = "Kitchen > Mugs"});
  d.AddItem({.external_id = "sku-2"});  // no title
  d.Finalize();
  return d;
}

TEST(ReasonsTest, EnglishAndChineseTexts) {
  const InteractionData d = Catalog();
  const auto en = ReasonLanguage::kEnglish, zh = ReasonLanguage::kChinese;
  auto r = [](const char* kind, int32_t item = -1, std::string text = "", double v = 0) {
    return Reason{.source = "x", .kind = kind, .evidence_item = item, .evidence_text = text, .value = v};
  };
  EXPECT_EQ(ReasonText(r("viewed_with", 0), d, en), "Because you viewed Blue mug");
  EXPECT_EQ(ReasonText(r("viewed_with", 0), d, zh), "因为您浏览过Blue mug");
  EXPECT_EQ(ReasonText(r("bought_with", 0), d, en), "Often bought with Blue mug");
  EXPECT_EQ(ReasonText(r("bought_with", 0), d, zh), "经常与Blue mug一起购买");
  EXPECT_EQ(ReasonText(r("similar_to", 1), d, en), "Similar to sku-2");  // id when no title
  EXPECT_EQ(ReasonText(r("similar_to", 0), d, zh), "与Blue mug相似");
  EXPECT_EQ(ReasonText(r("because_you", 0), d, en), "Shoppers who liked Blue mug also liked this");
  EXPECT_EQ(ReasonText(r("because_you", 0), d, zh), "喜欢Blue mug的顾客也喜欢");
  EXPECT_EQ(ReasonText(r("because_you"), d, en), "Picked for what you viewed recently");
  EXPECT_EQ(ReasonText(r("next_in_sequence", 0), d, en), "Picked for what you viewed recently");
  EXPECT_EQ(ReasonText(r("next_in_sequence", 0), d, zh), "根据您最近的浏览为您挑选");
  EXPECT_EQ(ReasonText(r("buy_again", 0, "", 29.6), d, en), "You buy this every ~30 days");
  EXPECT_EQ(ReasonText(r("buy_again", 0, "", 14), d, zh), "您大约每14天购买一次");
  EXPECT_EQ(ReasonText(r("buy_again", 0, "", 0), d, en), "Buy it again");
  EXPECT_EQ(ReasonText(r("trending", -1, "Kitchen > Mugs"), d, en), "Trending in Mugs");
  EXPECT_EQ(ReasonText(r("trending", -1, "Kitchen > Mugs"), d, zh), "Mugs热门趋势");
  EXPECT_EQ(ReasonText(r("trending"), d, en), "Trending now");
  EXPECT_EQ(ReasonText(r("popular"), d, en), "Popular right now");
  EXPECT_EQ(ReasonText(r("popular"), d, zh), "当前热门");
  EXPECT_EQ(ReasonText(r("pinned", 0), d, en), "Featured");
  EXPECT_EQ(ReasonText(r("something_new"), d, en), "Recommended for you");
  // Out-of-range evidence is treated as none.
  EXPECT_EQ(ReasonText(r("viewed_with", 99), d, en), "Picked for what you viewed recently");
}

TEST(ReasonsTest, ParsesLanguages) {
  EXPECT_EQ(*ParseReasonLanguage("EN"), ReasonLanguage::kEnglish);
  EXPECT_EQ(*ParseReasonLanguage("zh-CN"), ReasonLanguage::kChinese);
  auto bad = ParseReasonLanguage("fr");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("'fr'"), std::string::npos);
  EXPECT_EQ(ReasonLanguageName(ReasonLanguage::kChinese), "zh");
}

}  // namespace
}  // namespace souk::recommend
