#include "recommend/rerankers.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace souk::recommend {
namespace {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

template <typename T>
Status ReadOption(const json& o, const char* key, std::string_view who, T* out) {
  auto it = o.find(key);
  if (it == o.end()) return OkStatus();
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return InvalidArgumentError(fmt::format("{}.{} must be true or false", who, key));
    *out = it->get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!it->is_number_integer()) return InvalidArgumentError(fmt::format("{}.{} must be an integer", who, key));
    *out = it->get<T>();
  } else {
    if (!it->is_number()) return InvalidArgumentError(fmt::format("{}.{} must be a number", who, key));
    *out = it->get<T>();
  }
  return OkStatus();
}

void StableSortByScore(std::vector<RankedCandidate>* list) {
  std::stable_sort(list->begin(), list->end(), [](const RankedCandidate& a, const RankedCandidate& b) {
    return a.score > b.score;
  });
}

// ----------------------------------------------------------------------------

class SeenFilter final : public Reranker {
 public:
  explicit SeenFilter(SeenFilterOptions o) : o_(o) {}
  std::string Name() const override { return "seen_filter"; }
  void Rerank(const RerankContext& ctx, std::vector<RankedCandidate>* list) const override {
    std::unordered_set<int32_t> drop;
    if (o_.remove_context) drop.insert(ctx.request->items.begin(), ctx.request->items.end());
    for (const HistoryEvent& e : ctx.history) {
      const bool purchase = e.type == EventType::kPurchase;
      if ((purchase && o_.remove_purchased) || (!purchase && o_.remove_viewed)) drop.insert(e.item);
    }
    if (drop.empty()) return;
    std::unordered_set<int32_t> context(ctx.request->items.begin(), ctx.request->items.end());
    std::erase_if(*list, [&](const RankedCandidate& c) {
      if (!drop.count(c.item)) return false;
      if (o_.keep_due_repurchases && !(o_.remove_context && context.count(c.item))) {
        for (const SourceHit& h : c.hits) {
          if (h.reason.kind == "buy_again") return false;
        }
      }
      return true;
    });
  }

 private:
  SeenFilterOptions o_;
};

class StockFilter final : public Reranker {
 public:
  std::string Name() const override { return "stock_filter"; }
  void Rerank(const RerankContext& ctx, std::vector<RankedCandidate>* list) const override {
    const InteractionData& data = *ctx.data;
    std::erase_if(*list, [&](const RankedCandidate& c) {
      return c.item >= 0 && c.item < data.num_items() && !data.item(c.item).in_stock;
    });
  }
};

// Dense ids of a string attribute (category path / lower-cased brand); -1 = empty.
std::vector<int32_t> AttributeIds(const InteractionData& data, bool brand) {
  std::unordered_map<std::string, int32_t> ids;
  std::vector<int32_t> out(data.num_items(), -1);
  for (int32_t i = 0; i < data.num_items(); ++i) {
    const std::string v = brand ? Lower(data.item(i).brand) : data.item(i).category;
    if (v.empty()) continue;
    out[i] = ids.emplace(v, static_cast<int32_t>(ids.size())).first->second;
  }
  return out;
}

