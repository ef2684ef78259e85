#include "search/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace souk::search {
namespace {

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
constexpr size_t kMaxLimit = 1000;

enum F : int {
  kLexScore,
  kLexRank,
  kBm25Title,
  kBm25Brand,
  kBm25Category,
  kBm25Description,
  kBm25Attributes,
  kDenseScore,
  kDenseRank,
  kFused,
  kQueryTerms,
  kTitleTerms,
  kMatchedFrac,
  kTitleMatchedFrac,
  kIdfCoverage,
  kBigramMatch,
  kHeadMatch,
  kFirstMatchPos,
  kTrigramJaccard,
  kNumberMatch,
  kCategoryIntent,
  kBrandMatch,
  kAttributeMatch,
  kPopularity,
  kCtr,
  kConversion,
  kLogPrice,
  kAgeDays,
  kPersonal,
  kSpellingCorrected,
  kNumFeatures
};

// Query-level data shared by the features of all candidates.
struct QueryContext {
  std::vector<uint32_t> term_ids;  // distinct analyzed terms (catalog ids, kNoTerm if unknown)
  std::vector<double> idf;         // per distinct term
  double idf_total = 0;
  std::vector<std::pair<uint32_t, uint32_t>> bigrams;  // adjacent query term ids
  uint32_t head = SearchCatalog::kNoTerm;              // last query term
  std::vector<uint32_t> numbers;                       // query terms starting with a digit
  std::unordered_set<std::string> trigrams;
  std::unordered_set<std::string> brands;              // folded detected brands
  std::unordered_map<std::string, double> intent;      // folded category -> P
  std::vector<std::string> attr_words;                 // colors/sizes (folded)
};

void Trigrams(std::string_view s, std::unordered_set<std::string>& out) {
  const std::string padded = " " + std::string(s) + " ";
  for (size_t i = 0; i + 3 <= padded.size(); ++i) out.insert(padded.substr(i, 3));
}

index::Filter MergeFilters(const index::Filter& a, const index::Filter& b) {
  index::Filter f = a;
  f.brands.insert(f.brands.end(), b.brands.begin(), b.brands.end());
  f.categories.insert(f.categories.end(), b.categories.begin(), b.categories.end());
  if (b.price_min) f.price_min = f.price_min ? std::max(*f.price_min, *b.price_min) : b.price_min;
  if (b.price_max) f.price_max = f.price_max ? std::min(*f.price_max, *b.price_max) : b.price_max;
  if (b.in_stock) f.in_stock = b.in_stock;
  f.attributes.insert(f.attributes.end(), b.attributes.begin(), b.attributes.end());
  f.numeric.insert(f.numeric.end(), b.numeric.begin(), b.numeric.end());
  return f;
}

Status ValidateFilter(const index::Filter& f, std::string_view where) {
  auto bad = [](std::optional<double> v) { return v && !std::isfinite(*v); };
  if (bad(f.price_min) || bad(f.price_max)) {
    return InvalidArgumentError(fmt::format("{}: price bound is not a number", where));
  }
  if (f.price_min && f.price_max && *f.price_min > *f.price_max) {
    return InvalidArgumentError(fmt::format("{}: price range is inverted (min {} > max {})", where,
                                            *f.price_min, *f.price_max));
  }
  for (const auto& r : f.numeric) {
    if (r.min && r.max && *r.min > *r.max) {
      return InvalidArgumentError(
          fmt::format("{}: range of '{}' is inverted (min {} > max {})", where, r.key, *r.min,
                      *r.max));
    }
  }
  return OkStatus();
}

}  // namespace

const std::vector<std::string>& FeatureNames() {
  static const std::vector<std::string> kNames = {
      "lex_score",        "lex_rank",         "bm25_title",     "bm25_brand",
      "bm25_category",    "bm25_description", "bm25_attributes", "dense_score",
      "dense_rank",       "fused",            "query_terms",    "title_terms",
      "matched_frac",     "title_matched_frac", "idf_coverage", "bigram_match",
      "head_match",       "first_match_pos",  "trigram_jaccard", "number_match",
      "category_intent",  "brand_match",      "attribute_match", "popularity",
      "ctr",              "conversion",       "log_price",      "age_days",
      "personal_affinity", "spelling_corrected"};
  return kNames;
}

