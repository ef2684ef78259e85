// `souk index`: builds the search indexes of the data directory from the store
// (lexical index with spelling and synonyms, the dense encoder — the sub-word
// baseline trained on the catalog, or with lm.encoder = bert the BERT model of
// lm.model / models/bert/CURRENT — item embeddings through the embedding cache
// (lm.embedding_cache) and the vector index). See search/store_search.h.
#include <fmt/format.h>

#include "app/app_context.h"
#include "app/search_config.h"
#include "app/store_access.h"
#include "search/store_search.h"

namespace souk::app {

void RegisterCommand_index(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("index", "build the search indexes from the store");
  AddCommonOptions(cmd, &ctx, true);
  cmd->callback([&ctx] {
    throw CLI::RuntimeError(Run(ctx, [&]() -> Status {
      ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
      ASSIGN_OR_RETURN(auto snap, store->OpenSnapshot());
      const search::StoreSearchConfig config = SearchConfigFrom(ctx.config);
      const ProgressOptions po = ctx.MakeProgressOptions();
      ASSIGN_OR_RETURN(search::IndexBuildSummary sum,
                       search::BuildStoreSearchIndex(*snap, ctx.data_dir, config, &po));
      if (ctx.json) {
        fmt::print("{}\n", sum.ToJson().dump());
      } else {
        fmt::print(
            "indexed {} items (event watermark {}) in {:.1f}s: lexical {:.1f}s, encoder {} "
            "{} in {:.1f}s, embeddings {:.1f}s ({} embedded, {} from the cache); {} past "
            "queries in the spelling dictionary, {} synonyms\n",
            sum.items, sum.watermark, sum.total_s, sum.lexical_s,
            sum.encoder.empty() ? "(none)" : sum.encoder, sum.encoder_trained ? "trained" : "loaded",
            sum.encoder_s, sum.embed_s, sum.embedded, sum.embedded_from_cache, sum.spelling_queries,
            sum.synonyms);
      }
      return OkStatus();
    }));
  });
}

}  // namespace souk::app
