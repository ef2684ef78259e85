#include "search/query_understanding.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <cmath>
#include <unordered_set>

#include "common/utf8.h"
#include "search/entity_tagger.h"

namespace souk::search {
namespace {

// ---- a tiny tokenizer over normalized text (byte spans) ----
enum class Tok : uint8_t { kNum, kWord, kCjk, kSym };
struct Token {
  Tok kind;
  size_t begin, end;
  std::string text;
};

bool IsAsciiAlpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    size_t j = i;
    Tok kind;
    if (IsDigit(c) || (c == '.' && i + 1 < s.size() && IsDigit(s[i + 1]))) {
      kind = Tok::kNum;
      while (j < s.size() && (IsDigit(s[j]) || s[j] == '.' || (s[j] == ',' && j + 1 < s.size() &&
                                                                IsDigit(s[j + 1])))) {
        ++j;
      }
      while (j > i && s[j - 1] == '.') --j;  // "50." -> "50"
      if (j == i) j = i + 1;
    } else if (IsAsciiAlpha(c)) {
      kind = Tok::kWord;
      while (j < s.size() && IsAsciiAlpha(s[j])) ++j;
    } else if (c >= 0x80) {
      // One code point per token (CJK characters are matched as sequences).
      size_t len = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;
      j = std::min(s.size(), i + len);
      kind = Tok::kCjk;
    } else {
      kind = Tok::kSym;
      j = i + 1;
      if (j < s.size() && (c == '<' || c == '>') && s[j] == '=') ++j;
    }
    out.push_back({kind, i, j, std::string(s.substr(i, j - i))});
    i = j;
  }
  return out;
}

double ParseNumber(const std::string& t) {
  std::string clean;
  for (char c : t) {
    if (c != ',') clean += c;
  }
  return std::strtod(clean.c_str(), nullptr);
}

// Matches a sequence of token texts starting at i (multi-token words such as
// "less than", or CJK characters "以下"). Returns the number of tokens matched.
size_t MatchSeq(const std::vector<Token>& t, size_t i, std::initializer_list<const char*> words) {
  size_t k = i;
  for (const char* w : words) {
    std::string_view want(w);
    // A CJK word is several code-point tokens.
    size_t pos = 0;
    while (pos < want.size()) {
      if (k >= t.size()) return 0;
      if (want.substr(pos, t[k].text.size()) != t[k].text) return 0;
      pos += t[k].text.size();
      ++k;
    }
  }
  return k - i;
}

size_t MatchAny(const std::vector<Token>& t, size_t i,
                const std::vector<std::vector<const char*>>& options) {
  for (const auto& opt : options) {
    size_t k = i, matched = 0;
    bool ok = true;
    for (const char* w : opt) {
      const size_t m = MatchSeq(t, k, {w});
      if (m == 0) {
        ok = false;
        break;
      }
      k += m;
      matched += m;
    }
    if (ok) return matched;
  }
  return 0;
}

const std::vector<std::vector<const char*>> kMaxWords = {
    {"less", "than"}, {"cheaper", "than"}, {"lower", "than"}, {"up", "to"}, {"under"},
    {"below"}, {"max"}, {"maximum"}, {"within"}, {"<="}, {"<"}, {"不超过"}, {"低于"}, {"少于"},
    {"小于"}, {"不到"}, {"不高于"}};
const std::vector<std::vector<const char*>> kMinWords = {
    {"more", "than"}, {"higher", "than"}, {"at", "least"}, {"over"}, {"above"}, {"min"},
    {"minimum"}, {">="}, {">"}, {"高于"}, {"大于"}, {"超过"}, {"不低于"}};
const std::vector<std::vector<const char*>> kCurrencyBefore = {{"$"}, {"¥"}, {"￥"}, {"€"},
                                                               {"£"}, {"usd"}, {"rmb"}};
const std::vector<std::vector<const char*>> kCurrencyAfter = {
    {"dollars"}, {"dollar"}, {"usd"}, {"bucks"}, {"元"}, {"块钱"}, {"块"}, {"rmb"}, {"yuan"},
    {"eur"}, {"euro"}, {"euros"}};
