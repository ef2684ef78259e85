#include "recommend/cooccurrence_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <unordered_map>

#include "common/thread_pool.h"

namespace souk::recommend {
namespace {

using internal::OptionReader;

bool IsBuy(EventType t) { return t == EventType::kPurchase || t == EventType::kAddToCart; }

// Sequences (sessions) and per-user item sets, with each item's occurrences.
struct Occurrences {
  // Session sequences.
  std::vector<int32_t> seq_items;
  std::vector<float> seq_weight;
  std::vector<uint8_t> seq_buy;
  std::vector<int32_t> seq_of;     // position -> sequence
  std::vector<int64_t> seq_start;  // sequences + 1
  std::vector<int64_t> item_pos_offsets;  // items + 1
  std::vector<int64_t> item_pos;          // positions of each item
  // User item sets.
  std::vector<int32_t> user_items;
  std::vector<float> user_weight;
  std::vector<uint8_t> user_buy;
  std::vector<int32_t> user_of;
  std::vector<int64_t> user_start;
  std::vector<int64_t> item_user_offsets;
  std::vector<int64_t> item_user_pos;
};

// Groups positions by item (counting sort).
void IndexByItem(const std::vector<int32_t>& items, int32_t num_items,
                 std::vector<int64_t>* offsets, std::vector<int64_t>* pos) {
  offsets->assign(static_cast<size_t>(num_items) + 1, 0);
  for (int32_t i : items) ++(*offsets)[i + 1];
  for (int32_t i = 0; i < num_items; ++i) (*offsets)[i + 1] += (*offsets)[i];
  pos->resize(items.size());
  std::vector<int64_t> fill(offsets->begin(), offsets->end() - 1);
  for (size_t p = 0; p < items.size(); ++p) (*pos)[fill[items[p]]++] = static_cast<int64_t>(p);
}

Occurrences BuildOccurrences(const InteractionData& data, const CooccurrenceOptions& o) {
  Occurrences occ;
  occ.seq_start.push_back(0);
  occ.user_start.push_back(0);
  std::vector<const Interaction*> events;
  for (int32_t u = 0; u < data.num_users(); ++u) {
    events.clear();
    for (const Interaction& x : data.UserHistory(u)) {
      if (ImplicitWeight(x.type, x.value) > 0) events.push_back(&x);
    }
    if (events.empty()) continue;
    if (o.from_sessions) {
      // Group by session (time order kept inside each group).
      std::stable_sort(events.begin(), events.end(),
                       [](const Interaction* a, const Interaction* b) {
                         return a->session < b->session;
                       });
      for (size_t i = 0; i < events.size(); ++i) {
        if (i > 0 && events[i]->session != events[i - 1]->session) {
          occ.seq_start.push_back(static_cast<int64_t>(occ.seq_items.size()));
        }
        occ.seq_items.push_back(events[i]->item);
        occ.seq_weight.push_back(ImplicitWeight(events[i]->type, events[i]->value));
        occ.seq_buy.push_back(IsBuy(events[i]->type) ? 1 : 0);
        occ.seq_of.push_back(static_cast<int32_t>(occ.seq_start.size()) - 1);
      }
      occ.seq_start.push_back(static_cast<int64_t>(occ.seq_items.size()));
    }
    if (o.user_weight > 0) {
      // The last max_user_items distinct items, with their strongest event.
      std::unordered_map<int32_t, size_t> where;
      const size_t base = occ.user_items.size();
      const int32_t user_index = static_cast<int32_t>(occ.user_start.size()) - 1;
      std::vector<const Interaction*> by_time = events;
      std::stable_sort(by_time.begin(), by_time.end(),
                       [](const Interaction* a, const Interaction* b) {
                         return a->timestamp_ms > b->timestamp_ms;
                       });
      for (const Interaction* x : by_time) {
        const float w = ImplicitWeight(x->type, x->value);
        auto it = where.find(x->item);
        if (it != where.end()) {
          occ.user_weight[it->second] = std::max(occ.user_weight[it->second], w);
          occ.user_buy[it->second] |= IsBuy(x->type) ? 1 : 0;
          continue;
        }
        if (static_cast<int>(where.size()) >= o.max_user_items) continue;
        where.emplace(x->item, occ.user_items.size());
        occ.user_items.push_back(x->item);
        occ.user_weight.push_back(w);
        occ.user_buy.push_back(IsBuy(x->type) ? 1 : 0);
        occ.user_of.push_back(user_index);
      }
      if (occ.user_items.size() > base) {
        occ.user_start.push_back(static_cast<int64_t>(occ.user_items.size()));
      }
    }
  }
  IndexByItem(occ.seq_items, data.num_items(), &occ.item_pos_offsets, &occ.item_pos);
  IndexByItem(occ.user_items, data.num_items(), &occ.item_user_offsets, &occ.item_user_pos);
  return occ;
}

// Dense per-thread accumulator of one item's row of C (all weight, co-purchase weight).
struct RowAccumulator {
  std::vector<float> all, buy;
  std::vector<int32_t> touched;
  explicit RowAccumulator(int32_t n) : all(n, 0.0f), buy(n, 0.0f) {}
  void Add(int32_t b, float w, bool is_buy) {
    if (all[b] == 0 && buy[b] == 0) touched.push_back(b);
    all[b] += w;
    if (is_buy) buy[b] += w;
  }
  void Clear() {
    for (int32_t b : touched) all[b] = buy[b] = 0;
    touched.clear();
  }
};

void AccumulateRow(const Occurrences& occ, const CooccurrenceOptions& o, int32_t a,
                   RowAccumulator* acc) {
  auto pair = [&](float wa, bool ba, float wb, bool bb, float scale, int32_t b) {
    const bool buy = ba && bb;
    if (!(o.co_view || (o.co_purchase && buy))) return;
    acc->Add(b, std::min(wa, wb) * scale, buy && o.co_purchase);
  };
  if (o.from_sessions) {
    for (int64_t k = occ.item_pos_offsets[a]; k < occ.item_pos_offsets[a + 1]; ++k) {
      const int64_t p = occ.item_pos[k];
      const int32_t s = occ.seq_of[p];
      const int64_t lo = std::max(occ.seq_start[s], p - o.session_window);
      const int64_t hi = std::min(occ.seq_start[s + 1], p + o.session_window + 1);
      for (int64_t q = lo; q < hi; ++q) {
        const int32_t b = occ.seq_items[q];
        if (q == p || b == a) continue;
        pair(occ.seq_weight[p], occ.seq_buy[p], occ.seq_weight[q], occ.seq_buy[q], 1.0f, b);
      }
    }
  }
  if (o.user_weight > 0) {
    const float scale = static_cast<float>(o.user_weight);
    for (int64_t k = occ.item_user_offsets[a]; k < occ.item_user_offsets[a + 1]; ++k) {
      const int64_t p = occ.item_user_pos[k];
      const int32_t u = occ.user_of[p];
      for (int64_t q = occ.user_start[u]; q < occ.user_start[u + 1]; ++q) {
        if (q == p) continue;
        pair(occ.user_weight[p], occ.user_buy[p], occ.user_weight[q], occ.user_buy[q], scale,
             occ.user_items[q]);
      }
    }
  }
}

// Runs fn(begin, end, accumulator) over `threads` contiguous item blocks.
template <typename Fn>
void ForItemBlocks(int32_t n, int threads, Fn fn) {
  threads = std::max(1, std::min(threads, std::max<int32_t>(n, 1)));
  if (threads == 1) {
    RowAccumulator acc(n);
    fn(0, n, &acc);
    return;
  }
  ThreadPool pool(threads);
  std::vector<std::future<void>> done;
  for (int t = 0; t < threads; ++t) {
    const int32_t begin = static_cast<int32_t>(int64_t{n} * t / threads);
    const int32_t end = static_cast<int32_t>(int64_t{n} * (t + 1) / threads);
    done.push_back(pool.Submit([=, &fn] {
      RowAccumulator acc(n);
      fn(begin, end, &acc);
    }));
  }
  for (auto& f : done) f.get();
}

}  // namespace

StatusOr<CooccurrenceOptions> CooccurrenceOptions::FromJson(const nlohmann::json& options) {
  static constexpr std::string_view kKeys[] = {
      "co_view",       "co_purchase",    "from_sessions", "session_window", "user_weight",
      "max_user_items", "normalization", "min_count",     "neighbors",      "max_history",
      "recency_decay", "context_weight", "exclude_seen",  "threads"};
  static constexpr std::string_view kNorms[] = {"cosine", "lift"};
  CooccurrenceOptions o;
  OptionReader r(options, "cooccurrence");
  RETURN_IF_ERROR(r.CheckKeys(kKeys));
  RETURN_IF_ERROR(r.Bool("co_view", &o.co_view));
  RETURN_IF_ERROR(r.Bool("co_purchase", &o.co_purchase));
  RETURN_IF_ERROR(r.Bool("from_sessions", &o.from_sessions));
  RETURN_IF_ERROR(r.Int("session_window", &o.session_window, 1, 100000));
  RETURN_IF_ERROR(r.Double("user_weight", &o.user_weight, 0, 1e6));
  RETURN_IF_ERROR(r.Int("max_user_items", &o.max_user_items, 1, 100000));
  RETURN_IF_ERROR(r.Choice("normalization", &o.normalization, kNorms));
  RETURN_IF_ERROR(r.Double("min_count", &o.min_count, 0, 1e12));
  RETURN_IF_ERROR(r.Int("neighbors", &o.neighbors, 1, 100000));
  RETURN_IF_ERROR(r.Int("max_history", &o.max_history, 0, 100000));
  RETURN_IF_ERROR(r.Double("recency_decay", &o.recency_decay, 0, 1, true));
  RETURN_IF_ERROR(r.Double("context_weight", &o.context_weight, 0, 1e6));
  RETURN_IF_ERROR(r.Bool("exclude_seen", &o.exclude_seen));
  RETURN_IF_ERROR(r.Int("threads", &o.threads, 1, 256));
  if (!o.co_view && !o.co_purchase) {
    return InvalidArgumentError(
        "cooccurrence: options 'co_view' and 'co_purchase' are both false (nothing to count)");
  }
  if (!o.from_sessions && o.user_weight <= 0) {
    return InvalidArgumentError(
        "cooccurrence: option 'from_sessions' is false and 'user_weight' is 0 (no pairs)");
  }
  return o;
}

nlohmann::json CooccurrenceOptions::ToJson() const {
  return {{"co_view", co_view},
          {"co_purchase", co_purchase},
          {"from_sessions", from_sessions},
          {"session_window", session_window},
          {"user_weight", user_weight},
          {"max_user_items", max_user_items},
          {"normalization", normalization},
          {"min_count", min_count},
          {"neighbors", neighbors},
          {"max_history", max_history},
          {"recency_decay", recency_decay},
          {"context_weight", context_weight},
          {"exclude_seen", exclude_seen},
          {"threads", threads}};
}

Status CooccurrenceSource::Fit(const InteractionData& data, const ProgressOptions& progress) {
  if (!data.finalized()) return FailedPreconditionError("cooccurrence: data is not finalized");
  const int32_t n = data.num_items();
  const Occurrences occ = BuildOccurrences(data, options_);
  if (occ.seq_items.empty() && occ.user_items.empty()) {
    return FailedPreconditionError("cooccurrence: the data has no positive events");
  }
  ProgressOptions popts = progress;
  Progress bar("cooccurrence", 2 * static_cast<uint64_t>(n), popts);

  // Pass 1: row sums of C.
  std::vector<double> row_sum(n, 0.0);
  ForItemBlocks(n, options_.threads, [&](int32_t begin, int32_t end, RowAccumulator* acc) {
    for (int32_t a = begin; a < end; ++a) {
      AccumulateRow(occ, options_, a, acc);
      double s = 0;
      for (int32_t b : acc->touched) s += acc->all[b];
      row_sum[a] = s;
      acc->Clear();
      bar.Add(1);
    }
  });
  double total = 0;
  for (double s : row_sum) total += s;

  // Pass 2: normalized neighbour lists per block, then concatenated.
  const bool lift = options_.normalization == "lift";
  struct Block {
    std::vector<int64_t> counts;
    std::vector<int32_t> cols;
    std::vector<float> values, extra;
  };
  const int threads = std::max(1, std::min(options_.threads, std::max<int32_t>(n, 1)));
  std::vector<Block> blocks(threads);
  std::vector<int32_t> block_begin(threads + 1);
  for (int t = 0; t <= threads; ++t) {
    block_begin[t] = static_cast<int32_t>(int64_t{n} * t / threads);
  }
  ForItemBlocks(n, threads, [&](int32_t begin, int32_t end, RowAccumulator* acc) {
    const int t = static_cast<int>(std::upper_bound(block_begin.begin(), block_begin.end(),
                                                    begin) - block_begin.begin()) - 1;
    Block& block = blocks[t];
    std::vector<std::pair<int32_t, float>> scored;
    for (int32_t a = begin; a < end; ++a) {
      AccumulateRow(occ, options_, a, acc);
      scored.clear();
      for (int32_t b : acc->touched) {
        const double c = acc->all[b];
        if (c < options_.min_count || c <= 0 || row_sum[a] <= 0 || row_sum[b] <= 0) continue;
        const double sim = lift ? c * total / (row_sum[a] * row_sum[b])
                                : c / std::sqrt(row_sum[a] * row_sum[b]);
        scored.emplace_back(b, static_cast<float>(sim));
      }
      const auto top = TopK(scored, options_.neighbors);
      block.counts.push_back(static_cast<int64_t>(top.size()));
      for (const auto& [b, sim] : top) {
        block.cols.push_back(b);
        block.values.push_back(sim);
        block.extra.push_back(acc->buy[b] / acc->all[b]);
      }
      acc->Clear();
      bar.Add(1);
    }
  });
  bar.Finish();
  internal::SparseRows rows;
  for (const Block& block : blocks) {
    for (int64_t c : block.counts) rows.offsets.push_back(rows.offsets.back() + c);
    rows.cols.insert(rows.cols.end(), block.cols.begin(), block.cols.end());
    rows.values.insert(rows.values.end(), block.values.begin(), block.values.end());
    rows.extra.insert(rows.extra.end(), block.extra.begin(), block.extra.end());
  }
  rows_ = std::move(rows);
  categories_.clear();
  for (const ItemInfo& info : data.items()) categories_.push_back(info.category);
  return OkStatus();
}

std::vector<CooccurrenceSource::Neighbor> CooccurrenceSource::Neighbors(int32_t item) const {
  std::vector<Neighbor> out;
  if (item < 0 || item >= rows_.rows()) return out;
  const auto cols = rows_.Cols(item);
  const auto values = rows_.Values(item);
  const auto extra = rows_.Extra(item);
  for (size_t i = 0; i < cols.size(); ++i) out.push_back({cols[i], values[i], extra[i]});
  return out;
}

void CooccurrenceSource::Candidates(const RecommendRequest& request, int k,
                                    std::vector<Candidate>* out) const {
  const int32_t n = static_cast<int32_t>(rows_.rows());
  k = internal::ClampK(k, n);
  if (k == 0) return;
  const std::vector<internal::Seed> seeds = internal::RequestSeeds(
      request, n, options_.max_history, options_.recency_decay, options_.context_weight);
  if (seeds.empty()) return;
  struct Acc {
    float score = 0;
    float best = -1;
    int32_t evidence = -1;
    float similarity = 0;
    float purchase_share = 0;
  };
  std::unordered_map<int32_t, Acc> acc;
  for (const internal::Seed& seed : seeds) {
    const auto cols = rows_.Cols(seed.item);
    const auto values = rows_.Values(seed.item);
    const auto extra = rows_.Extra(seed.item);
    for (size_t i = 0; i < cols.size(); ++i) {
      if (!internal::InCategory(categories_[cols[i]], request.category)) continue;
      Acc& a = acc[cols[i]];
      const float contribution = seed.weight * values[i];
      a.score += contribution;
      if (contribution > a.best) {
        a.best = contribution;
        a.evidence = seed.item;
        a.similarity = values[i];
        a.purchase_share = extra[i];
      }
    }
  }
  std::vector<std::pair<int32_t, float>> scored;
  scored.reserve(acc.size());
  auto is_seed = [&](int32_t item) {
    for (const internal::Seed& s : seeds) {
      if (s.item == item) return true;
    }
    return false;
  };
  auto is_context = [&](int32_t item) {
    return std::find(request.items.begin(), request.items.end(), item) != request.items.end();
  };
  for (const auto& [item, a] : acc) {
    if (is_context(item) || (options_.exclude_seen && is_seed(item))) continue;
    scored.emplace_back(item, a.score);
  }
  for (const auto& [item, score] : TopK(scored, k)) {
    const Acc& a = acc.at(item);
    out->push_back({.item = item,
                    .score = score,
                    .reason = {.source = kName,
                               .kind = a.purchase_share > 0.5f ? "bought_with" : "viewed_with",
                               .evidence_item = a.evidence,
                               .value = a.similarity}});
  }
}

Status CooccurrenceSource::Save(const std::string& dir) const {
  RETURN_IF_ERROR(internal::SaveSparseRows(dir, "neighbors", rows_));
  return internal::WriteManifest(dir, kName, kFormatVersion, rows_.rows(),
                                 {{"options", options_.ToJson()}});
}

Status CooccurrenceSource::Load(const std::string& dir, const InteractionData& data) {
  ASSIGN_OR_RETURN(nlohmann::json m,
                   internal::ReadManifest(dir, kName, kFormatVersion, data.num_items()));
  ASSIGN_OR_RETURN(CooccurrenceOptions options,
                   CooccurrenceOptions::FromJson(m.value("options", nlohmann::json{})));
  ASSIGN_OR_RETURN(internal::SparseRows rows,
                   internal::LoadSparseRows(dir, "neighbors", data.num_items(), data.num_items()));
  if (rows.extra.size() != rows.cols.size()) {
    return DataLossError(fmt::format("{}/neighbors_extra.bin: {} values for {} neighbours", dir,
                                     rows.extra.size(), rows.cols.size()));
  }
  options_ = std::move(options);
  rows_ = std::move(rows);
  categories_.clear();
  for (const ItemInfo& info : data.items()) categories_.push_back(info.category);
  return OkStatus();
}

}  // namespace souk::recommend
