#include "index/autocomplete.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "common/utf8.h"

namespace souk::index {
namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool EndsWithSpace(std::string_view s) {
  return !s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                        s.back() == '\r');
}

// Orders candidates: weight desc, then text asc.
template <typename GetEntry>
void RankTopN(std::vector<uint32_t>& ids, size_t n, GetEntry&& entry) {
  auto better = [&](uint32_t a, uint32_t b) {
    const auto& ea = entry(a);
    const auto& eb = entry(b);
    return ea.weight != eb.weight ? ea.weight > eb.weight : ea.text < eb.text;
  };
  if (ids.size() > n) {
    std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(), better);
    ids.resize(n);
  } else {
    std::sort(ids.begin(), ids.end(), better);
  }
}

}  // namespace

Autocomplete::Autocomplete(const text::Analyzer& analyzer, AutocompleteOptions options)
    : analyzer_(analyzer), options_(options) {}

uint16_t Autocomplete::SourceId(std::string_view source) {
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i] == source) return static_cast<uint16_t>(i);
  }
  sources_.emplace_back(source);
  return static_cast<uint16_t>(sources_.size() - 1);
}

Status Autocomplete::Add(std::string_view text, double weight, std::string_view source) {
  if (!std::isfinite(weight) || weight < 0) {
    return InvalidArgumentError("autocomplete weight of '" + std::string(Utf8Prefix(text, 80)) +
                                "' must be a finite number >= 0");
  }
  if (source.empty()) return InvalidArgumentError("autocomplete source tag is empty");
  if (sources_.size() >= 65535 && SourceId(source) == sources_.size() - 1) {
    return InvalidArgumentError("too many distinct autocomplete source tags");
  }
  std::string key = analyzer_.normalizer().Normalize(Utf8Prefix(text, options_.max_text_bytes));
  if (key.empty()) {
    return InvalidArgumentError("autocomplete text '" + std::string(Utf8Prefix(text, 80)) +
                                "' is empty after normalization");
  }
  const uint16_t sid = SourceId(source);
  auto [it, inserted] = pending_.try_emplace(std::move(key));
  Entry& e = it->second;
  if (inserted) e.text = it->first;
  e.weight += weight;
  if (inserted || weight > e.best) {
    e.best = weight;
    e.display = std::string(Utf8Prefix(text, options_.max_text_bytes));
    e.source = sid;
  }
  return OkStatus();
}

void Autocomplete::Build() {
  if (pending_.empty()) return;
  // Merge the built entries into the pending ones, then rebuild both arrays.
  for (Entry& old : entries_) {
    auto [it, inserted] = pending_.try_emplace(old.text);
    Entry& e = it->second;
    if (inserted) {
      e = std::move(old);
      continue;
    }
    e.weight += old.weight;
    if (old.best > e.best) {
      e.best = old.best;
      e.display = std::move(old.display);
      e.source = old.source;
    }
  }
  entries_.clear();
  entries_.reserve(pending_.size());
  for (auto& [text, e] : pending_) entries_.push_back(std::move(e));
  pending_.clear();
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.text < b.text; });

  words_.clear();
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    for (const text::Token& tok : analyzer_.segmenter().Segment(entries_[i].text)) {
      if (tok.begin > 0) words_.push_back({i, tok.begin});
    }
  }
  auto suffix = [this](const WordStart& w) {
    return std::string_view(entries_[w.entry].text).substr(w.offset);
  };
  std::sort(words_.begin(), words_.end(), [&](const WordStart& a, const WordStart& b) {
    return suffix(a) < suffix(b);
  });
  words_.shrink_to_fit();
}

Completion Autocomplete::ToCompletion(const Entry& e, bool word_match) const {
  return Completion{e.text, e.weight, sources_[e.source], e.display, word_match};
}

std::vector<Completion> Autocomplete::Complete(std::string_view prefix, size_t n) const {
  std::vector<Completion> out;
  std::string p = analyzer_.normalizer().Normalize(prefix);
  if (p.empty() || n == 0) return out;
  if (EndsWithSpace(prefix)) p.push_back(' ');

  // Tier 1: texts starting with p (contiguous in the sorted array).
  auto lo = std::lower_bound(entries_.begin(), entries_.end(), p,
                             [](const Entry& e, const std::string& v) { return e.text < v; });
  auto hi = std::partition_point(lo, entries_.end(),
                                 [&](const Entry& e) { return StartsWith(e.text, p); });
  std::vector<uint32_t> ids;
  for (auto it = lo; it != hi; ++it) ids.push_back(static_cast<uint32_t>(it - entries_.begin()));
  auto entry_of = [this](uint32_t i) -> const Entry& { return entries_[i]; };
  RankTopN(ids, n, entry_of);
  for (uint32_t i : ids) out.push_back(ToCompletion(entries_[i], false));
  if (out.size() >= n) return out;

  // Tier 2: a later word starts with p; skip texts already returned by tier 1.
  auto suffix = [this](const WordStart& w) {
    return std::string_view(entries_[w.entry].text).substr(w.offset);
  };
  auto wlo = std::lower_bound(words_.begin(), words_.end(), p,
                              [&](const WordStart& w, const std::string& v) { return suffix(w) < v; });
  auto whi = std::partition_point(wlo, words_.end(),
                                  [&](const WordStart& w) { return StartsWith(suffix(w), p); });
  std::unordered_set<uint32_t> seen;
  std::vector<uint32_t> second;
  for (auto it = wlo; it != whi; ++it) {
    if (StartsWith(entries_[it->entry].text, p)) continue;  // tier 1 already has it
    if (seen.insert(it->entry).second) second.push_back(it->entry);
  }
  RankTopN(second, n - out.size(), entry_of);
  for (uint32_t i : second) out.push_back(ToCompletion(entries_[i], true));
  return out;
}

}  // namespace souk::index
