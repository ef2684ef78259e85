// Normalizer: canonical form of shop text (titles, queries, reviews) before
// segmentation. The same Normalizer must be used at index and at query time.
//
// Steps, in order (each can be switched off in Normalizer::Options):
//   1. decode UTF-8; every ill-formed sequence becomes U+FFFD;
//   2. control characters are removed (tab, CR, LF and other separators become
//      spaces);
//   3. Unicode NFKC (full-width ＡＢＣ１２３ -> ABC123, ligature ﬁ -> fi,
//      U+3000 -> space), fused with full case folding when `case_fold` is on
//      (ICU NFKC_Casefold: "Straße" -> "strasse"; it also drops default
//      ignorables such as soft hyphens and zero-width joiners);
//   4. optional stripping of Latin/Greek/Cyrillic diacritics ("café" -> "cafe";
//      Kana voicing marks and Indic vowel signs are kept);
//   5. CJK punctuation the NFKC step keeps (。、「」【】《》 ...) and curly quotes
//      become ASCII punctuation;
//   6. traditional -> simplified Chinese with OpenCC (電腦 -> 电脑);
//   7. runs of whitespace collapse to one ASCII space; the ends are trimmed.
//
// The result is always well-formed UTF-8 and Normalize is idempotent:
// Normalize(Normalize(x)) == Normalize(x).
//
// NormalizeWithOffsets also reports, for every output byte, the input bytes it
// came from, so that tokens found in the normalized text can be highlighted in
// the original.
//
// Thread-safety: a Normalizer is immutable after Create; Normalize may be called
// concurrently from any number of threads (ICU Normalizer2 instances are
// immutable and every call builds its own buffers; OpenCC's Convert is const).
// Cost: linear in the input, roughly 1-3 µs per 100 bytes; OpenCC dictionaries
// (a few MB) are loaded once in Create.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "text/utf8.h"

namespace opencc {
class SimpleConverter;
}
#include <unicode/uversion.h>  // defines the versioned icu namespace

U_NAMESPACE_BEGIN
class Normalizer2;
U_NAMESPACE_END

namespace souk::text {

// A normalized string plus, for each of its bytes, the input byte range it was
// produced from. Both vectors have text.size() entries.
struct NormalizedText {
  std::string text;
  std::vector<uint32_t> source_begin;  // input byte where the output byte's origin starts
  std::vector<uint32_t> source_end;    // input byte just past the output byte's origin

  // Maps the normalized byte range [begin, end) (end > begin, end <= text.size())
  // to the smallest input byte range that produced it.
  std::pair<uint32_t, uint32_t> SourceSpan(uint32_t begin, uint32_t end) const;
};

class Normalizer {
 public:
  struct Options {
    // --- behavior ---
    bool nfkc = true;                  // Unicode NFKC (full-width -> half-width, ligatures)
    bool case_fold = true;             // ICU full case folding ("Straße" -> "strasse")
    bool strip_accents = true;         // remove Latin/Greek/Cyrillic diacritics ("é" -> "e")
    bool fold_cjk_punctuation = true;  // 。、「」【】《》“” ... -> ASCII punctuation
    bool traditional_to_simplified = true;  // OpenCC t2s (電腦 -> 电脑)
    bool remove_control = true;        // drop control chars; tab/CR/LF become spaces
    bool collapse_whitespace = true;   // whitespace runs -> one space, ends trimmed
    // --- resources ---
    std::string opencc_config = "/usr/share/opencc/t2s.json";  // OpenCC config file
  };

  // Loads OpenCC (when traditional_to_simplified is on) and the ICU data.
  // Errors: NotFound naming the OpenCC config path when it does not exist;
  // InvalidArgument when OpenCC rejects it; Internal when ICU data is missing.
  static StatusOr<std::unique_ptr<Normalizer>> Create(Options options);

  ~Normalizer();
  Normalizer(const Normalizer&) = delete;
  Normalizer& operator=(const Normalizer&) = delete;

  // Returns the normalized form of `text` (any bytes; never fails).
  std::string Normalize(std::string_view text) const;

  // Same as Normalize, keeping the output -> input byte mapping.
  NormalizedText NormalizeWithOffsets(std::string_view text) const;

  const Options& options() const { return options_; }

 private:
  Normalizer(Options options, const icu::Normalizer2* compose, const icu::Normalizer2* nfd,
             const icu::Normalizer2* nfc, std::unique_ptr<opencc::SimpleConverter> t2s);

  void ApplyCompose(std::vector<CodePoint>& pieces) const;
  void ApplyStripAccents(std::vector<CodePoint>& pieces) const;
  void ApplyTraditionalToSimplified(std::vector<CodePoint>& pieces) const;
  std::string ConvertT2s(const std::string& utf8) const;

  Options options_;
  const icu::Normalizer2* compose_;  // NFKC or NFKC_Casefold; owned by ICU, may be null
  const icu::Normalizer2* nfd_;      // owned by ICU
  const icu::Normalizer2* nfc_;      // owned by ICU
  std::unique_ptr<opencc::SimpleConverter> t2s_;  // null when t2s is off
};

}  // namespace souk::text
