#include "recommend/rec_ranker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <unordered_map>

namespace souk::recommend {
namespace {

float Grade(EventType t) {
  switch (t) {
    case EventType::kPurchase: return 3;
    case EventType::kAddToCart: return 2;
    case EventType::kView:
    case EventType::kClick:
    case EventType::kRating: return 1;
    default: return 0;
  }
}

double NdcgAt(const std::vector<float>& labels_in_order, const std::vector<float>& all_labels, int k) {
  double dcg = 0, idcg = 0;
  for (int i = 0; i < k && i < static_cast<int>(labels_in_order.size()); ++i) {
    dcg += (std::pow(2.0, labels_in_order[i]) - 1) / std::log2(i + 2.0);
  }
  std::vector<float> ideal = all_labels;
  std::sort(ideal.rbegin(), ideal.rend());
  for (int i = 0; i < k && i < static_cast<int>(ideal.size()); ++i) {
    idcg += (std::pow(2.0, ideal[i]) - 1) / std::log2(i + 2.0);
  }
  return idcg > 0 ? dcg / idcg : 0;
}

struct Group {
  std::vector<float> x;       // rows * cols
  std::vector<float> labels;
  std::vector<double> fusion; // fusion score per row
  size_t relevant = 0;        // later-interacted items (for recall)
};

struct OrderMetrics {
  double ndcg10 = 0, recall20 = 0;
};

OrderMetrics Evaluate(const Group& g, const std::vector<double>& score) {
  std::vector<size_t> order(g.labels.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  std::vector<float> in_order;
  for (size_t i : order) in_order.push_back(g.labels[i]);
  OrderMetrics m;
  m.ndcg10 = NdcgAt(in_order, g.labels, 10);
  size_t hits = 0;
  for (size_t i = 0; i < in_order.size() && i < 20; ++i) hits += in_order[i] > 0 ? 1 : 0;
  m.recall20 = g.relevant ? static_cast<double>(hits) / g.relevant : 0;
  return m;
}

}  // namespace

StatusOr<TimeSplit> SplitByTime(const InteractionData& data, const RankerTrainOptions& options) {
  auto xs = data.interactions();
  if (xs.size() < 2 || xs.front().timestamp_ms == xs.back().timestamp_ms) {
    return FailedPreconditionError("the ranker needs interactions at two or more distinct times");
  }
  size_t idx = static_cast<size_t>(std::floor((1.0 - options.label_fraction) * xs.size()));
  idx = std::clamp<size_t>(idx, 1, xs.size() - 1);
  TimeSplit split;
  split.split_ms = xs[idx].timestamp_ms;
  if (split.split_ms <= xs.front().timestamp_ms) {
    // All early events share the first timestamp: move the split to the next distinct time.
    auto it = std::upper_bound(xs.begin(), xs.end(), xs.front().timestamp_ms,
                               [](int64_t t, const Interaction& x) { return t < x.timestamp_ms; });
    split.split_ms = it->timestamp_ms;
  }
  split.end_ms = options.horizon_days > 0
                     ? split.split_ms + static_cast<int64_t>(options.horizon_days * 86400000.0)
                     : data.max_timestamp_ms() + 1;
  auto before = std::make_shared<InteractionData>();
  for (const ItemInfo& info : data.items()) before->AddItem(info);
  for (int32_t u = 0; u < data.num_users(); ++u) before->AddUser(data.user_id(u));
  for (int32_t s = 0; s < data.num_sessions(); ++s) before->SessionIndex(fmt::format("#{}", s));
  for (const Interaction& x : xs) {
    if (x.timestamp_ms >= split.split_ms) break;
    RETURN_IF_ERROR(before->Add(x));
  }
  before->Finalize();
  split.before = std::move(before);
  return split;
}

StatusOr<RankerTrainResult> TrainScenarioRanker(const InteractionData& data, const TimeSplit& split,
                                                const ScenarioConfig& scenario,
                                                std::span<const SourceSlot> slots,
                                                std::span<const Reranker* const> filters,
                                                const PipelineConfig& config,
                                                const ItemEmbeddingFn& embed,
                                                const ProgressOptions* progress,
                                                const IntentFn& intent_of) {
  const RankerTrainOptions& o = config.ranker;
  const InteractionData& before = *split.before;
  // Users with history before the split and at least one positive event in the window.
  std::vector<int32_t> users;
  for (int32_t u = 0; u < data.num_users(); ++u) {
    bool has_before = false, has_after = false;
    for (const Interaction& x : data.UserHistory(u)) {
      if (x.timestamp_ms < split.split_ms) {
        has_before = true;
      } else if (x.timestamp_ms < split.end_ms && Grade(x.type) > 0) {
        has_after = true;
        break;
      }
    }
    if (has_before && has_after) users.push_back(u);
  }
  std::mt19937_64 rng(o.seed);
  std::shuffle(users.begin(), users.end(), rng);
  if (users.size() > static_cast<size_t>(o.max_users)) users.resize(o.max_users);
  const size_t n_valid = static_cast<size_t>(std::floor(o.valid_fraction * users.size()));

  std::vector<std::string> ids;
  for (const SourceSlot& s : slots) ids.push_back(s.id);
  RecFeatures features(ids);
  const size_t cols = features.size();
  ItemStats stats(before);

  std::vector<Group> train_groups, valid_groups;
  size_t candidates_total = 0, positives_total = 0, relevant_total = 0;
  std::unique_ptr<Progress> bar;
  if (progress) {
    bar = std::make_unique<Progress>(fmt::format("ranker '{}' candidates", scenario.name),
                                     users.size(), *progress);
  }
  for (size_t ui = 0; ui < users.size(); ++ui) {
    const int32_t u = users[ui];
    if (bar) bar->Add(1);
    RecommendRequest req;
    req.scenario = scenario.name;
    req.user = u;
    req.now_ms = split.split_ms;
    std::unordered_map<int32_t, float> label;
    for (const Interaction& x : data.UserHistory(u)) {
      if (x.timestamp_ms < split.split_ms) {
        req.history.push_back({.item = x.item, .type = x.type, .timestamp_ms = x.timestamp_ms,
                               .quantity = x.quantity});
      } else if (x.timestamp_ms < split.end_ms) {
        float& l = label[x.item];
        l = std::max(l, Grade(x.type));
      }
    }
    if (req.history.size() > static_cast<size_t>(config.history_limit)) {
      req.history.erase(req.history.begin(),
                        req.history.end() - static_cast<std::ptrdiff_t>(config.history_limit));
    }
    if (scenario.requires_items && !req.history.empty()) req.items = {req.history.back().item};
    std::vector<RankedCandidate> cands = CollectCandidates(slots, req, before, config.rrf_k);
    FuseReciprocalRank(slots, config.rrf_k, &cands);
    const RerankContext ctx{.data = &before, .request = &req, .history = req.history,
                            .scenario = scenario.name, .n = static_cast<int>(cands.size())};
    for (const Reranker* f : filters) f->Rerank(ctx, &cands);
    Group g;
    size_t relevant = 0;
    for (const auto& [item, l] : label) relevant += l > 0 ? 1 : 0;
    g.relevant = relevant;
    bool any = false;
    RecFeatures::Profile profile = RecFeatures::MakeProfile(before, req.history, req.now_ms, embed);
    if (intent_of && !req.history.empty()) profile.intent = intent_of(before, req.history);
    g.x.resize(cands.size() * cols);
    for (size_t r = 0; r < cands.size(); ++r) {
      features.Compute(before, stats, profile, embed, cands[r], g.x.data() + r * cols);
      auto it = label.find(cands[r].item);
      const float l = it == label.end() ? 0.0f : it->second;
      g.labels.push_back(l);
      g.fusion.push_back(cands[r].score);
      any = any || l > 0;
    }
    candidates_total += cands.size();
    relevant_total += relevant;
    if (!any) continue;
    for (float l : g.labels) positives_total += l > 0 ? 1 : 0;
    (ui < n_valid ? valid_groups : train_groups).push_back(std::move(g));
  }
  if (bar) bar->Finish();
  if (train_groups.size() < static_cast<size_t>(std::max(1, o.min_positive_groups))) {
    return FailedPreconditionError(fmt::format(
        "too little data to train the '{}' ranker: {} training users have a later interaction "
        "among their candidates (need {})",
        scenario.name, train_groups.size(), o.min_positive_groups));
  }
  auto to_set = [&](const std::vector<Group>& groups) {
    rank::TrainingSet ts;
    ts.feature_names = features.names();
    for (const Group& g : groups) {
      ts.x.insert(ts.x.end(), g.x.begin(), g.x.end());
      ts.label.insert(ts.label.end(), g.labels.begin(), g.labels.end());
      ts.groups.push_back(static_cast<uint32_t>(g.labels.size()));
    }
    return ts;
  };
  const rank::TrainingSet train = to_set(train_groups);
  const rank::TrainingSet valid = to_set(valid_groups);
  ASSIGN_OR_RETURN(std::unique_ptr<rank::GbdtModel> model,
                   rank::GbdtModel::Train(train, valid_groups.empty() ? nullptr : &valid, o.gbdt,
                                          progress));
  RankerTrainResult result;
  nlohmann::json m = {{"scenario", scenario.name},
                      {"split_ms", split.split_ms},
                      {"sampled_users", users.size()},
                      {"train_users", train_groups.size()},
                      {"valid_users", valid_groups.size()},
                      {"rows", train.rows()},
                      {"features", features.names()},
                      {"best_iteration", model->best_iteration()},
                      {"candidate_recall",
                       relevant_total ? static_cast<double>(positives_total) / relevant_total : 0.0},
                      {"mean_candidates",
                       users.empty() ? 0.0 : static_cast<double>(candidates_total) / users.size()}};
  const std::vector<Group>& eval_groups = valid_groups.empty() ? train_groups : valid_groups;
  OrderMetrics fusion, ranked;
  for (const Group& g : eval_groups) {
    const std::vector<float> p = model->Predict(g.x);
    std::vector<double> ps(p.begin(), p.end());
    if (ps.size() != g.labels.size()) return InternalError("ranker prediction has the wrong size");
    const OrderMetrics f = Evaluate(g, g.fusion), r = Evaluate(g, ps);
    fusion.ndcg10 += f.ndcg10;
    fusion.recall20 += f.recall20;
    ranked.ndcg10 += r.ndcg10;
    ranked.recall20 += r.recall20;
  }
  const double n = std::max<size_t>(1, eval_groups.size());
  m["evaluated_on"] = valid_groups.empty() ? "train" : "validation";
  m["fusion"] = {{"ndcg@10", fusion.ndcg10 / n}, {"recall@20", fusion.recall20 / n}};
  m["ranker"] = {{"ndcg@10", ranked.ndcg10 / n}, {"recall@20", ranked.recall20 / n}};
  result.model = std::move(model);
  result.metrics = std::move(m);
  return result;
}

}  // namespace souk::recommend
