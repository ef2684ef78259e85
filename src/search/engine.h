// SearchEngine: the product-search pipeline.
//
//   query -> QueryUnderstanding -> retrievers (lexical BM25 over fields, dense
//   through the Encoder + VectorIndex, both honoring the filters during
//   retrieval) -> fusion (reciprocal rank or weighted scores) -> LTR ranker
//   (XGBoost over query-document features) -> personalization boost ->
//   sort / paginate -> hits with facets and, on request, explanations.
//
// The same object answers `souk search`, the HTTP route and `souk eval search`:
// evaluation drives Understand/Retrieve/Rank with its cross-fitted rankers.
//
// Thread-safety: Search and the stage methods are const and may run
// concurrently; setters (ranker, classifier) are not synchronized: call them
// before serving (hot swap of a new engine is the registry's job).
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "index/lexical_index.h"
#include "index/vector_index.h"
#include "lm/encoder.h"
#include "rank/gbdt_model.h"
#include "search/catalog.h"
#include "search/personalization.h"
#include "search/query_understanding.h"

namespace souk::search {

struct SearchOptions {
  // --- retrieval ---
  size_t lexical_candidates = 300;   // lexical hits fed to fusion
  size_t dense_candidates = 200;     // dense hits fed to fusion
  bool dense = true;                 // use dense retrieval when an encoder is set
  // --- fusion ---
  std::string fusion = "rrf";        // "rrf" | "weighted"
  double rrf_k = 60;
  double lexical_weight = 1.0;       // in both fusions
  double dense_weight = 1.0;
  // --- ranking ---
  bool ltr = true;                   // use the LTR model when one is set
  size_t rerank_depth = 300;         // fused candidates scored by the LTR model
  double personalization_weight = 0.3;  // boost = weight * affinity (0..1)
  size_t exact_total_upto = 10000;   // totals exact up to this many matches (facets: always)
  // --- query understanding ---
  QueryUnderstandingOptions qu;
  bool use_qu = true;                // false: the query is only normalized and analyzed
};

// What one request asks for.
struct SearchRequest {
  std::string query;
  index::Filter filter;                // explicit filters (ANDed with extracted ones)
  std::vector<std::string> facets;     // "brand","category","price","in_stock", attr keys
  index::SortBy sort = index::SortBy::kRelevance;
  size_t offset = 0, limit = 20;       // limit <= 1000
  std::string user_id;                 // personalization (empty = anonymous)
  bool explain = false;
  // Per-request pipeline switches (the console's side-by-side comparison and the
  // evaluation ablations). Each can only turn a stage off; a stage the engine
  // does not have (no encoder, no ranker) stays off whatever is asked.
  struct Pipeline {
    bool lexical = true;      // BM25 retrieval (facets and totals need it)
    bool dense = true;        // dense retrieval
    bool qu = true;           // full query understanding (else normalize + analyze only)
    bool ltr = true;          // learning-to-rank over the fused candidates
    bool personalize = true;  // the user's affinity boost
  } pipeline;
};

// Named pipelines: "full" (everything configured), "bm25", "bm25+qu", "dense",
// "hybrid", "hybrid+ltr" (the ablations of the search evaluation).
// InvalidArgument naming the known names for anything else.
StatusOr<SearchRequest::Pipeline> ParsePipeline(std::string_view name);

// The score components of one hit (explain=true).
struct HitExplanation {
  std::optional<int> lexical_rank, dense_rank;   // 1-based, absent when not retrieved there
  double lexical_score = 0;
  std::array<double, index::kNumFields> field_bm25{};
  double dense_score = 0;
  double fused_score = 0;
  std::optional<double> ltr_score;
  std::vector<std::pair<std::string, double>> ltr_contributions;  // feature -> SHAP value
  double ltr_bias = 0;
  double personal_boost = 0;
  std::vector<std::pair<std::string, double>> personal_parts;    // category/brand/price
  double final_score = 0;
};

struct SearchHit {
  uint32_t doc = 0;
  std::string external_id;
  std::string title;
  double score = 0;
  std::optional<HitExplanation> explanation;
};

struct SearchResponse {
  std::vector<SearchHit> hits;
  uint64_t total = 0;                  // matching documents (lexical matches under the filters)
  std::map<std::string, std::vector<index::FacetCount>> facets;
  ParsedQuery parsed;
  double took_ms = 0;
  std::string ranker;                  // "ltr" | "fusion" | sort name
  nlohmann::json ToJson(bool explain) const;
};

// A retrieved candidate with its features.
struct Candidate {
  uint32_t doc = 0;
  std::optional<int> lexical_rank, dense_rank;
  double lexical_score = 0, dense_score = 0, fused = 0;
  std::vector<float> features;         // FeatureNames() order
  double score = 0;                    // final ordering score
  double personal_boost = 0;           // added by personalization
};

// Names of the LTR features, in order (stored in the model manifest; a model
// whose names differ is refused).
const std::vector<std::string>& FeatureNames();

class SearchEngine {
 public:
  struct Parts {
    std::shared_ptr<const SearchCatalog> catalog;         // required
    std::shared_ptr<const index::LexicalIndex> lexical;   // required
    std::shared_ptr<const index::VectorIndex> vectors;    // optional (dense off without)
    std::shared_ptr<const lm::Encoder> encoder;           // optional
    std::shared_ptr<const rank::GbdtModel> ranker;        // optional (fusion order without)
    std::shared_ptr<const CategoryClassifier> classifier; // optional
    std::shared_ptr<const UserProfiles> profiles;         // optional
  };
  // Errors: InvalidArgument when a required part is missing or the ranker's
  // features are not FeatureNames().
  static StatusOr<std::unique_ptr<SearchEngine>> Create(Parts parts, SearchOptions options);

