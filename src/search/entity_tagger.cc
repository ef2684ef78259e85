#include "search/entity_tagger.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

#include "common/utf8.h"
#include "text/segmenter.h"
#include "text/utf8.h"

namespace souk::search {
namespace {

// ---------------------------------------------------------------------------
// Tags.

struct ParsedTag {
  char prefix = 'O';  // 'O', 'B', 'I', 'E', 'S'; '?' when malformed
  std::string_view type;
};

ParsedTag ParseTag(std::string_view tag) {
  if (tag == "O") return {'O', {}};
  if (tag.size() >= 3 && tag[1] == '-' &&
      (tag[0] == 'B' || tag[0] == 'I' || tag[0] == 'E' || tag[0] == 'S')) {
    return {tag[0], tag.substr(2)};
  }
  return {'?', {}};
}

// ---------------------------------------------------------------------------
// Characters and features.

constexpr char32_t kBos = 0x110001;  // padding before the first character
constexpr char32_t kEos = 0x110002;  // padding after the last character

enum class CharClass : uint8_t { kPad = 0, kCjk, kLatin, kDigit, kPunct, kSpace, kOther };

CharClass ClassOf(char32_t c) {
  if (c == kBos || c == kEos) return CharClass::kPad;
  if (c >= U'0' && c <= U'9') return CharClass::kDigit;
  if ((c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') ||
      (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7)) {
    return CharClass::kLatin;
  }
  if (c == U' ' || c == U'\t' || c == 0xA0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200B)) {
    return CharClass::kSpace;
  }
  if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
      (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x3134F)) {
    return CharClass::kCjk;
  }
  if ((c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
      (c >= 0x7B && c <= 0x7E) || (c >= 0x2010 && c <= 0x206F) || (c >= 0x3001 && c <= 0x303F) ||
      (c >= 0xFF00 && c <= 0xFFEF) || (c >= 0xA1 && c <= 0xBF)) {
    return CharClass::kPunct;
  }
  return CharClass::kOther;
}

uint64_t Mix(uint64_t h, uint64_t v) {
  uint64_t z = h ^ (v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t HashName(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return h;
}

// Feature template ids (part of the model format: changing them changes the
// meaning of saved weights).
enum Template : uint64_t {
  kBias = 1,
  kUnigram = 2,  // + offset
  kBigram = 10,  // + offset of the left char
  kTrigram = 20,
  kClass = 30,  // + offset
  kClassTri = 40,
  kGazPos = 50,
  kGazPosLen = 51,
  kGazStart = 52,
  kGazEnd = 53,
  kPosition = 60,     // characters from the start (capped)
  kChunk = 61,        // index of the space-delimited chunk and offset inside it (capped)
  kChunkLen = 62,     // chunk length and offset inside it (capped)
  kToEnd = 63,        // characters to the end (capped)
  kWordPos = 70,      // position of the char in its word (B/M/E/S) and the word length
  kWord = 71,         // the word covering the char
  kWordPosChar = 72,  // word position and the char
  kSkip = 80,         // chars at -1 and +1
};

// Longest gazetteer entry covering each position, per gazetteer type.
struct Cover {
  uint16_t len = 0;
  uint16_t offset = 0;  // position of the char inside the entry
};

}  // namespace

// ---------------------------------------------------------------------------
// Sentences and BIEOS files.

std::string TaggedSentence::Text() const {
  std::string out;
  for (const std::string& c : chars) out += c;
  return out;
}

int FirstInvalidTag(const std::vector<std::string>& tags) {
  bool open = false;
  std::string_view open_type;
  for (size_t i = 0; i < tags.size(); ++i) {
    const ParsedTag t = ParseTag(tags[i]);
    if (t.prefix == '?') return static_cast<int>(i);
    if (open) {
      if ((t.prefix != 'I' && t.prefix != 'E') || t.type != open_type) return static_cast<int>(i);
      open = t.prefix == 'I';
    } else {
      if (t.prefix == 'I' || t.prefix == 'E') return static_cast<int>(i);
      if (t.prefix == 'B') {
        open = true;
        open_type = t.type;
      }
    }
  }
  return open ? static_cast<int>(tags.size()) : -1;
}

std::vector<std::string> RepairTags(const std::vector<std::string>& tags) {
  std::vector<std::string> out(tags);
  bool open = false;
  std::string open_type;
  // Closes the entity that ends at out[i-1] (B -> S, I -> E).
  auto close_previous = [&](size_t i) {
    if (!open || i == 0) return;
    std::string& prev = out[i - 1];
    if (prev[0] == 'B') prev[0] = 'S';
    if (prev[0] == 'I') prev[0] = 'E';
    open = false;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    ParsedTag t = ParseTag(out[i]);
    if (t.prefix == '?') {
      close_previous(i);
      out[i] = "O";
      continue;
    }
    const std::string type(t.type);
    if (open && (t.prefix == 'I' || t.prefix == 'E') && type == open_type) {
      open = t.prefix == 'I';
      continue;
    }
    close_previous(i);
    switch (t.prefix) {
      case 'B':
        open = true;
        open_type = type;
        break;
      case 'I':
        out[i] = "B-" + type;
        open = true;
        open_type = type;
        break;
      case 'E':
        out[i] = "S-" + type;
        break;
      default:
        break;
    }
  }
  close_previous(out.size());
  return out;
}

std::vector<TaggedEntity> EntitiesFromTags(const std::vector<std::string>& chars,
                                           const std::vector<std::string>& tags) {
  std::vector<TaggedEntity> out;
  const size_t n = std::min(chars.size(), tags.size());
  uint32_t offset = 0;
  bool open = false;
  TaggedEntity cur;
  for (size_t i = 0; i < n; ++i) {
    const ParsedTag t = ParseTag(tags[i]);
    const uint32_t next = offset + static_cast<uint32_t>(chars[i].size());
    if (t.prefix == 'B' || t.prefix == 'S') {
      open = t.prefix == 'B';
      cur = TaggedEntity{std::string(t.type), chars[i], offset, next};
      if (!open) out.push_back(cur);
    } else if ((t.prefix == 'I' || t.prefix == 'E') && open && t.type == cur.type) {
      cur.text += chars[i];
      cur.end = next;
      if (t.prefix == 'E') {
        out.push_back(cur);
        open = false;
      }
    } else {
      open = false;
    }
    offset = next;
  }
  return out;
}

StatusOr<std::vector<TaggedSentence>> ParseBieos(std::string_view text,
                                                 std::string_view source_name,
                                                 const BieosReadOptions& options,
                                                 BieosReadStats* stats) {
  BieosReadStats local;
  BieosReadStats& st = stats ? *stats : local;
  st = BieosReadStats{};
  std::vector<TaggedSentence> out;
  TaggedSentence cur;

  auto finish = [&](uint32_t line_no) -> Status {
    if (cur.chars.empty()) return OkStatus();
    const int bad = FirstInvalidTag(cur.tags);
    if (bad >= 0) {
      if (!options.repair_invalid) {
        const uint32_t at =
            cur.first_line + static_cast<uint32_t>(std::min<size_t>(bad, cur.tags.size() - 1));
        const std::string what =
            static_cast<size_t>(bad) == cur.tags.size()
                ? fmt::format("entity {} is not closed at the end of the sentence", cur.tags.back())
                : fmt::format("tag {} cannot follow {}", cur.tags[bad],
                              bad == 0 ? std::string("the sentence start") : cur.tags[bad - 1]);
        return DataLossError(
            fmt::format("{}:{}: invalid BIEOS tag sequence: {}", source_name, at, what));
      }
      cur.tags = RepairTags(cur.tags);
      ++st.repaired_sentences;
      if (st.repaired_lines.size() < 20) st.repaired_lines.push_back(cur.first_line);
    }
    st.chars += cur.chars.size();
    ++st.sentences;
    out.push_back(std::move(cur));
    cur = TaggedSentence{};
    (void)line_no;
    return OkStatus();
  };

  uint32_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      RETURN_IF_ERROR(finish(line_no));
      continue;
    }
    if (!IsValidUtf8(line)) {
      return DataLossError(fmt::format("{}:{}: invalid UTF-8", source_name, line_no));
    }
    const size_t tab = line.rfind('\t');
    if (tab == std::string_view::npos) {
      return DataLossError(fmt::format("{}:{}: expected \"char<TAB>tag\", got \"{}\"", source_name,
                                       line_no, Utf8Prefix(line, 60)));
    }
    std::string_view ch = line.substr(0, tab);
    std::string_view tag = line.substr(tab + 1);
    if (ch.empty()) {
      return DataLossError(
          fmt::format("{}:{}: empty character before the tab", source_name, line_no));
    }
    if (ParseTag(tag).prefix == '?') {
      return DataLossError(fmt::format("{}:{}: invalid tag \"{}\" (want O or B-/I-/E-/S-TYPE)",
                                       source_name, line_no, Utf8Prefix(tag, 40)));
    }
    if (cur.chars.empty()) cur.first_line = line_no;
    cur.chars.emplace_back(ch);
    cur.tags.emplace_back(tag);
  }
  RETURN_IF_ERROR(finish(line_no));
  return out;
}

StatusOr<std::vector<TaggedSentence>> ReadBieos(const std::string& path,
                                                const BieosReadOptions& options,
                                                BieosReadStats* stats) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(fmt::format("BIEOS file not found or unreadable: {}", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return DataLossError(fmt::format("{}: read error", path));
  return ParseBieos(buf.str(), path, options, stats);
}

// ---------------------------------------------------------------------------
// Scores.

double EntityCounts::precision() const {
  return predicted == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(predicted);
}
double EntityCounts::recall() const {
  return gold == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(gold);
}
double EntityCounts::f1() const {
  const double p = precision();
  const double r = recall();
  return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
}

void EntityMatchStats::Add(const std::vector<TaggedEntity>& gold,
                           const std::vector<TaggedEntity>& predicted) {
  for (const TaggedEntity& g : gold) {
    ++by_type_[g.type].gold;
    ++micro_.gold;
  }
  for (const TaggedEntity& p : predicted) {
    ++by_type_[p.type].predicted;
    ++micro_.predicted;
    for (const TaggedEntity& g : gold) {
      if (g.type == p.type && g.begin == p.begin && g.end == p.end) {
        ++by_type_[p.type].correct;
        ++micro_.correct;
        break;
      }
    }
  }
}

EntityCounts EntityMatchStats::ForType(const std::string& type) const {
  auto it = by_type_.find(type);
  return it == by_type_.end() ? EntityCounts{} : it->second;
}

// ---------------------------------------------------------------------------
// Features and decoding.

namespace {

void ExtractFeatures(const std::u32string& chars, const Gazetteer* gaz, int max_match_length,
                     const text::Segmenter* segmenter, std::vector<uint64_t>* feats,
                     std::vector<uint32_t>* offsets) {
  feats->clear();
  offsets->clear();
  const int n = static_cast<int>(chars.size());
  // Words: per char, the word hash, the char's offset in it and its length.
  std::vector<uint64_t> word_hash(n, 0);
  std::vector<uint16_t> word_off(n, 0), word_len(n, 0);
  if (segmenter != nullptr && n > 0) {
    std::string utf8;
    std::vector<uint32_t> byte_to_char;
    for (int i = 0; i < n; ++i) {
      text::AppendUtf8(chars[i], utf8);
      byte_to_char.resize(utf8.size(), static_cast<uint32_t>(i));
    }
    byte_to_char.push_back(static_cast<uint32_t>(n));
    for (const text::Token& tok : segmenter->Segment(utf8)) {
      const uint32_t b = byte_to_char[tok.begin];
      const uint32_t e = tok.end >= utf8.size() ? n : byte_to_char[tok.end];
      if (e <= b) continue;
      const uint64_t h = HashName(tok.text);
      for (uint32_t j = b; j < e; ++j) {
        word_hash[j] = h;
        word_off[j] = static_cast<uint16_t>(std::min<uint32_t>(j - b, 60000));
        word_len[j] = static_cast<uint16_t>(std::min<uint32_t>(e - b, 60000));
      }
    }
  }
  auto at = [&](int i) -> uint64_t {
    if (i < 0) return kBos;
    if (i >= n) return kEos;
    return chars[i];
  };
  auto cls = [&](int i) -> uint64_t { return static_cast<uint64_t>(ClassOf(at(i))); };

  // Gazetteer covers: per type, per position.
  std::vector<std::vector<Cover>> covers;
  std::vector<std::vector<uint16_t>> starts, ends;  // longest entry starting / ending here
  std::vector<uint64_t> type_hash;
  if (gaz != nullptr && !gaz->empty()) {
    const size_t num_types = gaz->types().size();
    covers.assign(num_types, std::vector<Cover>(n));
    starts.assign(num_types, std::vector<uint16_t>(n, 0));
    ends.assign(num_types, std::vector<uint16_t>(n, 0));
    for (const std::string& t : gaz->types()) type_hash.push_back(HashName(t));
    for (const Gazetteer::Match& m : gaz->FindAll(chars, max_match_length)) {
      const uint16_t len = static_cast<uint16_t>(m.end - m.begin);
      for (uint32_t j = m.begin; j < m.end; ++j) {
        Cover& c = covers[m.type][j];
        if (len > c.len) c = Cover{len, static_cast<uint16_t>(j - m.begin)};
      }
      starts[m.type][m.begin] = std::max(starts[m.type][m.begin], len);
      ends[m.type][m.end - 1] = std::max(ends[m.type][m.end - 1], len);
    }
  }

  // Space-delimited chunks: index, offset and length per position.
  std::vector<uint16_t> chunk_index(n), chunk_offset(n), chunk_len(n);
  {
    int chunk = 0, start = -1;
    for (int i = 0; i <= n; ++i) {
      const bool space = i == n || ClassOf(chars[i]) == CharClass::kSpace;
      if (!space && start < 0) start = i;
      if (space && start >= 0) {
        for (int j = start; j < i; ++j) {
          chunk_index[j] = static_cast<uint16_t>(std::min(chunk, 3));
          chunk_offset[j] = static_cast<uint16_t>(std::min(j - start, 4));
          chunk_len[j] = static_cast<uint16_t>(std::min(i - start, 9));
        }
        ++chunk;
        start = -1;
      }
    }
  }

  const uint64_t cap = static_cast<uint64_t>(std::max(1, max_match_length));
  for (int i = 0; i < n; ++i) {
    offsets->push_back(static_cast<uint32_t>(feats->size()));
    feats->push_back(Mix(kBias, 0));
    for (int d = -2; d <= 2; ++d) feats->push_back(Mix(Mix(kUnigram + (d + 2), 0), at(i + d)));
    for (int d = -2; d <= 1; ++d) {
      feats->push_back(Mix(Mix(Mix(kBigram + (d + 2), 0), at(i + d)), at(i + d + 1)));
    }
    feats->push_back(Mix(Mix(Mix(Mix(kTrigram, 0), at(i - 1)), at(i)), at(i + 1)));
    feats->push_back(Mix(Mix(Mix(kSkip, 0), at(i - 1)), at(i + 1)));
    for (int d = -1; d <= 1; ++d) feats->push_back(Mix(Mix(kClass + (d + 1), 0), cls(i + d)));
    feats->push_back(Mix(Mix(Mix(Mix(kClassTri, 0), cls(i - 1)), cls(i)), cls(i + 1)));
    feats->push_back(Mix(Mix(kPosition, 0), std::min(i, 6)));
    feats->push_back(Mix(Mix(kToEnd, 0), std::min(n - 1 - i, 4)));
    feats->push_back(Mix(Mix(Mix(kChunk, 0), chunk_index[i]), chunk_offset[i]));
    feats->push_back(Mix(Mix(Mix(kChunkLen, 0), chunk_len[i]), chunk_offset[i]));
    if (word_len[i] > 0) {
      const uint64_t wp = word_len[i] == 1                 ? 3
                          : word_off[i] == 0               ? 0
                          : word_off[i] + 1 == word_len[i] ? 2
                                                           : 1;
      feats->push_back(Mix(Mix(Mix(kWordPos, 0), wp), std::min<uint16_t>(word_len[i], 6)));
      feats->push_back(Mix(Mix(Mix(kWord, 0), word_hash[i]), wp));
      feats->push_back(Mix(Mix(Mix(kWordPosChar, 0), wp), at(i)));
    }
    for (size_t t = 0; t < covers.size(); ++t) {
      const Cover& c = covers[t][i];
      if (c.len > 0) {
        // Position of the char inside the longest covering entry: B/I/E/S.
        const uint64_t p = c.len == 1 ? 3 : c.offset == 0 ? 0 : c.offset + 1 == c.len ? 2 : 1;
        const uint64_t len = std::min<uint64_t>(c.len, cap);
        feats->push_back(Mix(Mix(Mix(kGazPos, 0), type_hash[t]), p));
        feats->push_back(Mix(Mix(Mix(Mix(kGazPosLen, 0), type_hash[t]), p), len));
      }
      if (starts[t][i] > 0) {
        feats->push_back(
            Mix(Mix(Mix(kGazStart, 0), type_hash[t]), std::min<uint64_t>(starts[t][i], cap)));
      }
      if (ends[t][i] > 0) {
        feats->push_back(
            Mix(Mix(Mix(kGazEnd, 0), type_hash[t]), std::min<uint64_t>(ends[t][i], cap)));
      }
    }
  }
  offsets->push_back(static_cast<uint32_t>(feats->size()));
}

// allowed[p * (L+1) + c]: label c may follow label p (index L = sentence boundary).
std::vector<uint8_t> AllowedTransitions(int num_types) {
  const int L = 1 + 4 * num_types;
  std::vector<uint8_t> allowed((L + 1) * (L + 1), 0);
  auto open_type = [&](int y) -> int {  // type index when y is B or I, else -1
    if (y == 0 || y == L) return -1;
    const int k = (y - 1) % 4;
    return (k == 0 || k == 1) ? (y - 1) / 4 : -1;
  };
  for (int p = 0; p <= L; ++p) {
    for (int c = 0; c <= L; ++c) {
      const int ot = open_type(p);
      bool ok;
      if (ot >= 0) {
        ok = c != L && c != 0 && (c - 1) / 4 == ot && ((c - 1) % 4 == 1 || (c - 1) % 4 == 2);
      } else {
        ok = c == L || c == 0 || (c - 1) % 4 == 0 || (c - 1) % 4 == 3;
      }
      if (p == L && c == L) ok = false;
      allowed[p * (L + 1) + c] = ok ? 1 : 0;
    }
  }
  return allowed;
}

constexpr uint32_t kNoRow = std::numeric_limits<uint32_t>::max();

// Viterbi over rows (kNoRow entries skipped) with transition weights `trans`.
std::vector<int> Viterbi(const float* w, const float* trans, const std::vector<uint8_t>& allowed,
                         int L, const std::vector<uint32_t>& rows,
                         const std::vector<uint32_t>& offsets) {
  const int n = static_cast<int>(offsets.size()) - 1;
  std::vector<int> out;
  if (n <= 0) return out;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  std::vector<float> emit(static_cast<size_t>(n) * L, 0.0f);
  for (int i = 0; i < n; ++i) {
    float* e = &emit[static_cast<size_t>(i) * L];
    for (uint32_t k = offsets[i]; k < offsets[i + 1]; ++k) {
      if (rows[k] == kNoRow) continue;
      const float* row = w + static_cast<size_t>(rows[k]) * L;
      for (int y = 0; y < L; ++y) e[y] += row[y];
    }
  }
  const int S = L + 1;
  std::vector<float> score(static_cast<size_t>(n) * L, kNegInf);
  std::vector<int> back(static_cast<size_t>(n) * L, -1);
  for (int y = 0; y < L; ++y) {
    if (allowed[L * S + y]) score[y] = trans[L * S + y] + emit[y];
  }
  for (int i = 1; i < n; ++i) {
    const float* prev = &score[static_cast<size_t>(i - 1) * L];
    float* cur = &score[static_cast<size_t>(i) * L];
    int* bp = &back[static_cast<size_t>(i) * L];
    for (int y = 0; y < L; ++y) {
      float best = kNegInf;
      int arg = -1;
      for (int p = 0; p < L; ++p) {
        if (!allowed[p * S + y] || prev[p] == kNegInf) continue;
        const float s = prev[p] + trans[p * S + y];
        if (s > best) {
          best = s;
          arg = p;
        }
      }
      if (arg >= 0) {
        cur[y] = best + emit[static_cast<size_t>(i) * L + y];
        bp[y] = arg;
      }
    }
  }
  float best = kNegInf;
  int arg = 0;  // "O" is always reachable and may end a sentence
  const float* last = &score[static_cast<size_t>(n - 1) * L];
  for (int y = 0; y < L; ++y) {
    if (!allowed[y * S + L] || last[y] == kNegInf) continue;
    const float s = last[y] + trans[y * S + L];
    if (s > best) {
      best = s;
      arg = y;
    }
  }
  out.assign(n, 0);
  out[n - 1] = arg;
  for (int i = n - 1; i > 0; --i) out[i - 1] = back[static_cast<size_t>(i) * L + out[i]];
  return out;
}

std::u32string FoldChars(const std::vector<std::string>& chars) {
  std::u32string out;
  out.reserve(chars.size());
  for (const std::string& c : chars) {
    const std::vector<text::CodePoint> cps = text::DecodeUtf8(c);
    out.push_back(cps.empty() ? char32_t{0xFFFD} : FoldChar(cps[0].cp));
  }
  return out;
}

// The segmenter behind word features (ICU dictionary + the built-in brand lexicon).
StatusOr<std::unique_ptr<text::Segmenter>> WordSegmenter() {
  text::Segmenter::Options options;
  options.keep_symbols = true;
  return text::Segmenter::Create(options);
}

std::string LabelName(const std::vector<std::string>& types, int y) {
  if (y == 0) return "O";
  static constexpr char kPrefix[] = {'B', 'I', 'E', 'S'};
  return std::string(1, kPrefix[(y - 1) % 4]) + "-" + types[(y - 1) / 4];
}

}  // namespace

EntityTagger::~EntityTagger() = default;

void EntityTagger::Features(const std::u32string& folded, const Gazetteer* gaz,
                            std::vector<uint64_t>* feats, std::vector<uint32_t>* offsets) const {
  ExtractFeatures(folded, options_.use_gazetteer ? gaz : nullptr, options_.max_match_length,
                  segmenter_.get(), feats, offsets);
}

std::vector<int> EntityTagger::Decode(const std::u32string& folded) const {
  std::vector<uint64_t> feats;
  std::vector<uint32_t> offsets;
  Features(folded, &gazetteer_, &feats, &offsets);
  std::vector<uint32_t> rows(feats.size());
  for (size_t k = 0; k < feats.size(); ++k) {
    auto it = feature_rows_.find(feats[k]);
    rows[k] = it == feature_rows_.end() ? kNoRow : it->second;
  }
  const std::vector<uint8_t> allowed = AllowedTransitions(static_cast<int>(types_.size()));
  return Viterbi(weights_.data(), transitions_.data(), allowed, num_labels(), rows, offsets);
}

std::vector<std::string> EntityTagger::PredictTags(const std::vector<std::string>& chars) const {
  std::vector<std::string> out;
  for (int y : Decode(FoldChars(chars))) out.push_back(LabelName(types_, y));
  return out;
}

std::vector<TaggedEntity> EntityTagger::Tag(std::string_view text) const {
  std::vector<TaggedEntity> out;
  if (text.empty()) return out;
  const std::vector<text::CodePoint> cps = text::DecodeUtf8(text);
  std::u32string folded;
  folded.reserve(cps.size());
  for (const text::CodePoint& c : cps) folded.push_back(FoldChar(c.cp));
  const std::vector<int> labels = Decode(folded);
  const int n = static_cast<int>(labels.size());
  int start = -1;
  for (int i = 0; i < n; ++i) {
    const int y = labels[i];
    if (y == 0) continue;
    const int k = (y - 1) % 4;  // B I E S
    if (k == 0 || k == 3) start = i;
    if ((k == 2 || k == 3) && start >= 0) {
      TaggedEntity e;
      e.type = types_[(y - 1) / 4];
      e.begin = cps[start].begin;
      e.end = cps[i].end;
      e.text = std::string(text.substr(e.begin, e.end - e.begin));
      out.push_back(std::move(e));
      start = -1;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Training: averaged structured perceptron.

StatusOr<std::unique_ptr<EntityTagger>> EntityTagger::Train(
    const std::vector<TaggedSentence>& train, const std::vector<TaggedSentence>* dev,
    const Gazetteer& gaz, TaggerOptions options, const ProgressOptions* progress) {
  const auto t0 = std::chrono::steady_clock::now();
  if (train.empty()) return InvalidArgumentError("entity tagger: the training set is empty");
  if (options.epochs < 1) {
    return InvalidArgumentError(
        fmt::format("entity tagger: epochs must be >= 1, got {}", options.epochs));
  }
  if (options.max_match_length < 1 || options.max_match_length > 64) {
    return InvalidArgumentError(fmt::format(
        "entity tagger: max_match_length must be in [1, 64], got {}", options.max_match_length));
  }
  // Validate and collect the entity types.
  std::vector<std::string> types;
  for (size_t s = 0; s < train.size(); ++s) {
    const TaggedSentence& sent = train[s];
    if (sent.chars.size() != sent.tags.size()) {
      return InvalidArgumentError(
          fmt::format("entity tagger: training sentence {} (line {}) has {} chars and {} tags", s,
                      sent.first_line, sent.chars.size(), sent.tags.size()));
    }
    const int bad = FirstInvalidTag(sent.tags);
    if (bad >= 0) {
      return InvalidArgumentError(fmt::format(
          "entity tagger: training sentence {} (line {}) has an invalid tag sequence at "
          "position {}",
          s, sent.first_line, bad));
    }
    for (const std::string& tag : sent.tags) {
      const ParsedTag t = ParseTag(tag);
      if (t.prefix != 'O' && std::find(types.begin(), types.end(), t.type) == types.end()) {
        types.emplace_back(t.type);
      }
    }
  }
  if (types.size() > 32) {
    return InvalidArgumentError(
        fmt::format("entity tagger: {} entity types (at most 32 supported)", types.size()));
  }
  std::sort(types.begin(), types.end());

  std::unique_ptr<EntityTagger> tagger(new EntityTagger());
  tagger->options_ = options;
  tagger->types_ = types;
  if (options.use_words) {
    ASSIGN_OR_RETURN(tagger->segmenter_, WordSegmenter());
  }
  const int L = tagger->num_labels();
  const int S = L + 1;

  // Gazetteers: the final one (dictionaries + every training entity) and, for
  // training features, per-fold ones that leave out the fold's own entities.
  const int folds = options.gazetteer_from_training ? std::max(1, options.gazetteer_folds) : 1;
  tagger->gazetteer_ = gaz;
  std::vector<Gazetteer> fold_gaz(folds > 1 ? folds : 0, gaz);
  std::vector<std::vector<TaggedEntity>> train_entities(train.size());
  for (size_t s = 0; s < train.size(); ++s) {
    train_entities[s] = EntitiesFromTags(train[s].chars, train[s].tags);
    if (!options.gazetteer_from_training) continue;
    for (const TaggedEntity& e : train_entities[s]) {
      tagger->gazetteer_.Add(e.type, e.text);
      for (int k = 0; k < static_cast<int>(fold_gaz.size()); ++k) {
        if (static_cast<int>(s % folds) != k) fold_gaz[k].Add(e.type, e.text);
      }
    }
  }

  // Encode the training set; the feature table is built from it.
  struct Encoded {
    std::vector<uint32_t> rows;
    std::vector<uint32_t> offsets;
    std::vector<int> gold;
  };
  std::vector<Encoded> enc(train.size());
  std::vector<uint64_t> feats;
  for (size_t s = 0; s < train.size(); ++s) {
    const Gazetteer* g = fold_gaz.empty() ? &tagger->gazetteer_ : &fold_gaz[s % folds];
    const std::u32string folded = FoldChars(train[s].chars);
    tagger->Features(folded, g, &feats, &enc[s].offsets);
    enc[s].rows.resize(feats.size());
    for (size_t k = 0; k < feats.size(); ++k) {
      auto [it, inserted] = tagger->feature_rows_.try_emplace(
          feats[k], static_cast<uint32_t>(tagger->feature_rows_.size()));
      enc[s].rows[k] = it->second;
    }
    enc[s].gold.resize(train[s].tags.size());
    for (size_t i = 0; i < train[s].tags.size(); ++i) {
      const ParsedTag t = ParseTag(train[s].tags[i]);
      if (t.prefix == 'O') {
        enc[s].gold[i] = 0;
        continue;
      }
      const int ti =
          static_cast<int>(std::lower_bound(types.begin(), types.end(), t.type) - types.begin());
      const int k = t.prefix == 'B' ? 0 : t.prefix == 'I' ? 1 : t.prefix == 'E' ? 2 : 3;
      enc[s].gold[i] = 1 + 4 * ti + k;
    }
  }
  fold_gaz.clear();
  const size_t num_rows = tagger->feature_rows_.size();

  // Dev set, encoded against the final gazetteer and the fixed feature table.
  std::vector<Encoded> dev_enc;
  std::vector<std::vector<TaggedEntity>> dev_gold;
  std::vector<const std::vector<std::string>*> dev_chars;
  if (dev != nullptr) {
    for (const TaggedSentence& sent : *dev) {
      if (sent.chars.empty()) continue;
      Encoded e;
      tagger->Features(FoldChars(sent.chars), &tagger->gazetteer_, &feats, &e.offsets);
      e.rows.resize(feats.size());
      for (size_t k = 0; k < feats.size(); ++k) {
        auto it = tagger->feature_rows_.find(feats[k]);
        e.rows[k] = it == tagger->feature_rows_.end() ? kNoRow : it->second;
      }
      dev_enc.push_back(std::move(e));
      dev_gold.push_back(EntitiesFromTags(sent.chars, sent.tags));
      dev_chars.push_back(&sent.chars);
    }
  }

  const std::vector<uint8_t> allowed = AllowedTransitions(static_cast<int>(types.size()));
  std::vector<float> w(num_rows * L, 0.0f), u(num_rows * L, 0.0f);
  std::vector<float> tw(S * S, 0.0f), tu(S * S, 0.0f);
  std::vector<float> avg_w, avg_t, best_w, best_t;
  double best_f1 = -1;
  float c = 1;  // instance counter for averaging

  std::vector<size_t> order(train.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(options.seed);
  std::unique_ptr<Progress> bar;
  if (progress != nullptr) {
    bar = std::make_unique<Progress>(
        "train entity tagger", static_cast<uint64_t>(options.epochs) * train.size(), *progress);
  }

  auto averaged = [&](std::vector<float>* aw, std::vector<float>* at) {
    aw->resize(w.size());
    at->resize(tw.size());
    for (size_t k = 0; k < w.size(); ++k) (*aw)[k] = w[k] - u[k] / c;
    for (size_t k = 0; k < tw.size(); ++k) (*at)[k] = tw[k] - tu[k] / c;
  };

  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t s : order) {
      const Encoded& e = enc[s];
      const std::vector<int> pred = Viterbi(w.data(), tw.data(), allowed, L, e.rows, e.offsets);
      const int n = static_cast<int>(pred.size());
      if (pred != e.gold) {
        for (int i = 0; i < n; ++i) {
          if (pred[i] == e.gold[i]) continue;
          for (uint32_t k = e.offsets[i]; k < e.offsets[i + 1]; ++k) {
            const size_t base = static_cast<size_t>(e.rows[k]) * L;
            w[base + e.gold[i]] += 1;
            u[base + e.gold[i]] += c;
            w[base + pred[i]] -= 1;
            u[base + pred[i]] -= c;
          }
        }
        for (int i = 0; i <= n; ++i) {
          const int gp = i == 0 ? L : e.gold[i - 1], gc = i == n ? L : e.gold[i];
          const int pp = i == 0 ? L : pred[i - 1], pc = i == n ? L : pred[i];
          if (gp == pp && gc == pc) continue;
          tw[gp * S + gc] += 1;
          tu[gp * S + gc] += c;
          tw[pp * S + pc] -= 1;
          tu[pp * S + pc] -= c;
        }
      }
      c += 1;
      if (bar) bar->Add(1);
    }
    tagger->summary_.epochs_run = epoch;
    if (!dev_enc.empty()) {
      averaged(&avg_w, &avg_t);
      EntityMatchStats stats;
      for (size_t d = 0; d < dev_enc.size(); ++d) {
        const std::vector<int> pred =
            Viterbi(avg_w.data(), avg_t.data(), allowed, L, dev_enc[d].rows, dev_enc[d].offsets);
        std::vector<std::string> tags;
        tags.reserve(pred.size());
        for (int y : pred) tags.push_back(LabelName(types, y));
        stats.Add(dev_gold[d], EntitiesFromTags(*dev_chars[d], tags));
      }
      const double f1 = stats.micro().f1();
      tagger->summary_.dev_f1.push_back(f1);
      if (f1 > best_f1) {
        best_f1 = f1;
        best_w.swap(avg_w);
        best_t.swap(avg_t);
        tagger->summary_.best_epoch = epoch;
      }
    }
  }
  if (best_f1 >= 0) {
    tagger->weights_ = std::move(best_w);
    tagger->transitions_ = std::move(best_t);
  } else {
    averaged(&tagger->weights_, &tagger->transitions_);
    tagger->summary_.best_epoch = tagger->summary_.epochs_run;
  }
  tagger->summary_.num_features = num_rows;
  tagger->summary_.train_sentences = train.size();
  tagger->summary_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (bar) bar->Finish();
  return tagger;
}

// ---------------------------------------------------------------------------
// Model files.

namespace {
constexpr std::string_view kModelMagic = "souk-entity-tagger";
constexpr uint32_t kModelVersion = 1;
}  // namespace

Status EntityTagger::Save(const std::string& path) const {
  internal::ByteWriter w;
  w.Str(kModelMagic);
  w.U32(kModelVersion);
  w.U32(static_cast<uint32_t>(options_.epochs));
  w.U64(options_.seed);
  w.U32(options_.use_gazetteer ? 1 : 0);
  w.U32(options_.gazetteer_from_training ? 1 : 0);
  w.U32(static_cast<uint32_t>(options_.gazetteer_folds));
  w.U32(static_cast<uint32_t>(options_.max_match_length));
  w.U32(options_.use_words ? 1 : 0);
  w.U32(static_cast<uint32_t>(types_.size()));
  for (const std::string& t : types_) w.Str(t);
  w.U32(static_cast<uint32_t>(summary_.epochs_run));
  w.U32(static_cast<uint32_t>(summary_.best_epoch));
  w.U32(static_cast<uint32_t>(summary_.dev_f1.size()));
  for (double f : summary_.dev_f1) w.F32(static_cast<float>(f));
  w.U64(summary_.num_features);
  w.U64(summary_.train_sentences);
  w.F32(static_cast<float>(summary_.seconds));
  w.U32(static_cast<uint32_t>(transitions_.size()));
  for (float f : transitions_) w.F32(f);
  // Feature rows with a non-zero weight, sorted by hash for a deterministic file.
  const int L = num_labels();
  std::vector<std::pair<uint64_t, uint32_t>> rows;
  for (const auto& [hash, row] : feature_rows_) {
    const float* r = &weights_[static_cast<size_t>(row) * L];
    if (std::any_of(r, r + L, [](float x) { return x != 0.0f; })) rows.emplace_back(hash, row);
  }
  std::sort(rows.begin(), rows.end());
  w.U64(rows.size());
  for (const auto& [hash, row] : rows) {
    w.U64(hash);
    for (int y = 0; y < L; ++y) w.F32(weights_[static_cast<size_t>(row) * L + y]);
  }
  w.Str(gazetteer_.Serialize());

  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return UnavailableError(fmt::format("cannot write entity tagger model: {}", path));
    out.write(w.bytes().data(), static_cast<std::streamsize>(w.bytes().size()));
    out.flush();
    if (!out) return UnavailableError(fmt::format("cannot write entity tagger model: {}", path));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return UnavailableError(fmt::format("cannot write entity tagger model: {}", path));
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<EntityTagger>> EntityTagger::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(fmt::format("entity tagger model not found: {}", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string bytes = buf.str();
  auto corrupt = [&](std::string_view what) {
    return DataLossError(fmt::format("{}: not a valid entity tagger model: {}", path, what));
  };
  internal::ByteReader r(bytes);
  std::string magic;
  if (!r.Str(&magic) || magic != kModelMagic) return corrupt("bad header");
  uint32_t version = 0;
  if (!r.U32(&version)) return corrupt("truncated header");
  if (version != kModelVersion) {
    return DataLossError(
        fmt::format("{}: entity tagger model format version {} (this build reads {})", path,
                    version, kModelVersion));
  }
  std::unique_ptr<EntityTagger> t(new EntityTagger());
  uint32_t epochs, use_gaz, from_training, folds, max_len, use_words, num_types;
  if (!r.U32(&epochs) || !r.U64(&t->options_.seed) || !r.U32(&use_gaz) || !r.U32(&from_training) ||
      !r.U32(&folds) || !r.U32(&max_len) || !r.U32(&use_words) || !r.U32(&num_types)) {
    return corrupt("truncated options");
  }
  if (num_types > 32 || max_len < 1 || max_len > 64) return corrupt("bad options");
  t->options_.epochs = static_cast<int>(epochs);
  t->options_.use_gazetteer = use_gaz != 0;
  t->options_.gazetteer_from_training = from_training != 0;
  t->options_.gazetteer_folds = static_cast<int>(folds);
  t->options_.max_match_length = static_cast<int>(max_len);
  t->options_.use_words = use_words != 0;
  for (uint32_t i = 0; i < num_types; ++i) {
    std::string type;
    if (!r.Str(&type) || type.empty()) return corrupt("truncated type list");
    t->types_.push_back(std::move(type));
  }
  uint32_t epochs_run, best_epoch, num_dev;
  if (!r.U32(&epochs_run) || !r.U32(&best_epoch) || !r.U32(&num_dev) || num_dev > 100000) {
    return corrupt("truncated training summary");
  }
  t->summary_.epochs_run = static_cast<int>(epochs_run);
  t->summary_.best_epoch = static_cast<int>(best_epoch);
  for (uint32_t i = 0; i < num_dev; ++i) {
    float f;
    if (!r.F32(&f)) return corrupt("truncated training summary");
    t->summary_.dev_f1.push_back(f);
  }
  float seconds;
  if (!r.U64(&t->summary_.num_features) || !r.U64(&t->summary_.train_sentences) ||
      !r.F32(&seconds)) {
    return corrupt("truncated training summary");
  }
  t->summary_.seconds = seconds;
  const int L = t->num_labels();
  uint32_t num_trans;
  if (!r.U32(&num_trans) || num_trans != static_cast<uint32_t>((L + 1) * (L + 1))) {
    return corrupt("bad transition table");
  }
  t->transitions_.resize(num_trans);
  for (float& f : t->transitions_) {
    if (!r.F32(&f)) return corrupt("truncated transition table");
  }
  uint64_t num_rows;
  if (!r.U64(&num_rows) || num_rows > r.remaining() / (8 + 4 * static_cast<uint64_t>(L))) {
    return corrupt("bad weight table size");
  }
  t->weights_.resize(num_rows * L);
  t->feature_rows_.reserve(num_rows);
  for (uint64_t i = 0; i < num_rows; ++i) {
    uint64_t hash;
    if (!r.U64(&hash)) return corrupt("truncated weight table");
    if (!t->feature_rows_.emplace(hash, static_cast<uint32_t>(i)).second) {
      return corrupt("duplicate feature in weight table");
    }
    for (int y = 0; y < L; ++y) {
      if (!r.F32(&t->weights_[i * L + y])) return corrupt("truncated weight table");
    }
  }
  std::string gaz_bytes;
  if (!r.Str(&gaz_bytes)) return corrupt("truncated gazetteer");
  StatusOr<Gazetteer> gaz = Gazetteer::Deserialize(gaz_bytes);
  if (!gaz.ok()) return corrupt(gaz.status().message());
  t->gazetteer_ = std::move(gaz).value();
  if (r.remaining() != 0) return corrupt("trailing bytes");
  if (t->options_.use_words) {
    auto seg = WordSegmenter();
    if (!seg.ok()) return seg.status().WithContext(path);
    t->segmenter_ = std::move(seg).value();
  }
  return t;
}

}  // namespace souk::search
