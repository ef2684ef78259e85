#include "text/analyzer.h"

#include <algorithm>

#include "text/quantity.h"
#include "text/utf8.h"

namespace souk::text {
namespace {

bool HasAsciiDigit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A piece of the normalized text that becomes a term.
struct Span {
  uint32_t begin;
  uint32_t end;
  TokenKind kind;
  std::string term;
};

}  // namespace

StatusOr<std::unique_ptr<Analyzer>> Analyzer::Create(Options options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Normalizer> normalizer, Normalizer::Create(options.normalizer));
  Segmenter::Options seg_options = options.segmenter;
  for (std::string& word : seg_options.lexicon) word = normalizer->Normalize(word);
  ASSIGN_OR_RETURN(std::unique_ptr<Segmenter> segmenter, Segmenter::Create(seg_options));
  ASSIGN_OR_RETURN(std::unique_ptr<Stemmer> stemmer, Stemmer::Create(options.stem_language));
  return std::unique_ptr<Analyzer>(new Analyzer(std::move(options), std::move(normalizer),
                                                std::move(segmenter), std::move(stemmer)));
}

Analyzer::Analyzer(Options options, std::unique_ptr<Normalizer> normalizer,
                   std::unique_ptr<Segmenter> segmenter, std::unique_ptr<Stemmer> stemmer)
    : options_(std::move(options)),
      normalizer_(std::move(normalizer)),
      segmenter_(std::move(segmenter)),
      stemmer_(std::move(stemmer)) {}

std::vector<AnalyzedToken> Analyzer::Analyze(std::string_view text) const {
  const NormalizedText norm = normalizer_->NormalizeWithOffsets(text);
  const std::string& nt = norm.text;
  const std::vector<Token> tokens = segmenter_->Segment(nt);
  std::vector<Quantity> quantities;
  if (options_.merge_quantities) quantities = ExtractQuantities(nt);

  std::vector<Span> spans;
  spans.reserve(tokens.size() + quantities.size());
  for (const Quantity& q : quantities) {
    spans.push_back(Span{q.begin, q.end,
                         q.dimension == Dimension::kNone ? TokenKind::kNumber : TokenKind::kQuantity,
                         q.canonical});
  }
  // Segmenter tokens minus the parts covered by quantities (both are sorted).
  size_t qi = 0;
  for (const Token& t : tokens) {
    while (qi < quantities.size() && quantities[qi].end <= t.begin) ++qi;
    uint32_t cursor = t.begin;
    for (size_t k = qi; k < quantities.size() && quantities[k].begin < t.end; ++k) {
      if (quantities[k].begin > cursor) {
        const std::string piece = nt.substr(cursor, quantities[k].begin - cursor);
        spans.push_back(Span{cursor, quantities[k].begin, ClassifyToken(piece), piece});
      }
      cursor = std::max(cursor, quantities[k].end);
    }
    if (cursor < t.end) {
      if (cursor == t.begin) {
        spans.push_back(Span{t.begin, t.end, t.kind, t.text});
      } else {
        const std::string piece = nt.substr(cursor, t.end - cursor);
        spans.push_back(Span{cursor, t.end, ClassifyToken(piece), piece});
      }
    }
  }
  std::stable_sort(spans.begin(), spans.end(),
                   [](const Span& a, const Span& b) { return a.begin < b.begin; });

  std::vector<AnalyzedToken> out;
  out.reserve(spans.size());
  std::vector<std::string> to_stem;
  std::vector<size_t> stem_index;
  for (Span& s : spans) {
    if (s.kind == TokenKind::kOther && !options_.keep_symbols) continue;
    if (s.term.empty() || s.term.size() > options_.max_term_bytes) continue;
    AnalyzedToken token;
    const auto [src_begin, src_end] = norm.SourceSpan(s.begin, s.end);
    token.begin = src_begin;
    token.end = src_end;
    token.kind = s.kind;
    token.original = SanitizeUtf8(text.substr(src_begin, src_end - src_begin));
    if (s.kind == TokenKind::kWord && !stemmer_->is_none() && !HasAsciiDigit(s.term)) {
      stem_index.push_back(out.size());
      to_stem.push_back(s.term);
    }
    token.term = std::move(s.term);
    out.push_back(std::move(token));
  }
  if (!to_stem.empty()) {
    stemmer_->StemAll(to_stem);
    for (size_t k = 0; k < stem_index.size(); ++k) out[stem_index[k]].term = std::move(to_stem[k]);
  }
  return out;
}

std::vector<std::string> Analyzer::Terms(std::string_view text) const {
  std::vector<std::string> terms;
  for (AnalyzedToken& t : Analyze(text)) terms.push_back(std::move(t.term));
  return terms;
}

}  // namespace souk::text
