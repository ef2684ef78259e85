// LexicalIndex: the BM25 full-text index of the catalog (Xapian), with boolean
// filters, exact facet counts, sorting, spelling suggestions, synonyms and
// term completion.
//
//   ASSIGN_OR_RETURN(auto index, LexicalIndex::Open(dir, LexicalIndexOptions{}));
//   RETURN_IF_ERROR(index->AddBatch(docs));
//   RETURN_IF_ERROR(index->Commit());
//   LexicalQuery q;
//   q.terms = index->analyzer().Terms("samsung tv");
//   q.facets = {"brand", "price"};
//   ASSIGN_OR_RETURN(LexicalResult r, index->Search(q));
//
// Terms. Every text field goes through the index's own text::Analyzer (never
// Xapian's TermGenerator), so a query analyzed with analyzer() matches the
// documents: Chinese is segmented, traditional folds to simplified, English is
// stemmed, quantities are canonical ("5 L" == "5000ml"). Each field has its own
// term prefix (with positions); every term is also indexed without prefix at
// wdf 0 (does not change document lengths) for TermFrequency/CompleteTerm.
//
// Scoring. The query for term t is OR over fields f of
// field_weight[f] * BM25_f(t) (Xapian BM25Weight(k1, 0, 1, b, 0.5), document
// length = all field words), so a hit's score is exactly
// sum_f field_weight[f] * bm25[f], which Score() recomputes for one document.
//
// Storage. A Xapian glass database in `dir`. An empty `dir` gives a private
// temporary glass database deleted when the index is destroyed (Xapian's
// in-memory backend implements neither spelling nor synonyms, so it is not
// used). The stemming language and the numeric attribute keys are recorded in
// the database; reopening with different ones fails (terms would not match).
//
// Errors: bad input -> InvalidArgument naming the field and the document;
// unknown doc -> NotFound; Xapian errors -> Unavailable (locked database),
// DataLoss (corrupt database) or Internal. Nothing throws.
//
// Visibility. Reads (Search, Score, SuggestSpelling, TermFrequency, Synonyms,
// CompleteTerm, ExternalId, DocCount) see the database as of the last commit:
// Upsert, Delete, AddSpellingSource and AddSynonym become visible to them at
// the next Commit(), in the private temporary mode too. AddBatch commits every
// commit_every documents and Xapian may commit on its own after many changes,
// so a large uncommitted batch can show up in parts before its Commit.
// One call reads one revision (Score and Search called together see the same
// statistics unless a Commit lands between the two calls).
//
// Thread-safety: all methods are thread-safe. Writes (Upsert, Delete,
// AddBatch, Commit, AddSpellingSource, AddSynonym) serialize on one writer
// mutex. Reads run in parallel with each other and with a writer: each call
// takes a read-only handle from a pool (one per concurrent caller, opened on
// first need, at most options.max_idle_readers kept open) and reopens it when
// a commit happened since it was last used. A long AddBatch does not block
// searches. A read overtaken by commits is retried on the newest revision
// (Unavailable after 10 tries). If `dir` is replaced under an open index (a
// rebuild moved into place), reads fall back to the writer's handle, which
// keeps the original files, and serialize with writes again. The index must
// outlive every call in progress.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "text/analyzer.h"