const std::vector<std::vector<const char*>> kRangeSep = {{"-"}, {"~"}, {"to"}, {"到"}, {"至"},
                                                         {"and"}};
const std::vector<std::vector<const char*>> kAfterMax = {{"以下"}, {"以内"}, {"之内"}, {"内"},
                                                         {"or", "less"}, {"or", "under"}};
const std::vector<std::vector<const char*>> kAfterMin = {{"以上"}, {"起"}, {"or", "more"},
                                                         {"and", "up"}, {"plus"}, {"+"}};
const std::vector<std::vector<const char*>> kPriceWords = {{"price"}, {"between"}, {"价格"},
                                                           {"价位"}, {"价钱"}};

// Parses [currency] NUM [currency-unit] at i; returns tokens used (0 = none).
size_t MatchAmount(const std::vector<Token>& t, size_t i, double* value, bool* has_currency) {
  size_t k = i;
  *has_currency = false;
  if (size_t m = MatchAny(t, k, kCurrencyBefore)) {
    k += m;
    *has_currency = true;
  }
  if (k >= t.size() || t[k].kind != Tok::kNum) return 0;
  *value = ParseNumber(t[k].text);
  const size_t num_end = t[k].end;
  ++k;
  // "1k" = 1000 (only directly after the number).
  if (k < t.size() && t[k].kind == Tok::kWord && t[k].begin == num_end &&
      (t[k].text == "k" || t[k].text == "K")) {
    *value *= 1000;
    ++k;
  }
  if (size_t m = MatchAny(t, k, kCurrencyAfter)) {
    k += m;
    *has_currency = true;
  } else if (!*has_currency && k < t.size() &&
             (t[k].kind == Tok::kWord || t[k].kind == Tok::kCjk)) {
    // A number followed by another word is a quantity ("65 inch", "2 kg",
    // "256gb", "3 days", "55英寸"), not a price -- unless the word continues
    // a price phrase ("50 to 100", "50 or less", "200以下").
    static const std::vector<std::vector<const char*>> kContinue = {
        {"to"}, {"and"}, {"or"}, {"plus"}, {"以下"}, {"以内"}, {"之内"}, {"内"}, {"以上"},
        {"起"}, {"到"}, {"至"}};
    if (MatchAny(t, k, kContinue) == 0) return 0;
  }
  return k - i;
}

}  // namespace

std::optional<PricePhrase> FindPricePhrase(std::string_view normalized) {
  const std::vector<Token> t = Tokenize(normalized);
  for (size_t i = 0; i < t.size(); ++i) {
    PricePhrase p;
    double v1 = 0, v2 = 0;
    bool c1 = false, c2 = false;
    // "under $50", "低于100元"
    if (size_t m = MatchAny(t, i, kMaxWords)) {
      if (size_t a = MatchAmount(t, i + m, &v1, &c1)) {
        p.begin = t[i].begin;
        p.end = t[i + m + a - 1].end;
        p.max = v1;
        return p;
      }
    }
    if (size_t m = MatchAny(t, i, kMinWords)) {
      if (size_t a = MatchAmount(t, i + m, &v1, &c1)) {
        p.begin = t[i].begin;
        p.end = t[i + m + a - 1].end;
        p.min = v1;
        return p;
      }
    }
    // Ranges "100-200元", "$20 to $40", "between 20 and 40", "price 50-100".
    const size_t lead = MatchAny(t, i, kPriceWords);
    const size_t start = i + lead;
    if (size_t a = MatchAmount(t, start, &v1, &c1)) {
      size_t k = start + a;
      if (size_t s = MatchAny(t, k, kRangeSep)) {
        if (size_t b = MatchAmount(t, k + s, &v2, &c2)) {
          const bool is_and = t[k].text == "and";
          if ((c1 || c2 || lead > 0) && (!is_and || lead > 0)) {
            p.begin = t[i].begin;
            p.end = t[k + s + b - 1].end;
            p.min = std::min(v1, v2);
            p.max = std::max(v1, v2);
            return p;
          }
        }
      }
      // "200元以下", "50 dollars or less", "100元以上"
      if (c1 || lead > 0) {
        if (size_t m = MatchAny(t, k, kAfterMax)) {
          p.begin = t[i].begin;
          p.end = t[k + m - 1].end;
          p.max = v1;
          return p;
        }
        if (size_t m = MatchAny(t, k, kAfterMin)) {
          p.begin = t[i].begin;
          p.end = t[k + m - 1].end;
          p.min = v1;
          return p;
        }
      }
    }
  }
  return std::nullopt;
}

