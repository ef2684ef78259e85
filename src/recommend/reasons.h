// Reasons: the sentence a shop shows under a recommended item ("Because you
// viewed Blue mug", "因为您浏览过蓝色马克杯"), made from a candidate source's
// Reason (candidate_source.h) and the fitted data's catalog.
//
//   ASSIGN_OR_RETURN(ReasonLanguage lang, ParseReasonLanguage("zh"));
//   std::string text = ReasonText(candidate.reason, data, lang);
//
// Kinds and their English / Chinese texts ({title} = the evidence item's title,
// or its external id when it has none):
//   viewed_with        "Because you viewed {title}"            / "因为您浏览过{title}"
//   bought_with        "Often bought with {title}"             / "经常与{title}一起购买"
//   similar_to         "Similar to {title}"                    / "与{title}相似"
//   because_you        "Shoppers who liked {title} also liked this" / "喜欢{title}的顾客也喜欢"
//   next_in_sequence,
//   because_you (no evidence item)
//                      "Picked for what you viewed recently"   / "根据您最近的浏览为您挑选"
//   buy_again          "You buy this every ~{n} days"          / "您大约每{n}天购买一次"
//                      (value = cycle in days; <= 0: "Buy it again" / "再次购买")
//   trending           "Trending in {category}"                / "{category}热门趋势"
//                      (no category: "Trending now" / "正在流行")
//   popular            "Popular right now"                     / "当前热门"
//   pinned             "Featured"                              / "精选推荐"
//   any other kind     "Recommended for you"                   / "为您推荐"
// The category shown is the last level of the path ("Kitchen > Mugs" -> "Mugs").
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "recommend/candidate_source.h"
#include "recommend/interactions.h"

namespace souk::recommend {

enum class ReasonLanguage { kEnglish, kChinese };

// "en" / "zh" (also "zh-cn", "zh-hans", "cn"); InvalidArgument naming the value otherwise.
StatusOr<ReasonLanguage> ParseReasonLanguage(std::string_view lang);
std::string_view ReasonLanguageName(ReasonLanguage lang);

// The readable text of `reason`. Out-of-range evidence items are treated as none.
std::string ReasonText(const Reason& reason, const InteractionData& data,
                       ReasonLanguage lang = ReasonLanguage::kEnglish);

}  // namespace souk::recommend
