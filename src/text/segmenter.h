// Segmenter: splits text into word tokens with ICU's word BreakIterator. Han
// runs are split with ICU's built-in Chinese/Japanese dictionary; Latin words,
// numbers and mixed tokens ("mate60", "256gb") follow Unicode UAX #29 rules.
// Whitespace and punctuation-only segments are dropped.
//
// Input is normally the output of Normalizer (the segmenter does no case
// folding or width folding itself), but any bytes are accepted: ill-formed
// UTF-8 is read as U+FFFD and token offsets always refer to the input bytes.
//
// Thread-safety: immutable after Create; Segment may be called concurrently
// (each call clones the prototype BreakIterator, ~1 µs). Cost: linear in the
// input; dictionary segmentation of Han text is the slow part (~1 µs/char).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/status.h"

#include <unicode/uversion.h>  // defines the versioned icu namespace

U_NAMESPACE_BEGIN
class BreakIterator;
U_NAMESPACE_END

namespace souk::text {

enum class TokenKind {
  kWord,      // letters, possibly with digits ("pro", "mate60", "256gb")
  kNumber,    // digits with optional separators ("256", "1,000", "1.5")
  kCjk,       // contains Han, Kana or Hangul ("华为", "手机")
  kOther,     // symbols that are not punctuation ("+", "€", emoji)
  kQuantity,  // number + unit merged by Analyzer ("5000ml"); never from Segmenter
};

std::string_view TokenKindName(TokenKind kind);

struct Token {
  std::string text;    // input.substr(begin, end - begin), U+FFFD for ill-formed bytes
  uint32_t begin = 0;  // byte offset in the input
  uint32_t end = 0;    // byte offset just past the token
  TokenKind kind = TokenKind::kWord;
};

class Segmenter {
 public:
  struct Options {
    std::string locale = "zh";  // ICU locale of the word break rules and dictionary
    bool keep_symbols = true;   // emit kOther tokens for symbol-only segments
    // Domain lexicon for Han text (brands, product words ICU splits apart): inside
    // a run of CJK tokens the longest lexicon word (2..8 chars) starting at a
    // token boundary becomes one token. Entries must be in normalized form.
    bool builtin_lexicon = true;          // a small list of common Chinese brand names
    std::vector<std::string> lexicon;     // extra words
    std::string lexicon_path;             // optional file, one word per line ("#" comments)
  };

  // Errors: Internal when ICU cannot create the word break iterator (ICU data
  // missing); NotFound naming lexicon_path when that file cannot be read.
  static StatusOr<std::unique_ptr<Segmenter>> Create(Options options);
  static StatusOr<std::unique_ptr<Segmenter>> Create() { return Create(Options{}); }

  ~Segmenter();
  Segmenter(const Segmenter&) = delete;
  Segmenter& operator=(const Segmenter&) = delete;

  // Tokens of `text` in order, non-overlapping, with exact byte offsets.
  std::vector<Token> Segment(std::string_view text) const;

 private:
  Segmenter(Options options, std::unique_ptr<icu::BreakIterator> prototype);
  void ApplyLexicon(std::string_view text, std::vector<Token>& tokens) const;

  Options options_;
  std::unordered_set<std::string> lexicon_;  // immutable after Create
  size_t lexicon_max_chars_ = 0;
  std::unique_ptr<icu::BreakIterator> prototype_;  // never iterated; only cloned
};

// Classifies a token's text (used by Segmenter and Analyzer).
TokenKind ClassifyToken(std::string_view text);

}  // namespace souk::text
