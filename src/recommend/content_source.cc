#include "recommend/content_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "lm/subword_encoder.h"
#include "recommend/source_io.h"

namespace souk::recommend {
namespace {

using internal::OptionReader;

const std::string& TextOf(const ItemInfo& info) {
  return info.text.empty() ? info.title : info.text;
}

bool IsZero(const float* v, int dim) {
  for (int d = 0; d < dim; ++d) {
    if (v[d] != 0.0f) return false;
  }
  return true;
}

float Dot(const float* a, const float* b, int dim) {
  float s = 0;
  for (int d = 0; d < dim; ++d) s += a[d] * b[d];
  return s;
}

}  // namespace

StatusOr<ContentOptions> ContentOptions::FromJson(const nlohmann::json& options) {
  static constexpr std::string_view kKeys[] = {
      "max_history",  "recency_decay",  "context_weight", "min_similarity",
      "exclude_seen", "encoder_dim",    "encoder_epochs", "threads",
      "hnsw_m",       "ef_search"};
  ContentOptions o;
  OptionReader r(options, "content");
  RETURN_IF_ERROR(r.CheckKeys(kKeys));
  RETURN_IF_ERROR(r.Int("max_history", &o.max_history, 0, 100000));
  RETURN_IF_ERROR(r.Double("recency_decay", &o.recency_decay, 0, 1, true));
  RETURN_IF_ERROR(r.Double("context_weight", &o.context_weight, 0, 1e6));
  RETURN_IF_ERROR(r.Double("min_similarity", &o.min_similarity, -1, 1));
  RETURN_IF_ERROR(r.Bool("exclude_seen", &o.exclude_seen));
  RETURN_IF_ERROR(r.Int("encoder_dim", &o.encoder_dim, 8, 1024));
  RETURN_IF_ERROR(r.Int("encoder_epochs", &o.encoder_epochs, 1, 100));
  RETURN_IF_ERROR(r.Int("threads", &o.threads, 1, 256));
  RETURN_IF_ERROR(r.Int("hnsw_m", &o.hnsw_m, 2, 256));
  RETURN_IF_ERROR(r.Int("ef_search", &o.ef_search, 1, 16384));
  return o;
}

nlohmann::json ContentOptions::ToJson() const {
  return {{"max_history", max_history},   {"recency_decay", recency_decay},
          {"context_weight", context_weight}, {"min_similarity", min_similarity},
          {"exclude_seen", exclude_seen}, {"encoder_dim", encoder_dim},
          {"encoder_epochs", encoder_epochs}, {"threads", threads},
          {"hnsw_m", hnsw_m},             {"ef_search", ef_search}};
}

ContentSource::ContentSource(const lm::Encoder* encoder, ContentOptions options)
    : options_(std::move(options)), encoder_(encoder) {}

ContentSource::~ContentSource() = default;

std::unique_ptr<ContentSource> MakeContentSource(const lm::Encoder* encoder,
                                                 ContentOptions options) {
  return std::make_unique<ContentSource>(encoder, std::move(options));
}

void ContentSource::Grow(int32_t capacity) {
  if (capacity <= static_cast<int32_t>(has_embedding_.size())) return;
  embeddings_.resize(static_cast<size_t>(capacity) * dim_, 0.0f);
  has_embedding_.resize(capacity, 0);
  categories_.resize(capacity);
}

Status ContentSource::Fit(const InteractionData& data, const ProgressOptions& progress) {
  const int32_t n = data.num_items();
  std::vector<std::string> texts;
  texts.reserve(n);
  std::vector<std::string> corpus;
  for (const ItemInfo& info : data.items()) {
    texts.push_back(TextOf(info));
    if (!texts.back().empty()) corpus.push_back(texts.back());
  }
  if (corpus.empty()) return FailedPreconditionError("content: no item has a title or text");

  const lm::Encoder* encoder = encoder_ != owned_encoder_.get() ? encoder_ : nullptr;
  std::unique_ptr<lm::Encoder> owned;
  if (encoder == nullptr) {
    lm::SubwordOptions so;
    so.dim = options_.encoder_dim;
    so.epochs = options_.encoder_epochs;
    so.threads = options_.threads;
    ProgressOptions p = progress;
    auto trained = lm::SubwordEncoder::Train(corpus, so, &p);
    if (!trained.ok()) {
      if (trained.status().code() == StatusCode::kInvalidArgument) {
        return FailedPreconditionError("content: cannot train the subword encoder on the item "
                                       "texts: " + trained.status().message());
      }
      return trained.status();
    }
    owned = std::move(trained).value();
    encoder = owned.get();
  }
  const int dim = encoder->Dim();
  std::vector<float> embeddings(static_cast<size_t>(n) * dim, 0.0f);
  constexpr size_t kBatch = 512;
  {
    Progress bar("content: embed items", static_cast<uint64_t>(n), progress);
    for (size_t begin = 0; begin < texts.size(); begin += kBatch) {
      const size_t count = std::min(kBatch, texts.size() - begin);
      RETURN_IF_ERROR(encoder->Encode(std::span<const std::string>(texts.data() + begin, count),
                                      lm::TextKind::kDocument,
                                      embeddings.data() + begin * dim));
      bar.Add(count);
    }
    bar.Finish();
  }
  std::vector<uint8_t> has(n, 0);
  std::vector<uint32_t> docs;
  std::vector<float> vecs;
  for (int32_t i = 0; i < n; ++i) {
    const float* v = embeddings.data() + static_cast<size_t>(i) * dim;
    if (texts[i].empty() || IsZero(v, dim)) continue;
    has[i] = 1;
    docs.push_back(static_cast<uint32_t>(i));
    vecs.insert(vecs.end(), v, v + dim);
  }
  if (docs.empty()) {
    return FailedPreconditionError("content: no item text has a usable word for the encoder");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<index::VectorIndex> vindex,
                   index::VectorIndex::Create({.dim = dim,
                                               .hnsw_m = options_.hnsw_m,
                                               .ef_search = options_.ef_search}));
  ProgressOptions p = progress;
  RETURN_IF_ERROR(vindex->AddBatch(docs, vecs, &p));

  owned_encoder_ = std::move(owned);
  if (owned_encoder_) encoder_ = owned_encoder_.get();
  else encoder_ = encoder;
  dim_ = dim;
  num_fitted_items_ = n;
  embeddings_ = std::move(embeddings);
  has_embedding_ = std::move(has);
  categories_.clear();
  for (const ItemInfo& info : data.items()) categories_.push_back(info.category);
  index_ = std::move(vindex);
  return OkStatus();
}

Status ContentSource::AddOrUpdateItem(int32_t item, const std::string& text,
                                      const std::string& category) {
  if (index_ == nullptr) return FailedPreconditionError("content: AddOrUpdateItem before Fit/Load");
  if (encoder_ == nullptr) {
    return FailedPreconditionError(
        "content: no encoder to embed new items (the source was loaded from a save made with a "
        "borrowed encoder: create it with MakeContentSource(encoder) before Load)");
  }
  const int32_t capacity = static_cast<int32_t>(has_embedding_.size());
  if (item < 0 || static_cast<int64_t>(item) >= static_cast<int64_t>(capacity) + kMaxNewItems) {
    return InvalidArgumentError(fmt::format(
        "content: item id {} out of range [0, {}) for AddOrUpdateItem", item,
        static_cast<int64_t>(capacity) + kMaxNewItems));
  }
  std::vector<float> v(dim_);
  const std::string texts[1] = {text};
  RETURN_IF_ERROR(encoder_->Encode(texts, lm::TextKind::kDocument, v.data()));
  if (IsZero(v.data(), dim_)) {
    return InvalidArgumentError(
        fmt::format("content: the text of item {} has no word the encoder knows", item));
  }
  RETURN_IF_ERROR(index_->Upsert(static_cast<uint32_t>(item), v));
  Grow(item + 1);
  std::copy(v.begin(), v.end(), embeddings_.begin() + static_cast<size_t>(item) * dim_);
  has_embedding_[item] = 1;
  categories_[item] = category;
  return OkStatus();
}

Status ContentSource::SimilarToText(const std::string& text, const std::string& label, int k,
                                    std::vector<Candidate>* out) const {
  if (index_ == nullptr) return FailedPreconditionError("content: SimilarToText before Fit/Load");
  if (encoder_ == nullptr) return FailedPreconditionError("content: no encoder to embed the text");
  k = internal::ClampK(k, static_cast<int64_t>(index_->size()));
  if (k == 0) return OkStatus();
  std::vector<float> v(dim_);
  const std::string texts[1] = {text};
  RETURN_IF_ERROR(encoder_->Encode(texts, lm::TextKind::kDocument, v.data()));
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  if (norm <= 0) return InvalidArgumentError("content: the text has no word the encoder knows");
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& x : v) x *= inv;
  ASSIGN_OR_RETURN(std::vector<index::VectorHit> hits,
                   index_->Search({.vector = v.data(), .k = static_cast<size_t>(k)}));
  for (const index::VectorHit& hit : hits) {
    if (hit.score < options_.min_similarity) continue;
    out->push_back({.item = static_cast<int32_t>(hit.doc),
                    .score = hit.score,
                    .reason = {.source = kName, .kind = "similar_to_text", .evidence_text = label,
                               .value = hit.score}});
  }
  return OkStatus();
}

