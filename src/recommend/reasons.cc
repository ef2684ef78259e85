#include "recommend/reasons.h"

#include <fmt/format.h>

#include <cmath>
#include <string>

namespace souk::recommend {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The evidence item's title (or external id), empty when there is none.
std::string EvidenceTitle(const Reason& reason, const InteractionData& data) {
  if (reason.evidence_item < 0 || reason.evidence_item >= data.num_items()) return "";
  const ItemInfo& info = data.item(reason.evidence_item);
  return info.title.empty() ? info.external_id : info.title;
}

std::string LastCategoryLevel(std::string_view path) {
  const size_t pos = path.rfind(" > ");
  return std::string(pos == std::string_view::npos ? path : path.substr(pos + 3));
}

}  // namespace

StatusOr<ReasonLanguage> ParseReasonLanguage(std::string_view lang) {
  const std::string l = Lower(lang);
  if (l == "en" || l == "en-us" || l == "english") return ReasonLanguage::kEnglish;
  if (l == "zh" || l == "zh-cn" || l == "zh-hans" || l == "cn" || l == "chinese") {
    return ReasonLanguage::kChinese;
  }
  return InvalidArgumentError(fmt::format("unknown reason language '{}' (use en or zh)", lang));
}

std::string_view ReasonLanguageName(ReasonLanguage lang) {
  return lang == ReasonLanguage::kChinese ? "zh" : "en";
}

std::string ReasonText(const Reason& reason, const InteractionData& data, ReasonLanguage lang) {
  const bool zh = lang == ReasonLanguage::kChinese;
  const std::string title = EvidenceTitle(reason, data);
  const std::string& kind = reason.kind;
  auto with_title = [&](const char* en, const char* cn, const char* en_none,
                        const char* cn_none) -> std::string {
    if (title.empty()) return zh ? cn_none : en_none;
    return fmt::format(fmt::runtime(zh ? cn : en), fmt::arg("title", title));
  };
  if (kind == "viewed_with") {
    return with_title("Because you viewed {title}", "因为您浏览过{title}",
                      "Picked for what you viewed recently", "根据您最近的浏览为您挑选");
  }
  if (kind == "bought_with") {
    return with_title("Often bought with {title}", "经常与{title}一起购买",
                      "Often bought together", "经常一起购买");
  }
  if (kind == "similar_to") {
    return with_title("Similar to {title}", "与{title}相似", "Similar to what you viewed",
                      "与您浏览过的商品相似");
  }
  if (kind == "because_you") {
    return with_title("Shoppers who liked {title} also liked this", "喜欢{title}的顾客也喜欢",
                      "Picked for what you viewed recently", "根据您最近的浏览为您挑选");
  }
  if (kind == "next_in_sequence") {
    return zh ? "根据您最近的浏览为您挑选" : "Picked for what you viewed recently";
  }
  if (kind == "buy_again") {
    if (!(reason.value > 0) || !std::isfinite(reason.value)) return zh ? "再次购买" : "Buy it again";
    const long days = std::max(1L, std::lround(reason.value));
    return zh ? fmt::format("您大约每{}天购买一次", days)
              : fmt::format("You buy this every ~{} days", days);
  }
  if (kind == "trending") {
    const std::string category = LastCategoryLevel(reason.evidence_text);
    if (category.empty()) return zh ? "正在流行" : "Trending now";
    return zh ? fmt::format("{}热门趋势", category) : fmt::format("Trending in {}", category);
  }
  if (kind == "popular") return zh ? "当前热门" : "Popular right now";
  if (kind == "pinned") return zh ? "精选推荐" : "Featured";
  return zh ? "为您推荐" : "Recommended for you";
}

}  // namespace souk::recommend