// ---- CategoryClassifier ----
void CategoryClassifier::Add(const std::vector<std::string>& terms, const std::string& category,
                             double weight) {
  if (category.empty() || terms.empty()) return;
  class_count_[category] += weight;
  total_ += weight;
  auto& tc = term_count_[category];
  for (const std::string& t : terms) {
    tc[t] += weight;
    class_total_[category] += weight;
  }
}

void CategoryClassifier::Finish() {
  std::unordered_set<std::string> vocab;
  for (const auto& [c, tc] : term_count_) {
    for (const auto& [t, n] : tc) vocab.insert(t);
  }
  vocab_ = vocab.size();
}

std::vector<std::pair<std::string, double>> CategoryClassifier::Predict(
    const std::vector<std::string>& terms, size_t k, double min_prob) const {
  std::vector<std::pair<std::string, double>> out;
  if (class_count_.empty() || terms.empty()) return out;
  std::vector<std::pair<std::string, double>> logp;
  double best = -1e300;
  bool any_known = false;
  for (const auto& [c, n] : class_count_) {
    double lp = std::log(n / total_);
    const auto& tc = term_count_.at(c);
    const double denom = class_total_.at(c) + 0.1 * (vocab_ + 1);
    for (const std::string& t : terms) {
      auto it = tc.find(t);
      if (it != tc.end()) any_known = true;
      lp += std::log(((it == tc.end()) ? 0.0 : it->second) + 0.1) - std::log(denom);
    }
    logp.emplace_back(c, lp);
    best = std::max(best, lp);
  }
  if (!any_known) return out;  // no evidence: no intent
  double z = 0;
  for (auto& [c, lp] : logp) z += std::exp(lp - best);
  for (auto& [c, lp] : logp) {
    const double p = std::exp(lp - best) / z;
    if (p >= min_prob) out.emplace_back(c, p);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (out.size() > k) out.resize(k);
  return out;
}

// ---- QueryUnderstanding ----
QueryUnderstanding::QueryUnderstanding(const index::LexicalIndex* index,
                                       const SearchCatalog* catalog,
                                       QueryUnderstandingOptions options)
    : index_(index), catalog_(catalog), options_(options) {}

QueryUnderstanding::~QueryUnderstanding() = default;

namespace {

// Removes [begin, end) from s and collapses the spaces around it.
void Cut(std::string& s, size_t begin, size_t end) {
  s.replace(begin, end - begin, " ");
  std::string out;
  bool space = true;
  for (char c : s) {
    if (c == ' ') {
      if (!space) out += ' ';
      space = true;
    } else {
      out += c;
      space = false;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  s = std::move(out);
}

struct Lexeme {
  const char* word;
  const char* canonical;
};
const Lexeme kColors[] = {
    {"red", "red"},       {"blue", "blue"},      {"green", "green"},   {"black", "black"},
    {"white", "white"},   {"gray", "gray"},      {"grey", "gray"},     {"silver", "silver"},
    {"gold", "gold"},     {"pink", "pink"},      {"purple", "purple"}, {"yellow", "yellow"},
    {"orange", "orange"}, {"brown", "brown"},    {"beige", "beige"},   {"navy", "navy"},
    {"红色", "red"},      {"蓝色", "blue"},      {"绿色", "green"},    {"黑色", "black"},
    {"白色", "white"},    {"灰色", "gray"},      {"银色", "silver"},   {"金色", "gold"},
    {"粉色", "pink"},     {"粉红色", "pink"},    {"紫色", "purple"},   {"黄色", "yellow"},
    {"橙色", "orange"},   {"棕色", "brown"},     {"米色", "beige"},    {"藏青色", "navy"},
};
const Lexeme kSizes[] = {{"xxxl", "XXXL"}, {"xxl", "XXL"}, {"xl", "XL"}, {"xs", "XS"},
                         {"s", "S"},       {"m", "M"},     {"l", "L"}};

bool WordAt(std::string_view s, size_t pos, std::string_view w) {
  if (s.substr(pos, w.size()) != w) return false;
  const bool ascii = IsAsciiAlpha(static_cast<unsigned char>(w[0]));
  if (!ascii) return true;  // CJK words have no spaces around them
  const bool left_ok = pos == 0 || !IsAsciiAlpha(static_cast<unsigned char>(s[pos - 1]));
  const size_t e = pos + w.size();
  const bool right_ok = e >= s.size() || !IsAsciiAlpha(static_cast<unsigned char>(s[e]));
  return left_ok && right_ok;
}


}  // namespace

void QueryUnderstanding::ExtractPrice(ParsedQuery& q) const {
  std::optional<PricePhrase> p = FindPricePhrase(q.text);
  if (!p) return;
  Extraction e;
  e.kind = "price";
  e.text = q.text.substr(p->begin, p->end - p->begin);
  e.as_filter = true;
  q.filter.price_min = p->min;
  q.filter.price_max = p->max;
  e.value = p->min && p->max ? fmt::format("{}-{}", *p->min, *p->max)
            : p->max         ? fmt::format("<={}", *p->max)
                             : fmt::format(">={}", *p->min);
  Cut(q.text, p->begin, p->end);
  q.steps.push_back({{"step", "extract_price"}, {"text", e.text}, {"filter", e.value}});
  q.extractions.push_back(std::move(e));
}

void QueryUnderstanding::ExtractAttributes(ParsedQuery& q) const {
  auto scan = [&](const auto& lexicon_in, const char* key, const char* kind,
                  std::vector<std::string>* found) {
    // Longest words first, so that "粉红色" wins over "红色".
    std::vector<Lexeme> lexicon(std::begin(lexicon_in), std::end(lexicon_in));
    std::stable_sort(lexicon.begin(), lexicon.end(), [](const Lexeme& a, const Lexeme& b) {
      return std::strlen(a.word) > std::strlen(b.word);
    });
    // Matched words are masked (same length, so positions agree with q.text)
    // so that a shorter word inside a longer match is not found again.
    std::string masked = q.text;
    for (const Lexeme& lx : lexicon) {
      const std::string_view w(lx.word);
      for (size_t pos = masked.find(w); pos != std::string::npos; pos = masked.find(w, pos + 1)) {
        if (!WordAt(masked, pos, w)) continue;
        // Single-letter sizes only after "size"/"尺码" ("size m"), never alone.
        if (w.size() <= 2 && std::string_view(kind) == "size") {
          const std::string before = q.text.substr(0, pos);
          if (!(before.ends_with("size ") || before.ends_with("尺码") || before.ends_with("码"))) {
            if (w.size() == 1) continue;
          }
        }
        Extraction e;
        e.kind = kind;
        e.text = std::string(w);
        e.value = lx.canonical;
        const std::string folded = catalog_->Fold(lx.canonical);
        e.as_filter = catalog_->HasAttributeValue(key, folded);
        found->push_back(lx.canonical);
        q.steps.push_back({{"step", std::string("extract_") + kind},
                           {"text", e.text},
                           {"value", e.value},
                           {"as_filter", e.as_filter}});
        if (e.as_filter) {
          q.filter.attributes.emplace_back(key, lx.canonical);
          Cut(q.text, pos, pos + w.size());
          Cut(masked, pos, pos + w.size());
        } else {
          std::fill(masked.begin() + pos, masked.begin() + pos + w.size(), '\x01');
        }
        q.extractions.push_back(std::move(e));
        break;
      }
    }
  };
  scan(kColors, "color", "color", &q.colors);
  scan(kSizes, "size", "size", &q.sizes);
}

void QueryUnderstanding::DetectBrands(ParsedQuery& q) const {
  // Longest match of catalog brands over word boundaries of the folded text.
  const auto& brands = catalog_->brands();
  if (brands.empty() && !tagger_) return;
  std::vector<std::pair<size_t, size_t>> spans;
  const std::string& s = q.text;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t best_len = 0;
    std::string best;
    // Candidate ends: every later word boundary (limit 4 words / 40 bytes).
    for (size_t end = pos + 1; end <= s.size() && end - pos <= 40; ++end) {
      const bool boundary = end == s.size() || s[end] == ' ' ||
                            static_cast<unsigned char>(s[end]) >= 0x80 ||
                            static_cast<unsigned char>(s[end - 1]) >= 0x80;
      if (!boundary) continue;
      auto it = brands.find(s.substr(pos, end - pos));
      if (it != brands.end()) {
        best_len = end - pos;
        best = it->second;
      }
    }
    if (best_len > 0) {
      spans.emplace_back(pos, pos + best_len);
      q.brands.push_back(best);
      pos += best_len;
    } else if (static_cast<unsigned char>(s[pos]) >= 0x80) {
      // Chinese has no spaces: try the next character.
      const unsigned char c = s[pos];
      pos += c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    } else {
      size_t next = pos;
      while (next < s.size() && s[next] != ' ' && static_cast<unsigned char>(s[next]) < 0x80) ++next;
      if (next >= s.size()) break;
      pos = s[next] == ' ' ? next + 1 : next;
    }
  }
  if (tagger_) {
    for (const TaggedEntity& e : tagger_->Tag(s)) {
      if (e.type != "HP") continue;
      auto it = brands.find(e.text);
      const std::string b = it != brands.end() ? it->second : e.text;
      if (std::find(q.brands.begin(), q.brands.end(), b) == q.brands.end()) q.brands.push_back(b);
    }
  }
  for (const std::string& b : q.brands) {
    Extraction e;
    e.kind = "brand";
    e.text = b;
    e.value = b;
    e.as_filter = options_.brand_as_filter && brands.count(catalog_->Fold(b)) != 0;
    if (e.as_filter) q.filter.brands.push_back(b);
    q.steps.push_back({{"step", "detect_brand"}, {"brand", b}, {"as_filter", e.as_filter}});
    q.extractions.push_back(std::move(e));
  }
  if (options_.brand_as_filter) {
    for (auto it = spans.rbegin(); it != spans.rend(); ++it) Cut(q.text, it->first, it->second);
  }
}

void QueryUnderstanding::CorrectSpelling(ParsedQuery& q) const {
  std::vector<nlohmann::json> changes;
  double confidence = 1.0;
  for (size_t i = 0; i < q.terms.size(); ++i) {
    const std::string& t = q.terms[i];
    // Numbers, quantities and CJK are not spell-checked.
    if (t.size() < 3 || !std::all_of(t.begin(), t.end(), [](char c) {
          return IsAsciiAlpha(static_cast<unsigned char>(c));
        })) {
      continue;
    }
    const uint64_t df = index_->TermFrequency(t);
    if (df >= 3) continue;
    // Candidates from the stem and from the word as typed ("wireles" is one
    // edit from "wireless", its stem "wirel" two from "wipe"): the one more
    // documents contain wins.
    std::string s;
    uint64_t sdf = 0;
    for (const std::string& cand :
         {index_->SuggestSpelling(q.words[i]), index_->SuggestSpelling(t)}) {
      if (cand.empty() || cand == t) continue;
      const uint64_t cdf = index_->TermFrequency(cand);
      if (cdf > sdf) {
        s = cand;
        sdf = cdf;
      }
    }
    if (s.empty() || sdf <= df) continue;
    // Confidence: a word nobody has is almost surely a typo; a rare word only
    // when the suggestion is far more frequent.
    const double c = df == 0 ? 0.5 + 0.5 * std::min(1.0, std::log1p(sdf) / std::log(50.0))
                             : std::min(0.9, 1.0 - std::sqrt(double(df) / double(sdf)));
    if (c < options_.spelling_min_confidence) continue;
    confidence = std::min(confidence, c);
    changes.push_back({{"from", t}, {"to", s}, {"confidence", c}, {"df", df}, {"suggestion_df", sdf}});
    if (df == 0) {
      q.terms[i] = s;
    } else {
      q.alternatives[i].push_back(s);  // keep the rare word, add the suggestion
    }
    q.corrected = true;
  }
  if (q.corrected) {
    q.spelling_confidence = confidence;
    // "Did you mean": the query as typed with the corrected words replaced by
    // how titles write them.
    std::string shown = q.text;
    for (size_t i = q.terms.size(); i-- > 0;) {
      if (q.terms[i] == q.raw_terms[i] && q.alternatives[i].empty()) continue;
      const std::string& to = q.terms[i] != q.raw_terms[i] ? q.terms[i] : q.alternatives[i].back();
      const auto [b, e] = q.spans[i];
      if (e <= shown.size() && b < e) shown.replace(b, e - b, catalog_->Surface(to));
    }
    q.did_you_mean = shown;
    q.steps.push_back({{"step", "spelling"}, {"changes", changes}, {"confidence", confidence}});
  }
}

ParsedQuery QueryUnderstanding::Understand(std::string_view query) const {
  ParsedQuery q;
  std::string_view raw = query;
  if (raw.size() > options_.max_query_bytes) raw = Utf8Prefix(raw, options_.max_query_bytes);
  q.original = std::string(query);
  // Control characters and quotes separate words (the normalizer would drop
  // control characters and join the words around them).
  std::string cleaned(raw);
  for (char& c : cleaned) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '"' || c == '\'' || c == '`') c = ' ';
  }
  q.normalized = catalog_->Fold(cleaned);
  q.text = q.normalized;
  Cut(q.text, 0, 0);
  q.steps.push_back({{"step", "normalize"}, {"text", q.text}});
  if (options_.extract_price) ExtractPrice(q);
  if (options_.extract_attributes) ExtractAttributes(q);
  if (options_.detect_brands) DetectBrands(q);
  for (const text::AnalyzedToken& tok : catalog_->analyzer().Analyze(q.text)) {
    q.raw_terms.push_back(tok.term);
    q.words.push_back(tok.original);
    q.spans.emplace_back(tok.begin, tok.end);
  }
  q.terms = q.raw_terms;
  q.alternatives.assign(q.terms.size(), {});
  q.steps.push_back({{"step", "analyze"}, {"terms", q.terms}});
  if (options_.spelling && index_ != nullptr) CorrectSpelling(q);
  if (options_.synonyms && index_ != nullptr) {
    std::vector<nlohmann::json> used;
    for (size_t i = 0; i < q.terms.size(); ++i) {
      for (const std::string& syn : index_->Synonyms(q.terms[i])) {
        q.alternatives[i].push_back(syn);
        used.push_back({{"term", q.terms[i]}, {"synonym", syn}});
      }
    }
    if (!used.empty()) q.steps.push_back({{"step", "synonyms"}, {"expansions", used}});
  }
  if (options_.category_intent && classifier_ && !classifier_->empty()) {
    q.category_intent = classifier_->Predict(q.terms);
    if (!q.category_intent.empty()) {
      nlohmann::json cats = nlohmann::json::array();
      for (const auto& [c, p] : q.category_intent) cats.push_back({{"category", c}, {"p", p}});
      q.steps.push_back({{"step", "category_intent"}, {"categories", cats}});
    }
  }
  q.dense_text = q.corrected ? q.did_you_mean : q.text;
  return q;
}

}  // namespace souk::search
