#include "text/normalizer.h"

#include <opencc/opencc.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>

#include <exception>
#include <filesystem>
#include <system_error>

namespace souk::text {
namespace {

// Rounds of t2s applied until the text stops changing (OpenCC phrase tables
// are not always closed under their own output).
constexpr int kMaxT2sRounds = 3;

bool IsStrippableMark(char32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
         (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
         (cp >= 0xFE20 && cp <= 0xFE2F);
}

bool IsWhitespace(char32_t cp) { return u_isUWhiteSpace(static_cast<UChar32>(cp)); }

// ASCII replacement for CJK and typographic punctuation, or 0 when none.
char32_t FoldPunctuation(char32_t cp) {
  switch (cp) {
    case 0x3000: return U' ';
    case 0x3001: return U',';
    case 0x3002: return U'.';
    case 0x300C: case 0x300D: case 0x300E: case 0x300F:
    case 0x201C: case 0x201D: case 0x201E: case 0x301D: case 0x301E:
      return U'"';
    case 0x2018: case 0x2019: case 0x201A:
      return U'\'';
    case 0x3010: case 0x3014: case 0x3016: case 0x3018: case 0x301A:
      return U'[';
    case 0x3011: case 0x3015: case 0x3017: case 0x3019: case 0x301B:
      return U']';
    case 0x3008: case 0x300A:
      return U'<';
    case 0x3009: case 0x300B:
      return U'>';
    case 0x2012: case 0x2013: case 0x2014: case 0x2015:
      return U'-';
    case 0x301C:
      return U'~';
    default:
      break;
  }
  // Full-width ASCII punctuation (letters and digits are left to NFKC).
  if (cp >= 0xFF01 && cp <= 0xFF5E) {
    const char32_t ascii = cp - 0xFEE0;
    const bool alnum = (ascii >= U'0' && ascii <= U'9') || (ascii >= U'A' && ascii <= U'Z') ||
                       (ascii >= U'a' && ascii <= U'z');
    if (!alnum) return ascii;
  }
  return 0;
}

void AppendPieces(const icu::UnicodeString& s, uint32_t begin, uint32_t end,
                  std::vector<CodePoint>& out) {
  for (int32_t i = 0; i < s.length();) {
    const UChar32 c = s.char32At(i);
    i += U16_LENGTH(c);
    out.push_back(CodePoint{static_cast<char32_t>(c), begin, end});
  }
}

icu::UnicodeString ToUnicode(const std::vector<CodePoint>& pieces, size_t from, size_t to) {
  icu::UnicodeString s;
  for (size_t k = from; k < to; ++k) s.append(static_cast<UChar32>(pieces[k].cp));
  return s;
}

bool IsHan(char32_t cp) {
  UErrorCode status = U_ZERO_ERROR;
  return uscript_getScript(static_cast<UChar32>(cp), &status) == USCRIPT_HAN &&
         U_SUCCESS(status);
}

}  // namespace

std::pair<uint32_t, uint32_t> NormalizedText::SourceSpan(uint32_t begin, uint32_t end) const {
  if (text.empty() || begin >= end || end > text.size()) return {0, 0};
  return {source_begin[begin], source_end[end - 1]};
}

StatusOr<std::unique_ptr<Normalizer>> Normalizer::Create(Options options) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* compose = nullptr;
  if (options.nfkc) {
    compose = options.case_fold ? icu::Normalizer2::getNFKCCasefoldInstance(status)
                                : icu::Normalizer2::getNFKCInstance(status);
  }
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) {
    return InternalError(std::string("ICU normalization data unavailable: ") +
                         u_errorName(status));
  }
  std::unique_ptr<opencc::SimpleConverter> t2s;
  if (options.traditional_to_simplified) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(options.opencc_config, ec)) {
      return NotFoundError("OpenCC config not found: " + options.opencc_config +
                           " (install the opencc data package or set opencc_config)");
    }
    try {
      t2s = std::make_unique<opencc::SimpleConverter>(options.opencc_config);
    } catch (const std::exception& e) {
      return InvalidArgumentError("OpenCC cannot load " + options.opencc_config + ": " + e.what());
    }
  }
  return std::unique_ptr<Normalizer>(
      new Normalizer(std::move(options), compose, nfd, nfc, std::move(t2s)));
}

Normalizer::Normalizer(Options options, const icu::Normalizer2* compose,
                       const icu::Normalizer2* nfd, const icu::Normalizer2* nfc,
                       std::unique_ptr<opencc::SimpleConverter> t2s)
    : options_(std::move(options)), compose_(compose), nfd_(nfd), nfc_(nfc), t2s_(std::move(t2s)) {}

Normalizer::~Normalizer() = default;

void Normalizer::ApplyCompose(std::vector<CodePoint>& pieces) const {
  std::vector<CodePoint> out;
  out.reserve(pieces.size() + 8);
  if (compose_ == nullptr) {
    // Case folding alone (no NFKC): full folding code point by code point.
    for (const CodePoint& p : pieces) {
      if (p.cp < 0x80) {
        out.push_back(p);
        if (p.cp >= U'A' && p.cp <= U'Z') out.back().cp = p.cp + 32;
        continue;
      }
      icu::UnicodeString s(static_cast<UChar32>(p.cp));
      s.foldCase();
      AppendPieces(s, p.begin, p.end, out);
    }
    pieces.swap(out);
    return;
  }
  UErrorCode status = U_ZERO_ERROR;
  size_t i = 0;
  while (i < pieces.size()) {
    size_t j = i + 1;
    while (j < pieces.size() && !compose_->hasBoundaryBefore(static_cast<UChar32>(pieces[j].cp))) {
      ++j;
    }
    if (j == i + 1 && compose_->isInert(static_cast<UChar32>(pieces[i].cp))) {
      out.push_back(pieces[i]);
    } else {
      status = U_ZERO_ERROR;
      const icu::UnicodeString normalized = compose_->normalize(ToUnicode(pieces, i, j), status);
      if (U_SUCCESS(status)) {
        AppendPieces(normalized, pieces[i].begin, pieces[j - 1].end, out);
      } else {
        out.insert(out.end(), pieces.begin() + i, pieces.begin() + j);
      }
    }
    i = j;
  }
  pieces.swap(out);
}

