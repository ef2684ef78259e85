// Builds the parts of a SearchEngine from a catalog: the lexical index, the
// baseline encoder (trained on the catalog's own text when none is given), the
// item embeddings and the vector index. Used by `souk index`, `souk eval
// search` and the demo, so every path searches the same way.
#pragma once

#include <memory>
#include <string>

#include "common/progress.h"
#include "common/status.h"
#include "index/lexical_index.h"
#include "index/vector_index.h"
#include "lm/encoder.h"
#include "lm/subword_encoder.h"
#include "search/catalog.h"

namespace souk::search {

struct BuildOptions {
  index::LexicalIndexOptions lexical;
  std::string lexical_dir;              // "" = private temporary index
  bool dense = true;                    // train/load an encoder and build the vector index
  lm::SubwordOptions encoder;           // used when no encoder is given
  index::VectorIndexOptions vectors;    // dim is taken from the encoder
  size_t embed_batch = 256;
};

struct BuiltParts {
  std::shared_ptr<index::LexicalIndex> lexical;
  std::shared_ptr<const lm::Encoder> encoder;       // null when !dense
  std::shared_ptr<index::VectorIndex> vectors;      // null when !dense
  double lexical_seconds = 0, encoder_seconds = 0, embed_seconds = 0;
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

// Embeds every document into a new vector index.
StatusOr<std::shared_ptr<index::VectorIndex>> EmbedCatalog(const SearchCatalog& catalog,
                                                           const lm::Encoder& encoder,
                                                           const BuildOptions& options,
                                                           const ProgressOptions* progress);

}  // namespace souk::search
