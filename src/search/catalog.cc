#include "search/catalog.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace souk::search {
namespace {

std::vector<std::string> SplitCategory(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('>', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    const size_t b = part.find_first_not_of(" \t");
    const size_t e = part.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(part.substr(b, e - b + 1));
    start = end + 1;
  }
  return out;
}

}  // namespace

uint32_t SearchCatalog::Add(const store::Item& item) {
  CatalogDoc d;
  d.external_id = item.external_id;
  d.title = item.title;
  d.brand = item.brand;
  d.description = item.description;
  d.category_path = SplitCategory(item.category);
  d.price = item.price;
  d.in_stock = item.in_stock;
  d.created_at_ms = item.created_at_ms;
  const nlohmann::json attrs = nlohmann::json::parse(item.attributes_json, nullptr, false);
  if (attrs.is_object()) {
    for (const auto& [k, v] : attrs.items()) {
      if (v.is_string()) {
        d.attributes.emplace_back(k, v.get<std::string>());
      } else if (v.is_number()) {
        d.numeric.emplace_back(k, v.get<double>());
      } else if (v.is_boolean()) {
        d.attributes.emplace_back(k, v.get<bool>() ? "true" : "false");
      }
    }
  }
  return Add(std::move(d));
}

uint32_t SearchCatalog::Add(CatalogDoc doc) {
  const uint32_t id = static_cast<uint32_t>(docs_.size());
  by_external_[doc.external_id] = id;  // a superseding doc takes the id over
  for (const text::AnalyzedToken& tok : analyzer_->Analyze(doc.title)) {
    auto [it, inserted] = term_ids_.emplace(tok.term, static_cast<uint32_t>(term_ids_.size()));
    if (inserted) {
      term_strings_.push_back(tok.term);
      // The first spelling seen, ASCII-lowercased: how a corrected word is shown.
      std::string surface = tok.original;
      for (char& c : surface) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      surfaces_.push_back(std::move(surface));
    }
    title_terms_.push_back(it->second);
  }
  title_offsets_.push_back(static_cast<uint32_t>(title_terms_.size()));
  std::string fb = doc.brand.empty() ? "" : Fold(doc.brand);
  if (!fb.empty()) brands_.emplace(fb, doc.brand);
  folded_brand_.push_back(std::move(fb));
  std::vector<std::string> cats;
  for (const std::string& c : doc.category_path) cats.push_back(Fold(c));
  folded_categories_.push_back(std::move(cats));
  std::vector<std::pair<std::string, std::string>> fattrs;
  for (const auto& [k, v] : doc.attributes) {
    fattrs.emplace_back(Fold(k), Fold(v));
    ++attribute_values_[fattrs.back().first + "=" + fattrs.back().second];
    attribute_keys_.insert(k);
  }
  folded_attributes_.push_back(std::move(fattrs));
  for (const auto& [k, v] : doc.numeric) numeric_keys_.insert(k);
  docs_.push_back(std::move(doc));
  return id;
}

void SearchCatalog::AddEvent(const store::Event& e) {
  if (e.item_id.empty()) return;
  auto it = by_external_.find(e.item_id);
  if (it == by_external_.end()) return;
  CatalogDoc& d = docs_[it->second];
  switch (e.type) {
    case store::EventType::kImpression: d.impressions += 1; break;
    case store::EventType::kView:
    case store::EventType::kClick: d.clicks += 1; break;
    case store::EventType::kAddToCart: d.carts += 1; break;
    case store::EventType::kPurchase: d.purchases += 1; break;
    default: break;
  }
}

void SearchCatalog::Finish() {
  const size_t n = docs_.size();
  popularity_.assign(n, 0);
  ctr_.assign(n, 0);
  conversion_.assign(n, 0);
  double imp = 0, clk = 0, pur = 0;
  for (const CatalogDoc& d : docs_) {
    imp += d.impressions;
    clk += d.clicks;
    pur += d.purchases;
  }
  // Beta priors with the catalog means and a strength of 20 observations.
  const double ctr_prior = imp > 0 ? std::min(1.0, clk / imp) : 0.0;
  const double conv_prior = clk > 0 ? std::min(1.0, pur / clk) : 0.0;
  constexpr double kStrength = 20;
  for (size_t i = 0; i < n; ++i) {
    const CatalogDoc& d = docs_[i];
    popularity_[i] = std::log1p(d.purchases * 5 + d.carts * 2 + d.clicks);
    ctr_[i] = (d.clicks + kStrength * ctr_prior) / (std::max(d.impressions, d.clicks) + kStrength);
    conversion_[i] = (d.purchases + kStrength * conv_prior) / (d.clicks + kStrength);
  }
}

