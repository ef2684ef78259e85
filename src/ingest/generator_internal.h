// Internals of souk_generator shared by generator*.cc: the PRNG, the compact
// catalog and shopper state, text builders and the buffered file writer.
// Not part of the module's API. Nothing here is thread-safe; one generator run
// owns all of it.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ingest/generator.h"
#include "ingest/generator_vocab.h"

namespace souk::gen::internal {

// splitmix64: used to seed and to hash; xoshiro256** for the streams.
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t s = a * 0x9E3779B97F4A7C15ULL + b;
  return SplitMix64(&s);
}

// xoshiro256**: deterministic across platforms. Distribution helpers are our own.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t s = seed;
    for (auto& w : s_) w = SplitMix64(&s);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n); n > 0.
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>(Uniform() * static_cast<double>(n)); }
  int Range(int lo, int hi) { return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo + 1))); }
  bool Chance(double p) { return Uniform() < p; }
  double Normal() {
    double u1 = Uniform();
    double u2 = Uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double LogNormal(double mu, double sigma) { return std::exp(mu + sigma * Normal()); }
  // Geometric number of trials >= 1 with the given mean (>= 1).
  int Geometric(double mean) {
    double p = 1.0 / mean;
    int n = 1;
    while (n < 1000 && !Chance(p)) ++n;
    return n;
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[Below(v.size())]; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Walker alias table over non-negative weights; O(1) sampling.
class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(const std::vector<double>& weights);
  bool empty() const { return prob_.empty(); }
  size_t size() const { return prob_.size(); }
  uint32_t Sample(Rng& rng) const;

 private:
  std::vector<float> prob_;
  std::vector<uint32_t> alias_;
};

enum class Lang : uint8_t { kEn = 0, kZh = 1 };

// One catalog item, compact; text is rebuilt from these fields on demand.
struct Item {
  double price = 0;        // in the item's currency (USD for en, CNY for zh)
  float median = 0;        // leaf median in the item's currency (for outlier truth)
  float quality = 0;       // latent quality in [0, 1] (ratings, conversion)
  float weight = 0;        // Zipf popularity weight
  uint16_t leaf = 0;
  uint8_t brand = 0;       // index into BrandsOf(top)
  Lang lang = Lang::kEn;
  uint8_t color = 0, material = 0, size = 0, feature = 0, amount = 0;
  uint8_t model_prefix = 0, model_suffix = 0, model_number = 0;
  bool traditional = false;
  bool outlier = false;
  int64_t created_at = 0;
};

// Items, popularity sampling tables and the true complements.
struct Catalog {
  std::vector<Item> items;
  // Per leaf and language: the items and an alias table over their weights.
  std::vector<std::vector<uint32_t>> leaf_items[2];
  std::vector<AliasTable> leaf_alias[2];
  AliasTable leaf_popularity[2];  // leaves by total item weight, per language
  std::vector<double> leaf_weight[2];
  // complements of item i: comp_items[comp_begin[i] .. comp_begin[i+1]).
  std::vector<uint32_t> comp_begin;
  std::vector<uint32_t> comp_items;
  std::vector<float> comp_strength;
  bool has_lang[2] = {false, false};
};

enum class Device : uint8_t { kMobile, kDesktop, kTablet };

// One shopper's latent preferences and the little state carried between sessions.
struct User {
  float activity = 1;         // relative session rate
  float price_level = 0;      // preferred log(price / leaf median)
  float price_sensitivity = 1;// how much price distance lowers utility
  float buy_propensity = 1;   // multiplies cart/purchase probabilities
  uint16_t fav_leaf[3] = {0, 0, 0};
  float fav_weight[3] = {0.5f, 0.3f, 0.2f};
  uint8_t fav_brand_top[2] = {0, 0};  // (top category, brand) pairs
  uint8_t fav_brand[2] = {0, 0};
  uint8_t country = 0;
  Lang lang = Lang::kEn;
  Device device = Device::kMobile;
  bool bot = false;
  bool traditional = false;   // TW/HK shoppers type traditional characters
  uint8_t cycle_days = 30;    // replenishment cycle for consumables
  uint32_t consumable = UINT32_MAX;  // last consumable bought
  int32_t consumable_due_day = -1;
  uint32_t pending_rating = UINT32_MAX;
  int64_t created_at = 0;
};

std::string ItemId(uint32_t index);     // "P000123" (1-based number, >= 6 digits)
std::string UserId(uint32_t index);     // "U000042"
std::string SessionId(uint64_t index);  // "S00000001"

// Text of an item.
std::string ItemTitle(const Item& item);
std::string ItemDescription(const Item& item, uint64_t seed);
std::string ItemCategoryPath(const Item& item);
// A search query a shopper might type to find `item` (attributes, typos, script).
std::string MakeQuery(const Item& item, const User& user, double typo_rate, Rng& rng);

// Catalog and users (generator_catalog.cc).
Catalog BuildCatalog(const GeneratorOptions& options, const std::vector<Lang>& langs);
std::vector<User> BuildUsers(const GeneratorOptions& options, const Catalog& catalog,
                             const std::vector<Lang>& langs);
const std::vector<std::string_view>& Countries(Lang lang);
std::string_view SegmentOf(const User& user);

// RFC 4180 field: quoted when it holds a comma, quote, CR or LF.
void AppendCsvField(std::string_view field, std::string* out);

// A FILE* with a large buffer; errors are remembered and reported by Close().
class FileWriter {
 public:
  FileWriter() = default;
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  Status Open(const std::string& path);
  void Write(std::string_view data);
  // Writes `buf` when it is larger than `threshold` and clears it.
  void Flush(std::string* buf, size_t threshold = 1 << 20) {
    if (buf->size() >= threshold) {
      Write(*buf);
      buf->clear();
    }
  }
  Status Close();
  uint64_t bytes() const { return bytes_; }
  const std::string& path() const { return path_; }

 private:
  FILE* f_ = nullptr;
  std::string path_;
  uint64_t bytes_ = 0;
  bool failed_ = false;
};

// Counters filled by the behavior simulation.
struct BehaviorCounts {
  int64_t sessions = 0;
  int64_t events_train = 0;
  int64_t events_holdout = 0;
  int64_t purchases = 0;
  int64_t future_purchases = 0;
};

// Simulates every session of every day and writes events.csv and the behavior
// ground truth (sessions.csv, holdout_events.csv, future_purchases.csv) into
// `out_dir`. Mutates `users` (state carried between sessions).
Status SimulateBehavior(const GeneratorOptions& options, const Catalog& catalog,
                        std::vector<User>& users, const std::string& out_dir,
                        BehaviorCounts* counts);

}  // namespace souk::gen::internal