SearchEngine::SearchEngine(Parts parts, SearchOptions options)
    : parts_(std::move(parts)), options_(std::move(options)) {
  qu_ = std::make_unique<QueryUnderstanding>(parts_.lexical.get(), parts_.catalog.get(),
                                             options_.qu);
  if (parts_.classifier) qu_->set_category_classifier(parts_.classifier);
  QueryUnderstandingOptions basic;
  basic.extract_price = basic.extract_attributes = basic.detect_brands = false;
  basic.spelling = basic.synonyms = basic.category_intent = false;
  qu_basic_ = std::make_unique<QueryUnderstanding>(parts_.lexical.get(), parts_.catalog.get(),
                                                   basic);
}

StatusOr<SearchRequest::Pipeline> ParsePipeline(std::string_view name) {
  SearchRequest::Pipeline p;
  if (name.empty() || name == "full") return p;
  p.personalize = false;
  if (name == "hybrid+ltr") return p;
  p.ltr = false;
  if (name == "hybrid") return p;
  if (name == "dense") {
    p.lexical = false;
    return p;
  }
  p.dense = false;
  if (name == "bm25+qu") return p;
  p.qu = false;
  if (name == "bm25") return p;
  return InvalidArgumentError(fmt::format(
      "pipeline: unknown pipeline '{}' (known: full, bm25, bm25+qu, dense, hybrid, hybrid+ltr)", name));
}

StatusOr<std::unique_ptr<SearchEngine>> SearchEngine::Create(Parts parts, SearchOptions options) {
  static_assert(kNumFeatures == 30);
  if (!parts.catalog) return InvalidArgumentError("search engine: no catalog");
  if (!parts.lexical) return InvalidArgumentError("search engine: no lexical index");
  if (parts.ranker && parts.ranker->feature_names() != FeatureNames()) {
    return InvalidArgumentError(
        "search engine: the ranking model was trained with other features; retrain it");
  }
  if (parts.vectors && parts.encoder && parts.vectors->dim() != parts.encoder->Dim()) {
    return InvalidArgumentError(fmt::format(
        "search engine: vector index dimension {} differs from the encoder's {}",
        parts.vectors->dim(), parts.encoder->Dim()));
  }
  if (options.fusion != "rrf" && options.fusion != "weighted") {
    return InvalidArgumentError(
        fmt::format("search.fusion: unknown '{}' (rrf, weighted)", options.fusion));
  }
  return std::unique_ptr<SearchEngine>(new SearchEngine(std::move(parts), std::move(options)));
}

ParsedQuery SearchEngine::Understand(std::string_view query) const {
  return Understand(query, options_.use_qu);
}

ParsedQuery SearchEngine::Understand(std::string_view query, bool full) const {
  return full ? qu_->Understand(query) : qu_basic_->Understand(query);
}