std::optional<uint32_t> SearchCatalog::Find(std::string_view external_id) const {
  auto it = by_external_.find(std::string(external_id));
  if (it == by_external_.end()) return std::nullopt;
  return it->second;
}

std::span<const uint32_t> SearchCatalog::title_terms(uint32_t d) const {
  return {title_terms_.data() + title_offsets_[d], title_offsets_[d + 1] - title_offsets_[d]};
}

uint32_t SearchCatalog::TermId(std::string_view term) const {
  auto it = term_ids_.find(std::string(term));
  return it == term_ids_.end() ? kNoTerm : it->second;
}

bool SearchCatalog::HasAttributeValue(std::string_view key, std::string_view folded_value) const {
  std::string k(key);
  k += '=';
  k += folded_value;
  return attribute_values_.count(k) != 0;
}

index::Filter SearchCatalog::FoldFilter(const index::Filter& f) const {
  index::Filter folded = f;
  for (std::string& b : folded.brands) b = Fold(b);
  for (std::string& c : folded.categories) c = Fold(c);
  for (auto& [k, v] : folded.attributes) {
    k = Fold(k);
    v = Fold(v);
  }
  return folded;
}

bool SearchCatalog::Matches(uint32_t d, const index::Filter& f) const {
  return MatchesFolded(d, FoldFilter(f));
}

std::vector<uint8_t> SearchCatalog::AllowBitmap(const index::Filter& f) const {
  // Fold the filter's values once, not once per document.
  const index::Filter folded = FoldFilter(f);
  std::vector<uint8_t> allow(docs_.size(), 0);
  for (uint32_t d = 0; d < docs_.size(); ++d) allow[d] = MatchesFolded(d, folded) ? 1 : 0;
  return allow;
}

void SearchCatalog::Remove(uint32_t d) {
  if (d >= docs_.size() || removed(d)) return;
  if (removed_.size() < docs_.size()) removed_.resize(docs_.size(), 0);
  removed_[d] = 1;
  ++removed_total_;
  auto it = by_external_.find(docs_[d].external_id);
  if (it != by_external_.end() && it->second == d) by_external_.erase(it);
}

bool SearchCatalog::MatchesFolded(uint32_t d, const index::Filter& f) const {
  if (removed(d)) return false;
  const CatalogDoc& doc = docs_[d];
  if (!f.brands.empty() &&
      std::find(f.brands.begin(), f.brands.end(), folded_brand_[d]) == f.brands.end()) {
    return false;
  }
  if (!f.categories.empty()) {
    bool any = false;
    for (const std::string& c : f.categories) {
      for (const std::string& have : folded_categories_[d]) any = any || have == c;
    }
    if (!any) return false;
  }
  if (f.price_min || f.price_max) {
    if (!doc.price) return false;
    if (f.price_min && *doc.price < *f.price_min) return false;
    if (f.price_max && *doc.price > *f.price_max) return false;
  }
  if (f.in_stock && doc.in_stock != f.in_stock) return false;
  for (const auto& [k, v] : f.attributes) {
    bool found = false;
    for (const auto& [dk, dv] : folded_attributes_[d]) found = found || (dk == k && dv == v);
    if (!found) return false;
  }
  for (const index::Filter::Range& r : f.numeric) {
    bool found = false;
    for (const auto& [k, v] : doc.numeric) {
      if (k == r.key) found = (!r.min || v >= *r.min) && (!r.max || v <= *r.max);
    }
    if (!found) return false;
  }
  return true;
}

index::IndexDoc SearchCatalog::ToIndexDoc(uint32_t d) const {
  const CatalogDoc& c = docs_[d];
  index::IndexDoc doc;
  doc.doc = d;
  doc.external_id = c.external_id;
  doc.title = c.title;
  doc.brand = c.brand;
  doc.description = c.description;
  doc.category_path = c.category_path;
  doc.attributes = c.attributes;
  doc.price = c.price;
  doc.in_stock = c.in_stock;
  doc.popularity = popularity_.empty() ? 0 : popularity_[d];
  doc.numeric = c.numeric;
  return doc;
}

}  // namespace souk::search