const float* ContentSource::ItemEmbedding(int32_t item) const {
  if (item < 0 || item >= static_cast<int32_t>(has_embedding_.size()) || !has_embedding_[item]) {
    return nullptr;
  }
  return embeddings_.data() + static_cast<size_t>(item) * dim_;
}

bool ContentSource::QueryVector(const RecommendRequest& request, std::vector<float>* query,
                                std::vector<int32_t>* query_items) const {
  const int32_t capacity = static_cast<int32_t>(has_embedding_.size());
  const std::vector<internal::Seed> seeds = internal::RequestSeeds(
      request, capacity, options_.max_history, options_.recency_decay, options_.context_weight);
  query->assign(dim_, 0.0f);
  query_items->clear();
  for (const internal::Seed& s : seeds) {
    const float* e = ItemEmbedding(s.item);
    if (e == nullptr) continue;
    for (int d = 0; d < dim_; ++d) (*query)[d] += s.weight * e[d];
    query_items->push_back(s.item);
  }
  double norm = 0;
  for (float x : *query) norm += static_cast<double>(x) * x;
  if (query_items->empty() || !(norm > 1e-12) || !std::isfinite(norm)) return false;
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& x : *query) x *= inv;
  return true;
}

void ContentSource::Candidates(const RecommendRequest& request, int k,
                               std::vector<Candidate>* out) const {
  if (index_ == nullptr) return;
  k = internal::ClampK(k, static_cast<int64_t>(index_->size()));
  if (k == 0) return;
  std::vector<float> query;
  std::vector<int32_t> query_items;
  if (!QueryVector(request, &query, &query_items)) return;
  auto is_context = [&](int32_t item) {
    return std::find(request.items.begin(), request.items.end(), item) != request.items.end();
  };
  auto excluded = [&](int32_t item) {
    return is_context(item) ||
           (options_.exclude_seen &&
            std::find(query_items.begin(), query_items.end(), item) != query_items.end());
  };
  std::vector<uint8_t> allow;
  if (!request.category.empty()) {
    allow.assign(has_embedding_.size(), 0);
    for (size_t i = 0; i < has_embedding_.size(); ++i) {
      allow[i] = has_embedding_[i] && internal::InCategory(categories_[i], request.category);
    }
  }
  const size_t want = std::min<size_t>(index::VectorIndex::kMaxK,
                                       static_cast<size_t>(k) + query_items.size() +
                                           request.items.size());
  auto hits = index_->Search({.vector = query.data(),
                              .k = want,
                              .allow = request.category.empty() ? nullptr : &allow});
  if (!hits.ok()) return;  // a query the index rejects yields no candidates
  int added = 0;
  for (const index::VectorHit& hit : *hits) {
    if (added >= k) break;
    const int32_t item = static_cast<int32_t>(hit.doc);
    if (excluded(item) || hit.score < options_.min_similarity) continue;
    const float* e = ItemEmbedding(item);
    if (e == nullptr) continue;
    int32_t evidence = -1;
    float best = -2.0f;
    for (int32_t q : query_items) {
      const float c = Dot(ItemEmbedding(q), e, dim_);
      if (c > best) {
        best = c;
        evidence = q;
      }
    }
    out->push_back({.item = item,
                    .score = hit.score,
                    .reason = {.source = kName,
                               .kind = "similar_to",
                               .evidence_item = evidence,
                               .value = best}});
    ++added;
  }
}