StatusOr<std::vector<Candidate>> SearchEngine::Retrieve(const ParsedQuery& q,
                                                        const RetrieveOptions& o) const {
  const index::Filter filter =
      o.extra_filter ? MergeFilters(*o.extra_filter, q.filter) : q.filter;
  std::unordered_map<uint32_t, size_t> pos;
  std::vector<Candidate> out;
  auto slot = [&](uint32_t doc) -> Candidate& {
    auto [it, inserted] = pos.emplace(doc, out.size());
    if (inserted) {
      out.emplace_back();
      out.back().doc = doc;
    }
    return out[it->second];
  };
  if (o.lexical && !q.terms.empty()) {
    index::LexicalQuery lq;
    lq.terms = q.terms;
    lq.alternatives = q.alternatives;
    lq.filter = filter;
    lq.limit = options_.lexical_candidates;
    lq.exact_total_upto = options_.exact_total_upto;
    if (o.facets != nullptr) lq.facets = *o.facets;
    ASSIGN_OR_RETURN(index::LexicalResult r, parts_.lexical->Search(lq));
    for (size_t i = 0; i < r.hits.size(); ++i) {
      if (parts_.catalog->removed(r.hits[i].doc)) continue;  // deleted live, index not yet rebuilt
      Candidate& c = slot(r.hits[i].doc);
      c.lexical_rank = static_cast<int>(i + 1);
      c.lexical_score = r.hits[i].score;
    }
    if (o.lexical_result != nullptr) {
      o.lexical_result->total_matches = r.total_matches;
      o.lexical_result->facets = std::move(r.facets);
    }
  }
  if (o.dense && has_dense() && !q.dense_text.empty()) {
    std::vector<float> qv(parts_.encoder->Dim());
    const std::string text = q.dense_text;
    RETURN_IF_ERROR(parts_.encoder->Encode({&text, 1}, lm::TextKind::kQuery, qv.data()));
    double norm = 0;
    for (float v : qv) norm += v * v;
    if (norm > 0) {
      std::vector<uint8_t> allow;
      index::VectorQuery vq;
      vq.vector = qv.data();
      vq.k = options_.dense_candidates;
      if (!filter.Empty() || parts_.catalog->removed_count() > 0) {
        // Filters (and live-deleted docs) apply during the vector search.
        allow = parts_.catalog->AllowBitmap(filter);
        vq.allow = &allow;
      }
      ASSIGN_OR_RETURN(std::vector<index::VectorHit> hits, parts_.vectors->Search(vq));
      for (size_t i = 0; i < hits.size(); ++i) {
        Candidate& c = slot(hits[i].doc);
        c.dense_rank = static_cast<int>(i + 1);
        c.dense_score = hits[i].score;
      }
    }
  }
  // Fusion.
  double lex_max = 0, dense_max = 0;
  for (const Candidate& c : out) {
    lex_max = std::max(lex_max, c.lexical_score);
    dense_max = std::max(dense_max, c.dense_score);
  }
  for (Candidate& c : out) {
    if (options_.fusion == "rrf") {
      c.fused = (c.lexical_rank ? options_.lexical_weight / (options_.rrf_k + *c.lexical_rank) : 0) +
                (c.dense_rank ? options_.dense_weight / (options_.rrf_k + *c.dense_rank) : 0);
    } else {
      c.fused = (lex_max > 0 ? options_.lexical_weight * c.lexical_score / lex_max : 0) +
                (dense_max > 0 ? options_.dense_weight * std::max(0.0, c.dense_score) / dense_max
                               : 0);
    }
    c.score = c.fused;
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Candidate& a, const Candidate& b) { return a.fused > b.fused; });
  return out;
}

