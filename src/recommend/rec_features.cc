#include "recommend/rec_features.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace souk::recommend {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kDayMs = 86400000.0;

double HitStrength(const SourceHit& h, std::span<const SourceSlot> slots, double rrf_k) {
  double w = 1.0;
  for (const SourceSlot& s : slots) {
    if (s.id == h.source) {
      w = s.weight;
      break;
    }
  }
  return w / (rrf_k + h.rank);
}

std::string LowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace

std::vector<RankedCandidate> CollectCandidates(std::span<const SourceSlot> slots,
                                               const RecommendRequest& request,
                                               const InteractionData& data, double rrf_k,
                                               int k_floor) {
  std::vector<RankedCandidate> out;
  std::unordered_map<int32_t, size_t> where;
  std::vector<Candidate> got;
  for (const SourceSlot& slot : slots) {
    if (!slot.source) continue;
    got.clear();
    const int k = std::max(slot.k, k_floor);
    if (k == 0) continue;
    slot.source->Candidates(request, k, &got);
    int rank = 0;
    for (const Candidate& c : got) {
      if (rank >= k) break;
      if (c.item < 0 || c.item >= data.num_items()) continue;
      ++rank;
      if (!request.category.empty() && data.item(c.item).category.rfind(request.category, 0) != 0) {
        continue;
      }
      auto [it, fresh] = where.emplace(c.item, out.size());
      if (fresh) {
        out.push_back(RankedCandidate{.item = c.item});
      }
      RankedCandidate& rc = out[it->second];
      // A source proposing an item twice keeps its best rank.
      bool seen = false;
      for (const SourceHit& h : rc.hits) seen = seen || h.source == slot.id;
      if (seen) continue;
      rc.hits.push_back({.source = slot.id, .score = c.score, .rank = rank, .reason = c.reason});
      if (rc.hits.back().reason.source.empty()) rc.hits.back().reason.source = slot.source->Name();
    }
  }
  for (RankedCandidate& c : out) {
    std::stable_sort(c.hits.begin(), c.hits.end(), [&](const SourceHit& a, const SourceHit& b) {
      return HitStrength(a, slots, rrf_k) > HitStrength(b, slots, rrf_k);
    });
  }
  return out;
}

void FuseReciprocalRank(std::span<const SourceSlot> slots, double rrf_k,
                        std::vector<RankedCandidate>* list) {
  for (RankedCandidate& c : *list) {
    double s = 0;
    for (const SourceHit& h : c.hits) s += HitStrength(h, slots, rrf_k);
    c.score = s;
  }
  std::stable_sort(list->begin(), list->end(), [](const RankedCandidate& a, const RankedCandidate& b) {
    return a.score > b.score || (a.score == b.score && a.item < b.item);
  });
}

ItemStats::ItemStats(const InteractionData& data)
    : log_popularity_(data.num_items(), 0.0f), last_event_ms_(data.num_items(), 0) {
  std::vector<double> w(data.num_items(), 0.0);
  for (const Interaction& x : data.interactions()) {
    w[x.item] += ImplicitWeight(x.type, x.value);
    last_event_ms_[x.item] = std::max(last_event_ms_[x.item], x.timestamp_ms);
  }
  for (int32_t i = 0; i < data.num_items(); ++i) log_popularity_[i] = static_cast<float>(std::log1p(w[i]));
}

RecFeatures::RecFeatures(std::vector<std::string> source_ids) : source_ids_(std::move(source_ids)) {
  for (const std::string& id : source_ids_) {
    names_.push_back("src:" + id + ":score");
    names_.push_back("src:" + id + ":rank");
  }
  for (const char* n : {"num_sources", "log_popularity", "days_since_last_event", "age_days",
                        "category_affinity", "brand_affinity", "price_z", "text_similarity",
                        "intent"}) {
    names_.emplace_back(n);
  }
}

