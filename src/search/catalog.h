// SearchCatalog: the in-memory, read-only view of the items that search needs
// besides the indexes: per-document metadata (ids, title, brand, category
// path, price, stock, attributes), behavior statistics (popularity, CTR,
// conversion) and the analyzed title as term ids (for LTR features).
//
// Documents are dense numbers 0..size()-1 (the same numbers the lexical and
// vector indexes use). Built once (FromItems / AddEventStats), then shared
// read-only by any number of threads.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/status.h"
#include "index/lexical_index.h"
#include "store/types.h"
#include "text/analyzer.h"

namespace souk::search {

struct CatalogDoc {
  std::string external_id;
  std::string title;
  std::string brand;
  std::string description;
  std::vector<std::string> category_path;  // {"Electronics", "TV"}
  std::vector<std::pair<std::string, std::string>> attributes;  // string attributes
  std::vector<std::pair<std::string, double>> numeric;          // numeric attributes
  std::optional<double> price;
  std::optional<bool> in_stock;
  int64_t created_at_ms = 0;
  // Behavior statistics (AddEventStats); 0 when unknown.
  double impressions = 0, clicks = 0, carts = 0, purchases = 0;
};

class SearchCatalog {
 public:
  // `analyzer` must outlive the catalog (normally the lexical index's).
  explicit SearchCatalog(const text::Analyzer* analyzer) : analyzer_(analyzer) {}

  // Converts a store item (category "a > b", attributes_json object: strings
  // become attributes, numbers numeric attributes) and appends it. Returns its doc.
  uint32_t Add(const store::Item& item);
  uint32_t Add(CatalogDoc doc);
  // Counts one behavior event of a known item (unknown items are ignored).
  void AddEvent(const store::Event& e);
  // Ends building: computes derived statistics (popularity, smoothed CTR and
  // conversion). Call after the last Add/AddEvent.
  void Finish();

  // Takes doc d out of the catalog (a deleted or superseded item): Find() no
  // longer returns it, Matches() is false, retrieval skips it. Numbers are not
  // reused. Idempotent.
  void Remove(uint32_t d);
  bool removed(uint32_t d) const { return d < removed_.size() && removed_[d] != 0; }
  size_t removed_count() const { return removed_total_; }

  size_t size() const { return docs_.size(); }
  const CatalogDoc& doc(uint32_t d) const { return docs_[d]; }
  std::optional<uint32_t> Find(std::string_view external_id) const;
  // The analyzed title as term ids (ids from TermId), in order.
  std::span<const uint32_t> title_terms(uint32_t d) const;
  // Term id of an analyzed term, or kNoTerm when no title contains it.
  static constexpr uint32_t kNoTerm = UINT32_MAX;
  uint32_t TermId(std::string_view term) const;
  const std::string& TermString(uint32_t id) const { return term_strings_[id]; }
  // How a term is written in titles ("headphones" for "headphon"); the term
  // itself when no title has it.
  std::string Surface(std::string_view term) const {
    const uint32_t id = TermId(term);
    return id == kNoTerm ? std::string(term) : surfaces_[id];
  }
  // log(1 + purchases*5 + carts*2 + clicks) — a behavior popularity score.
  double popularity(uint32_t d) const { return popularity_[d]; }
  // Bayesian-smoothed click-through and conversion rates (prior = catalog mean).
  double ctr(uint32_t d) const { return ctr_[d]; }
  double conversion(uint32_t d) const { return conversion_[d]; }
  // Folded (normalized) brand of d, for exact brand comparison.
  const std::string& folded_brand(uint32_t d) const { return folded_brand_[d]; }
  // Folded category path levels and attribute values of d (precomputed: Fold
  // costs ~10 µs, too much per candidate at query time).
  const std::vector<std::string>& folded_categories(uint32_t d) const { return folded_categories_[d]; }
  const std::vector<std::pair<std::string, std::string>>& folded_attributes(uint32_t d) const {
    return folded_attributes_[d];
  }
  // All distinct folded brands -> display brand, for query brand extraction.
  const std::unordered_map<std::string, std::string>& brands() const { return brands_; }
  // Attribute values present in the catalog: folded "key=value".
  bool HasAttributeValue(std::string_view key, std::string_view folded_value) const;
  // Whether any item has a string / numeric attribute called `key` (as given).
  bool HasAttributeKey(std::string_view key) const { return attribute_keys_.count(std::string(key)) != 0; }
  bool HasNumericKey(std::string_view key) const { return numeric_keys_.count(std::string(key)) != 0; }

  // Whether doc d passes the filter (same semantics as the lexical index).
  bool Matches(uint32_t d, const index::Filter& f) const;
  // Same, for a filter whose brands/categories/attributes are already folded.
  bool MatchesFolded(uint32_t d, const index::Filter& f) const;
  // `f` with its brands, categories and attribute keys/values folded.
  index::Filter FoldFilter(const index::Filter& f) const;
  // Allow-bitmap of the documents passing `f` (for filtered vector search).
  std::vector<uint8_t> AllowBitmap(const index::Filter& f) const;
  // The index document of d (what the lexical index stores).
  index::IndexDoc ToIndexDoc(uint32_t d) const;

  std::string Fold(std::string_view s) const { return analyzer_->normalizer().Normalize(s); }
  const text::Analyzer& analyzer() const { return *analyzer_; }

 private:
  const text::Analyzer* analyzer_;
  std::vector<CatalogDoc> docs_;
  std::unordered_map<std::string, uint32_t> by_external_;
  std::vector<uint32_t> title_offsets_{0};
  std::vector<uint32_t> title_terms_;
  std::unordered_map<std::string, uint32_t> term_ids_;
  std::vector<std::string> term_strings_;
  std::vector<std::string> surfaces_;
  std::vector<double> popularity_, ctr_, conversion_;
  std::vector<std::string> folded_brand_;
  std::vector<std::vector<std::string>> folded_categories_;
  std::vector<std::vector<std::pair<std::string, std::string>>> folded_attributes_;
  std::unordered_map<std::string, std::string> brands_;
  std::unordered_map<std::string, uint32_t> attribute_values_;
  std::unordered_set<std::string> attribute_keys_, numeric_keys_;
  std::vector<uint8_t> removed_;  // by doc (may be shorter than docs_: not removed)
  size_t removed_total_ = 0;
};

}  // namespace souk::search
