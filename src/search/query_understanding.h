// QueryUnderstanding: turns what a shopper typed into what retrieval needs,
// recording every step for the explanation.
//
//   raw -> normalize (NFKC, case/width fold, traditional -> simplified)
//       -> extract price ranges ("under 50", "$20-40", "100-200元", "200元以下")
//          -> a range filter; the words leave the text query
//       -> extract colors / sizes (English + Chinese lexicons): a filter when the
//          catalog has that attribute value, else a soft signal (words stay)
//       -> detect brands (the catalog's brand dictionary, longest match; the
//          entity tagger when one is configured): a soft signal by default, a
//          filter with brand_as_filter
//       -> analyze the remaining text into index terms
//       -> spelling: a term no document contains (or a rare one with a much more
//          frequent neighbor) is replaced by the dictionary's suggestion, with a
//          confidence; "did you mean" is the corrected query text
//       -> synonyms (index synonym table: configured + mined) as alternatives
//       -> category intent: a classifier from queries to the categories of the
//          items they led to (top categories with probabilities)
//
// Thread-safety: Understand is const and safe to call concurrently.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "index/lexical_index.h"
#include "search/catalog.h"

namespace souk::search {

class EntityTagger;

// One understanding step as shown in explanations: {"step": name, ...details}.
using QueryStep = nlohmann::json;

struct Extraction {
  std::string kind;   // "price" | "color" | "size" | "brand"
  std::string text;   // the words in the query
  std::string value;  // canonical value ("red", "Samsung", "<=50")
  bool as_filter = false;
};

struct ParsedQuery {
  std::string original;
  std::string normalized;
  std::string text;                    // what is left after extraction (normalized)
  std::vector<std::string> terms;      // analyzed terms of `text` after spelling correction
  std::vector<std::string> raw_terms;  // analyzed terms before correction
  std::vector<std::string> words;      // the query word of each term (normalized)
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // byte span of each term in `text`
  std::vector<std::vector<std::string>> alternatives;  // per term: synonyms / spelling variants
  std::vector<Extraction> extractions;
  index::Filter filter;                // filters extracted from the text
  std::string did_you_mean;            // corrected query text; empty when nothing corrected
  double spelling_confidence = 0;      // of the correction (0..1)
  bool corrected = false;
  std::string dense_text;              // text given to the encoder
  std::vector<std::pair<std::string, double>> category_intent;  // folded category -> P
  std::vector<std::string> brands;     // detected brands (display form)
  std::vector<std::string> colors, sizes;
  std::vector<QueryStep> steps;
};

// Multinomial naive Bayes from query terms to (folded) category names, trained
// from (query, category) pairs of search logs or judgments.
class CategoryClassifier {
 public:
  void Add(const std::vector<std::string>& query_terms, const std::string& category,
           double weight = 1.0);
  void Finish();
  bool empty() const { return class_count_.empty(); }
  // Top-k categories with posterior probabilities (>= min_prob).
  std::vector<std::pair<std::string, double>> Predict(const std::vector<std::string>& terms,
                                                      size_t k = 3, double min_prob = 0.05) const;
  size_t num_classes() const { return class_count_.size(); }

 private:
  std::unordered_map<std::string, double> class_count_;
  std::unordered_map<std::string, std::unordered_map<std::string, double>> term_count_;
  std::unordered_map<std::string, double> class_total_;
  size_t vocab_ = 0;
  double total_ = 0;
};

struct QueryUnderstandingOptions {
  bool normalize = true;          // (always on; listed for the explanation)
  bool extract_price = true;
  bool extract_attributes = true;  // colors, sizes
  bool detect_brands = true;
  bool brand_as_filter = false;
  bool spelling = true;
  double spelling_min_confidence = 0.5;
  bool synonyms = true;
  bool category_intent = true;
  size_t max_query_bytes = 1024;  // longer queries are cut at a UTF-8 boundary
};

class QueryUnderstanding {
 public:
  // `index` and `catalog` must outlive this object.
  QueryUnderstanding(const index::LexicalIndex* index, const SearchCatalog* catalog,
                     QueryUnderstandingOptions options);
  ~QueryUnderstanding();

  void set_category_classifier(std::shared_ptr<const CategoryClassifier> c) {
    classifier_ = std::move(c);
  }
  void set_entity_tagger(std::shared_ptr<const EntityTagger> t) { tagger_ = std::move(t); }
  const QueryUnderstandingOptions& options() const { return options_; }

  ParsedQuery Understand(std::string_view query) const;

 private:
  void ExtractPrice(ParsedQuery& q) const;
  void ExtractAttributes(ParsedQuery& q) const;
  void DetectBrands(ParsedQuery& q) const;
  void CorrectSpelling(ParsedQuery& q) const;

  const index::LexicalIndex* index_;
  const SearchCatalog* catalog_;
  QueryUnderstandingOptions options_;
  std::shared_ptr<const CategoryClassifier> classifier_;
  std::shared_ptr<const EntityTagger> tagger_;
};

// Parses a price phrase anywhere in normalized text; returns the byte span and
// the bounds. Exposed for tests.
struct PricePhrase {
  size_t begin = 0, end = 0;
  std::optional<double> min, max;
};
std::optional<PricePhrase> FindPricePhrase(std::string_view normalized);

}  // namespace souk::search