namespace souk::index {

// Fields of a document. Each has its own Xapian term prefix.
enum class Field : uint8_t { kTitle = 0, kBrand, kCategory, kDescription, kAttributes };
inline constexpr int kNumFields = 5;
// "title", "brand", "category", "description", "attributes".
std::string_view FieldName(Field f);

struct LexicalIndexOptions {
  // --- behavior ---
  double field_weight[kNumFields] = {3.0, 2.0, 1.5, 1.0, 1.0};  // multiplies each field's BM25
  double bm25_k1 = 1.0;                    // BM25 term-frequency saturation (Xapian's default)
  double bm25_b = 0.5;                     // BM25 document-length normalization (Xapian's default)
  std::string stem_language = "english";   // passed to the Analyzer ("none" = no stemming)
  std::vector<std::string> numeric_attributes;  // attribute keys stored as sortable values
  // --- performance ---
  size_t commit_every = 20000;             // AddBatch commits after this many documents
  size_t wildcard_max_expansion = 64;      // prefix_last: most frequent completions used
  size_t max_idle_readers = 8;             // read handles kept open between calls (5-8 fds each;
                                           // 0 = open one per call)
};

struct IndexDoc {
  uint32_t doc = 0;          // dense 0-based doc number chosen by the caller (Xapian docid = doc+1)
  std::string external_id;   // stored as the document data (ExternalId)
  std::string title, brand, description;
  std::vector<std::string> category_path;   // {"Electronics","TV"}
  std::vector<std::pair<std::string, std::string>> attributes;  // color=red, size=XL ...
  std::optional<double> price;               // >= 0 when present
  std::optional<bool> in_stock;
  double popularity = 0;     // stored as a sortable value for sort=popularity
  std::vector<std::pair<std::string, double>> numeric;  // numeric attributes (keys in options)
};

struct Filter {  // all present conditions are ANDed
  std::vector<std::string> brands;          // OR within; exact brand (case/width-folded)
  std::vector<std::string> categories;      // OR within; matches any level of the path
  std::optional<double> price_min, price_max;  // inclusive
  std::optional<bool> in_stock;
  std::vector<std::pair<std::string, std::string>> attributes;  // attribute equality, ANDed
  struct Range {
    std::string key;
    std::optional<double> min, max;  // inclusive
  };
  std::vector<Range> numeric;               // numeric attribute ranges
  bool Empty() const;
};

enum class SortBy : uint8_t { kRelevance, kPriceAsc, kPriceDesc, kPopularity };

// Per-request parameters of LexicalIndex::Search.
struct LexicalQuery {
  // Analyzed query terms (the caller analyzes with the same Analyzer via Analyze()).
  // Duplicates are ignored (the first occurrence counts).
  std::vector<std::string> terms;
  // Optional extra weighted alternatives per term index (synonyms/spelling): term i may
  // match any of alternatives[i] at weight alt_weight. May be empty or shorter than
  // terms. An alternative with spaces ("flat screen") must match all its words.
  std::vector<std::vector<std::string>> alternatives;
  double alt_weight = 0.7;   // in [0, 1]
  enum class Mode { kOr, kAnd } mode = Mode::kOr;  // OR = BM25 OR-query (default)
  // Last term also matches as a prefix (OP_WILDCARD over the most frequent
  // completions, for search-as-you-type). The caller should pass the last word
  // unstemmed (e.g. Normalizer output) since a stemmed fragment may not prefix
  // the full word's stem.
  bool prefix_last = false;
  Filter filter;
  // kRelevance with no terms (browse) sorts by popularity. Price sorts put
  // documents without a price last; ties keep relevance order.
  SortBy sort = SortBy::kRelevance;
  size_t offset = 0, limit = 100;   // limit <= 10000, offset <= 1000000
  // total_matches is exact up to this many matches (an estimate above, as
  // Elasticsearch's track_total_hits); facets always count exhaustively.
  // Lower values let Xapian stop early. 0 = always exact.
  size_t exact_total_upto = 0;
  std::vector<std::string> facets;  // "brand","category","price" (buckets), "in_stock", attr keys
};

struct LexicalHit {
  uint32_t doc;
  double score;
};
struct FacetCount {
  std::string value;
  uint64_t count;
};
struct LexicalResult {
  std::vector<LexicalHit> hits;
  uint64_t total_matches = 0;  // exact (matching is exhaustive)
  // Keyed by the requested facet name; values sorted by count desc, then value.
  // "brand"/"category"/attribute values are merged by folded form and shown in
  // their most frequent original spelling; "category" counts every path level;
  // "price" buckets are "0-10","10-25","25-50","50-100","100-250","250-500",
  // "500-1000","1000+" (lower bound inclusive); "in_stock" is "true"/"false".
  std::map<std::string, std::vector<FacetCount>> facets;
};

// Per-field BM25 of one document for a query (for LTR features and explanations).
// bm25[f] is unweighted; total = sum_f field_weight[f] * bm25[f].
struct FieldScores {
  double bm25[kNumFields] = {};
  double total = 0;
  int matched_terms = 0;  // distinct query terms present in at least one field
};

class LexicalIndex {
 public:
  // Opens or creates a database in `dir` (created when missing). Empty dir = a
  // private temporary database removed on destruction.
  // Errors: InvalidArgument for bad options (weights < 0, unknown stem language);
  // FailedPrecondition when `dir` was built with another stem language or other
  // numeric attributes; Unavailable when another writer holds the lock.
  static StatusOr<std::unique_ptr<LexicalIndex>> Open(const std::string& dir,
                                                      LexicalIndexOptions o);
  ~LexicalIndex();
  LexicalIndex(const LexicalIndex&) = delete;
  LexicalIndex& operator=(const LexicalIndex&) = delete;

