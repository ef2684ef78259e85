#include "text/stemmer.h"

#include <xapian.h>

#include "text/utf8.h"

namespace souk::text {
namespace {

constexpr size_t kMaxStemmedBytes = 64;

bool ShouldStem(std::string_view word) {
  if (word.empty() || word.size() > kMaxStemmedBytes) return false;
  for (unsigned char ch : word) {
    if (ch >= 0x80) {
      // Leave any word with CJK characters alone (lead bytes of U+1100.. and
      // above are 0xE1+; cheap pre-check, exact check below).
      for (const CodePoint& c : DecodeUtf8(word)) {
        const char32_t cp = c.cp;
        if ((cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0x2E80 && cp <= 0x9FFF) ||
            (cp >= 0xA960 && cp <= 0xA97F) || (cp >= 0xAC00 && cp <= 0xD7FF) ||
            (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFF66 && cp <= 0xFFDC) ||
            (cp >= 0x20000 && cp <= 0x3FFFF)) {
          return false;
        }
      }
      return true;
    }
  }
  return true;
}

}  // namespace

StatusOr<std::unique_ptr<Stemmer>> Stemmer::Create(std::string_view language) {
  std::string name(language);
  if (name.empty() || name == "none") {
    return std::unique_ptr<Stemmer>(new Stemmer("none", nullptr));
  }
  try {
    auto stem = std::make_unique<Xapian::Stem>(name);
    return std::unique_ptr<Stemmer>(new Stemmer(std::move(name), std::move(stem)));
  } catch (const Xapian::Error& e) {
    return InvalidArgumentError("unknown stemming language '" + name + "' (available: none " +
                                AvailableLanguages() + ")");
  }
}

std::string Stemmer::AvailableLanguages() {
  try {
    return Xapian::Stem::get_available_languages();
  } catch (const Xapian::Error&) {
    return "";
  }
}

Stemmer::Stemmer(std::string language, std::unique_ptr<Xapian::Stem> stem)
    : language_(std::move(language)), stem_(std::move(stem)) {}

Stemmer::~Stemmer() = default;

std::string Stemmer::StemLocked(std::string_view word) const {
  if (stem_ == nullptr || !ShouldStem(word)) return std::string(word);
  try {
    std::string stemmed = (*stem_)(std::string(word));
    if (stemmed.empty()) return std::string(word);
    return stemmed;
  } catch (const Xapian::Error&) {
    return std::string(word);
  }
}

std::string Stemmer::Stem(std::string_view word) const {
  if (stem_ == nullptr) return std::string(word);
  std::lock_guard<std::mutex> lock(mu_);
  return StemLocked(word);
}

void Stemmer::StemAll(std::vector<std::string>& words) const {
  if (stem_ == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (std::string& w : words) w = StemLocked(w);
}

}  // namespace souk::text