void Normalizer::ApplyStripAccents(std::vector<CodePoint>& pieces) const {
  std::vector<CodePoint> out;
  out.reserve(pieces.size());
  size_t i = 0;
  while (i < pieces.size()) {
    size_t j = i + 1;
    while (j < pieces.size() && !nfc_->hasBoundaryBefore(static_cast<UChar32>(pieces[j].cp))) ++j;
    if (j == i + 1 && nfd_->isInert(static_cast<UChar32>(pieces[i].cp)) &&
        !IsStrippableMark(pieces[i].cp)) {
      out.push_back(pieces[i]);
      i = j;
      continue;
    }
    UErrorCode status = U_ZERO_ERROR;
    const icu::UnicodeString decomposed = nfd_->normalize(ToUnicode(pieces, i, j), status);
    icu::UnicodeString kept;
    for (int32_t k = 0; k < decomposed.length();) {
      const UChar32 c = decomposed.char32At(k);
      k += U16_LENGTH(c);
      if (!IsStrippableMark(static_cast<char32_t>(c))) kept.append(c);
    }
    const icu::UnicodeString composed = nfc_->normalize(kept, status);
    if (U_SUCCESS(status)) {
      AppendPieces(composed, pieces[i].begin, pieces[j - 1].end, out);
    } else {
      out.insert(out.end(), pieces.begin() + i, pieces.begin() + j);
    }
    i = j;
  }
  pieces.swap(out);
}

std::string Normalizer::ConvertT2s(const std::string& utf8) const {
  std::string current = utf8;
  for (int round = 0; round < kMaxT2sRounds; ++round) {
    std::string next;
    try {
      next = t2s_->Convert(current.data(), current.size());
    } catch (const std::exception&) {
      return current;  // OpenCC failed on this run: keep it unconverted
    }
    if (next == current) break;
    current = std::move(next);
  }
  return current;
}

void Normalizer::ApplyTraditionalToSimplified(std::vector<CodePoint>& pieces) const {
  std::vector<CodePoint> out;
  out.reserve(pieces.size());
  size_t i = 0;
  while (i < pieces.size()) {
    if (!IsHan(pieces[i].cp)) {
      out.push_back(pieces[i]);
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < pieces.size() && IsHan(pieces[j].cp)) ++j;
    std::string run;
    for (size_t k = i; k < j; ++k) AppendUtf8(pieces[k].cp, run);
    const std::string converted = ConvertT2s(run);
    if (converted == run) {
      out.insert(out.end(), pieces.begin() + i, pieces.begin() + j);
    } else {
      std::vector<CodePoint> decoded = DecodeUtf8(converted);
      const bool one_to_one = decoded.size() == j - i;
      for (size_t k = 0; k < decoded.size(); ++k) {
        CodePoint p = decoded[k];
        p.begin = one_to_one ? pieces[i + k].begin : pieces[i].begin;
        p.end = one_to_one ? pieces[i + k].end : pieces[j - 1].end;
        out.push_back(p);
      }
    }
    i = j;
  }
  pieces.swap(out);
}

NormalizedText Normalizer::NormalizeWithOffsets(std::string_view text) const {
  std::vector<CodePoint> pieces = DecodeUtf8(text);

  if (options_.remove_control) {
    std::vector<CodePoint> kept;
    kept.reserve(pieces.size());
    for (CodePoint p : pieces) {
      if (IsWhitespace(p.cp)) {
        p.cp = U' ';
        kept.push_back(p);
        continue;
      }
      const int8_t category = u_charType(static_cast<UChar32>(p.cp));
      if (category == U_CONTROL_CHAR || category == U_FORMAT_CHAR) continue;
      kept.push_back(p);
    }
    pieces.swap(kept);
  }
  if (options_.nfkc || options_.case_fold) ApplyCompose(pieces);
  if (options_.strip_accents) ApplyStripAccents(pieces);
  if (options_.fold_cjk_punctuation) {
    for (CodePoint& p : pieces) {
      if (const char32_t ascii = FoldPunctuation(p.cp); ascii != 0) p.cp = ascii;
    }
  }
  if (t2s_ != nullptr) ApplyTraditionalToSimplified(pieces);

  NormalizedText result;
  result.text.reserve(text.size());
  result.source_begin.reserve(text.size());
  result.source_end.reserve(text.size());
  auto emit = [&result](const CodePoint& p) {
    const size_t before = result.text.size();
    AppendUtf8(p.cp, result.text);
    for (size_t k = before; k < result.text.size(); ++k) {
      result.source_begin.push_back(p.begin);
      result.source_end.push_back(p.end);
    }
  };
  if (!options_.collapse_whitespace) {
    for (const CodePoint& p : pieces) emit(p);
    return result;
  }
  bool pending_space = false;
  CodePoint space{U' ', 0, 0};
  for (const CodePoint& p : pieces) {
    if (IsWhitespace(p.cp)) {
      if (!pending_space) space = CodePoint{U' ', p.begin, p.end};
      pending_space = true;
      continue;
    }
    if (pending_space && !result.text.empty()) emit(space);
    pending_space = false;
    emit(p);
  }
  return result;
}

std::string Normalizer::Normalize(std::string_view text) const {
  return NormalizeWithOffsets(text).text;
}

}  // namespace souk::text
