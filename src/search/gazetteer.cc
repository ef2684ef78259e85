#include "search/gazetteer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "common/utf8.h"
#include "text/utf8.h"

namespace souk::search {

char32_t FoldChar(char32_t cp) {
  if (cp >= 0xFF01 && cp <= 0xFF5E) cp = cp - 0xFF01 + 0x21;
  if (cp == 0x3000) cp = U' ';
  if (cp >= U'A' && cp <= U'Z') cp = cp - U'A' + U'a';
  return cp;
}

std::u32string FoldText(std::string_view utf8) {
  std::u32string out;
  for (const text::CodePoint& c : text::DecodeUtf8(utf8)) out.push_back(FoldChar(c.cp));
  return out;
}

int Gazetteer::TypeIndex(std::string_view type) const {
  for (size_t i = 0; i < types_.size(); ++i) {
    if (types_[i] == type) return static_cast<int>(i);
  }
  return -1;
}

int Gazetteer::InternType(std::string_view type) {
  int t = TypeIndex(type);
  if (t >= 0) return t;
  types_.emplace_back(type);
  return static_cast<int>(types_.size()) - 1;
}

void Gazetteer::AddFolded(int type, std::u32string key, uint32_t count) {
  while (!key.empty() && key.back() == U' ') key.pop_back();
  size_t lead = 0;
  while (lead < key.size() && key[lead] == U' ') ++lead;
  key.erase(0, lead);
  if (key.empty() || count == 0) return;
  const int len = static_cast<int>(key.size());
  // Proper prefixes are stored with no counts so that scans can stop early.
  for (int p = 1; p < len; ++p) entries_.try_emplace(key.substr(0, p));
  std::vector<uint32_t>& counts = entries_[std::move(key)];
  if (counts.size() <= static_cast<size_t>(type)) counts.resize(type + 1, 0);
  if (counts[type] == 0) ++num_entries_;
  counts[type] += count;
  max_length_ = std::max(max_length_, len);
}

void Gazetteer::Add(std::string_view type, std::string_view text) {
  if (type.empty()) return;
  std::u32string key = FoldText(text);
  if (key.empty()) return;
  AddFolded(InternType(type), std::move(key), 1);
}

Status Gazetteer::LoadFile(std::string_view type, const std::string& path) {
  if (type.empty()) return InvalidArgumentError("gazetteer type is empty for " + path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(fmt::format("gazetteer file not found or unreadable: {}", path));
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (!IsValidUtf8(line))
      return DataLossError(fmt::format("{}:{}: invalid UTF-8", path, line_no));
    Add(type, line);
  }
  if (in.bad()) return DataLossError(fmt::format("{}: read error", path));
  return OkStatus();
}

void Gazetteer::Merge(const Gazetteer& other) {
  for (const auto& [key, counts] : other.entries_) {
    for (size_t t = 0; t < counts.size(); ++t) {
      if (counts[t] == 0) continue;
      AddFolded(InternType(other.types_[t]), key, counts[t]);
    }
  }
}

uint32_t Gazetteer::Count(std::string_view type, std::string_view text) const {
  const int t = TypeIndex(type);
  if (t < 0) return 0;
  std::u32string key = FoldText(text);
  while (!key.empty() && key.back() == U' ') key.pop_back();
  size_t lead = 0;
  while (lead < key.size() && key[lead] == U' ') ++lead;
  key.erase(0, lead);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.size() <= static_cast<size_t>(t)) return 0;
  return it->second[t];
}

int Gazetteer::BestType(const std::vector<uint32_t>& counts) {
  int best = -1;
  uint32_t best_count = 0;
  for (size_t t = 0; t < counts.size(); ++t) {
    if (counts[t] > best_count) {
      best_count = counts[t];
      best = static_cast<int>(t);
    }
  }
  return best;
}

std::vector<Gazetteer::Match> Gazetteer::FindAll(const std::u32string& chars, int max_len) const {
  std::vector<Match> out;
  if (entries_.empty()) return out;
  const size_t n = chars.size();
  const size_t cap = static_cast<size_t>(std::max(0, std::min(max_len, max_length_)));
  std::u32string key;
  for (size_t b = 0; b < n; ++b) {
    key.clear();
    for (size_t len = 1; len <= cap && b + len <= n; ++len) {
      key.push_back(chars[b + len - 1]);
      auto it = entries_.find(key);
      if (it == entries_.end()) break;  // no entry starts with `key`
      for (size_t t = 0; t < it->second.size(); ++t) {
        if (it->second[t] == 0) continue;
        out.push_back(
            Match{static_cast<int>(t), static_cast<uint32_t>(b), static_cast<uint32_t>(b + len)});
      }
    }
  }
  return out;
}