void ContentSource::ScoreAll(const RecommendRequest& request, std::span<float> scores) const {
  std::fill(scores.begin(), scores.end(), -std::numeric_limits<float>::infinity());
  std::vector<float> query;
  std::vector<int32_t> query_items;
  if (!QueryVector(request, &query, &query_items)) return;
  const size_t n = std::min(scores.size(), has_embedding_.size());
  for (size_t i = 0; i < n; ++i) {
    if (has_embedding_[i]) scores[i] = Dot(query.data(), embeddings_.data() + i * dim_, dim_);
  }
}

Status ContentSource::Save(const std::string& dir) const {
  if (index_ == nullptr) return FailedPreconditionError("content: Save before Fit/Load");
  const std::filesystem::path d(dir);
  RETURN_IF_ERROR(internal::WriteFloatArray((d / "embeddings.bin").string(), embeddings_));
  std::vector<int32_t> embedded;
  for (size_t i = 0; i < has_embedding_.size(); ++i) {
    if (has_embedding_[i]) embedded.push_back(static_cast<int32_t>(i));
  }
  RETURN_IF_ERROR(internal::WriteInt32Array((d / "embedded_items.bin").string(), embedded));
  RETURN_IF_ERROR(index_->Save((d / "index").string()));
  if (owned_encoder_) RETURN_IF_ERROR(owned_encoder_->Save((d / "encoder").string()));
  nlohmann::json added_categories = nlohmann::json::array();
  for (size_t i = num_fitted_items_; i < categories_.size(); ++i) {
    added_categories.push_back(categories_[i]);
  }
  return internal::WriteManifest(
      dir, kName, kFormatVersion, num_fitted_items_,
      {{"options", options_.ToJson()},
       {"dim", dim_},
       {"capacity", has_embedding_.size()},
       {"added_categories", added_categories},
       {"encoder", {{"name", encoder_ ? encoder_->Name() : ""},
                    {"version", encoder_ ? encoder_->Version() : ""},
                    {"saved", owned_encoder_ != nullptr}}}});
}