class Mmr final : public Reranker {
 public:
  explicit Mmr(MmrOptions o) : o_(o) {}
  std::string Name() const override { return "mmr"; }
  Status Prepare(const InteractionData& data) override {
    category_ = AttributeIds(data, false);
    brand_ = AttributeIds(data, true);
    return OkStatus();
  }
  void Rerank(const RerankContext& ctx, std::vector<RankedCandidate>* list) const override {
    const size_t depth = std::min(list->size(), static_cast<size_t>(std::max(1, o_.depth_factor)) *
                                                    static_cast<size_t>(std::max(1, ctx.n)));
    if (depth < 3) return;
    // Pinned candidates keep their places; the others in the window are reordered.
    std::vector<size_t> free_slots;
    std::vector<RankedCandidate> pool;
    for (size_t i = 0; i < depth; ++i) {
      if (!(*list)[i].pinned) {
        free_slots.push_back(i);
        pool.push_back(std::move((*list)[i]));
      }
    }
    if (pool.size() < 3) {
      for (size_t k = 0; k < pool.size(); ++k) (*list)[free_slots[k]] = std::move(pool[k]);
      return;
    }
    double lo = pool[0].score, hi = pool[0].score;
    for (const RankedCandidate& c : pool) {
      lo = std::min(lo, c.score);
      hi = std::max(hi, c.score);
    }
    const double span = hi - lo;
    std::vector<double> rel(pool.size());
    for (size_t k = 0; k < pool.size(); ++k) rel[k] = span > 0 ? (pool[k].score - lo) / span : 1.0;
    auto attr = [](const std::vector<int32_t>& v, int32_t item) {
      return item >= 0 && static_cast<size_t>(item) < v.size() ? v[item] : -1;
    };
    std::vector<double> max_sim(pool.size(), 0.0);
    std::vector<bool> taken(pool.size(), false);
    std::vector<size_t> order;
    order.reserve(pool.size());
    for (size_t step = 0; step < pool.size(); ++step) {
      size_t best = pool.size();
      double best_value = -1e300;
      for (size_t k = 0; k < pool.size(); ++k) {
        if (taken[k]) continue;
        const double v = o_.lambda * rel[k] - (1 - o_.lambda) * max_sim[k];
        if (v > best_value) {
          best_value = v;
          best = k;
        }
      }
      taken[best] = true;
      order.push_back(best);
      const int32_t bc = attr(category_, pool[best].item), bb = attr(brand_, pool[best].item);
      for (size_t k = 0; k < pool.size(); ++k) {
        if (taken[k]) continue;
        double sim = 0;
        const int32_t c = attr(category_, pool[k].item), b = attr(brand_, pool[k].item);
        if (c >= 0 && c == bc) sim += o_.category_weight;
        if (b >= 0 && b == bb) sim += o_.brand_weight;
        max_sim[k] = std::max(max_sim[k], sim);
      }
    }
    for (size_t k = 0; k < order.size(); ++k) (*list)[free_slots[k]] = std::move(pool[order[k]]);
  }

 private:
  MmrOptions o_;
  std::vector<int32_t> category_, brand_;
};

class LongTail final : public Reranker {
 public:
  explicit LongTail(LongTailOptions o) : o_(o) {}
  std::string Name() const override { return "long_tail"; }
  Status Prepare(const InteractionData& data) override {
    tail_ = TailItems(data, o_.head_share);
    return OkStatus();
  }
  void Rerank(const RerankContext& ctx, std::vector<RankedCandidate>* list) const override {
    ApplyLongTail(tail_, o_, ctx.n, list);
  }

 private:
  LongTailOptions o_;
  std::vector<bool> tail_;
};

class Rules final : public Reranker {
 public:
  explicit Rules(RulesOptions o) : o_(std::move(o)) {}
  std::string Name() const override { return "rules"; }
  Status Prepare(const InteractionData& data) override {
    category_lower_.resize(data.num_items());
    brand_lower_.resize(data.num_items());
    for (int32_t i = 0; i < data.num_items(); ++i) {
      category_lower_[i] = Lower(data.item(i).category);
      brand_lower_[i] = Lower(data.item(i).brand);
    }
    pins_.clear();
    for (const auto& [ext, pos] : o_.pins) {
      if (auto i = data.FindItem(ext)) pins_.emplace_back(*i, pos);
    }
    std::sort(pins_.begin(), pins_.end(), [](auto& a, auto& b) { return a.second < b.second; });
    return OkStatus();
  }
  void Rerank(const RerankContext& ctx, std::vector<RankedCandidate>* list) const override {
    const InteractionData& data = *ctx.data;
    std::erase_if(*list, [&](const RankedCandidate& c) { return Blocked(data, c.item); });
    bool boosted = false;
    for (RankedCandidate& c : *list) {
      for (const auto& [m, mult] : o_.boosts) {
        if (!Matches(data, m, c.item)) continue;
        c.score = c.score >= 0 ? c.score * mult : c.score / mult;
        boosted = true;
      }
    }
    if (boosted) StableSortByScore(list);
    for (const auto& [item, pos] : pins_) {
      if (Blocked(data, item) || !data.item(item).in_stock) continue;
      RankedCandidate pinned;
      auto it = std::find_if(list->begin(), list->end(),
                             [&](const RankedCandidate& c) { return c.item == item; });
      if (it != list->end()) {
        pinned = std::move(*it);
        list->erase(it);
      } else {
        pinned.item = item;
        pinned.score = list->empty() ? 0 : list->front().score;
        pinned.hits.push_back({.source = "rules", .score = 0, .rank = pos,
                               .reason = {.source = "rules", .kind = "pinned", .evidence_item = item}});
      }
      pinned.pinned = true;
      const size_t at = std::min(list->size(), static_cast<size_t>(std::max(1, pos) - 1));
      list->insert(list->begin() + static_cast<std::ptrdiff_t>(at), std::move(pinned));
    }
  }

