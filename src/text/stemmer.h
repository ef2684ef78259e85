// Stemmer: reduces words to their stem with Xapian's Snowball stemmers
// ("running" -> "run", "shoes" -> "shoe"). Words containing Han, Kana or
// Hangul are returned unchanged (Chinese has no inflection to strip).
//
// Thread-safety: Stem/StemAll may be called concurrently; calls share one
// Xapian::Stem (which is not reentrant) behind a mutex, so heavy multi-threaded
// use should give each thread its own Stemmer (Create is cheap, ~1 µs).
// Cost: ~0.2-0.5 µs per word.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace Xapian {
class Stem;
}

namespace souk::text {

class Stemmer {
 public:
  // `language` is a Xapian/Snowball name ("english", "french", "german",
  // "porter", ... or "none" for no stemming; ISO codes like "en" also work).
  // Errors: InvalidArgument naming the language and listing the known ones.
  static StatusOr<std::unique_ptr<Stemmer>> Create(std::string_view language);

  ~Stemmer();
  Stemmer(const Stemmer&) = delete;
  Stemmer& operator=(const Stemmer&) = delete;

  // Stem of `word` (expected lower-case, normalized). Unchanged for "none",
  // for CJK words and for words longer than 64 bytes.
  std::string Stem(std::string_view word) const;

  // Stems each word in place (one lock for the batch).
  void StemAll(std::vector<std::string>& words) const;

  const std::string& language() const { return language_; }
  bool is_none() const { return stem_ == nullptr; }

  // Space-separated list of the languages Create accepts.
  static std::string AvailableLanguages();

 private:
  Stemmer(std::string language, std::unique_ptr<Xapian::Stem> stem);
  std::string StemLocked(std::string_view word) const;

  std::string language_;
  mutable std::mutex mu_;
  std::unique_ptr<Xapian::Stem> stem_;  // GUARDED_BY(mu_); null for "none"
};

}  // namespace souk::text
