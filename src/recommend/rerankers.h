// Rerankers: the last stage of the recommendation pipeline. Each one takes the
// scored candidate list (best first) and filters, reorders or edits it:
//   "seen_filter"  removes what the shopper already bought (except where the
//                  scenario keeps them, e.g. buy-again, or, with
//                  keep_due_repurchases, purchases a source proposes as due
//                  again: Reason kind "buy_again"), optionally what they
//                  viewed, and the request's context items themselves;
//   "stock_filter" removes items whose stock is known to be out (in_stock false);
//   "mmr"          maximal marginal relevance over category and brand: trades a
//                  little relevance for variety in the top of the list;
//   "long_tail"    guarantees a minimum share of tail items (outside the head that
//                  covers `head_share` of the interactions) in the top n, swapping
//                  in the best tail items only while the relevance loss stays
//                  within `max_loss`;
//   "rules"        business rules: score boosts by category / brand / item,
//                  items pinned to fixed positions, blocked categories / brands / items.
// Rerankers are created by name from a RerankerRegistry (RegisterBuiltinRerankers)
// with a JSON options object (unknown keys are InvalidArgument naming the key),
// then Prepare()d once with the fitted data.
//
// Thread-safety: after Prepare, Rerank is const and may run concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "recommend/candidate_source.h"
#include "recommend/interactions.h"

namespace souk::recommend {

// One source's proposal of an item.
struct SourceHit {
  std::string source;              // the source instance id in the pipeline
  float score = 0;                 // the source's score
  int rank = 0;                    // 1-based position in the source's list
  Reason reason;
};

// An item on its way through the pipeline.
struct RankedCandidate {
  int32_t item = -1;
  double score = 0;                // current score (fusion or ranker; rerankers may edit)
  std::vector<SourceHit> hits;     // every source that proposed it, strongest first
  std::vector<float> features;     // ranker features (filled when ranked)
  bool pinned = false;             // placed by a rule; later rerankers keep its position
};

// What a reranker may look at besides the list.
struct RerankContext {
  const InteractionData* data = nullptr;      // the fitted data (never null)
  const RecommendRequest* request = nullptr;  // never null
  std::span<const HistoryEvent> history;      // the effective history, oldest first
  std::string_view scenario;
  int n = 10;                                 // the final list length
};

class Reranker {
 public:
  virtual ~Reranker() = default;
  virtual std::string Name() const = 0;
  // Precomputes what the reranker needs from the fitted data (e.g. the tail set).
  virtual Status Prepare(const InteractionData& data) { (void)data; return OkStatus(); }
  // Edits `list` (sorted by decreasing score on entry; the list it leaves is the
  // order shown). Never fails.
  virtual void Rerank(const RerankContext& context, std::vector<RankedCandidate>* list) const = 0;
};

class RerankerRegistry {
 public:
  using Factory = std::function<StatusOr<std::unique_ptr<Reranker>>(const nlohmann::json& options)>;
  Status Register(std::string name, Factory factory);   // AlreadyExists on a duplicate
  // NotFound listing the known names; InvalidArgument for bad options.
  StatusOr<std::unique_ptr<Reranker>> Create(const std::string& name,
                                             const nlohmann::json& options = {}) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, Factory> factories_;
};

// seen_filter, stock_filter, mmr, long_tail, rules.
Status RegisterBuiltinRerankers(RerankerRegistry& registry);

struct SeenFilterOptions {
  bool remove_purchased = true;    // items the shopper bought (history purchases)
  bool remove_viewed = false;      // items the shopper viewed / clicked / carted
  bool remove_context = true;      // the request's context items
  bool keep_due_repurchases = false; // keep purchased items a source proposes as due
                                     // again (Reason kind "buy_again")
};

struct MmrOptions {
  double lambda = 0.8;             // 1 = relevance only, 0 = diversity only
  double category_weight = 0.6;    // similarity of two items: category_weight * same
  double brand_weight = 0.4;       //   category + brand_weight * same brand
  int depth_factor = 3;            // reorders only the top depth_factor * n candidates
};

struct LongTailOptions {
  double head_share = 0.8;         // head = most popular items covering this share of
                                   // interaction weight; the rest are tail items
  double min_share = 0.2;          // wanted share of tail items in the top n
  double max_loss = 0.1;           // largest relative relevance loss accepted (0..1)
};

// A rule matches by category prefix, brand (case-insensitive) or item external id.
struct RuleMatch {
  std::string category;
  std::string brand;
  std::string item;
};
struct RulesOptions {
  std::vector<std::pair<RuleMatch, double>> boosts;   // score multipliers (> 0)
  std::vector<std::pair<std::string, int>> pins;      // item external id -> 1-based position
  std::vector<RuleMatch> blocks;                      // removed
};

std::unique_ptr<Reranker> MakeSeenFilter(SeenFilterOptions options);
std::unique_ptr<Reranker> MakeStockFilter();
std::unique_ptr<Reranker> MakeMmr(MmrOptions options);
std::unique_ptr<Reranker> MakeLongTail(LongTailOptions options);
std::unique_ptr<Reranker> MakeRules(RulesOptions options);

// Which items are tail items: the items outside the most popular ones that
// together cover `head_share` of the interaction weight (ImplicitWeight).
std::vector<bool> TailItems(const InteractionData& data, double head_share);

// Applies the long-tail guarantee to one list in place (what the "long_tail"
// reranker does). Returns the relative relevance loss of the top n (0 when
// nothing was swapped); never above options.max_loss.
double ApplyLongTail(const std::vector<bool>& tail, const LongTailOptions& options, int n,
                     std::vector<RankedCandidate>* list);

// The accuracy-versus-exposure trade-off of the long-tail reranker. `lists` are
// ranked candidate lists (deeper than n), `relevant` the held-out items of each
// list's shopper. For each min_share, applies ApplyLongTail to a copy of every
// list and measures the mean tail share of the top n and the mean recall@n.
struct LongTailPoint {
  double min_share = 0;            // asked
  double tail_share = 0;           // achieved mean share of tail items in the top n
  double recall = 0;               // mean recall@n of `relevant`
  double mean_loss = 0;            // mean relative relevance loss
};
std::vector<LongTailPoint> LongTailTradeoff(
    std::span<const std::vector<RankedCandidate>> lists,
    std::span<const std::unordered_set<int32_t>> relevant, const std::vector<bool>& tail,
    std::span<const double> min_shares, int n, double max_loss);

}  // namespace souk::recommend