 private:
  bool Matches(const InteractionData& data, const RuleMatch& m, int32_t item) const {
    if (item < 0 || item >= data.num_items()) return false;
    if (!m.item.empty() && data.item(item).external_id != m.item) return false;
    if (!m.brand.empty() && brand_lower_[item] != m.brand) return false;
    if (!m.category.empty() && category_lower_[item].rfind(m.category, 0) != 0) return false;
    return !(m.item.empty() && m.brand.empty() && m.category.empty());
  }
  bool Blocked(const InteractionData& data, int32_t item) const {
    for (const RuleMatch& m : o_.blocks) {
      if (Matches(data, m, item)) return true;
    }
    return false;
  }

  RulesOptions o_;
  std::vector<std::string> category_lower_, brand_lower_;
  std::vector<std::pair<int32_t, int>> pins_;
};

StatusOr<RuleMatch> ParseMatch(const json& j, const std::string& where, bool allow_extra) {
  if (!j.is_object()) return InvalidArgumentError(where + " must be an object");
  RuleMatch m;
  for (const auto& [k, v] : j.items()) {
    if (k == "category" || k == "brand" || k == "item") {
      if (!v.is_string()) return InvalidArgumentError(fmt::format("{}.{} must be a string", where, k));
      const std::string s = v.get<std::string>();
      if (k == "category") m.category = Lower(s);
      if (k == "brand") m.brand = Lower(s);
      if (k == "item") m.item = s;
    } else if (!allow_extra) {
      return InvalidArgumentError(
          fmt::format("unknown key '{}' in {} (known: category, brand, item)", k, where));
    }
  }
  if (m.category.empty() && m.brand.empty() && m.item.empty()) {
    return InvalidArgumentError(where + " must name a category, brand or item");
  }
  return m;
}

StatusOr<RulesOptions> ParseRules(const json& o) {
  RulesOptions r;
  if (auto it = o.find("boosts"); it != o.end()) {
    if (!it->is_array()) return InvalidArgumentError("rules.boosts must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& b = (*it)[i];
      const std::string where = fmt::format("rules.boosts[{}]", i);
      ASSIGN_OR_RETURN(RuleMatch m, ParseMatch(b, where, true));
      for (const auto& [k, v] : b.items()) {
        if (k != "category" && k != "brand" && k != "item" && k != "multiplier") {
          return InvalidArgumentError(fmt::format(
              "unknown key '{}' in {} (known: category, brand, item, multiplier)", k, where));
        }
      }
      if (!b.contains("multiplier") || !b["multiplier"].is_number() ||
          !(b["multiplier"].get<double>() > 0)) {
        return InvalidArgumentError(where + ".multiplier must be a number > 0");
      }
      r.boosts.emplace_back(m, b["multiplier"].get<double>());
    }
  }
  if (auto it = o.find("pins"); it != o.end()) {
    if (!it->is_array()) return InvalidArgumentError("rules.pins must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& p = (*it)[i];
      const std::string where = fmt::format("rules.pins[{}]", i);
      if (!p.is_object() || !p.contains("item") || !p["item"].is_string() ||
          !p.contains("position") || !p["position"].is_number_integer() ||
          p["position"].get<int>() < 1 || p.size() != 2) {
        return InvalidArgumentError(where + " must be {\"item\": \"ID\", \"position\": N >= 1}");
      }
      r.pins.emplace_back(p["item"].get<std::string>(), p["position"].get<int>());
    }
  }
  if (auto it = o.find("blocks"); it != o.end()) {
    if (!it->is_array()) return InvalidArgumentError("rules.blocks must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      ASSIGN_OR_RETURN(RuleMatch m, ParseMatch((*it)[i], fmt::format("rules.blocks[{}]", i), false));
      r.blocks.push_back(std::move(m));
    }
  }
  return r;
}

}  // namespace

