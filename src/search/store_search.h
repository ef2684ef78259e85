// Search over a Souk data directory: builds the indexes from a store snapshot
// (`souk index`), trains the ranker from logged searches or graded judgments
// (`souk train ranker`), and opens a ready SearchEngine (`souk search`, the
// HTTP server).
//
// Layout under <data_dir>:
//   index/search.json          manifest: format, watermark, items, doc order,
//                              encoder and vector index folders, build times
//   index/lexical/             Xapian database
//   index/docs.txt             external id of each doc number, one per line
//   index/vector/<encoder>/    Faiss index of the item embeddings
//   models/encoder/<name>-<version>/  the encoder the vectors were built with
//                              (sub-word, or a copy of the BERT model in use)
//   models/bert/<version>/     BERT encoders from `souk train encoder`;
//                              models/bert/CURRENT names the active one
//   cache/embeddings.db        document embedding cache (when configured)
//   models/ltr/<version>/      ranker (GbdtModel) + manifest; models/ltr/CURRENT
//                              names the active version
// Every artifact is written under a temporary name and renamed, so a crash
// leaves the previous version usable.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "lm/encoder_registry.h"
#include "search/builder.h"
#include "search/engine.h"
#include "search/personalization.h"
#include "search/search_log.h"
#include "store/store.h"

namespace souk::search {

struct StoreSearchConfig {
  SearchOptions search;
  BuildOptions build;
  UserProfiles::Options profiles;
  // Synonyms from configuration: "tv=television", "sofa=couch" (both ways).
  std::vector<std::string> synonyms;
  bool mine_synonyms = true;           // from queries that lead to the same purchases
  int mine_min_shared = 2;             // purchases two queries must share
  // Ranker training from logs.
  rank::GbdtOptions ranker;
  double holdout_fraction = 0.2;       // latest searches kept for evaluation
  // Engine-retrieved, never-shown dense-only docs added per group as label 0.
  // Off: on the demo store it lowered held-out MRR@10 from 0.431 to 0.177.
  size_t retrieved_negatives = 0;

