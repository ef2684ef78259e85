#include "recommend/ease_source.h"

#include <fmt/format.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <unordered_map>

#include "common/progress.h"
#include "recommend/source_io.h"

#ifdef SOUK_HAVE_LAPACK
extern "C" {
// LAPACK (OpenBLAS): Cholesky factorization and inverse of a symmetric positive
// definite matrix, column-major, in place.
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void spotri_(const char* uplo, const int* n, float* a, const int* lda, int* info);
}
#endif

namespace souk::recommend {
namespace {

using internal::OptionReader;

// Inverts the symmetric positive definite m x m matrix `g` (its lower triangle
// is read; column-major) in place; on return `g` holds the full inverse.
Status InvertSpd(std::vector<float>* g, int m) {
#ifdef SOUK_HAVE_LAPACK
  const char lower = 'L';
  int info = 0;
  spotrf_(&lower, &m, g->data(), &m, &info);
  if (info != 0) {
    return InternalError(fmt::format(
        "ease: Cholesky factorization failed (LAPACK info {}); raise option 'lambda'", info));
  }
  spotri_(&lower, &m, g->data(), &m, &info);
  if (info != 0) {
    return InternalError(fmt::format("ease: matrix inverse failed (LAPACK info {})", info));
  }
  float* a = g->data();
  for (int j = 0; j < m; ++j) {
    for (int i = j + 1; i < m; ++i) a[static_cast<size_t>(i) * m + j] = a[static_cast<size_t>(j) * m + i];
  }
  return OkStatus();
#else
  Eigen::Map<Eigen::MatrixXf> a(g->data(), m, m);
  Eigen::LLT<Eigen::Ref<Eigen::MatrixXf>, Eigen::Lower> llt(a);
  if (llt.info() != Eigen::Success) {
    return InternalError("ease: Cholesky factorization failed; raise option 'lambda'");
  }
  Eigen::MatrixXf inverse = Eigen::MatrixXf::Identity(m, m);
  llt.solveInPlace(inverse);
  a = inverse;
  return OkStatus();
#endif
}

}  // namespace

StatusOr<EaseOptions> EaseOptions::FromJson(const nlohmann::json& options) {
  static constexpr std::string_view kKeys[] = {"lambda",         "weighted",     "max_items",
                                               "max_history",    "context_weight", "exclude_seen",
                                               "max_user_items"};
  EaseOptions o;
  OptionReader r(options, "ease");
  RETURN_IF_ERROR(r.CheckKeys(kKeys));
  RETURN_IF_ERROR(r.Double("lambda", &o.lambda, 0, 1e12, /*min_exclusive=*/true));
  RETURN_IF_ERROR(r.Bool("weighted", &o.weighted));
  RETURN_IF_ERROR(r.Int("max_items", &o.max_items, 1, 40000));
  RETURN_IF_ERROR(r.Int("max_history", &o.max_history, 0, 100000));
  RETURN_IF_ERROR(r.Double("context_weight", &o.context_weight, 0, 1e6));
  RETURN_IF_ERROR(r.Bool("exclude_seen", &o.exclude_seen));
  RETURN_IF_ERROR(r.Int("max_user_items", &o.max_user_items, 1, 1000000));
  return o;
}

nlohmann::json EaseOptions::ToJson() const {
  return {{"lambda", lambda},
          {"weighted", weighted},
          {"max_items", max_items},
          {"max_history", max_history},
          {"context_weight", context_weight},
          {"exclude_seen", exclude_seen},
          {"max_user_items", max_user_items}};
}

Status EaseSource::Fit(const InteractionData& data, const ProgressOptions& progress) {
  if (!data.finalized()) return FailedPreconditionError("ease: data is not finalized");
  const int32_t n = data.num_items();

  // Each user's distinct items (most recent first) with their X value.
  std::vector<int64_t> user_offsets{0};
  std::vector<int32_t> user_items;
  std::vector<float> user_values;
  std::vector<int32_t> num_users(n, 0);
  std::unordered_map<int32_t, size_t> where;
  for (int32_t u = 0; u < data.num_users(); ++u) {
    const auto history = data.UserHistory(u);
    where.clear();
    const size_t base = user_items.size();
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
      const float w = ImplicitWeight(it->type, it->value);
      if (w <= 0) continue;
      const float x = options_.weighted ? w : 1.0f;
      auto [pos, inserted] = where.emplace(it->item, user_items.size());
      if (!inserted) {
        user_values[pos->second] = std::max(user_values[pos->second], x);
        continue;
      }
      if (static_cast<int>(user_items.size() - base) >= options_.max_user_items) {
        where.erase(pos);
        continue;
      }
      user_items.push_back(it->item);
      user_values.push_back(x);
      ++num_users[it->item];
    }
    if (user_items.size() > base) user_offsets.push_back(static_cast<int64_t>(user_items.size()));
  }
  if (user_items.empty()) return FailedPreconditionError("ease: the data has no positive events");