Status RerankerRegistry::Register(std::string name, Factory factory) {
  if (factories_.count(name)) return AlreadyExistsError("reranker '" + name + "' is already registered");
  factories_.emplace(std::move(name), std::move(factory));
  return OkStatus();
}

StatusOr<std::unique_ptr<Reranker>> RerankerRegistry::Create(const std::string& name,
                                                             const json& options) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [n, f] : factories_) known += (known.empty() ? "" : ", ") + n;
    return NotFoundError(fmt::format("unknown reranker '{}' (known: {})", name, known));
  }
  if (!options.is_null() && !options.is_object()) {
    return InvalidArgumentError("options of reranker '" + name + "' must be a JSON object");
  }
  return it->second(options.is_null() ? json::object() : options);
}

std::vector<std::string> RerankerRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : factories_) out.push_back(n);
  return out;
}

Status RegisterBuiltinRerankers(RerankerRegistry& registry) {
  using Made = StatusOr<std::unique_ptr<Reranker>>;
  RETURN_IF_ERROR(registry.Register("seen_filter", [](const json& o) -> Made {
    static constexpr std::string_view kKeys[] = {"remove_purchased", "remove_viewed", "remove_context",
                                                 "keep_due_repurchases"};
    RETURN_IF_ERROR(CheckOptionKeys(o, kKeys, "seen_filter"));
    SeenFilterOptions s;
    RETURN_IF_ERROR(ReadOption(o, "remove_purchased", "seen_filter", &s.remove_purchased));
    RETURN_IF_ERROR(ReadOption(o, "remove_viewed", "seen_filter", &s.remove_viewed));
    RETURN_IF_ERROR(ReadOption(o, "remove_context", "seen_filter", &s.remove_context));
    RETURN_IF_ERROR(ReadOption(o, "keep_due_repurchases", "seen_filter", &s.keep_due_repurchases));
    return MakeSeenFilter(s);
  }));
  RETURN_IF_ERROR(registry.Register("stock_filter", [](const json& o) -> Made {
    RETURN_IF_ERROR(CheckOptionKeys(o, {}, "stock_filter"));
    return MakeStockFilter();
  }));
  RETURN_IF_ERROR(registry.Register("mmr", [](const json& o) -> Made {
    static constexpr std::string_view kKeys[] = {"lambda", "category_weight", "brand_weight",
                                                 "depth_factor"};
    RETURN_IF_ERROR(CheckOptionKeys(o, kKeys, "mmr"));
    MmrOptions m;
    RETURN_IF_ERROR(ReadOption(o, "lambda", "mmr", &m.lambda));
    RETURN_IF_ERROR(ReadOption(o, "category_weight", "mmr", &m.category_weight));
    RETURN_IF_ERROR(ReadOption(o, "brand_weight", "mmr", &m.brand_weight));
    RETURN_IF_ERROR(ReadOption(o, "depth_factor", "mmr", &m.depth_factor));
    if (!(m.lambda >= 0 && m.lambda <= 1)) return InvalidArgumentError("mmr.lambda must be in [0, 1]");
    if (m.depth_factor < 1) return InvalidArgumentError("mmr.depth_factor must be >= 1");
    return MakeMmr(m);
  }));
  RETURN_IF_ERROR(registry.Register("long_tail", [](const json& o) -> Made {
    static constexpr std::string_view kKeys[] = {"head_share", "min_share", "max_loss"};
    RETURN_IF_ERROR(CheckOptionKeys(o, kKeys, "long_tail"));
    LongTailOptions l;
    RETURN_IF_ERROR(ReadOption(o, "head_share", "long_tail", &l.head_share));
    RETURN_IF_ERROR(ReadOption(o, "min_share", "long_tail", &l.min_share));
    RETURN_IF_ERROR(ReadOption(o, "max_loss", "long_tail", &l.max_loss));
    if (!(l.head_share > 0 && l.head_share <= 1)) {
      return InvalidArgumentError("long_tail.head_share must be in (0, 1]");
    }
    if (!(l.min_share >= 0 && l.min_share <= 1)) {
      return InvalidArgumentError("long_tail.min_share must be in [0, 1]");
    }
    if (!(l.max_loss >= 0 && l.max_loss <= 1)) {
      return InvalidArgumentError("long_tail.max_loss must be in [0, 1]");
    }
    return MakeLongTail(l);
  }));
  RETURN_IF_ERROR(registry.Register("rules", [](const json& o) -> Made {
    static constexpr std::string_view kKeys[] = {"boosts", "pins", "blocks"};
    RETURN_IF_ERROR(CheckOptionKeys(o, kKeys, "rules"));
    ASSIGN_OR_RETURN(RulesOptions r, ParseRules(o));
    return MakeRules(std::move(r));
  }));
  return OkStatus();
}