Status ContentSource::Load(const std::string& dir, const InteractionData& data) {
  ASSIGN_OR_RETURN(nlohmann::json m,
                   internal::ReadManifest(dir, kName, kFormatVersion, data.num_items()));
  const std::filesystem::path d(dir);
  const std::string manifest_path = (d / "manifest.json").string();
  ASSIGN_OR_RETURN(ContentOptions options,
                   ContentOptions::FromJson(m.value("options", nlohmann::json{})));
  const nlohmann::json enc = m.value("encoder", nlohmann::json::object());
  const int dim = m.value("dim", 0);
  const int64_t capacity = m.value("capacity", int64_t{-1});
  const nlohmann::json added = m.value("added_categories", nlohmann::json::array());
  if (dim <= 0 || capacity < data.num_items() || !enc.is_object() || !added.is_array() ||
      static_cast<int64_t>(added.size()) != capacity - data.num_items()) {
    return DataLossError(fmt::format("{}: bad dim, capacity, encoder or added_categories",
                                     manifest_path));
  }
  const std::string enc_name = enc.value("name", "");
  const std::string enc_version = enc.value("version", "");
  // The encoder that can embed new items.
  const lm::Encoder* borrowed = encoder_ != owned_encoder_.get() ? encoder_ : nullptr;
  std::unique_ptr<lm::Encoder> owned;
  if (borrowed != nullptr) {
    if (borrowed->Name() != enc_name || borrowed->Version() != enc_version) {
      return FailedPreconditionError(fmt::format(
          "{}: embeddings were made with encoder {} version {}, the source has {} version {}",
          manifest_path, enc_name, enc_version, borrowed->Name(), borrowed->Version()));
    }
  } else if (enc.value("saved", false)) {
    ASSIGN_OR_RETURN(owned, lm::SubwordEncoder::Load((d / "encoder").string()));
    if (owned->Version() != enc_version) {
      return DataLossError(fmt::format("{}/encoder: version {} but the manifest says {}", dir,
                                       owned->Version(), enc_version));
    }
  }
  const std::string emb_path = (d / "embeddings.bin").string();
  ASSIGN_OR_RETURN(std::vector<float> embeddings, internal::ReadFloatArray(emb_path));
  if (embeddings.size() != static_cast<size_t>(capacity) * dim) {
    return DataLossError(fmt::format("{}: {} floats for {} items of dim {}", emb_path,
                                     embeddings.size(), capacity, dim));
  }
  const std::string items_path = (d / "embedded_items.bin").string();
  ASSIGN_OR_RETURN(std::vector<int32_t> embedded, internal::ReadInt32Array(items_path));
  std::vector<uint8_t> has(capacity, 0);
  for (int32_t i : embedded) {
    if (i < 0 || i >= capacity) {
      return DataLossError(fmt::format("{}: item {} out of range", items_path, i));
    }
    has[i] = 1;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<index::VectorIndex> vindex,
                   index::VectorIndex::Load((d / "index").string()));
  if (vindex->dim() != dim || vindex->size() != embedded.size()) {
    return DataLossError(fmt::format("{}/index: {} vectors of dim {}, expected {} of dim {}", dir,
                                     vindex->size(), vindex->dim(), embedded.size(), dim));
  }
  options_ = std::move(options);
  owned_encoder_ = std::move(owned);
  encoder_ = owned_encoder_ ? owned_encoder_.get() : borrowed;
  dim_ = dim;
  num_fitted_items_ = data.num_items();
  embeddings_ = std::move(embeddings);
  has_embedding_ = std::move(has);
  categories_.clear();
  for (const ItemInfo& info : data.items()) categories_.push_back(info.category);
  for (const auto& c : added) categories_.push_back(c.is_string() ? c.get<std::string>() : "");
  index_ = std::move(vindex);
  return OkStatus();
}

}  // namespace souk::recommend
