#include "search/builder.h"

#include <algorithm>
#include <chrono>
#include <set>

namespace souk::search {
namespace {

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::string DocumentText(const CatalogDoc& d) {
  std::string s = d.title;
  if (!d.brand.empty() && d.title.find(d.brand) == std::string::npos) s += " " + d.brand;
  for (const std::string& c : d.category_path) s += " " + c;
  return s;
}

std::string DocumentCacheKey(const lm::Encoder& encoder) {
  return encoder.Name() + ":" + encoder.Version() + ":document";
}

StatusOr<std::shared_ptr<index::VectorIndex>> EmbedCatalog(const SearchCatalog& catalog,
                                                           const lm::Encoder& encoder,
                                                           const BuildOptions& options,
                                                           const ProgressOptions* progress,
                                                           lm::CachedEmbedStats* stats) {
  constexpr size_t kChunk = 8192;
  const int dim = encoder.Dim();
  index::VectorIndexOptions vo = options.vectors;
  vo.dim = dim;
  ASSIGN_OR_RETURN(std::unique_ptr<index::VectorIndex> vi, index::VectorIndex::Create(vo));
  std::unique_ptr<Progress> bar;
  if (progress != nullptr) bar = std::make_unique<Progress>("embed items", catalog.size(), *progress);
  const size_t batch = std::max<size_t>(1, options.embed_batch);
  const std::string key = DocumentCacheKey(encoder);
  const lm::EmbedFn embed = [&encoder](std::span<const std::string> texts, float* out) {
    return encoder.Encode(texts, lm::TextKind::kDocument, out);
  };
  lm::CachedEmbedStats total;
  std::vector<std::string> texts;
  std::vector<float> vecs;
  std::vector<uint32_t> keep_docs;
  std::vector<float> keep;
  // Without a cache, chunks are one encoder batch so the bar moves smoothly.
  const size_t chunk = options.embed_cache ? std::max(kChunk, batch) : batch;
  for (size_t start = 0; start < catalog.size(); start += chunk) {
    const uint32_t end = static_cast<uint32_t>(std::min(catalog.size(), start + chunk));
    texts.clear();
    for (uint32_t d = static_cast<uint32_t>(start); d < end; ++d) texts.push_back(DocumentText(catalog.doc(d)));
    vecs.assign(texts.size() * dim, 0.0f);
    if (options.embed_cache) {
      ASSIGN_OR_RETURN(lm::CachedEmbedStats st,
                       options.embed_cache(key, dim, texts, embed, static_cast<int>(batch), vecs.data(), nullptr));
      total.from_cache += st.from_cache;
      total.embedded += st.embedded;
      total.duplicates += st.duplicates;
    } else {
      RETURN_IF_ERROR(embed(texts, vecs.data()));
      total.embedded += texts.size();
    }
    total.total += texts.size();
    keep_docs.clear();
    keep.clear();
    for (uint32_t d = static_cast<uint32_t>(start); d < end; ++d) {
      const float* row = vecs.data() + size_t(d - start) * dim;
      double norm = 0;
      for (int i = 0; i < dim; ++i) norm += row[i] * row[i];
      if (norm <= 0) continue;  // nothing the encoder knows: no vector
      keep_docs.push_back(d);
      keep.insert(keep.end(), row, row + dim);
    }
    if (!keep_docs.empty()) RETURN_IF_ERROR(vi->AddBatch(keep_docs, keep));
    if (bar) bar->Add(end - start);
  }
  if (bar) bar->Finish();
  if (stats != nullptr) *stats = total;
  return std::shared_ptr<index::VectorIndex>(std::move(vi));
}

StatusOr<BuiltParts> BuildSearchParts(std::shared_ptr<index::LexicalIndex> lexical,
                                      const SearchCatalog& catalog,
                                      std::shared_ptr<const lm::Encoder> encoder,
                                      const BuildOptions& options,
                                      const ProgressOptions* progress) {
  BuiltParts out;
  auto t0 = std::chrono::steady_clock::now();
  {
    std::vector<index::IndexDoc> docs;
    docs.reserve(catalog.size());
    for (uint32_t d = 0; d < catalog.size(); ++d) docs.push_back(catalog.ToIndexDoc(d));
    ProgressOptions po = progress ? *progress : ProgressOptions{};
    if (progress == nullptr) po.mode = ProgressMode::kOff;
    RETURN_IF_ERROR(lexical->AddBatch(docs, &po));
    RETURN_IF_ERROR(lexical->Commit());
  }
  out.lexical = lexical;
  out.lexical_seconds = Since(t0);
  if (!options.dense) return out;
  t0 = std::chrono::steady_clock::now();
  if (!encoder) {
    std::vector<std::string> corpus;
    corpus.reserve(catalog.size() * 2);
    for (uint32_t d = 0; d < catalog.size(); ++d) {
      corpus.push_back(DocumentText(catalog.doc(d)));
      if (!catalog.doc(d).description.empty()) corpus.push_back(catalog.doc(d).description);
    }
    ProgressOptions po = progress ? *progress : ProgressOptions{};
    if (progress == nullptr) po.mode = ProgressMode::kOff;
    ASSIGN_OR_RETURN(std::unique_ptr<lm::SubwordEncoder> trained,
                     lm::SubwordEncoder::Train(corpus, options.encoder, &po));
    encoder = std::move(trained);
  }
  out.encoder = encoder;
  out.encoder_seconds = Since(t0);
  t0 = std::chrono::steady_clock::now();
  lm::CachedEmbedStats stats;
  ASSIGN_OR_RETURN(out.vectors, EmbedCatalog(catalog, *encoder, options, progress, &stats));
  out.embed_seconds = Since(t0);
  out.embedded = stats.embedded;
  out.from_cache = stats.from_cache;
  return out;
}

}  // namespace souk::search
