// Analyzer: the one text pipeline shared by indexing and search. Turns a title,
// description or query into index terms:
//
//   raw text -> Normalizer (NFKC, case fold, t2s, ...) -> Segmenter (ICU words,
//   Chinese dictionary) -> quantities merged into one canonical term
//   ("5 L" -> "5000ml", "3斤" -> "1500g") -> English words stemmed
//   ("running" -> "run").
//
// Offsets in AnalyzedToken refer to the ORIGINAL input bytes (mapped back
// through normalization), so callers can highlight matches in the raw title.
//
// Thread-safety: immutable after Create; Analyze/Terms may be called
// concurrently (the stemmer serializes its short critical section).
// Cost: dominated by normalization and ICU segmentation, ~5-20 µs for a
// typical product title.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "text/normalizer.h"
#include "text/segmenter.h"
#include "text/stemmer.h"

namespace souk::text {

struct AnalyzedToken {
  std::string term;       // the index/search term ("run", "5000ml", "手机")
  uint32_t begin = 0;     // byte span in the original input
  uint32_t end = 0;
  TokenKind kind = TokenKind::kWord;
  std::string original;   // input bytes [begin, end) (ill-formed bytes as U+FFFD)
};

class Analyzer {
 public:
  struct Options {
    // --- behavior ---
    Normalizer::Options normalizer;   // see Normalizer::Options
    Segmenter::Options segmenter;     // see Segmenter::Options
    std::string stem_language = "english";  // Xapian stemmer name, or "none"
    bool merge_quantities = true;     // "5 L" -> one term "5000ml"
    bool keep_symbols = false;        // keep kOther tokens ("+", "€", emoji) as terms
    size_t max_term_bytes = 64;       // longer tokens are dropped (junk, base64, ...)
  };

  // Errors: those of Normalizer::Create, Segmenter::Create and Stemmer::Create
  // (e.g. InvalidArgument for an unknown stemming language).
  static StatusOr<std::unique_ptr<Analyzer>> Create(Options options);
  static StatusOr<std::unique_ptr<Analyzer>> Create() { return Create(Options{}); }

  // Tokens of `text` (any bytes) in order of their position.
  std::vector<AnalyzedToken> Analyze(std::string_view text) const;

  // Just the terms of Analyze(text).
  std::vector<std::string> Terms(std::string_view text) const;

  const Normalizer& normalizer() const { return *normalizer_; }
  const Segmenter& segmenter() const { return *segmenter_; }
  const Stemmer& stemmer() const { return *stemmer_; }
  const Options& options() const { return options_; }

 private:
  Analyzer(Options options, std::unique_ptr<Normalizer> normalizer,
           std::unique_ptr<Segmenter> segmenter, std::unique_ptr<Stemmer> stemmer);

  Options options_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<Segmenter> segmenter_;
  std::unique_ptr<Stemmer> stemmer_;
};

}  // namespace souk::text