std::unique_ptr<Reranker> MakeSeenFilter(SeenFilterOptions options) {
  return std::make_unique<SeenFilter>(options);
}
std::unique_ptr<Reranker> MakeStockFilter() { return std::make_unique<StockFilter>(); }
std::unique_ptr<Reranker> MakeMmr(MmrOptions options) { return std::make_unique<Mmr>(options); }
std::unique_ptr<Reranker> MakeLongTail(LongTailOptions options) {
  return std::make_unique<LongTail>(options);
}
std::unique_ptr<Reranker> MakeRules(RulesOptions options) {
  for (auto& [m, mult] : options.boosts) {
    m.category = Lower(m.category);
    m.brand = Lower(m.brand);
  }
  for (RuleMatch& m : options.blocks) {
    m.category = Lower(m.category);
    m.brand = Lower(m.brand);
  }
  return std::make_unique<Rules>(std::move(options));
}

std::vector<bool> TailItems(const InteractionData& data, double head_share) {
  std::vector<double> weight(data.num_items(), 0.0);
  double total = 0;
  for (const Interaction& x : data.interactions()) {
    const double w = ImplicitWeight(x.type, x.value);
    weight[x.item] += w;
    total += w;
  }
  std::vector<int32_t> order(data.num_items());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return weight[a] > weight[b]; });
  std::vector<bool> tail(data.num_items(), true);
  double covered = 0;
  for (int32_t i : order) {
    if (total <= 0 || covered >= head_share * total) break;
    tail[i] = false;
    covered += weight[i];
  }
  return tail;
}

