// Parsing helpers shared by the dataset adapters.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace souk::ingest {

// Trims ASCII whitespace.
std::string_view Trim(std::string_view s);
// A finite number ("12", "-3.5", "1e3", " 7 "); nullopt for text, NaN, inf, empty.
std::optional<double> ParseNumber(std::string_view s);
// "17850.0" -> "17850" (ids written as floats by spreadsheet tools); other text unchanged.
std::string NormalizeNumericId(std::string_view s);
// Escapes a string as a JSON string literal (with quotes).
std::string JsonQuote(std::string_view s);

// A set of 64-bit hashes with open addressing (for duplicate detection over
// millions of records at 8-16 bytes each). Not thread-safe.
class HashSet64 {
 public:
  // Inserts h; returns false if it was already present.
  bool Insert(uint64_t h);
  size_t size() const { return size_; }
  void Clear();

 private:
  void Grow();
  std::unique_ptr<uint64_t[]> slots_;
  size_t capacity_ = 0;  // power of two
  size_t size_ = 0;
  bool has_zero_ = false;
};

}  // namespace souk::ingest
