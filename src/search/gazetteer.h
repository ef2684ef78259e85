// Gazetteer: typed dictionaries of entity surface forms (brands, product types)
// matched over character sequences. The entity tagger uses it for match
// features and the longest-match baseline; callers add their catalog's brands
// and product types at serving time.
//
// Entries are stored folded (FoldChar: ASCII and full-width Latin letters to
// lower case, full-width ASCII to ASCII), so "Nike", "nike" and "ｎｉｋｅ" are one
// entry. Each (type, text) pair keeps a count (how many times it was added) so
// that an ambiguous entry resolves to its most frequent type.
//
// Thread-safety: const methods may run concurrently; Add/LoadFile/Merge need
// exclusive access. Memory: a few hundred bytes per entry (prefixes are
// indexed too).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace souk::search {

// The character form used for features and dictionary lookups: ASCII upper case
// to lower case, full-width ASCII (U+FF01..U+FF5E) to ASCII (then lower case),
// the ideographic space U+3000 to ' '. Other code points are returned unchanged.
char32_t FoldChar(char32_t cp);

// Decodes UTF-8 (ill-formed bytes become U+FFFD) and folds every code point.
std::u32string FoldText(std::string_view utf8);

class Gazetteer {
 public:
  // A dictionary entry found in a character sequence: chars [begin, end).
  struct Match {
    int type = 0;  // index into types()
    uint32_t begin = 0;
    uint32_t end = 0;
  };

  Gazetteer() = default;

  // Adds one entry (`text` is folded; leading/trailing ASCII spaces are trimmed;
  // an empty text is ignored). `type` must be non-empty (otherwise ignored).
  // Adding the same (type, text) again increments its count.
  void Add(std::string_view type, std::string_view text);
  // Adds every line of a UTF-8 file as an entry of `type` (blank lines skipped,
  // a trailing '\r' removed). Errors: NotFound naming the path when it cannot be
  // opened; DataLoss "PATH:LINE: invalid UTF-8" for an ill-formed line.
  Status LoadFile(std::string_view type, const std::string& path);
  // Adds every entry of `other` with its counts.
  void Merge(const Gazetteer& other);

  // The entity types seen so far, in order of first appearance.
  const std::vector<std::string>& types() const { return types_; }
  // Index of `type` in types(), or -1.
  int TypeIndex(std::string_view type) const;
  // Number of distinct (type, text) entries.
  size_t size() const { return num_entries_; }
  bool empty() const { return num_entries_ == 0; }
  // Length in characters of the longest entry.
  int max_length() const { return max_length_; }
  // How many times (type, text) was added (0 when absent). `text` is folded.
  uint32_t Count(std::string_view type, std::string_view text) const;
  bool Contains(std::string_view type, std::string_view text) const {
    return Count(type, text) > 0;
  }

  // Every (type, span) of `chars` (already folded) that is an entry, for spans
  // of at most `max_len` characters. Order: by begin, then by length, then type.
  // Cost: O(chars * max_len) hash lookups.
  std::vector<Match> FindAll(const std::u32string& chars, int max_len) const;
  // Greedy leftmost-longest segmentation into non-overlapping entries (spans of
  // at most `max_len` chars): at each position the longest entry starting there
  // is taken (its most frequent type; ties to the lower type index) and the scan
  // continues after it; positions with no entry are skipped one char at a time.
  std::vector<Match> LongestMatches(const std::u32string& chars, int max_len) const;

  // A self-contained byte encoding (for model files) and its inverse.
  // Deserialize errors: DataLoss naming what is truncated or malformed.
  std::string Serialize() const;
  static StatusOr<Gazetteer> Deserialize(std::string_view bytes);

 private:
  int InternType(std::string_view type);
  void AddFolded(int type, std::u32string key, uint32_t count);
  // The type with the highest count, or -1 when every count is 0.
  static int BestType(const std::vector<uint32_t>& counts);

  std::vector<std::string> types_;
  // folded text -> count per type index (sized to the highest type seen). Every
  // proper prefix of an entry is also a key, with no counts.
  std::unordered_map<std::u32string, std::vector<uint32_t>> entries_;
  size_t num_entries_ = 0;
  int max_length_ = 0;
};

namespace internal {

// Little-endian length-prefixed encoding shared by the gazetteer and tagger
// model files (not a public format).
class ByteWriter {
 public:
  void U32(uint32_t v);
  void U64(uint64_t v);
  void F32(float v);
  void Str(std::string_view s);  // u32 length + bytes
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// Reads what ByteWriter wrote; every read fails (returns false) once the input
// is exhausted, so a caller checks ok() or the return value.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool U32(uint32_t* v);
  bool U64(uint64_t* v);
  bool F32(float* v);
  bool Str(std::string* s);
  size_t remaining() const { return in_.size() - pos_; }

 private:
  bool Take(size_t n, const char** p);
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace internal
}  // namespace souk::search
