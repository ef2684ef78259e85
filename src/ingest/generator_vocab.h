// Vocabulary of the synthetic store (internal to souk_generator): the bilingual
// category tree, brands, attribute values, title words, frequently-bought-together
// leaf pairs, and a small simplified -> traditional Chinese character map.
//
// Everything here is immutable static data (constant tables); thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace souk::gen::internal {

// What kind of product a leaf category holds; decides attributes and title shape.
enum class ProductKind : uint8_t {
  kDevice,   // electronics and appliances: color, size class, material
  kApparel,  // clothing: color, S..XXL, fabric
  kShoes,    // footwear: color, EU size, material
  kHome,     // furniture, cookware, bags, gear: color, size, material
  kLiquid,   // consumable sold by volume ("500ml")
  kFood,     // consumable sold by weight ("500g")
  kPack,     // consumable sold by count ("30 pcs")
  kBook,     // books: no color/material, size = format
};

bool IsConsumable(ProductKind kind);

struct LeafSpec {
  std::string_view en;    // leaf name, also the product noun ("Headphones")
  std::string_view zh;    // Chinese leaf name / noun ("耳机")
  double median_usd;      // median price of the leaf in USD
  ProductKind kind;
};

struct MidSpec {
  std::string_view en;
  std::string_view zh;
  std::vector<LeafSpec> leaves;
};

struct TopSpec {
  std::string_view en;
  std::string_view zh;
  std::vector<MidSpec> mids;
};

struct BrandSpec {
  std::string_view en;
  std::string_view zh;
  bool chinese;   // a Chinese brand (preferred by zh items)
  double tier;    // price multiplier (0.7 budget .. 1.8 premium)
};

struct WordPair {
  std::string_view en;
  std::string_view zh;
};

// A flattened leaf with its path, for fast lookup.
struct Leaf {
  int top = 0;
  int mid = 0;
  const LeafSpec* spec = nullptr;
  std::string path_en;  // "Electronics > Audio > Headphones"
  std::string path_zh;  // "数码 > 音频 > 耳机"
};

// A true frequently-bought-together relation between two leaves.
struct ComplementRule {
  std::string_view from_leaf_en;
  std::string_view to_leaf_en;
  double strength;  // probability that buying `from` also buys `to` in the session
};

const std::vector<TopSpec>& Taxonomy();
// All leaves in taxonomy order (top, mid, leaf).
const std::vector<Leaf>& Leaves();
// Brands of a top category (index into Taxonomy()).
const std::vector<BrandSpec>& BrandsOf(int top);
const std::vector<WordPair>& Colors();
// Materials per kind (empty for consumables and books).
const std::vector<WordPair>& MaterialsOf(ProductKind kind);
// Size values per kind (EU sizes for shoes, S..XXL for apparel, ...).
const std::vector<WordPair>& SizesOf(ProductKind kind);
// Title adjectives per kind ("Wireless"/"无线").
const std::vector<WordPair>& FeaturesOf(ProductKind kind);
// Package amounts per consumable kind ("500ml", "1kg", "30 pcs"); empty otherwise.
const std::vector<std::string_view>& AmountsOf(ProductKind kind);
// Model-name parts ("Air" + "Beat" + " 3").
const std::vector<std::string_view>& ModelPrefixes();
const std::vector<std::string_view>& ModelSuffixes();
const std::vector<ComplementRule>& ComplementRules();

// Index of the leaf whose English name is `en`, or -1.
int FindLeaf(std::string_view en);

// Converts simplified Chinese characters of the generator's vocabulary to their
// traditional forms; other code points are copied unchanged. Input is UTF-8.
std::string ToTraditional(std::string_view simplified);

}  // namespace souk::gen::internal