  // The whole pipeline. Errors: InvalidArgument for bad requests (limit too
  // large, inverted explicit ranges, unknown facet) naming the field.
  StatusOr<SearchResponse> Search(const SearchRequest& request) const;

  // Stages, for evaluation and tests.
  ParsedQuery Understand(std::string_view query) const;
  // full = false: only normalization and analysis (the "no query understanding" baseline).
  ParsedQuery Understand(std::string_view query, bool full) const;
  // Lexical + dense retrieval, fusion and features for every candidate,
  // sorted by fused score. `lexical_only` / `dense_only` restrict the sources.
  struct RetrieveOptions {
    bool lexical = true, dense = true;
    const index::Filter* extra_filter = nullptr;
    // When set, the lexical retrieval also counts these facets and reports its
    // totals here (so Search needs one index call, not two).
    const std::vector<std::string>* facets = nullptr;
    index::LexicalResult* lexical_result = nullptr;
  };
  StatusOr<std::vector<Candidate>> Retrieve(const ParsedQuery& q, const RetrieveOptions& o) const;
  // Features of arbitrary documents (judged pairs that retrieval did not find).
  Status Featurize(const ParsedQuery& q, std::vector<Candidate>& candidates,
                   const std::string* user_id = nullptr) const;
  // Orders candidates by `ranker` (top rerank_depth by fused score; the rest
  // keep fusion order below them). nullptr = fusion order.
  void Rank(std::vector<Candidate>& candidates, const rank::GbdtModel* ranker) const;

  const SearchCatalog& catalog() const { return *parts_.catalog; }
  const index::LexicalIndex& lexical() const { return *parts_.lexical; }
  const SearchOptions& options() const { return options_; }
  const Parts& parts() const { return parts_; }
  bool has_dense() const { return parts_.vectors && parts_.encoder && options_.dense; }

 private:
  SearchEngine(Parts parts, SearchOptions options);
  Status Explain(const SearchRequest& req, const std::vector<Candidate>& ranked, size_t begin,
                 size_t end, SearchResponse& out) const;

  Parts parts_;
  SearchOptions options_;
  std::unique_ptr<QueryUnderstanding> qu_;
  std::unique_ptr<QueryUnderstanding> qu_basic_;
};

}  // namespace souk::search
