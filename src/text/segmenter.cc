#include "text/segmenter.h"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>

#include "text/utf8.h"

#include <algorithm>
#include <fstream>

namespace souk::text {
namespace {

bool IsCjkScript(char32_t cp) {
  UErrorCode status = U_ZERO_ERROR;
  const UScriptCode script = uscript_getScript(static_cast<UChar32>(cp), &status);
  if (U_FAILURE(status)) return false;
  return script == USCRIPT_HAN || script == USCRIPT_HIRAGANA || script == USCRIPT_KATAKANA ||
         script == USCRIPT_HANGUL;
}

// True for characters a search term may consist of on its own: not whitespace,
// punctuation, controls, format characters or U+FFFD.
bool IsSymbolOrWordChar(char32_t cp) {
  if (cp == 0xFFFD || u_isUWhiteSpace(static_cast<UChar32>(cp))) return false;
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_CONTROL_CHAR: case U_FORMAT_CHAR: case U_UNASSIGNED: case U_SURROGATE:
    case U_DASH_PUNCTUATION: case U_START_PUNCTUATION: case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION: case U_OTHER_PUNCTUATION: case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION: case U_NON_SPACING_MARK: case U_ENCLOSING_MARK:
    case U_COMBINING_SPACING_MARK: case U_SPACE_SEPARATOR: case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
      return false;
    default:
      return true;
  }
}

// Common Chinese brand names that ICU's general dictionary splits into single
// characters (e.g. 华为 -> 华 / 为). A starting point; shops extend it with
// Options::lexicon or lexicon_path.
constexpr std::string_view kBuiltinLexicon[] = {
    "华为", "小米", "荣耀", "魅族", "联想", "海尔", "美的", "格力", "奥克斯", "海信", "长虹",
    "创维", "九阳", "苏泊尔", "李宁", "安踏", "特步", "鸿星尔克", "回力", "百雀羚", "自然堂",
    "韩束", "欧莱雅", "兰蔻", "雅诗兰黛", "三只松鼠", "良品铺子", "百草味", "伊利", "蒙牛",
    "飞利浦", "松下", "索尼", "佳能", "尼康", "戴尔", "惠普", "华硕", "宏碁", "三星", "魅蓝",
    "努比亚", "中兴", "酷派", "金立", "罗技", "雷蛇", "漫步者", "公牛", "得力", "晨光",
    "优衣库", "南极人", "恒源祥", "七匹狼", "森马", "美特斯邦威", "波司登", "海澜之家", "劲霸",
    "耐克", "阿迪达斯", "彪马", "匡威", "斯凯奇", "乐扣", "双立人", "膳魔师", "象印", "小熊",
    "摩飞", "戴森", "科沃斯", "倍思", "绿联", "品胜", "罗马仕", "闪魔", "洁柔", "维达",
    "清风", "心相印", "蓝月亮", "立白", "舒肤佳", "海飞丝", "潘婷", "飘柔", "沙宣", "佳洁士",
    "高露洁", "云南白药", "好奇", "帮宝适", "花王", "贝亲", "飞鹤", "君乐宝", "雀巢", "星巴克",
    "可口可乐", "百事", "农夫山泉", "娃哈哈", "康师傅", "统一", "旺旺", "德芙", "费列罗",
};

constexpr size_t kMaxLexiconChars = 8;

}  // namespace

std::string_view TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kWord: return "word";
    case TokenKind::kNumber: return "number";
    case TokenKind::kCjk: return "cjk";
    case TokenKind::kOther: return "other";
    case TokenKind::kQuantity: return "quantity";
  }
  return "unknown";
}

TokenKind ClassifyToken(std::string_view text) {
  bool letter = false;
  bool digit = false;
  for (const CodePoint& c : DecodeUtf8(text)) {
    if (IsCjkScript(c.cp)) return TokenKind::kCjk;
    if (u_isalpha(static_cast<UChar32>(c.cp))) letter = true;
    else if (u_isdigit(static_cast<UChar32>(c.cp))) digit = true;
  }
  if (letter) return TokenKind::kWord;
  if (digit) return TokenKind::kNumber;
  return TokenKind::kOther;
}

StatusOr<std::unique_ptr<Segmenter>> Segmenter::Create(Options options) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> prototype(
      icu::BreakIterator::createWordInstance(icu::Locale(options.locale.c_str()), status));
  if (U_FAILURE(status) || prototype == nullptr) {
    return InternalError("ICU word break iterator unavailable for locale '" + options.locale +
                         "': " + u_errorName(status));
  }
  std::vector<std::string> words(options.lexicon.begin(), options.lexicon.end());
  if (options.builtin_lexicon) {
    for (std::string_view w : kBuiltinLexicon) words.emplace_back(w);
  }
  if (!options.lexicon_path.empty()) {
    std::ifstream in(options.lexicon_path);
    if (!in.good()) return NotFoundError("lexicon file not readable: " + options.lexicon_path);
    std::string line;
    while (std::getline(in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.pop_back();
      }
      const size_t tab = line.find_first_of("\t ");  // "word<TAB>freq" files keep the word
      if (tab != std::string::npos) line.resize(tab);
      if (line.empty() || line[0] == '#') continue;
      words.push_back(line);
    }
  }
  auto segmenter =
      std::unique_ptr<Segmenter>(new Segmenter(std::move(options), std::move(prototype)));
  for (std::string& w : words) {
    const size_t chars = DecodeUtf8(w).size();
    if (chars < 2 || chars > kMaxLexiconChars || !IsValidUtf8(w)) continue;
    segmenter->lexicon_max_chars_ = std::max(segmenter->lexicon_max_chars_, chars);
    segmenter->lexicon_.insert(std::move(w));
  }
  return segmenter;
}