  // The analyzer every indexed field went through; use it for queries.
  const text::Analyzer& analyzer() const;
  const LexicalIndexOptions& options() const { return options_; }

  // Adds or replaces document doc.doc (replace_document(doc+1)); the replaced
  // document's words leave the spelling dictionary. Visible to reads and
  // durable after Commit. Errors: InvalidArgument (negative/NaN price, NaN
  // popularity, undeclared numeric key, doc == UINT32_MAX).
  Status Upsert(const IndexDoc& doc);
  // Visible to reads after Commit. Errors: NotFound when `doc` is not indexed
  // (an uncommitted Upsert counts as indexed).
  Status Delete(uint32_t doc);
  // Upserts many documents, committing every options.commit_every documents.
  // All documents are validated first: on InvalidArgument nothing is added.
  Status AddBatch(std::span<const IndexDoc> docs, ProgressOptions* progress = nullptr);
  // Makes every earlier write durable and visible to reads. Cost: a Xapian
  // commit (fsync unless temporary); each pooled read handle reopens once.
  Status Commit();
  // Documents as of the last commit; 0 on a database error.
  uint64_t DocCount() const;
  // The external_id of `doc`. Errors: NotFound.
  StatusOr<std::string> ExternalId(uint32_t doc) const;

  // Errors: InvalidArgument (limit > 10000, inverted range, unknown facet, unknown
  // numeric key, NaN bound, alt_weight outside [0,1], alternatives longer than terms).
  // Cost: exhaustive matching (exact totals and facets), O(matching postings).
  StatusOr<LexicalResult> Search(const LexicalQuery& q) const;
  // Per-field BM25 of `doc` for the analyzed `terms` (same formula/params as Search, computed from
  // the doc's termlist/wdf/length and the collection stats). Cost: O(terms) Xapian lookups.
  // Errors: NotFound when `doc` is not indexed.
  StatusOr<FieldScores> Score(uint32_t doc, const std::vector<std::string>& terms) const;
  // Score() of many documents at once (result i belongs to docs[i]; a doc that
  // is not indexed gets all zeros). Walks each (field, term) posting list once
  // with skip_to over the sorted docs instead of opening every document's term
  // list: O(fields * terms * (postings opened + docs)) -- the form to use for
  // the candidates of one query.
  StatusOr<std::vector<FieldScores>> ScoreMany(const std::vector<uint32_t>& docs,
                                               const std::vector<std::string>& terms) const;

  // Spelling: the dictionary holds analyzed title/brand terms of indexed documents
  // (letters only, no CJK, >= 3 bytes) and the analyzed terms of AddSpellingSource
  // text (weight = freq), as of the last commit. SuggestSpelling takes an
  // analyzed term and returns the most frequent dictionary term within edit
  // distance 2 (1 for words under 4 characters), or "" when none is found or the
  // word is itself in the dictionary.
  Status AddSpellingSource(std::string_view text, uint32_t freq);
  std::string SuggestSpelling(std::string_view word) const;
  // Number of documents containing the analyzed `term` in any field.
  uint64_t TermFrequency(std::string_view term) const;

  // Synonyms (Xapian synonym table), keyed by analyzed text: both sides are
  // analyzed and their terms joined with one space ("Televisions" -> "televis").
  // Errors: InvalidArgument when either side analyzes to nothing.
  Status AddSynonym(std::string_view term, std::string_view synonym);
  // Synonyms of the analyzed form of `term` as of the last commit, sorted; empty when none.
  std::vector<std::string> Synonyms(std::string_view term) const;

  // Terms of the index beginning with the normalized `prefix` (any field), most
  // frequent first (ties by term), up to n. Empty prefix -> empty result.
  // Cost: O(terms with that prefix).
  std::vector<std::pair<std::string, uint64_t>> CompleteTerm(std::string_view prefix,
                                                             size_t n) const;

 private:
  struct Impl;
  LexicalIndex(LexicalIndexOptions o, std::unique_ptr<text::Analyzer> analyzer,
               std::unique_ptr<Impl> impl);

  LexicalIndexOptions options_;
  std::unique_ptr<text::Analyzer> analyzer_;
  std::unique_ptr<Impl> impl_;  // Xapian state; hides <xapian.h> from includers
};

}  // namespace souk::index