Status SearchEngine::Featurize(const ParsedQuery& q, std::vector<Candidate>& candidates,
                               const std::string* user_id) const {
  const SearchCatalog& cat = *parts_.catalog;
  QueryContext qc;
  const double n_docs = std::max<double>(1, parts_.lexical->DocCount());
  {
    std::unordered_set<std::string> seen;
    for (const std::string& t : q.terms) {
      if (!seen.insert(t).second) continue;
      qc.term_ids.push_back(cat.TermId(t));
      const double df = static_cast<double>(parts_.lexical->TermFrequency(t));
      qc.idf.push_back(std::log((n_docs + 1) / (df + 0.5)));
      qc.idf_total += qc.idf.back();
      if (!t.empty() && t[0] >= '0' && t[0] <= '9') qc.numbers.push_back(cat.TermId(t));
    }
    for (size_t i = 0; i + 1 < q.terms.size(); ++i) {
      qc.bigrams.emplace_back(cat.TermId(q.terms[i]), cat.TermId(q.terms[i + 1]));
    }
    if (!q.terms.empty()) qc.head = cat.TermId(q.terms.back());
    std::string joined;
    for (const std::string& t : q.terms) joined += (joined.empty() ? "" : " ") + t;
    Trigrams(joined, qc.trigrams);
    for (const std::string& b : q.brands) qc.brands.insert(cat.Fold(b));
    for (const auto& [c, p] : q.category_intent) qc.intent[c] = p;
    for (const std::string& c : q.colors) qc.attr_words.push_back(cat.Fold(c));
    for (const std::string& s : q.sizes) qc.attr_words.push_back(cat.Fold(s));
  }
  // Documents without a vector or lexical score get them computed here.
  std::vector<float> qv;
  if (has_dense() && !q.dense_text.empty()) {
    qv.resize(parts_.encoder->Dim());
    const std::string text = q.dense_text;
    RETURN_IF_ERROR(parts_.encoder->Encode({&text, 1}, lm::TextKind::kQuery, qv.data()));
  }
  // Age is relative to the newest candidate (deterministic, no clock).
  int64_t newest = 0;
  for (const Candidate& c : candidates) newest = std::max(newest, cat.doc(c.doc).created_at_ms);

  std::vector<uint32_t> doc_ids;
  doc_ids.reserve(candidates.size());
  for (const Candidate& c : candidates) doc_ids.push_back(c.doc);
  ASSIGN_OR_RETURN(std::vector<index::FieldScores> field_scores,
                   parts_.lexical->ScoreMany(doc_ids, q.terms));
  for (size_t ci = 0; ci < candidates.size(); ++ci) {
    Candidate& c = candidates[ci];
    std::vector<float>& f = c.features;
    f.assign(kNumFeatures, kMissing);
    const CatalogDoc& d = cat.doc(c.doc);
    const index::FieldScores& fs = field_scores[ci];
    f[kLexScore] = static_cast<float>(fs.total);
    if (c.lexical_rank) f[kLexRank] = std::log1p(*c.lexical_rank);
    for (int i = 0; i < index::kNumFields; ++i) f[kBm25Title + i] = static_cast<float>(fs.bm25[i]);
    if (!c.dense_rank && !qv.empty()) {
      StatusOr<std::vector<float>> dv = parts_.vectors->Get(c.doc);
      if (dv.ok()) {
        double dot = 0;
        for (size_t i = 0; i < qv.size(); ++i) dot += qv[i] * (*dv)[i];
        c.dense_score = dot;
      }
    }
    if (!qv.empty()) f[kDenseScore] = static_cast<float>(c.dense_score);
    if (c.dense_rank) f[kDenseRank] = std::log1p(*c.dense_rank);
    f[kFused] = static_cast<float>(c.fused);
    f[kQueryTerms] = static_cast<float>(qc.term_ids.size());
    const auto title = cat.title_terms(c.doc);
    f[kTitleTerms] = static_cast<float>(title.size());
    f[kMatchedFrac] = qc.term_ids.empty() ? 0 : float(fs.matched_terms) / qc.term_ids.size();
    // Title term matches.
    size_t in_title = 0;
    double idf_hit = 0;
    int first_pos = -1;
    for (size_t i = 0; i < qc.term_ids.size(); ++i) {
      const uint32_t id = qc.term_ids[i];
      if (id == SearchCatalog::kNoTerm) continue;
      auto it = std::find(title.begin(), title.end(), id);
      if (it != title.end()) {
        ++in_title;
        idf_hit += qc.idf[i];
        const int p = static_cast<int>(it - title.begin());
        if (first_pos < 0 || p < first_pos) first_pos = p;
      }
    }
    if (!qc.term_ids.empty()) {
      f[kTitleMatchedFrac] = float(in_title) / qc.term_ids.size();
      f[kIdfCoverage] = qc.idf_total > 0 ? static_cast<float>(idf_hit / qc.idf_total) : 0;
    }
    if (!qc.bigrams.empty()) {
      size_t hits = 0;
      for (const auto& [a, b] : qc.bigrams) {
        for (size_t i = 0; i + 1 < title.size(); ++i) {
          if (title[i] == a && title[i + 1] == b) {
            ++hits;
            break;
          }
        }
      }
      f[kBigramMatch] = float(hits) / qc.bigrams.size();
    }
    if (!q.terms.empty()) {
      f[kHeadMatch] = std::find(title.begin(), title.end(), qc.head) != title.end() ? 1.0f : 0.0f;
    }
    if (first_pos >= 0 && !title.empty()) f[kFirstMatchPos] = float(first_pos) / title.size();
    if (!qc.trigrams.empty()) {
      std::string joined;
      for (uint32_t t : title) joined += (joined.empty() ? "" : " ") + cat.TermString(t);
      std::unordered_set<std::string> tg;
      Trigrams(joined, tg);
      size_t inter = 0;
      for (const std::string& g : qc.trigrams) inter += tg.count(g);
      const size_t uni = qc.trigrams.size() + tg.size() - inter;
      f[kTrigramJaccard] = uni > 0 ? float(inter) / uni : 0;
    }
    if (!qc.numbers.empty()) {
      size_t hits = 0;
      for (uint32_t n : qc.numbers) {
        hits += n != SearchCatalog::kNoTerm && std::find(title.begin(), title.end(), n) != title.end();
      }
      f[kNumberMatch] = float(hits) / qc.numbers.size();
    }
    if (!qc.intent.empty()) {
      double p = 0;
      for (const std::string& level : cat.folded_categories(c.doc)) {
        auto it = qc.intent.find(level);
        if (it != qc.intent.end()) p = std::max(p, it->second);
      }
      f[kCategoryIntent] = static_cast<float>(p);
    }
    if (!qc.brands.empty()) f[kBrandMatch] = qc.brands.count(cat.folded_brand(c.doc)) ? 1.0f : 0.0f;
    if (!qc.attr_words.empty()) {
      size_t hits = 0;
      for (const std::string& w : qc.attr_words) {
        bool found = false;
        for (const auto& [k, v] : cat.folded_attributes(c.doc)) found = found || v == w;
        hits += found;
      }
      f[kAttributeMatch] = float(hits) / qc.attr_words.size();
    }
    f[kPopularity] = static_cast<float>(cat.popularity(c.doc));
    f[kCtr] = static_cast<float>(cat.ctr(c.doc));
    f[kConversion] = static_cast<float>(cat.conversion(c.doc));
    if (d.price) f[kLogPrice] = static_cast<float>(std::log1p(std::max(0.0, *d.price)));
    if (d.created_at_ms > 0) f[kAgeDays] = static_cast<float>((newest - d.created_at_ms) / 86400e3);
    if (user_id != nullptr && !user_id->empty() && parts_.profiles) {
      f[kPersonal] = static_cast<float>(parts_.profiles->Affinity(*user_id, *parts_.catalog, c.doc));
    }
    f[kSpellingCorrected] = q.corrected ? 1.0f : 0.0f;
  }
  return OkStatus();
}

