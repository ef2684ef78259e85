// Small deterministic candidate sources and data for the pipeline tests (the
// real sources are tested in their own suites).
//   "neighbors": for the newest 5 history items h (and the context items),
//                proposes h+1 and h+2 (mod num_items), Reason viewed_with h.
//   "fixed":     proposes options.items in order (score = 1/(1+position)),
//                Reason options.kind; ignores the request.
//   "counts":    the most interacted items (Reason popular); fitted from data.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/file.h"
#include "recommend/candidate_source.h"
#include "recommend/interactions.h"

namespace souk::recommend::testing {

class FakeSourceBase : public CandidateSource {
 public:
  Status Fit(const InteractionData& data, const ProgressOptions&) override {
    num_items_ = data.num_items();
    FitMore(data);
    return OkStatus();
  }
  Status Save(const std::string& dir) const override {
    nlohmann::json m = {{"kind", Name()}, {"format_version", 1}, {"num_items", num_items_},
                        {"state", State()}};
    return WriteFileAtomically(std::filesystem::path(dir) / "manifest.json", m.dump());
  }
  Status Load(const std::string& dir, const InteractionData& data) override {
    std::ifstream in(std::filesystem::path(dir) / "manifest.json");
    if (!in) return NotFoundError("no manifest in " + dir);
    nlohmann::json m = nlohmann::json::parse(in, nullptr, false);
    if (m.is_discarded() || m.value("kind", "") != Name()) return DataLossError("bad manifest in " + dir);
    num_items_ = m["num_items"].get<int32_t>();
    if (num_items_ != data.num_items()) return FailedPreconditionError("item count differs");
    SetState(m["state"]);
    return OkStatus();
  }

 protected:
  virtual void FitMore(const InteractionData&) {}
  virtual nlohmann::json State() const { return nullptr; }
  virtual void SetState(const nlohmann::json&) {}
  int32_t num_items_ = 0;
};

class NeighborsSource final : public FakeSourceBase {
 public:
  std::string Name() const override { return "neighbors"; }
  void Candidates(const RecommendRequest& req, int k, std::vector<Candidate>* out) const override {
    std::vector<int32_t> seeds(req.items.begin(), req.items.end());
    for (size_t i = req.history.size(); i-- > 0 && seeds.size() < 5;) seeds.push_back(req.history[i].item);
    std::map<int32_t, std::pair<float, int32_t>> best;
    for (size_t s = 0; s < seeds.size(); ++s) {
      if (seeds[s] < 0 || seeds[s] >= num_items_) continue;
      for (int d = 1; d <= 2; ++d) {
        const int32_t item = (seeds[s] + d) % num_items_;
        const float score = 1.0f / static_cast<float>((s + 1) * d);
        auto& b = best[item];
        if (score > b.first) b = {score, seeds[s]};
      }
    }
    std::vector<std::pair<int32_t, float>> scored;
    for (const auto& [item, b] : best) scored.emplace_back(item, b.first);
    for (const auto& [item, score] : TopK(scored, k)) {
      out->push_back({.item = item, .score = score,
                      .reason = {.source = Name(), .kind = "viewed_with", .evidence_item = best[item].second}});
    }
  }
};

class FixedSource final : public FakeSourceBase {
 public:
  FixedSource(std::vector<int32_t> items, std::string kind) : items_(std::move(items)), kind_(std::move(kind)) {}
  std::string Name() const override { return "fixed"; }
  void Candidates(const RecommendRequest&, int k, std::vector<Candidate>* out) const override {
    for (size_t i = 0; i < items_.size() && static_cast<int>(i) < k; ++i) {
      out->push_back({.item = items_[i], .score = 1.0f / (1.0f + i),
                      .reason = {.source = Name(), .kind = kind_, .evidence_item = -1}});
    }
  }

 private:
  std::vector<int32_t> items_;
  std::string kind_;
};

class CountsSource final : public FakeSourceBase {
 public:
  std::string Name() const override { return "counts"; }
  void Candidates(const RecommendRequest&, int k, std::vector<Candidate>* out) const override {
    std::vector<std::pair<int32_t, float>> scored;
    for (int32_t i = 0; i < static_cast<int32_t>(counts_.size()); ++i) scored.emplace_back(i, counts_[i]);
    for (const auto& [item, score] : TopK(scored, k)) {
      out->push_back({.item = item, .score = score, .reason = {.source = Name(), .kind = "popular"}});
    }
  }

 protected:
  void FitMore(const InteractionData& data) override {
    counts_.assign(data.num_items(), 0);
    for (const Interaction& x : data.interactions()) counts_[x.item] += ImplicitWeight(x.type);
  }
  nlohmann::json State() const override { return counts_; }
  void SetState(const nlohmann::json& s) override { counts_ = s.get<std::vector<float>>(); }

 private:
  std::vector<float> counts_;
};

inline void RegisterFakeSources(SourceRegistry& r) {
  using Made = StatusOr<std::unique_ptr<CandidateSource>>;
  (void)r.Register("neighbors", [](const nlohmann::json& o) -> Made {
    RETURN_IF_ERROR(CheckOptionKeys(o, {}, "neighbors"));
    return std::unique_ptr<CandidateSource>(std::make_unique<NeighborsSource>());
  });
  (void)r.Register("fixed", [](const nlohmann::json& o) -> Made {
    static constexpr std::string_view kKeys[] = {"items", "kind"};
    RETURN_IF_ERROR(CheckOptionKeys(o, kKeys, "fixed"));
    return std::unique_ptr<CandidateSource>(std::make_unique<FixedSource>(
        o.value("items", std::vector<int32_t>{}), o.value("kind", std::string("popular"))));
  });
  (void)r.Register("counts", [](const nlohmann::json& o) -> Made {
    RETURN_IF_ERROR(CheckOptionKeys(o, {}, "counts"));
    return std::unique_ptr<CandidateSource>(std::make_unique<CountsSource>());
  });
}

// 60 items (category "Cat k > Sub k" with k = item % 6, brand "B" + item % 4,
// price 10 + item), `users` shoppers who walk item -> item + 1 (70%) or jump
// (30%), mostly viewing, sometimes buying, over increasing time.
inline std::shared_ptr<InteractionData> MakeWalkData(int users = 300, uint64_t seed = 3) {
  auto data = std::make_shared<InteractionData>();
  const int n_items = 60;
  for (int i = 0; i < n_items; ++i) {
    data->AddItem({.external_id = fmt::format("i{}", i), .title = fmt::format("Item {}", i),
                   .brand = fmt::format("B{}", i % 4),
                   .category = fmt::format("Cat {} > Sub {}", i % 6, i % 6),
                   .price = 10.0 + i, .created_at_ms = 1000});
  }
  std::mt19937_64 rng(seed);
  for (int u = 0; u < users; ++u) data->AddUser(fmt::format("u{}", u));
  for (int u = 0; u < users; ++u) {
    int cur = static_cast<int>(rng() % n_items);
    const int steps = 8 + static_cast<int>(rng() % 8);
    for (int t = 0; t < steps; ++t) {
      const bool buy = rng() % 5 == 0;
      (void)data->Add({.user = u, .item = cur, .type = buy ? EventType::kPurchase : EventType::kView,
                       .timestamp_ms = (int64_t{t} * 1000 + u) * 60000 + 1'700'000'000'000LL});
      cur = rng() % 10 < 7 ? (cur + 1) % n_items : static_cast<int>(rng() % n_items);
    }
  }
  data->Finalize();
  return data;
}

}  // namespace souk::recommend::testing
