#include "search/personalization.h"

#include <algorithm>
#include <cmath>

namespace souk::search {

void UserProfiles::AddEvent(const store::Event& e) {
  if (e.user_id.empty() || e.item_id.empty()) return;
  const std::optional<uint32_t> doc = catalog_->Find(e.item_id);
  if (!doc) return;
  double w = 0;
  switch (e.type) {
    case store::EventType::kView:
    case store::EventType::kClick: w = 1; break;
    case store::EventType::kAddToCart: w = 3; break;
    case store::EventType::kPurchase: w = 5; break;
    case store::EventType::kRating: w = e.value ? std::max(0.0, *e.value - 3) : 0; break;
    default: break;
  }
  if (w <= 0) return;
  pending_.push_back({e.user_id, *doc, w, e.timestamp_ms});
}

void UserProfiles::Finish() {
  int64_t newest = 0;
  for (const Pending& p : pending_) newest = std::max(newest, p.ts);
  const double half_life_ms = options_.half_life_days * 86400e3;
  for (const Pending& p : pending_) {
    const double age = static_cast<double>(newest - p.ts);
    const double w = p.weight * std::exp2(-age / std::max(1.0, half_life_ms));
    Profile& prof = users_[p.user];
    const CatalogDoc& d = catalog_->doc(p.doc);
    for (const std::string& c : catalog_->folded_categories(p.doc)) prof.category[c] += w;
    if (!catalog_->folded_brand(p.doc).empty()) prof.brand[catalog_->folded_brand(p.doc)] += w;
    prof.total += w;
    if (d.price && *d.price > 0) {
      const double lp = std::log(*d.price);
      prof.price_w += w;
      prof.price_sum += w * lp;
      prof.price_sq += w * lp * lp;
    }
  }
  pending_.clear();
  pending_.shrink_to_fit();
}

double UserProfiles::Affinity(const std::string& user, uint32_t doc,
                              std::vector<std::pair<std::string, double>>* parts) const {
  return Affinity(user, *catalog_, doc, parts);
}

double UserProfiles::Affinity(const std::string& user, const SearchCatalog& catalog, uint32_t doc,
                              std::vector<std::pair<std::string, double>>* parts) const {
  const SearchCatalog* catalog_ = &catalog;  // shadows the member on purpose
  auto it = users_.find(user);
  if (it == users_.end() || it->second.total <= 0) return 0;
  const Profile& p = it->second;
  const CatalogDoc& d = catalog_->doc(doc);
  double cat = 0;
  for (const std::string& c : catalog_->folded_categories(doc)) {
    auto ci = p.category.find(c);
    if (ci != p.category.end()) cat = std::max(cat, ci->second / p.total);
  }
  double brand = 0;
  if (!catalog_->folded_brand(doc).empty()) {
    auto bi = p.brand.find(catalog_->folded_brand(doc));
    if (bi != p.brand.end()) brand = bi->second / p.total;
  }
  double price = 0;
  if (p.price_w > 0 && d.price && *d.price > 0) {
    const double mean = p.price_sum / p.price_w;
    const double var = std::max(0.05, p.price_sq / p.price_w - mean * mean);
    const double z = (std::log(*d.price) - mean) / std::sqrt(var);
    price = std::exp(-0.5 * z * z);
  }
  if (parts != nullptr) {
    *parts = {{"category", cat}, {"brand", brand}, {"price", price}};
  }
  return (cat + brand + price) / 3.0;
}

}  // namespace souk::search