  // Encoders (filled by the application, so souk_search never links libtorch).
  // Supplies the dense encoder for the data directory instead of training the
  // sub-word one (e.g. a BERT model); null = train the sub-word encoder.
  // OpenStoreSearch calls it too and uses its encoder when Name()-Version()
  // is the one the index was built with (else the copy saved with the index).
  std::function<StatusOr<std::shared_ptr<const lm::Encoder>>(const std::string& data_dir)>
      load_encoder;
  // Loads the encoder copy saved with the index by its manifest kind; null =
  // the built-in kinds only (lm::RegisterBuiltinEncoders).
  std::shared_ptr<const lm::EncoderRegistry> encoders;
  // Opens the document embedding cache of the data directory; null = no cache.
  std::function<StatusOr<DocumentEmbedCache>(const std::string& data_dir)> open_embedding_cache;
};

struct IndexBuildSummary {
  size_t items = 0;
  int64_t watermark = 0;
  size_t spelling_queries = 0, synonyms = 0;
  std::string encoder;                 // "<name>-<version>" or ""
  bool encoder_trained = false;        // the sub-word encoder was trained (else supplied)
  size_t embedded = 0;                 // documents the encoder embedded
  size_t embedded_from_cache = 0;      // document rows taken from the embedding cache
  double lexical_s = 0, encoder_s = 0, embed_s = 0, total_s = 0;
  nlohmann::json ToJson() const;
};

// Builds every search index of `data_dir` from the snapshot (replacing the
// previous ones). Errors: Unavailable for files that cannot be written.
StatusOr<IndexBuildSummary> BuildStoreSearchIndex(store::Snapshot& snapshot,
                                                  const std::string& data_dir,
                                                  const StoreSearchConfig& config,
                                                  const ProgressOptions* progress);

// A ready engine and the parts it shares.
struct StoreSearch {
  std::shared_ptr<text::Analyzer> analyzer;   // the catalog's (same options as the index's)
  std::shared_ptr<SearchCatalog> catalog;
  std::shared_ptr<UserProfiles> profiles;
  std::shared_ptr<CategoryClassifier> classifier;
  std::unique_ptr<SearchEngine> engine;
  nlohmann::json manifest;
  std::string ranker_version;          // "" when no ranker
  std::string encoder;                 // "<name>-<version>" of the dense encoder, "" when none
  size_t unindexed_items = 0;          // items added since the last `souk index`
  // Writable handle of the engine's lexical index (live updates, live_update.h).
  std::shared_ptr<index::LexicalIndex> lexical;
  size_t indexed_docs = 0;             // catalog docs [0, indexed_docs) are in the lexical index
};

// Opens the engine of `data_dir` over the snapshot's items and events.
// Errors: FailedPrecondition "run `souk index` first" when there is no index;
// DataLoss for a damaged manifest.
StatusOr<std::unique_ptr<StoreSearch>> OpenStoreSearch(store::Snapshot& snapshot,
                                                       const std::string& data_dir,
                                                       const StoreSearchConfig& config,
                                                       const ProgressOptions* progress,
                                                       bool load_ranker = true);

// Learning-to-rank from logged searches with position-bias correction: each
// query group (what was shown) is weighted by 1 / propensity(position of its
// best interaction) (inverse propensity scoring, Joachims et al. 2017), labels
// 0..3. The latest `holdout_fraction` of searches (by time) is held out:
// returned metrics compare fusion order and the ranker on it (MRR@10 and
// NDCG@10 of the engaged items within the engine's own top 100).
struct RankerTrainingResult {
  std::unique_ptr<rank::GbdtModel> model;
  std::vector<double> propensity;
  nlohmann::json metrics;
  size_t train_searches = 0, holdout_searches = 0;
};
StatusOr<RankerTrainingResult> TrainRankerFromLog(const SearchEngine& engine,
                                                  const std::vector<LoggedSearch>& log,
                                                  const StoreSearchConfig& config,
                                                  const ProgressOptions* progress);

// Saves `model` as models/ltr/<version>/ and makes it CURRENT. Returns the version.
StatusOr<std::string> SaveRanker(const rank::GbdtModel& model, const std::string& data_dir,
                                 const nlohmann::json& extra);

// A new model version id under `models_dir`: the current Unix time in seconds,
// with "-2", "-3", ... appended while a folder of that name (or of that name
// plus any of `suffixes`) exists.
std::string NewModelVersion(const std::string& models_dir, const std::vector<std::string>& suffixes = {});

// --- Training data for text encoders ---------------------------------------

struct EncoderPairOptions {
  size_t max_pairs = 200000;           // total cap (query and item pairs together)
  size_t max_pairs_per_session = 20;   // item-item pairs taken from one session
  int min_label = 1;                   // query pairs: engaged = click (1), cart (2), purchase (3)
};

// One training pair: a query (or an item's text) and the text of an item
// engaged with / co-engaged in the same session.
struct EncoderTextPair {
  std::string query;
  std::string positive;
};

struct EncoderTrainingData {
  std::vector<std::string> corpus;         // DocumentText of every searchable item, store order
  std::vector<EncoderTextPair> pairs;      // query pairs first, then item pairs
  size_t query_pairs = 0, item_pairs = 0;
  size_t searches = 0, sessions = 0;       // logged searches / sessions read
};

// Reads the snapshot's items and events: catalog texts, (query -> engaged
// item) pairs from logged searches (ReadSearchLog; one pair per engaged result
// with label >= min_label) and (item -> next distinct item) pairs from the
// views, carts and purchases of each session, up to the caps (query pairs are
// taken first). Errors: FailedPrecondition when the store has no items;
// those of the snapshot.
StatusOr<EncoderTrainingData> MineEncoderTrainingData(store::Snapshot& snapshot,
                                                      const StoreSearchConfig& config,
                                                      const EncoderPairOptions& options);

}  // namespace souk::search