std::vector<Gazetteer::Match> Gazetteer::LongestMatches(const std::u32string& chars,
                                                        int max_len) const {
  std::vector<Match> out;
  if (entries_.empty()) return out;
  const size_t n = chars.size();
  const size_t cap = static_cast<size_t>(std::max(0, std::min(max_len, max_length_)));
  size_t b = 0;
  std::u32string key;
  while (b < n) {
    size_t best_len = 0;
    int best_type = -1;
    key.clear();
    for (size_t len = 1; len <= cap && b + len <= n; ++len) {
      key.push_back(chars[b + len - 1]);
      auto it = entries_.find(key);
      if (it == entries_.end()) break;  // no entry starts with `key`
      const int t = BestType(it->second);
      if (t >= 0) {
        best_len = len;
        best_type = t;
      }
    }
    if (best_len == 0) {
      ++b;
      continue;
    }
    out.push_back(Match{best_type, static_cast<uint32_t>(b), static_cast<uint32_t>(b + best_len)});
    b += best_len;
  }
  return out;
}

namespace {
constexpr std::string_view kGazetteerMagic = "souk-gazetteer-1";
}  // namespace

std::string Gazetteer::Serialize() const {
  internal::ByteWriter w;
  w.Str(kGazetteerMagic);
  w.U32(static_cast<uint32_t>(types_.size()));
  for (const std::string& t : types_) w.Str(t);
  // Sorted for a deterministic file.
  std::vector<const std::pair<const std::u32string, std::vector<uint32_t>>*> sorted;
  sorted.reserve(entries_.size());
  for (const auto& e : entries_) {
    if (BestType(e.second) >= 0) sorted.push_back(&e);  // prefixes are rebuilt on load
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  w.U64(sorted.size());
  for (const auto* e : sorted) {
    std::string utf8;
    for (char32_t c : e->first) text::AppendUtf8(c, utf8);
    w.Str(utf8);
    w.U32(static_cast<uint32_t>(e->second.size()));
    for (uint32_t c : e->second) w.U32(c);
  }
  return std::move(w.bytes());
}

StatusOr<Gazetteer> Gazetteer::Deserialize(std::string_view bytes) {
  internal::ByteReader r(bytes);
  std::string magic;
  if (!r.Str(&magic) || magic != kGazetteerMagic) {
    return DataLossError("gazetteer: bad header (not a souk gazetteer block)");
  }
  Gazetteer g;
  uint32_t num_types = 0;
  if (!r.U32(&num_types) || num_types > 1024) return DataLossError("gazetteer: bad type count");
  for (uint32_t i = 0; i < num_types; ++i) {
    std::string t;
    if (!r.Str(&t) || t.empty()) return DataLossError("gazetteer: truncated type list");
    g.InternType(t);
  }
  if (g.types_.size() != num_types) return DataLossError("gazetteer: duplicate type names");
  uint64_t num_keys = 0;
  if (!r.U64(&num_keys)) return DataLossError("gazetteer: truncated entry count");
  for (uint64_t i = 0; i < num_keys; ++i) {
    std::string utf8;
    uint32_t n = 0;
    if (!r.Str(&utf8) || !r.U32(&n) || n > num_types) {
      return DataLossError(fmt::format("gazetteer: truncated or malformed entry {}", i));
    }
    std::u32string key;
    for (const text::CodePoint& c : text::DecodeUtf8(utf8)) key.push_back(c.cp);
    for (uint32_t t = 0; t < n; ++t) {
      uint32_t count = 0;
      if (!r.U32(&count)) return DataLossError(fmt::format("gazetteer: truncated entry {}", i));
      g.AddFolded(static_cast<int>(t), key, count);
    }
  }
  if (r.remaining() != 0) return DataLossError("gazetteer: trailing bytes");
  return g;
}

namespace internal {

void ByteWriter::U32(uint32_t v) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void ByteWriter::U64(uint64_t v) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void ByteWriter::F32(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  U32(bits);
}
void ByteWriter::Str(std::string_view s) {
  U32(static_cast<uint32_t>(s.size()));
  out_.append(s);
}

bool ByteReader::Take(size_t n, const char** p) {
  if (in_.size() - pos_ < n) {
    pos_ = in_.size();
    return false;
  }
  *p = in_.data() + pos_;
  pos_ += n;
  return true;
}
bool ByteReader::U32(uint32_t* v) {
  const char* p;
  if (!Take(4, &p)) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return true;
}
bool ByteReader::U64(uint64_t* v) {
  const char* p;
  if (!Take(8, &p)) return false;
  *v = 0;
  for (int i = 0; i < 8; ++i) *v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return true;
}
bool ByteReader::F32(float* v) {
  uint32_t bits;
  if (!U32(&bits)) return false;
  std::memcpy(v, &bits, 4);
  return true;
}
bool ByteReader::Str(std::string* s) {
  uint32_t n;
  if (!U32(&n)) return false;
  const char* p;
  if (!Take(n, &p)) return false;
  s->assign(p, n);
  return true;
}

}  // namespace internal
}  // namespace souk::search
