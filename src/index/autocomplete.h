// Autocomplete: search-as-you-type completions from product titles and popular
// queries, without the search index.
//
//   Autocomplete ac(index->analyzer());
//   RETURN_IF_ERROR(ac.Add("Samsung 55 in. TV", 1.0, "title"));
//   RETURN_IF_ERROR(ac.Add("samsung tv", 120, "query"));   // weight = query count
//   ac.Build();
//   std::vector<Completion> c = ac.Complete("SAMS", 10);
//
// Texts and prefixes go through the analyzer's Normalizer (case, width,
// traditional -> simplified, accents fold; whitespace collapses), so "ＳＡＭＳ",
// "sams" and "Sams" complete alike. Adding the same normalized text again sums
// the weights; the source and display text of the largest single addition win.
//
// Complete(prefix, n) returns up to n completions in two tiers:
//   1. texts that START WITH the normalized prefix, by weight desc (then text);
//   2. if fewer than n, texts where a later word starts with the prefix
//      ("tv" -> "samsung tv stand"), by weight desc (then text).
// Words are the Segmenter's tokens of the normalized text, so Chinese titles
// have word starts inside Han runs ("手机" finds "华为手机").
// A prefix ending in whitespace only matches where that word is complete
// ("tv " does not find "tvs").
//
// Storage: one sorted array of entries plus one sorted array of (entry, word
// offset) pairs; lookups are binary searches. Memory ~ texts x 2 + 8 bytes a word.
// Cost: Complete is O(log N + entries in the prefix range); Build is O(N log N).
//
// Thread-safety: Add and Build must not run concurrently with anything else;
// after Build, Complete may be called from many threads. Complete sees only
// what was added before the last Build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "text/analyzer.h"

namespace souk::index {

struct Completion {
  std::string text;     // normalized text; starts with the normalized prefix in tier 1
  double weight = 0;    // summed weight of every Add of this text
  std::string source;   // "title", "query", ... (tag of the largest single Add)
  std::string display;  // original spelling of the largest single Add
  bool word_match = false;  // true for tier 2 (the prefix starts a later word)
};

struct AutocompleteOptions {
  size_t max_text_bytes = 256;  // longer texts are cut (at a character boundary) before indexing
};

class Autocomplete {
 public:
  // `analyzer` is not owned and must outlive this object.
  explicit Autocomplete(const text::Analyzer& analyzer, AutocompleteOptions options = {});

  // Adds one completion candidate. Errors: InvalidArgument when weight is negative
  // or not finite, source is empty, or text normalizes to nothing.
  Status Add(std::string_view text, double weight, std::string_view source);
  // Makes everything added so far searchable (merges with earlier builds).
  void Build();
  // See the class comment. Empty (after normalization) prefix or n == 0 -> empty.
  std::vector<Completion> Complete(std::string_view prefix, size_t n) const;

  size_t size() const { return entries_.size(); }  // distinct texts built

 private:
  struct Entry {
    std::string text;
    std::string display;
    double weight = 0;
    double best = 0;       // largest single Add (decides display and source)
    uint16_t source = 0;   // index in sources_
  };
  struct WordStart {
    uint32_t entry;
    uint32_t offset;  // byte offset of the word in entries_[entry].text (> 0)
  };

  uint16_t SourceId(std::string_view source);
  Completion ToCompletion(const Entry& e, bool word_match) const;

  const text::Analyzer& analyzer_;
  AutocompleteOptions options_;
  std::vector<std::string> sources_;
  std::unordered_map<std::string, Entry> pending_;  // added since the last Build
  std::vector<Entry> entries_;                      // sorted by text
  std::vector<WordStart> words_;                    // sorted by text from the word on
};

}  // namespace souk::index
