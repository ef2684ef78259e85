// Catalog and shopper generation: compact items with Zipf popularity, log-normal
// prices per leaf, true complements; users with latent preferences and bots.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

#include "ingest/generator_internal.h"

namespace souk::gen::internal {

AliasTable::AliasTable(const std::vector<double>& weights) {
  const size_t n = weights.size();
  if (n == 0) return;
  prob_.assign(n, 0.0f);
  alias_.assign(n, 0);
  double total = 0;
  for (double w : weights) total += std::max(0.0, w);
  std::vector<double> scaled(n);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = total > 0 ? std::max(0.0, weights[i]) * static_cast<double>(n) / total : 1.0;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    uint32_t s = small.back();
    small.pop_back();
    uint32_t l = large.back();
    prob_[s] = static_cast<float>(scaled[s]);
    alias_[s] = l;
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  for (uint32_t i : large) { prob_[i] = 1.0f; alias_[i] = i; }
  for (uint32_t i : small) { prob_[i] = 1.0f; alias_[i] = i; }
}

uint32_t AliasTable::Sample(Rng& rng) const {
  const uint32_t i = static_cast<uint32_t>(rng.Below(prob_.size()));
  return rng.Uniform() < prob_[i] ? i : alias_[i];
}

namespace {

constexpr double kUsdToCny = 7.1;

// Prices end the way shops price things: 49.99 / 4.29 in USD, 299 / 39.9 in CNY.
double ShopPrice(double p, Lang lang) {
  double v;
  if (lang == Lang::kZh) {
    v = p >= 100 ? std::round(p) : std::max(0.9, std::floor(p) + 0.9);
  } else if (p >= 10) {
    v = std::floor(p) + 0.99;
  } else {
    v = std::max(0.49, std::round(p * 10.0) / 10.0 - 0.01);
  }
  return std::round(v * 100.0) / 100.0;  // the double nearest to whole cents
}

// Brand index for a top category: zh items prefer Chinese brands, en items
// Western ones; within that, earlier brands are more popular (Zipf-like).
uint8_t PickBrand(int top, Lang lang, Rng& rng) {
  const auto& brands = BrandsOf(top);
  std::vector<double> w(brands.size());
  for (size_t i = 0; i < brands.size(); ++i) {
    const bool match = brands[i].chinese == (lang == Lang::kZh);
    w[i] = (match ? 0.8 : 0.2) / (1.0 + 0.35 * static_cast<double>(i));
  }
  double total = std::accumulate(w.begin(), w.end(), 0.0);
  double r = rng.Uniform() * total;
  for (size_t i = 0; i < w.size(); ++i) {
    if ((r -= w[i]) < 0) return static_cast<uint8_t>(i);
  }
  return static_cast<uint8_t>(w.size() - 1);
}

}  // namespace

Catalog BuildCatalog(const GeneratorOptions& options, const std::vector<Lang>& langs) {
  Catalog c;
  const auto& leaves = Leaves();
  const size_t n = static_cast<size_t>(options.items);
  Rng rng(Mix(options.seed, 0xCA7A106));
  for (Lang l : langs) c.has_lang[static_cast<int>(l)] = true;
  const bool both = c.has_lang[0] && c.has_lang[1];

  // How many items each leaf holds: log-normal shares.
  std::vector<double> leaf_share(leaves.size());
  for (double& s : leaf_share) s = rng.LogNormal(0, 0.6);
  AliasTable leaf_pick(leaf_share);

  // Popularity: a random permutation of Zipf ranks, so ids do not reveal it.
  std::vector<uint32_t> rank(n);
  std::iota(rank.begin(), rank.end(), 0u);
  for (size_t i = n; i > 1; --i) std::swap(rank[i - 1], rank[rng.Below(i)]);

  c.items.resize(n);
  for (size_t i = 0; i < n; ++i) {
    Item& it = c.items[i];
    it.lang = both ? (rng.Chance(options.zh_share) ? Lang::kZh : Lang::kEn) : langs[0];
    it.leaf = static_cast<uint16_t>(leaf_pick.Sample(rng));
    const Leaf& leaf = leaves[it.leaf];
    const ProductKind kind = leaf.spec->kind;
    it.brand = PickBrand(leaf.top, it.lang, rng);
    it.color = static_cast<uint8_t>(rng.Below(Colors().size()));
    const size_t nm = MaterialsOf(kind).size();
    it.material = nm ? static_cast<uint8_t>(rng.Below(nm)) : 0;
    const size_t ns = SizesOf(kind).size();
    it.size = ns ? static_cast<uint8_t>(rng.Below(ns)) : 0;
    it.feature = static_cast<uint8_t>(rng.Below(FeaturesOf(kind).size()));
    const size_t na = AmountsOf(kind).size();
    it.amount = na ? static_cast<uint8_t>(rng.Below(na)) : 0;
    it.model_prefix = static_cast<uint8_t>(rng.Below(ModelPrefixes().size()));
    it.model_suffix = static_cast<uint8_t>(rng.Below(ModelSuffixes().size()));
    it.model_number = static_cast<uint8_t>(rng.Range(1, 9));
    it.traditional = it.lang == Lang::kZh && rng.Chance(options.traditional_fraction);
    it.quality = static_cast<float>(std::clamp(0.6 + 0.18 * rng.Normal(), 0.0, 1.0));
    // Log-normal price around the leaf median, scaled by brand tier and by the
    // package amount for consumables.
    double median = leaf.spec->median_usd;
    const double tier = BrandsOf(leaf.top)[it.brand].tier;
    double amount_scale = na ? std::pow(1.6, static_cast<double>(it.amount) - (na - 1) / 2.0) : 1.0;
    double p = median * tier * amount_scale * rng.LogNormal(0, 0.35);
    if (it.lang == Lang::kZh) {
      p *= kUsdToCny;
      median *= kUsdToCny;
    }
    it.median = static_cast<float>(median * tier * amount_scale);
    if (rng.Chance(options.price_outlier_fraction)) {
      it.outlier = true;
      // Absurd price: 40-120x the typical price of such an item, or one cent.
      p = rng.Chance(0.5) ? static_cast<double>(it.median) * rng.Range(40, 120) : 0.01;
      it.price = p >= 1 ? std::round(p * 100) / 100 : 0.01;
    } else {
      it.price = ShopPrice(p, it.lang);
    }
    it.weight = static_cast<float>(1.0 / std::pow(static_cast<double>(rank[i]) + 1.0, 1.0));
    it.created_at = options.start_time - static_cast<int64_t>(rng.Below(365 * 86400));
  }

  // Per leaf and language: items and their alias tables.
  for (int l = 0; l < 2; ++l) {
    c.leaf_items[l].assign(leaves.size(), {});
    c.leaf_weight[l].assign(leaves.size(), 0.0);
  }
  for (uint32_t i = 0; i < n; ++i) {
    const Item& it = c.items[i];
    const int l = static_cast<int>(it.lang);
    c.leaf_items[l][it.leaf].push_back(i);
    c.leaf_weight[l][it.leaf] += it.weight;
  }
  for (int l = 0; l < 2; ++l) {
    c.leaf_alias[l].resize(leaves.size());
    for (size_t f = 0; f < leaves.size(); ++f) {
      std::vector<double> w;
      w.reserve(c.leaf_items[l][f].size());
      for (uint32_t i : c.leaf_items[l][f]) w.push_back(c.items[i].weight);
      c.leaf_alias[l][f] = AliasTable(w);
    }
    c.leaf_popularity[l] = AliasTable(c.leaf_weight[l]);
  }

  // True complements: each item of a `from` leaf gets one or two partners in the
  // `to` leaf of the same language, preferring the same brand.
  std::vector<std::tuple<uint32_t, uint32_t, float>> pairs;
  for (const ComplementRule& rule : ComplementRules()) {
    const int from = FindLeaf(rule.from_leaf_en);
    const int to = FindLeaf(rule.to_leaf_en);
    if (from < 0 || to < 0) continue;
    for (int l = 0; l < 2; ++l) {
      const auto& targets = c.leaf_items[l][to];
      if (targets.empty()) continue;
      for (uint32_t i : c.leaf_items[l][from]) {
        const int k = rng.Chance(0.5) ? 2 : 1;
        uint32_t first = UINT32_MAX;
        for (int j = 0; j < k; ++j) {
          uint32_t best = UINT32_MAX;
          for (int tries = 0; tries < 4; ++tries) {
            uint32_t cand = targets[c.leaf_alias[l][to].Sample(rng)];
            if (cand == first) continue;
            if (best == UINT32_MAX) best = cand;
            if (c.items[cand].brand == c.items[i].brand) { best = cand; break; }
          }
          if (best == UINT32_MAX) continue;
          first = best;
          pairs.emplace_back(i, best, static_cast<float>(rule.strength * (j == 0 ? 1.0 : 0.5)));
        }
      }
    }
  }
  std::sort(pairs.begin(), pairs.end());
  c.comp_begin.assign(n + 1, 0);
  for (size_t k = 0; k < pairs.size(); ++k) {
    const auto& [a, b, s] = pairs[k];
    if (k > 0 && std::get<0>(pairs[k - 1]) == a && std::get<1>(pairs[k - 1]) == b) continue;
    c.comp_items.push_back(b);
    c.comp_strength.push_back(s);
    c.comp_begin[a + 1] = static_cast<uint32_t>(c.comp_items.size());
  }
  for (size_t i = 1; i <= n; ++i) c.comp_begin[i] = std::max(c.comp_begin[i], c.comp_begin[i - 1]);
  return c;
}

const std::vector<std::string_view>& Countries(Lang lang) {
  static const std::vector<std::string_view> kEn = {"US", "GB", "CA", "AU", "DE", "FR", "IN"};
  static const std::vector<std::string_view> kZh = {"CN", "TW", "HK"};
  return lang == Lang::kZh ? kZh : kEn;
}

std::string_view SegmentOf(const User& user) {
  if (user.bot) return "unknown";
  if (user.price_level < -0.15f) return "budget";
  if (user.price_level > 0.2f) return "premium";
  return "mainstream";
}

std::vector<User> BuildUsers(const GeneratorOptions& options, const Catalog& catalog,
                             const std::vector<Lang>& langs) {
  const size_t n = static_cast<size_t>(options.users);
  Rng rng(Mix(options.seed, 0x05E25));
  const bool both = catalog.has_lang[0] && catalog.has_lang[1];
  const auto& leaves = Leaves();
  std::vector<std::vector<uint16_t>> leaves_of_top(Taxonomy().size());
  for (size_t f = 0; f < leaves.size(); ++f) leaves_of_top[leaves[f].top].push_back(static_cast<uint16_t>(f));

  std::vector<User> users(n);
  for (size_t u = 0; u < n; ++u) {
    User& us = users[u];
    us.lang = both ? (rng.Chance(options.zh_share) ? Lang::kZh : Lang::kEn) : langs[0];
    const int l = static_cast<int>(us.lang);
    if (us.lang == Lang::kZh) {
      const double r = rng.Uniform();
      us.country = r < 0.8 ? 0 : r < 0.92 ? 1 : 2;
      us.traditional = us.country != 0;
    } else {
      static const double kShare[] = {0.45, 0.15, 0.10, 0.08, 0.08, 0.07, 0.07};
      double r = rng.Uniform();
      us.country = 6;
      for (uint8_t k = 0; k < 7; ++k) {
        if ((r -= kShare[k]) < 0) { us.country = k; break; }
      }
    }
    us.activity = static_cast<float>(rng.LogNormal(-0.5, 1.0));
    us.price_level = static_cast<float>(0.3 * rng.Normal());
    us.price_sensitivity = static_cast<float>(rng.LogNormal(0, 0.5));
    us.buy_propensity = static_cast<float>(rng.LogNormal(0, 0.4));
    const double d = rng.Uniform();
    us.device = d < 0.6 ? Device::kMobile : d < 0.93 ? Device::kDesktop : Device::kTablet;
    // Two or three favorite leaves: the first by popularity, the second often a
    // sibling in the same top category, the third anywhere.
    const AliasTable& pop = catalog.leaf_popularity[l];
    us.fav_leaf[0] = static_cast<uint16_t>(pop.Sample(rng));
    const auto& siblings = leaves_of_top[leaves[us.fav_leaf[0]].top];
    us.fav_leaf[1] = rng.Chance(0.5) ? siblings[rng.Below(siblings.size())]
                                     : static_cast<uint16_t>(pop.Sample(rng));
    us.fav_leaf[2] = static_cast<uint16_t>(pop.Sample(rng));
    double w0 = 0.4 + 0.4 * rng.Uniform(), w1 = (1 - w0) * (0.5 + 0.5 * rng.Uniform());
    double w2 = rng.Chance(0.4) ? 0.0 : 1 - w0 - w1;  // ~40% have only two favorites
    const double ws = w0 + w1 + w2;
    us.fav_weight[0] = static_cast<float>(w0 / ws);
    us.fav_weight[1] = static_cast<float>(w1 / ws);
    us.fav_weight[2] = static_cast<float>(w2 / ws);
    for (int k = 0; k < 2; ++k) {
      const int top = leaves[us.fav_leaf[k]].top;
      us.fav_brand_top[k] = static_cast<uint8_t>(top);
      us.fav_brand[k] = PickBrand(top, us.lang, rng);
    }
    us.cycle_days = static_cast<uint8_t>(rng.Range(20, 40));
    us.created_at = options.start_time - static_cast<int64_t>(rng.Below(730 * 86400));
  }
  // Bots: a fixed share of users, at least one when the share is positive and
  // there are 100+ users; they are busy.
  size_t n_bots = static_cast<size_t>(std::llround(options.bot_fraction * static_cast<double>(n)));
  if (n_bots == 0 && options.bot_fraction > 0 && n >= 100) n_bots = 1;
  for (size_t b = 0, guard = 0; b < n_bots && guard < n * 4; ++guard) {
    User& us = users[rng.Below(n)];
    if (us.bot) continue;
    us.bot = true;
    us.activity = 3.0f;
    us.device = Device::kDesktop;
    ++b;
  }
  return users;
}

}  // namespace souk::gen::internal