  // The most popular items form the model.
  std::vector<int32_t> order;
  for (int32_t i = 0; i < n; ++i) {
    if (num_users[i] > 0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return num_users[a] > num_users[b]; });
  if (static_cast<int>(order.size()) > options_.max_items) order.resize(options_.max_items);
  std::sort(order.begin(), order.end());
  const int m = static_cast<int>(order.size());
  std::vector<int32_t> index(n, -1);
  for (int i = 0; i < m; ++i) index[order[i]] = i;

  Progress bar("ease", 3, progress);
  // Gram matrix, lower triangle (column-major: element (r, c) at c * m + r, r >= c).
  std::vector<float> g(static_cast<size_t>(m) * m, 0.0f);
  std::vector<std::pair<int32_t, float>> row;
  for (size_t u = 0; u + 1 < user_offsets.size(); ++u) {
    row.clear();
    for (int64_t p = user_offsets[u]; p < user_offsets[u + 1]; ++p) {
      const int32_t mi = index[user_items[p]];
      if (mi >= 0) row.emplace_back(mi, user_values[p]);
    }
    for (const auto& [a, xa] : row) {
      for (const auto& [b, xb] : row) {
        if (a >= b) g[static_cast<size_t>(b) * m + a] += xa * xb;
      }
    }
  }
  for (int i = 0; i < m; ++i) g[static_cast<size_t>(i) * m + i] += static_cast<float>(options_.lambda);
  bar.Add(1);
  bar.SetStatus(fmt::format("inverting {} x {}", m, m));
  RETURN_IF_ERROR(InvertSpd(&g, m));
  bar.Add(1);
  // B_ij = -P_ij / P_jj (P symmetric, so the buffer reads the same either way).
  std::vector<float> diag(m);
  for (int j = 0; j < m; ++j) diag[j] = g[static_cast<size_t>(j) * m + j];
  for (int i = 0; i < m; ++i) {
    float* r = g.data() + static_cast<size_t>(i) * m;
    for (int j = 0; j < m; ++j) r[j] = -r[j] / diag[j];
    r[i] = 0.0f;
  }
  bar.Add(1);
  bar.Finish();

  num_items_ = n;
  model_items_ = std::move(order);
  model_index_ = std::move(index);
  b_ = std::move(g);
  categories_.clear();
  for (const ItemInfo& info : data.items()) categories_.push_back(info.category);
  return OkStatus();
}

float EaseSource::Weight(int32_t from_item, int32_t to_item) const {
  if (from_item < 0 || from_item >= num_items_ || to_item < 0 || to_item >= num_items_) return 0;
  const int32_t a = model_index_[from_item], b = model_index_[to_item];
  if (a < 0 || b < 0) return 0;
  return b_[static_cast<size_t>(a) * model_items_.size() + b];
}

std::vector<std::pair<int32_t, float>> EaseSource::QueryRow(
    const RecommendRequest& request) const {
  std::vector<std::pair<int32_t, float>> row;
  auto add = [&](int32_t item, float x) {
    if (item < 0 || item >= num_items_ || x <= 0) return;
    const int32_t mi = model_index_[item];
    if (mi < 0) return;
    for (auto& [i, v] : row) {
      if (i == mi) {
        v = std::max(v, x);
        return;
      }
    }
    row.emplace_back(mi, x);
  };
  for (const HistoryEvent& e : internal::RecentValidHistory(request, num_items_,
                                                            options_.max_history)) {
    const float w = ImplicitWeight(e.type);
    if (w > 0) add(e.item, options_.weighted ? w : 1.0f);
  }
  // Context items are capped like the history (bounded cost).
  int context = 0;
  for (int32_t item : request.items) {
    if (context++ >= options_.max_history) break;
    add(item, static_cast<float>(options_.context_weight));
  }
  return row;
}