RecFeatures::Profile RecFeatures::MakeProfile(const InteractionData& data,
                                              std::span<const HistoryEvent> history,
                                              int64_t now_ms, const ItemEmbeddingFn& embed) {
  Profile p;
  p.now_ms = now_ms;
  double sum = 0, sum2 = 0;
  int counted = 0;
  for (const HistoryEvent& e : history) {
    if (e.item < 0 || e.item >= data.num_items()) continue;
    const ItemInfo& info = data.item(e.item);
    ++counted;
    if (!info.category.empty()) p.category_share[info.category] += 1;
    if (!info.brand.empty()) p.brand_share[LowerAscii(info.brand)] += 1;
    if (info.price && *info.price > 0) {
      const double lp = std::log(*info.price);
      sum += lp;
      sum2 += lp * lp;
      ++p.priced;
    }
  }
  p.has_history = counted > 0;
  for (auto* m : {&p.category_share, &p.brand_share}) {
    for (auto& [k, v] : *m) v /= counted;
  }
  if (p.priced >= 2) {
    p.log_price_mean = sum / p.priced;
    p.log_price_sd = std::sqrt(std::max(0.0, sum2 / p.priced - p.log_price_mean * p.log_price_mean));
  }
  if (embed) {
    int used = 0;
    for (size_t i = history.size(); i-- > 0 && used < 20;) {
      if (history[i].item < 0 || history[i].item >= data.num_items()) continue;
      std::span<const float> v = embed(history[i].item);
      if (v.empty()) continue;
      if (p.embedding.empty()) p.embedding.assign(v.size(), 0.0f);
      if (v.size() != p.embedding.size()) continue;
      for (size_t d = 0; d < v.size(); ++d) p.embedding[d] += v[d];
      ++used;
    }
    double norm = 0;
    for (float x : p.embedding) norm += double{x} * x;
    if (norm > 0) {
      const float inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (float& x : p.embedding) x *= inv;
    } else {
      p.embedding.clear();
    }
  }
  return p;
}

void RecFeatures::Compute(const InteractionData& data, const ItemStats& stats, const Profile& p,
                          const ItemEmbeddingFn& embed, const RankedCandidate& c,
                          float* out) const {
  size_t f = 0;
  for (const std::string& id : source_ids_) {
    float score = kNaN, rank = kNaN;
    for (const SourceHit& h : c.hits) {
      if (h.source == id) {
        score = h.score;
        rank = static_cast<float>(h.rank);
        break;
      }
    }
    out[f++] = score;
    out[f++] = rank;
  }
  const ItemInfo& info = data.item(c.item);
  out[f++] = static_cast<float>(c.hits.size());
  out[f++] = stats.log_popularity(c.item);
  const int64_t last = stats.last_event_ms(c.item);
  out[f++] = last > 0 ? static_cast<float>((p.now_ms - last) / kDayMs) : kNaN;
  out[f++] = info.created_at_ms > 0 ? static_cast<float>((p.now_ms - info.created_at_ms) / kDayMs) : kNaN;
  if (p.has_history) {
    auto share = [](const std::unordered_map<std::string, double>& m, const std::string& key) {
      auto it = m.find(key);
      return it == m.end() ? 0.0f : static_cast<float>(it->second);
    };
    out[f++] = info.category.empty() ? kNaN : share(p.category_share, info.category);
    out[f++] = info.brand.empty() ? kNaN : share(p.brand_share, LowerAscii(info.brand));
  } else {
    out[f++] = kNaN;
    out[f++] = kNaN;
  }
  if (p.priced >= 2 && info.price && *info.price > 0) {
    const double sd = std::max(p.log_price_sd, 0.05);
    out[f++] = static_cast<float>((std::log(*info.price) - p.log_price_mean) / sd);
  } else {
    out[f++] = kNaN;
  }
  float sim = kNaN;
  if (embed && !p.embedding.empty()) {
    std::span<const float> v = embed(c.item);
    if (v.size() == p.embedding.size()) {
      double dot = 0, norm = 0;
      for (size_t d = 0; d < v.size(); ++d) {
        dot += double{v[d]} * p.embedding[d];
        norm += double{v[d]} * v[d];
      }
      if (norm > 0) sim = static_cast<float>(dot / std::sqrt(norm));
    }
  }
  out[f++] = sim;
  out[f++] = p.intent;
}

}  // namespace souk::recommend