Segmenter::Segmenter(Options options, std::unique_ptr<icu::BreakIterator> prototype)
    : options_(std::move(options)), prototype_(std::move(prototype)) {}

void Segmenter::ApplyLexicon(std::string_view text, std::vector<Token>& tokens) const {
  std::vector<Token> out;
  out.reserve(tokens.size());
  size_t a = 0;
  while (a < tokens.size()) {
    if (tokens[a].kind != TokenKind::kCjk) {
      out.push_back(std::move(tokens[a]));
      ++a;
      continue;
    }
    size_t b = a + 1;
    while (b < tokens.size() && tokens[b].kind == TokenKind::kCjk &&
           tokens[b].begin == tokens[b - 1].end) {
      ++b;
    }
    // Han run tokens[a, b): greedy longest lexicon match, else the ICU token.
    const uint32_t run_begin = tokens[a].begin;
    const uint32_t run_end = tokens[b - 1].end;
    std::vector<uint32_t> icu_ends;
    for (size_t k = a; k < b; ++k) icu_ends.push_back(tokens[k].end);
    std::vector<CodePoint> cps = DecodeUtf8(text.substr(run_begin, run_end - run_begin));
    for (CodePoint& c : cps) {
      c.begin += run_begin;
      c.end += run_begin;
    }
    size_t p = 0;
    while (p < cps.size()) {
      size_t take = 0;
      for (size_t len = std::min(lexicon_max_chars_, cps.size() - p); len >= 2; --len) {
        const uint32_t wb = cps[p].begin;
        const uint32_t we = cps[p + len - 1].end;
        if (lexicon_.count(std::string(text.substr(wb, we - wb))) > 0) {
          take = len;
          break;
        }
      }
      uint32_t end = 0;
      if (take > 0) {
        end = cps[p + take - 1].end;
      } else {
        end = *std::upper_bound(icu_ends.begin(), icu_ends.end(), cps[p].begin);
      }
      Token t;
      t.begin = cps[p].begin;
      t.end = end;
      t.text = SanitizeUtf8(text.substr(t.begin, t.end - t.begin));
      t.kind = TokenKind::kCjk;
      out.push_back(std::move(t));
      while (p < cps.size() && cps[p].begin < end) ++p;
    }
    a = b;
  }
  tokens.swap(out);
}

Segmenter::~Segmenter() = default;

std::vector<Token> Segmenter::Segment(std::string_view text) const {
  std::vector<Token> tokens;
  if (text.empty()) return tokens;
  const std::vector<CodePoint> cps = DecodeUtf8(text);
  icu::UnicodeString utext;
  std::vector<uint32_t> byte_at;  // UTF-16 index -> input byte offset (size length+1)
  byte_at.reserve(cps.size() + 1);
  std::vector<uint32_t> cp_at;  // UTF-16 index -> index into cps
  cp_at.reserve(cps.size() + 1);
  for (size_t k = 0; k < cps.size(); ++k) {
    const int32_t before = utext.length();
    utext.append(static_cast<UChar32>(cps[k].cp));
    for (int32_t u = before; u < utext.length(); ++u) {
      byte_at.push_back(cps[k].begin);
      cp_at.push_back(static_cast<uint32_t>(k));
    }
  }
  byte_at.push_back(static_cast<uint32_t>(text.size()));
  cp_at.push_back(static_cast<uint32_t>(cps.size()));

  std::unique_ptr<icu::BreakIterator> it(prototype_->clone());
  if (it == nullptr) return tokens;
  it->setText(utext);
  int32_t start = it->first();
  for (int32_t end = it->next(); end != icu::BreakIterator::DONE; start = end, end = it->next()) {
    const int32_t status = it->getRuleStatus();
    bool keep = status >= UBRK_WORD_NONE_LIMIT;
    if (!keep && options_.keep_symbols) {
      for (uint32_t k = cp_at[start]; k < cp_at[end]; ++k) {
        if (IsSymbolOrWordChar(cps[k].cp)) {
          keep = true;
          break;
        }
      }
    }
    if (!keep) continue;
    Token token;
    token.begin = byte_at[start];
    token.end = byte_at[end];
    token.text = SanitizeUtf8(text.substr(token.begin, token.end - token.begin));
    token.kind = ClassifyToken(token.text);
    tokens.push_back(std::move(token));
  }
  if (!lexicon_.empty()) ApplyLexicon(text, tokens);
  return tokens;
}

}  // namespace souk::text