std::vector<float> EaseSource::Scores(const std::vector<std::pair<int32_t, float>>& row) const {
  const size_t m = model_items_.size();
  std::vector<float> s(m, 0.0f);
  for (const auto& [i, x] : row) {
    const float* r = b_.data() + static_cast<size_t>(i) * m;
    for (size_t j = 0; j < m; ++j) s[j] += x * r[j];
  }
  return s;
}

void EaseSource::Candidates(const RecommendRequest& request, int k,
                            std::vector<Candidate>* out) const {
  const size_t m = model_items_.size();
  k = internal::ClampK(k, static_cast<int64_t>(m));
  if (k == 0) return;
  const auto row = QueryRow(request);
  if (row.empty()) return;
  const std::vector<float> s = Scores(row);
  std::vector<uint8_t> seen(m, 0);
  for (const auto& [i, x] : row) seen[i] = 1;
  std::vector<std::pair<int32_t, float>> scored;
  for (size_t j = 0; j < m; ++j) {
    if (s[j] <= 0 || (options_.exclude_seen && seen[j])) continue;
    if (!internal::InCategory(categories_[model_items_[j]], request.category)) continue;
    scored.emplace_back(static_cast<int32_t>(j), s[j]);
  }
  for (const auto& [j, score] : TopK(scored, k)) {
    int32_t evidence = -1;
    float best = -std::numeric_limits<float>::infinity();
    for (const auto& [i, x] : row) {
      const float c = x * b_[static_cast<size_t>(i) * m + j];
      if (c > best) {
        best = c;
        evidence = model_items_[i];
      }
    }
    out->push_back({.item = model_items_[j],
                    .score = score,
                    .reason = {.source = kName,
                               .kind = "because_you",
                               .evidence_item = evidence,
                               .value = best}});
  }
}

void EaseSource::ScoreAll(const RecommendRequest& request, std::span<float> scores) const {
  std::fill(scores.begin(), scores.end(), -std::numeric_limits<float>::infinity());
  const auto row = QueryRow(request);
  const std::vector<float> s = Scores(row);
  for (size_t j = 0; j < s.size(); ++j) {
    const int32_t item = model_items_[j];
    if (static_cast<size_t>(item) < scores.size()) scores[item] = s[j];
  }
}

Status EaseSource::Save(const std::string& dir) const {
  const std::filesystem::path d(dir);
  RETURN_IF_ERROR(internal::WriteInt32Array((d / "model_items.bin").string(), model_items_));
  RETURN_IF_ERROR(internal::WriteFloatArray((d / "b.bin").string(), b_));
  return internal::WriteManifest(
      dir, kName, kFormatVersion, num_items_,
      {{"options", options_.ToJson()}, {"num_model_items", model_items_.size()}});
}

Status EaseSource::Load(const std::string& dir, const InteractionData& data) {
  ASSIGN_OR_RETURN(nlohmann::json m,
                   internal::ReadManifest(dir, kName, kFormatVersion, data.num_items()));
  ASSIGN_OR_RETURN(EaseOptions options, EaseOptions::FromJson(m.value("options",
                                                                       nlohmann::json{})));
  const std::filesystem::path d(dir);
  const std::string items_path = (d / "model_items.bin").string();
  ASSIGN_OR_RETURN(std::vector<int32_t> items, internal::ReadInt32Array(items_path));
  ASSIGN_OR_RETURN(std::vector<float> b, internal::ReadFloatArray((d / "b.bin").string()));
  const int32_t n = data.num_items();
  std::vector<int32_t> index(n, -1);
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i] < 0 || items[i] >= n || index[items[i]] >= 0) {
      return DataLossError(fmt::format("{}: bad or repeated item {}", items_path, items[i]));
    }
    index[items[i]] = static_cast<int32_t>(i);
  }
  if (b.size() != items.size() * items.size()) {
    return DataLossError(fmt::format("{}/b.bin: {} weights for {} modelled items", dir, b.size(),
                                     items.size()));
  }
  options_ = options;
  num_items_ = n;
  model_items_ = std::move(items);
  model_index_ = std::move(index);
  b_ = std::move(b);
  categories_.clear();
  for (const ItemInfo& info : data.items()) categories_.push_back(info.category);
  return OkStatus();
}

}  // namespace souk::recommend