void SearchEngine::Rank(std::vector<Candidate>& candidates, const rank::GbdtModel* ranker) const {
  for (Candidate& c : candidates) c.score = c.fused;
  if (ranker == nullptr || candidates.empty()) return;
  const size_t depth = std::min(candidates.size(), options_.rerank_depth);
  std::vector<float> x;
  x.reserve(depth * kNumFeatures);
  for (size_t i = 0; i < depth; ++i) {
    if (candidates[i].features.size() != kNumFeatures) return;  // not featurized
    x.insert(x.end(), candidates[i].features.begin(), candidates[i].features.end());
  }
  std::vector<float> pred(depth);
  if (!ranker->Predict(x.data(), depth, pred.data()).ok()) return;
  // Reranked candidates come first; the rest keep fusion order below them.
  float lowest = std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < depth; ++i) {
    candidates[i].score = pred[i];
    lowest = std::min(lowest, pred[i]);
  }
  for (size_t i = depth; i < candidates.size(); ++i) {
    candidates[i].score = lowest - 1.0 - static_cast<double>(i) * 1e-6;
  }
  std::stable_sort(candidates.begin(), candidates.begin() + depth,
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
}

StatusOr<SearchResponse> SearchEngine::Search(const SearchRequest& req) const {
  const auto t0 = std::chrono::steady_clock::now();
  if (req.limit > kMaxLimit) {
    return InvalidArgumentError(fmt::format("limit: {} is more than {}", req.limit, kMaxLimit));
  }
  if (req.offset > 10000) {
    return InvalidArgumentError(fmt::format("offset: {} is more than 10000", req.offset));
  }
  RETURN_IF_ERROR(ValidateFilter(req.filter, "filter"));
  SearchResponse resp;
  resp.parsed = Understand(req.query, options_.use_qu && req.pipeline.qu);
  const ParsedQuery& q = resp.parsed;
  const index::Filter filter = MergeFilters(req.filter, q.filter);
  if (!ValidateFilter(filter, "filter").ok()) {
    // The query's own price phrase contradicts an explicit filter: no results.
    resp.took_ms = 0;
    return resp;
  }
  // Facets and totals (and the whole answer for browse / non-relevance sorts)
  // come from the lexical index, which evaluates the filters exactly.
  const bool lexical_only_answer =
      q.terms.empty() || req.sort != index::SortBy::kRelevance ||
      (!req.pipeline.dense && !req.pipeline.lexical);
  index::LexicalResult lr;
  if (lexical_only_answer) {
    index::LexicalQuery lq;
    lq.terms = q.terms;
    lq.alternatives = q.alternatives;
    lq.filter = filter;
    lq.facets = req.facets;
    lq.sort = req.sort;
    lq.offset = req.offset;
    lq.limit = req.limit;
    lq.exact_total_upto = options_.exact_total_upto;
    ASSIGN_OR_RETURN(lr, parts_.lexical->Search(lq));
    resp.total = lr.total_matches;
    resp.facets = std::move(lr.facets);
  }

  std::vector<Candidate> ranked;
  size_t begin = 0;
  if (lexical_only_answer) {
    resp.ranker = q.terms.empty() ? "browse" : "sort";
    for (size_t i = 0; i < lr.hits.size(); ++i) {
      Candidate c;
      c.doc = lr.hits[i].doc;
      c.lexical_rank = static_cast<int>(req.offset + i + 1);
      c.lexical_score = lr.hits[i].score;
      c.fused = c.score = lr.hits[i].score;
      ranked.push_back(std::move(c));
    }
    if (req.explain && !q.terms.empty()) RETURN_IF_ERROR(Featurize(q, ranked, &req.user_id));
  } else {
    RetrieveOptions ro;
    ro.extra_filter = &req.filter;
    ro.dense = options_.dense && req.pipeline.dense;
    ro.lexical = req.pipeline.lexical;
    ro.facets = &req.facets;
    ro.lexical_result = &lr;
    ASSIGN_OR_RETURN(ranked, Retrieve(q, ro));
    resp.total = ro.lexical ? lr.total_matches : ranked.size();  // dense only: what it found
    resp.facets = std::move(lr.facets);
    const bool use_ltr = options_.ltr && req.pipeline.ltr && parts_.ranker != nullptr;
    const bool personal = req.pipeline.personalize && !req.user_id.empty() && parts_.profiles &&
                          parts_.profiles->Has(req.user_id) && options_.personalization_weight > 0;
    if (use_ltr || req.explain) {
      // Only the candidates the ranker looks at need features.
      const size_t depth = std::min(ranked.size(), std::max(options_.rerank_depth,
                                                            req.offset + req.limit));
      std::vector<Candidate> head(ranked.begin(), ranked.begin() + depth);
      RETURN_IF_ERROR(Featurize(q, head, &req.user_id));
      std::move(head.begin(), head.end(), ranked.begin());
    }
    if (use_ltr) {
      Rank(ranked, parts_.ranker.get());
      resp.ranker = "ltr";
    } else {
      resp.ranker = "fusion";
    }
    if (personal) {
      // Boost = weight * affinity on the min-max normalized base score.
      const size_t depth = std::min(ranked.size(), options_.rerank_depth);
      double lo = 1e300, hi = -1e300;
      for (size_t i = 0; i < depth; ++i) {
        lo = std::min(lo, ranked[i].score);
        hi = std::max(hi, ranked[i].score);
      }
      const double span = hi > lo ? hi - lo : 1.0;
      for (size_t i = 0; i < depth; ++i) {
        const double a = parts_.profiles->Affinity(req.user_id, *parts_.catalog, ranked[i].doc);
        ranked[i].personal_boost = options_.personalization_weight * a;
        ranked[i].score = (ranked[i].score - lo) / span + ranked[i].personal_boost;
      }
      std::stable_sort(ranked.begin(), ranked.begin() + depth,
                       [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
      resp.ranker += "+personal";
    }
    begin = req.offset;
  }
  const size_t end = std::min(ranked.size(), begin + req.limit);
  for (size_t i = begin; i < end; ++i) {
    SearchHit h;
    h.doc = ranked[i].doc;
    const CatalogDoc& d = parts_.catalog->doc(h.doc);
    h.external_id = d.external_id;
    h.title = d.title;
    h.score = ranked[i].score;
    resp.hits.push_back(std::move(h));
  }
  if (req.explain) RETURN_IF_ERROR(Explain(req, ranked, begin, end, resp));
  resp.took_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return resp;
}

Status SearchEngine::Explain(const SearchRequest& req, const std::vector<Candidate>& ranked,
                             size_t begin, size_t end, SearchResponse& out) const {
  const bool use_ltr = options_.ltr && parts_.ranker != nullptr && out.ranker.rfind("ltr", 0) == 0;
  std::vector<float> x;
  for (size_t i = begin; i < end; ++i) {
    if (ranked[i].features.size() == kNumFeatures) {
      x.insert(x.end(), ranked[i].features.begin(), ranked[i].features.end());
    } else {
      x.insert(x.end(), kNumFeatures, kMissing);
    }
  }
  std::vector<float> contrib;
  if (use_ltr && end > begin) {
    ASSIGN_OR_RETURN(contrib, parts_.ranker->Contributions(x.data(), end - begin));
  }
  for (size_t i = begin; i < end; ++i) {
    const Candidate& c = ranked[i];
    HitExplanation e;
    e.lexical_rank = c.lexical_rank;
    e.dense_rank = c.dense_rank;
    e.lexical_score = c.lexical_score;
    if (c.features.size() == kNumFeatures) {
      for (int f = 0; f < index::kNumFields; ++f) e.field_bm25[f] = c.features[kBm25Title + f];
      if (!c.lexical_rank) e.lexical_score = c.features[kLexScore];
    }
    e.dense_score = c.dense_score;
    e.fused_score = c.fused;
    if (!contrib.empty()) {
      const size_t row = (i - begin) * (kNumFeatures + 1);
      double sum = 0;
      for (int f = 0; f < kNumFeatures; ++f) {
        if (contrib[row + f] != 0) e.ltr_contributions.emplace_back(FeatureNames()[f], contrib[row + f]);
        sum += contrib[row + f];
      }
      e.ltr_bias = contrib[row + kNumFeatures];
      e.ltr_score = sum + e.ltr_bias;
      std::sort(e.ltr_contributions.begin(), e.ltr_contributions.end(),
                [](const auto& a, const auto& b) { return std::abs(a.second) > std::abs(b.second); });
    }
    e.personal_boost = c.personal_boost;
    if (c.personal_boost != 0 && parts_.profiles) {
      parts_.profiles->Affinity(req.user_id, *parts_.catalog, c.doc, &e.personal_parts);
    }
    e.final_score = c.score;
    out.hits[i - begin].explanation = std::move(e);
  }
  return OkStatus();
}

nlohmann::json SearchResponse::ToJson(bool explain) const {
  nlohmann::json j;
  j["query"] = parsed.original;
  j["total"] = total;
  j["took_ms"] = took_ms;
  j["ranker"] = ranker;
  if (!parsed.did_you_mean.empty()) {
    j["did_you_mean"] = parsed.did_you_mean;
    j["spelling_confidence"] = parsed.spelling_confidence;
  }
  nlohmann::json hits = nlohmann::json::array();
  for (const SearchHit& h : this->hits) {
    nlohmann::json hj = {{"id", h.external_id}, {"title", h.title}, {"score", h.score}};
    if (explain && h.explanation) {
      const HitExplanation& e = *h.explanation;
      nlohmann::json ej;
      nlohmann::json fields;
      for (int f = 0; f < index::kNumFields; ++f) {
        fields[std::string(index::FieldName(static_cast<index::Field>(f)))] = e.field_bm25[f];
      }
      ej["lexical"] = {{"score", e.lexical_score}, {"fields_bm25", fields}};
      if (e.lexical_rank) ej["lexical"]["rank"] = *e.lexical_rank;
      ej["dense"] = {{"score", e.dense_score}};
      if (e.dense_rank) ej["dense"]["rank"] = *e.dense_rank;
      ej["fused"] = e.fused_score;
      if (e.ltr_score) {
        nlohmann::json contrib = nlohmann::json::array();
        for (const auto& [name, v] : e.ltr_contributions) contrib.push_back({{"feature", name}, {"value", v}});
        ej["ltr"] = {{"score", *e.ltr_score}, {"bias", e.ltr_bias}, {"contributions", contrib}};
      }
      if (e.personal_boost != 0) {
        nlohmann::json parts;
        for (const auto& [name, v] : e.personal_parts) parts[name] = v;
        ej["personalization"] = {{"boost", e.personal_boost}, {"affinity", parts}};
      }
      ej["final"] = e.final_score;
      hj["explain"] = std::move(ej);
    }
    hits.push_back(std::move(hj));
  }
  j["hits"] = std::move(hits);
  if (!facets.empty()) {
    nlohmann::json fj = nlohmann::json::object();
    for (const auto& [name, counts] : facets) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& fc : counts) arr.push_back({{"value", fc.value}, {"count", fc.count}});
      fj[name] = std::move(arr);
    }
    j["facets"] = std::move(fj);
  }
  if (explain) {
    j["query_understanding"] = parsed.steps;
    nlohmann::json filters;
    if (parsed.filter.price_min) filters["price_min"] = *parsed.filter.price_min;
    if (parsed.filter.price_max) filters["price_max"] = *parsed.filter.price_max;
    for (const auto& [k, v] : parsed.filter.attributes) filters[k] = v;
    if (!parsed.filter.brands.empty()) filters["brands"] = parsed.filter.brands;
    j["extracted_filters"] = filters.is_null() ? nlohmann::json::object() : filters;
  }
  return j;
}

}  // namespace souk::search
