// Builds the parts of a SearchEngine from a catalog: the lexical index, the
// baseline encoder (trained on the catalog's own text when none is given), the
// item embeddings and the vector index. Used by `souk index`, `souk eval
// search` and the demo, so every path searches the same way.
//
// Embeddings can go through a cache of rows keyed by (encoder, text) so that a
// rebuild only embeds new or changed texts. souk_search does not link the
// cache's library: the application supplies it as a DocumentEmbedCache
// (normally a lambda around lm::EmbedWithCache over an lm::EmbeddingCache).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/progress.h"
#include "common/status.h"
#include "index/lexical_index.h"
#include "index/vector_index.h"
#include "lm/embedding_cache.h"
#include "lm/encoder.h"
#include "lm/subword_encoder.h"
#include "search/catalog.h"

namespace souk::search {

// Fills out[i*dim ..] for every text, embedding through `embed` (in batches of
// batch_size texts) only those it has no row for, and says how many rows came
// from where. Same contract as lm::EmbedWithCache minus the cache argument.
using DocumentEmbedCache = std::function<StatusOr<lm::CachedEmbedStats>(
    std::string_view encoder_key, int dim, std::span<const std::string> texts,
    const lm::EmbedFn& embed, int batch_size, float* out, const ProgressOptions* progress)>;

// Cache key of document embeddings: "<name>:<version>:document".
std::string DocumentCacheKey(const lm::Encoder& encoder);

struct BuildOptions {
  index::LexicalIndexOptions lexical;
  std::string lexical_dir;              // "" = private temporary index
  bool dense = true;                    // train/load an encoder and build the vector index
  lm::SubwordOptions encoder;           // used when no encoder is given
  index::VectorIndexOptions vectors;    // dim is taken from the encoder
  size_t embed_batch = 256;
  // Document embeddings go through this cache when set (see DocumentEmbedCache).
  DocumentEmbedCache embed_cache;
};

struct BuiltParts {
  std::shared_ptr<index::LexicalIndex> lexical;
  std::shared_ptr<const lm::Encoder> encoder;       // null when !dense
  std::shared_ptr<index::VectorIndex> vectors;      // null when !dense
  double lexical_seconds = 0, encoder_seconds = 0, embed_seconds = 0;
  size_t embedded = 0;     // documents passed to the encoder
  size_t from_cache = 0;   // documents whose row came from options.embed_cache
};

// The text the encoder sees for a document: title, brand, category path.
std::string DocumentText(const CatalogDoc& d);

// Indexes every document of `catalog` (which must have been built with the
// returned index's analyzer: pass `analyzer_owner` = nullptr and build the
// catalog with OpenLexical's analyzer). `encoder` = nullptr trains the
// baseline sub-word encoder on the catalog text.
StatusOr<BuiltParts> BuildSearchParts(std::shared_ptr<index::LexicalIndex> lexical,
                                      const SearchCatalog& catalog,
                                      std::shared_ptr<const lm::Encoder> encoder,
                                      const BuildOptions& options,
                                      const ProgressOptions* progress);

// Embeds every document (DocumentText, kind kDocument) into a new vector
// index; documents whose row is all zeros (blank text, nothing the encoder
// knows) get no vector. With options.embed_cache only the texts missing from
// the cache reach the encoder. `stats` (nullable) receives the counts:
// total = documents, from_cache, embedded (distinct texts encoded), duplicates.
// Documents are processed in chunks of 8192, so memory stays bounded by the
// index plus one chunk. Errors: those of the encoder, the cache and the index.
StatusOr<std::shared_ptr<index::VectorIndex>> EmbedCatalog(const SearchCatalog& catalog,
                                                           const lm::Encoder& encoder,
                                                           const BuildOptions& options,
                                                           const ProgressOptions* progress,
                                                           lm::CachedEmbedStats* stats = nullptr);

}  // namespace souk::search
