#include "recommend/fbt_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <unordered_map>

namespace souk::recommend {
namespace {

using internal::OptionReader;

}  // namespace

StatusOr<FbtOptions> FbtOptions::FromJson(const nlohmann::json& options) {
  static constexpr std::string_view kKeys[] = {
      "include_cart", "min_support", "min_confidence", "min_lift",        "allow_same_category",
      "max_rules",    "max_history", "max_basket_items"};
  FbtOptions o;
  OptionReader r(options, "fbt");
  RETURN_IF_ERROR(r.CheckKeys(kKeys));
  RETURN_IF_ERROR(r.Bool("include_cart", &o.include_cart));
  RETURN_IF_ERROR(r.Int("min_support", &o.min_support, 1, 1000000000));
  RETURN_IF_ERROR(r.Double("min_confidence", &o.min_confidence, 0, 1));
  RETURN_IF_ERROR(r.Double("min_lift", &o.min_lift, 1, 1e12));
  RETURN_IF_ERROR(r.Bool("allow_same_category", &o.allow_same_category));
  RETURN_IF_ERROR(r.Int("max_rules", &o.max_rules, 1, 100000));
  RETURN_IF_ERROR(r.Int("max_history", &o.max_history, 0, 100000));
  RETURN_IF_ERROR(r.Int("max_basket_items", &o.max_basket_items, 2, 100000));
  return o;
}

nlohmann::json FbtOptions::ToJson() const {
  return {{"include_cart", include_cart},
          {"min_support", min_support},
          {"min_confidence", min_confidence},
          {"min_lift", min_lift},
          {"allow_same_category", allow_same_category},
          {"max_rules", max_rules},
          {"max_history", max_history},
          {"max_basket_items", max_basket_items}};
}

Status FbtSource::Fit(const InteractionData& data, const ProgressOptions& progress) {
  if (!data.finalized()) return FailedPreconditionError("fbt: data is not finalized");
  const int32_t n = data.num_items();
  auto in_basket = [&](EventType t) {
    return t == EventType::kPurchase || (options_.include_cart && t == EventType::kAddToCart);
  };
  // Baskets: distinct items per (user, session or day).
  std::vector<int64_t> basket_start{0};
  std::vector<int32_t> basket_items;
  std::map<int64_t, std::vector<int32_t>> groups;
  for (int32_t u = 0; u < data.num_users(); ++u) {
    groups.clear();
    for (const Interaction& x : data.UserHistory(u)) {
      if (!in_basket(x.type)) continue;
      // Sessions are keyed >= 0; days as negative keys so the two never mix.
      const int64_t key = x.session >= 0
                              ? int64_t{x.session}
                              : -1 - static_cast<int64_t>(std::floor(x.timestamp_ms /
                                                                     internal::kMsPerDay));
      std::vector<int32_t>& b = groups[key];
      if (static_cast<int>(b.size()) < options_.max_basket_items &&
          std::find(b.begin(), b.end(), x.item) == b.end()) {
        b.push_back(x.item);
      }
    }
    for (const auto& [key, items] : groups) {
      basket_items.insert(basket_items.end(), items.begin(), items.end());
      basket_start.push_back(static_cast<int64_t>(basket_items.size()));
    }
  }
  const int64_t num_baskets = static_cast<int64_t>(basket_start.size()) - 1;
  if (num_baskets == 0) return FailedPreconditionError("fbt: the data has no purchase baskets");

  // Item -> baskets holding it.
  std::vector<int64_t> item_offsets(static_cast<size_t>(n) + 1, 0);
  for (int32_t i : basket_items) ++item_offsets[i + 1];
  for (int32_t i = 0; i < n; ++i) item_offsets[i + 1] += item_offsets[i];
  std::vector<int64_t> item_baskets(basket_items.size());
  {
    std::vector<int64_t> fill(item_offsets.begin(), item_offsets.end() - 1);
    for (int64_t b = 0; b < num_baskets; ++b) {
      for (int64_t p = basket_start[b]; p < basket_start[b + 1]; ++p) {
        item_baskets[fill[basket_items[p]]++] = b;
      }
    }
  }
  auto baskets_with = [&](int32_t i) { return item_offsets[i + 1] - item_offsets[i]; };

  Progress bar("fbt rules", static_cast<uint64_t>(n), progress);
  internal::SparseRows rules;
  std::vector<int32_t> support;
  std::vector<int32_t> count(n, 0);
  std::vector<int32_t> touched;
  struct Scored {
    int32_t b;
    int32_t support;
    float confidence, lift;
  };
  std::vector<Scored> scored;
  for (int32_t a = 0; a < n; ++a) {
    touched.clear();
    for (int64_t k = item_offsets[a]; k < item_offsets[a + 1]; ++k) {
      const int64_t basket = item_baskets[k];
      for (int64_t p = basket_start[basket]; p < basket_start[basket + 1]; ++p) {
        const int32_t b = basket_items[p];
        if (b == a) continue;
        if (count[b]++ == 0) touched.push_back(b);
      }
    }
    scored.clear();
    const double count_a = static_cast<double>(baskets_with(a));
    for (int32_t b : touched) {
      const int32_t s = count[b];
      count[b] = 0;
      if (s < options_.min_support) continue;
      const double confidence = s / count_a;
      const double lift = confidence / (static_cast<double>(baskets_with(b)) / num_baskets);
      if (confidence < options_.min_confidence || lift < options_.min_lift) continue;
      const std::string& ca = data.item(a).category;
      if (!options_.allow_same_category && !ca.empty() && ca == data.item(b).category) continue;
      scored.push_back({b, s, static_cast<float>(confidence), static_cast<float>(lift)});
    }
    std::sort(scored.begin(), scored.end(), [](const Scored& x, const Scored& y) {
      if (x.confidence != y.confidence) return x.confidence > y.confidence;
      if (x.lift != y.lift) return x.lift > y.lift;
      return x.b < y.b;
    });
    if (static_cast<int>(scored.size()) > options_.max_rules) scored.resize(options_.max_rules);
    for (const Scored& s : scored) {
      rules.cols.push_back(s.b);
      rules.values.push_back(s.confidence);
      rules.extra.push_back(s.lift);
      support.push_back(s.support);
    }
    rules.offsets.push_back(static_cast<int64_t>(rules.cols.size()));
    bar.Add(1);
  }
  bar.Finish();
  rules_ = std::move(rules);
  support_ = std::move(support);
  num_baskets_ = num_baskets;
  categories_.clear();
  for (const ItemInfo& info : data.items()) categories_.push_back(info.category);
  return OkStatus();
}

std::vector<FbtSource::Rule> FbtSource::Rules(int32_t antecedent) const {
  std::vector<Rule> out;
  if (antecedent < 0 || antecedent >= rules_.rows()) return out;
  for (int64_t p = rules_.offsets[antecedent]; p < rules_.offsets[antecedent + 1]; ++p) {
    out.push_back({rules_.cols[p], support_[p], rules_.values[p], rules_.extra[p]});
  }
  return out;
}

void FbtSource::Candidates(const RecommendRequest& request, int k,
                           std::vector<Candidate>* out) const {
  const int32_t n = static_cast<int32_t>(rules_.rows());
  k = internal::ClampK(k, n);
  if (k == 0) return;
  std::vector<int32_t> anchors;
  for (int32_t item : request.items) {
    if (item >= 0 && item < n && std::find(anchors.begin(), anchors.end(), item) == anchors.end()) {
      anchors.push_back(item);
    }
  }
  if (anchors.empty()) {
    for (auto it = request.history.rbegin();
         it != request.history.rend() && static_cast<int>(anchors.size()) < options_.max_history;
         ++it) {
      const bool basket_event = it->type == EventType::kPurchase ||
                                it->type == EventType::kAddToCart;
      if (!basket_event || it->item < 0 || it->item >= n) continue;
      if (std::find(anchors.begin(), anchors.end(), it->item) == anchors.end()) {
        anchors.push_back(it->item);
      }
    }
  }
  if (anchors.empty()) return;
  struct Acc {
    float score = 0;
    float best = -1;
    int32_t evidence = -1;
    float lift = 0;
  };
  std::unordered_map<int32_t, Acc> acc;
  for (int32_t a : anchors) {
    for (int64_t p = rules_.offsets[a]; p < rules_.offsets[a + 1]; ++p) {
      const int32_t b = rules_.cols[p];
      if (!internal::InCategory(categories_[b], request.category)) continue;
      Acc& x = acc[b];
      x.score += rules_.values[p];
      if (rules_.values[p] > x.best) {
        x.best = rules_.values[p];
        x.evidence = a;
        x.lift = rules_.extra[p];
      }
    }
  }
  std::vector<std::pair<int32_t, float>> scored;
  for (const auto& [b, x] : acc) {
    if (std::find(anchors.begin(), anchors.end(), b) != anchors.end()) continue;
    scored.emplace_back(b, x.score);
  }
  for (const auto& [b, score] : TopK(scored, k)) {
    const Acc& x = acc.at(b);
    out->push_back({.item = b,
                    .score = score,
                    .reason = {.source = kName,
                               .kind = "bought_with",
                               .evidence_item = x.evidence,
                               .value = x.lift}});
  }
}

Status FbtSource::Save(const std::string& dir) const {
  RETURN_IF_ERROR(internal::SaveSparseRows(dir, "rules", rules_));
  RETURN_IF_ERROR(internal::WriteInt32Array(
      (std::filesystem::path(dir) / "rules_support.bin").string(), support_));
  return internal::WriteManifest(dir, kName, kFormatVersion, rules_.rows(),
                                 {{"options", options_.ToJson()}, {"num_baskets", num_baskets_}});
}

Status FbtSource::Load(const std::string& dir, const InteractionData& data) {
  ASSIGN_OR_RETURN(nlohmann::json m,
                   internal::ReadManifest(dir, kName, kFormatVersion, data.num_items()));
  ASSIGN_OR_RETURN(FbtOptions options, FbtOptions::FromJson(m.value("options",
                                                                     nlohmann::json{})));
  ASSIGN_OR_RETURN(internal::SparseRows rules,
                   internal::LoadSparseRows(dir, "rules", data.num_items(), data.num_items()));
  const std::string support_path = (std::filesystem::path(dir) / "rules_support.bin").string();
  ASSIGN_OR_RETURN(std::vector<int32_t> support, internal::ReadInt32Array(support_path));
  if (support.size() != rules.cols.size() || rules.extra.size() != rules.cols.size()) {
    return DataLossError(fmt::format("{}: {} supports for {} rules", support_path, support.size(),
                                     rules.cols.size()));
  }
  options_ = options;
  rules_ = std::move(rules);
  support_ = std::move(support);
  num_baskets_ = m.value("num_baskets", int64_t{0});
  categories_.clear();
  for (const ItemInfo& info : data.items()) categories_.push_back(info.category);
  return OkStatus();
}

}  // namespace souk::recommend
