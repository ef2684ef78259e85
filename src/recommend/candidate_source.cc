#include "recommend/candidate_source.h"

#include <algorithm>
#include <limits>

namespace souk::recommend {

void CandidateSource::ScoreAll(const RecommendRequest& request, std::span<float> scores) const {
  std::fill(scores.begin(), scores.end(), -std::numeric_limits<float>::infinity());
  std::vector<Candidate> candidates;
  Candidates(request, static_cast<int>(scores.size()), &candidates);
  for (const Candidate& c : candidates) {
    if (c.item >= 0 && static_cast<size_t>(c.item) < scores.size()) scores[c.item] = c.score;
  }
}

Status SourceRegistry::Register(std::string name, Factory factory) {
  if (factories_.count(name)) {
    return AlreadyExistsError("candidate source '" + name + "' is already registered");
  }
  factories_.emplace(std::move(name), std::move(factory));
  return OkStatus();
}

StatusOr<std::unique_ptr<CandidateSource>> SourceRegistry::Create(
    const std::string& name, const nlohmann::json& options) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [n, f] : factories_) known += (known.empty() ? "" : ", ") + n;
    return NotFoundError("unknown candidate source '" + name + "' (known: " + known + ")");
  }
  if (!options.is_null() && !options.is_object()) {
    return InvalidArgumentError("options of candidate source '" + name +
                                "' must be a JSON object");
  }
  return it->second(options.is_null() ? nlohmann::json::object() : options);
}

std::vector<std::string> SourceRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : factories_) out.push_back(n);
  return out;
}

Status CheckOptionKeys(const nlohmann::json& options, std::span<const std::string_view> known,
                       std::string_view source_name) {
  if (options.is_null()) return OkStatus();
  if (!options.is_object()) {
    return InvalidArgumentError("options of " + std::string(source_name) +
                                " must be a JSON object");
  }
  for (const auto& [key, value] : options.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return InvalidArgumentError("unknown option '" + key + "' for " + std::string(source_name) +
                                  " (known: " + list + ")");
    }
  }
  return OkStatus();
}

std::vector<std::pair<int32_t, float>> TopK(std::span<const std::pair<int32_t, float>> scored,
                                            int k) {
  std::vector<std::pair<int32_t, float>> out(scored.begin(), scored.end());
  auto better = [](const std::pair<int32_t, float>& a, const std::pair<int32_t, float>& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  if (k <= 0) return {};
  if (static_cast<size_t>(k) < out.size()) {
    std::partial_sort(out.begin(), out.begin() + k, out.end(), better);
    out.resize(k);
  } else {
    std::sort(out.begin(), out.end(), better);
  }
  return out;
}

}  // namespace souk::recommend
