// UserProfiles: per-user category, brand and price affinity learned from
// behavior events, used to re-rank search results for a known user.
//
// Each event of a user on a catalog item adds a weight (view/click 1, cart 3,
// purchase 5, rating value-3 when positive) decayed by age (half-life
// `half_life_days` before the newest event of the log) to the item's category
// (every level), brand and to a weighted log-price mean/variance. Affinity of
// a document = mean of (category share, brand share, price fit) where a share
// is the user's weight on that value over the user's total weight and price fit
// = exp(-z^2/2) of the document's log price against the user's.
//
// Thread-safety: immutable after Finish; Affinity is const.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "search/catalog.h"
#include "store/types.h"

namespace souk::search {

class UserProfiles {
 public:
  struct Options {
    double half_life_days = 30;
  };
  explicit UserProfiles(const SearchCatalog* catalog) : UserProfiles(catalog, Options{}) {}
  UserProfiles(const SearchCatalog* catalog, Options o) : catalog_(catalog), options_(o) {}

  void AddEvent(const store::Event& e);
  void Finish();

  bool Has(const std::string& user) const { return users_.count(user) != 0; }
  size_t size() const { return users_.size(); }
  // 0..1; parts (category, brand, price) are returned when `parts` is set.
  double Affinity(const std::string& user, uint32_t doc,
                  std::vector<std::pair<std::string, double>>* parts = nullptr) const;
  // The same against another catalog (a live-updated copy of the one the
  // profiles were built from: profiles hold categories, brands and prices, not docs).
  double Affinity(const std::string& user, const SearchCatalog& catalog, uint32_t doc,
                  std::vector<std::pair<std::string, double>>* parts = nullptr) const;

 private:
  struct Profile {
    std::unordered_map<std::string, double> category, brand;
    double total = 0;
    double price_w = 0, price_sum = 0, price_sq = 0;
  };
  struct Pending {
    std::string user;
    uint32_t doc;
    double weight;
    int64_t ts;
  };
  const SearchCatalog* catalog_;
  Options options_;
  std::vector<Pending> pending_;
  std::unordered_map<std::string, Profile> users_;
};

}  // namespace souk::search