double ApplyLongTail(const std::vector<bool>& tail, const LongTailOptions& options, int n,
                     std::vector<RankedCandidate>* list) {
  const size_t top = std::min(list->size(), static_cast<size_t>(std::max(0, n)));
  if (top == 0 || options.min_share <= 0) return 0;
  auto is_tail = [&](int32_t item) {
    return item >= 0 && static_cast<size_t>(item) < tail.size() && tail[item];
  };
  double lo = (*list)[0].score, hi = (*list)[0].score;
  for (const RankedCandidate& c : *list) {
    lo = std::min(lo, c.score);
    hi = std::max(hi, c.score);
  }
  const double span = hi - lo;
  auto rel = [&](const RankedCandidate& c) { return span > 0 ? (c.score - lo) / span : 1.0; };
  double base = 0;
  int have = 0;
  for (size_t i = 0; i < top; ++i) {
    base += rel((*list)[i]);
    have += is_tail((*list)[i].item) ? 1 : 0;
  }
  const int want = static_cast<int>(std::ceil(options.min_share * static_cast<double>(top) - 1e-9));
  if (have >= want) return 0;
  // Head items of the top n that may be dropped, weakest first.
  std::vector<size_t> droppable;
  for (size_t i = 0; i < top; ++i) {
    if (!is_tail((*list)[i].item) && !(*list)[i].pinned) droppable.push_back(i);
  }
  std::stable_sort(droppable.begin(), droppable.end(),
                   [&](size_t a, size_t b) { return rel((*list)[a]) < rel((*list)[b]); });
  // Tail items below the top n, strongest first.
  std::vector<size_t> addable;
  for (size_t i = top; i < list->size(); ++i) {
    if (is_tail((*list)[i].item)) addable.push_back(i);
  }
  std::stable_sort(addable.begin(), addable.end(),
                   [&](size_t a, size_t b) { return rel((*list)[a]) > rel((*list)[b]); });
  double current = base, loss = 0;
  std::vector<std::pair<size_t, size_t>> swaps;
  for (size_t k = 0; k < droppable.size() && k < addable.size() && have < want; ++k) {
    const double next = current - rel((*list)[droppable[k]]) + rel((*list)[addable[k]]);
    const double next_loss = base > 0 ? 1.0 - next / base : 0.0;
    if (next_loss > options.max_loss + 1e-12) break;
    swaps.emplace_back(droppable[k], addable[k]);
    current = next;
    loss = next_loss;
    ++have;
  }
  if (swaps.empty()) return 0;
  // The tail item takes the dropped item's place; the dropped items follow the top n.
  std::vector<RankedCandidate> dropped;
  std::unordered_set<size_t> moved_out;
  for (const auto& [d, a] : swaps) {
    dropped.push_back(std::move((*list)[d]));
    (*list)[d] = std::move((*list)[a]);
    moved_out.insert(a);
  }
  std::vector<RankedCandidate> rest;
  for (size_t i = top; i < list->size(); ++i) {
    if (!moved_out.count(i)) rest.push_back(std::move((*list)[i]));
  }
  list->resize(top);
  for (RankedCandidate& c : dropped) list->push_back(std::move(c));
  for (RankedCandidate& c : rest) list->push_back(std::move(c));
  return std::max(0.0, loss);
}

std::vector<LongTailPoint> LongTailTradeoff(std::span<const std::vector<RankedCandidate>> lists,
                                            std::span<const std::unordered_set<int32_t>> relevant,
                                            const std::vector<bool>& tail,
                                            std::span<const double> min_shares, int n,
                                            double max_loss) {
  std::vector<LongTailPoint> out;
  for (double share : min_shares) {
    LongTailPoint p{.min_share = share};
    size_t counted = 0;
    for (size_t u = 0; u < lists.size() && u < relevant.size(); ++u) {
      std::vector<RankedCandidate> list = lists[u];
      p.mean_loss += ApplyLongTail(tail, {.head_share = 0, .min_share = share, .max_loss = max_loss},
                                   n, &list);
      const size_t top = std::min(list.size(), static_cast<size_t>(std::max(0, n)));
      size_t tails = 0, hits = 0;
      for (size_t i = 0; i < top; ++i) {
        const int32_t item = list[i].item;
        if (item >= 0 && static_cast<size_t>(item) < tail.size() && tail[item]) ++tails;
        if (relevant[u].count(item)) ++hits;
      }
      p.tail_share += top ? static_cast<double>(tails) / static_cast<double>(top) : 0;
      p.recall += relevant[u].empty() ? 0 : static_cast<double>(hits) / relevant[u].size();
      ++counted;
    }
    if (counted) {
      p.tail_share /= counted;
      p.recall /= counted;
      p.mean_loss /= counted;
    }
    out.push_back(p);
  }
  return out;
}

}  // namespace souk::recommend
