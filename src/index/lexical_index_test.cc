#include "index/lexical_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/testing.h"
#include "ingest/csv_reader.h"

namespace souk::index {
namespace {

using Strings = std::vector<std::string>;

// The golden catalog: 30 hand-made products.
std::vector<IndexDoc> Catalog() {
  struct Row {
    const char* title;
    const char* brand;
    Strings category;
    std::vector<std::pair<std::string, std::string>> attrs;
    std::optional<double> price;
    std::optional<bool> in_stock;
    double popularity;
    std::optional<double> screen;
    const char* description = "";
  };
  const std::vector<Row> rows = {
      {"Samsung 55 inch 4K Smart TV", "Samsung", {"Electronics", "TV"}, {{"color", "black"}}, 499, true, 90, 55},
      {"Samsung 65 inch QLED TV", "Samsung", {"Electronics", "TV"}, {{"color", "black"}}, 899, true, 70, 65},
      {"Samsung Galaxy S23 Phone", "Samsung", {"Electronics", "Phones"}, {{"color", "black"}}, 799, true, 95, {}},
      {"Samsung Galaxy Buds Wireless Earbuds", "Samsung", {"Electronics", "Audio"}, {{"color", "white"}}, 99, false, 40, {}},
      {"LG 55 inch OLED TV", "LG", {"Electronics", "TV"}, {{"color", "black"}}, 1299, true, 60, 55},
      {"LG Front Load Washer", "LG", {"Appliances", "Laundry"}, {{"color", "white"}}, 650, true, 30, {}},
      {"Sony Wireless Headphones WH-1000XM5", "Sony", {"Electronics", "Audio"}, {{"color", "black"}}, 349, true, 85, {}},
      {"Sony Bravia 50 inch TV", "Sony", {"Electronics", "TV"}, {{"color", "silver"}}, 549, false, 50, 50},
      {"Apple iPhone 15 Phone", "Apple", {"Electronics", "Phones"}, {{"color", "blue"}}, 999, true, 99, {}},
      {"Apple AirPods Pro Earbuds", "Apple", {"Electronics", "Audio"}, {{"color", "white"}}, 249, true, 88, {}},
      {"TV Stand for 65 inch TVs, Walnut", "Walker Edison", {"Furniture", "TV Stands"}, {{"color", "brown"}}, 159, true, 20, {}},
      {"Samsung TV Wall Mount Bracket", "Mounting Dream", {"Electronics", "Accessories"}, {{"color", "black"}}, 39.99, true, 25, {}},
      {"华为 Mate 60 Pro 手机", "华为", {"电子", "手机"}, {{"color", "black"}}, 5999, true, 80, {}},
      {"小米 电视 55寸", "小米", {"电子", "电视"}, {{"color", "black"}}, 2999, true, 70, 55},
      {"Stainless Steel Angle Bracket 4-Pack", "Simpson", {"Hardware", "Brackets"}, {{"color", "silver"}}, 12.5, true, 15, {}},
      {"Wood Screws 2 in. 100-Pack", "Grip-Rite", {"Hardware", "Fasteners"}, {{"color", "silver"}}, 8.97, true, 35, {}},
      {"Cordless Drill 20V", "DeWalt", {"Tools", "Power Tools"}, {{"color", "yellow"}}, 129, true, 65, {}},
      {"Cordless Impact Driver 20V", "DeWalt", {"Tools", "Power Tools"}, {{"color", "yellow"}}, 149, false, 45, {}},
      {"Running Shoes for Men", "Nike", {"Apparel", "Shoes"}, {{"color", "black"}, {"size", "10"}}, 89.99, true, 75, {}},
      {"Running Shoes for Women", "Nike", {"Apparel", "Shoes"}, {{"color", "pink"}, {"size", "8"}}, 89.99, true, 72, {}},
      {"Trail Running Jacket", "Patagonia", {"Apparel", "Jackets"}, {{"color", "green"}, {"size", "M"}}, 199, true, 55, {}},
      {"Organic Green Tea 100 Bags", "Twinings", {"Grocery", "Tea"}, {}, 6.49, true, 33, {}, "loose leaf from Assam"},
      {"Bottled Water 5 L", "Nestle", {"Grocery", "Water"}, {}, 3.99, true, 10, {}},
      {"Refurbished Samsung Monitor 27 inch", "samsung", {"Electronics", "Monitors"}, {{"color", "black"}}, 179, true, 22, 27},
      {"Wireless Mouse", "Logitech", {"Electronics", "Accessories"}, {{"color", "black"}}, 24.99, true, 60, {}},
      {"Gift Card", "", {}, {}, {}, {}, 5, {}},
      {"Television Antenna Indoor", "Mohu", {"Electronics", "TV"}, {{"color", "black"}}, 29.99, true, 18, {}},
      {"Coffee Maker 12 Cup", "Mr. Coffee", {"Appliances", "Kitchen"}, {{"color", "black"}}, 49.99, true, 58, {}},
      {"Espresso Machine", "Breville", {"Appliances", "Kitchen"}, {{"color", "silver"}}, 699, false, 48, {}},
      {"ＳＡＭＳＵＮＧ Soundbar", "ＳＡＭＳＵＮＧ", {"Electronics", "Audio"}, {{"color", "black"}}, 279, true, 41, {}},
  };
  std::vector<IndexDoc> docs;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    IndexDoc d;
    d.doc = static_cast<uint32_t>(i);
    d.external_id = "sku-" + std::to_string(i);
    d.title = r.title;
    d.brand = r.brand;
    d.description = r.description;
    d.category_path = r.category;
    d.attributes = r.attrs;
    d.price = r.price;
    d.in_stock = r.in_stock;
    d.popularity = r.popularity;
    if (r.screen) d.numeric.push_back({"screen_size", *r.screen});
    docs.push_back(std::move(d));
  }
  return docs;
}

LexicalIndexOptions TestOptions() {
  LexicalIndexOptions o;
  o.numeric_attributes = {"screen_size"};
  return o;
}

std::vector<uint32_t> Docs(const LexicalResult& r) {
  std::vector<uint32_t> out;
  for (const LexicalHit& h : r.hits) out.push_back(h.doc);
  return out;
}
std::set<uint32_t> DocSet(const LexicalResult& r) {
  std::vector<uint32_t> d = Docs(r);
  return {d.begin(), d.end()};
}
using Facets = std::vector<std::pair<std::string, uint64_t>>;
Facets FacetOf(const LexicalResult& r, const std::string& name) {
  Facets out;
  auto it = r.facets.find(name);
  if (it == r.facets.end()) return out;
  for (const FacetCount& c : it->second) out.push_back({c.value, c.count});
  return out;
}

class LexicalIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto index = LexicalIndex::Open("", TestOptions());
    ASSERT_OK(index);
    index_ = std::move(*index);
    docs_ = Catalog();
    ASSERT_OK(index_->AddBatch(docs_));
    ASSERT_OK(index_->Commit());
  }
  LexicalQuery Query(std::string_view text) const {
    LexicalQuery q;
    q.terms = index_->analyzer().Terms(text);
    return q;
  }
  LexicalResult Run(const LexicalQuery& q) const {
    auto r = index_->Search(q);
    EXPECT_OK(r);
    return r.ok() ? *r : LexicalResult{};
  }

  std::unique_ptr<LexicalIndex> index_;
  std::vector<IndexDoc> docs_;
};

TEST_F(LexicalIndexTest, CountsAndTermStatistics) {
  EXPECT_EQ(index_->DocCount(), 30u);
  // "tv" is in titles 0,1,4,7,10,11 and in the categories of 26 (and 10).
  EXPECT_EQ(index_->TermFrequency("tv"), 7u);
  EXPECT_EQ(index_->TermFrequency("nosuchterm"), 0u);
  auto ext = index_->ExternalId(13);
  ASSERT_OK(ext);
  EXPECT_EQ(*ext, "sku-13");
  EXPECT_EQ(index_->ExternalId(99).status().code(), StatusCode::kNotFound);
  auto completions = index_->CompleteTerm("SAM", 3);
  ASSERT_FALSE(completions.empty());
  EXPECT_EQ(completions[0].first, "samsung");
  EXPECT_EQ(completions[0].second, 7u);  // docs 0,1,2,3,11,23,29
  EXPECT_TRUE(index_->CompleteTerm("", 3).empty());
}

TEST_F(LexicalIndexTest, ExactFacetCounts) {
  LexicalQuery q = Query("tv");
  q.facets = {"brand", "category", "price", "in_stock", "color"};
  q.limit = 3;
  LexicalResult r = Run(q);
  EXPECT_EQ(r.total_matches, 7u);
  EXPECT_EQ(r.hits.size(), 3u);
  EXPECT_EQ(FacetOf(r, "brand"), (Facets{{"Samsung", 2}, {"LG", 1}, {"Mohu", 1},
                                         {"Mounting Dream", 1}, {"Sony", 1}, {"Walker Edison", 1}}));
  EXPECT_EQ(FacetOf(r, "category"), (Facets{{"Electronics", 6}, {"TV", 5}, {"Accessories", 1},
                                            {"Furniture", 1}, {"TV Stands", 1}}));
  EXPECT_EQ(FacetOf(r, "price"), (Facets{{"25-50", 2}, {"500-1000", 2}, {"100-250", 1},
                                         {"1000+", 1}, {"250-500", 1}}));
  EXPECT_EQ(FacetOf(r, "in_stock"), (Facets{{"true", 6}, {"false", 1}}));
  EXPECT_EQ(FacetOf(r, "color"), (Facets{{"black", 5}, {"brown", 1}, {"silver", 1}}));

  // Under a filter the counts follow the filtered set.
  q.filter.in_stock = true;
  r = Run(q);
  EXPECT_EQ(r.total_matches, 6u);
  EXPECT_EQ(FacetOf(r, "in_stock"), (Facets{{"true", 6}}));
  EXPECT_EQ(FacetOf(r, "brand"), (Facets{{"Samsung", 2}, {"LG", 1}, {"Mohu", 1},
                                         {"Mounting Dream", 1}, {"Walker Edison", 1}}));
}

TEST_F(LexicalIndexTest, BrandFacetMergesFoldedSpellings) {
  LexicalQuery q;  // browse everything
  q.facets = {"brand"};
  q.filter.categories = {"electronics"};
  LexicalResult r = Run(q);
  Facets brands = FacetOf(r, "brand");
  ASSERT_FALSE(brands.empty());
  // "Samsung" x4, "samsung" x1, "ＳＡＭＳＵＮＧ" x1 are one brand shown as "Samsung".
  EXPECT_EQ(brands[0], (std::pair<std::string, uint64_t>{"Samsung", 6}));
}

TEST_F(LexicalIndexTest, BrandCategoryAndAttributeFilters) {
  LexicalQuery q;
  q.filter.brands = {"samsung"};  // folded: matches Samsung, samsung and ＳＡＭＳＵＮＧ
  LexicalResult r = Run(q);
  // Browse sorts by popularity desc.
  EXPECT_EQ(Docs(r), (std::vector<uint32_t>{2, 0, 1, 29, 3, 23}));
  EXPECT_EQ(r.total_matches, 6u);

  q = Query("tv");
  q.filter.brands = {"LG", "SONY"};
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{4, 7}));

  q = LexicalQuery{};
  q.filter.categories = {"audio"};
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{3, 6, 9, 29}));
  q.filter.categories = {"Tools", "Grocery"};  // any level, OR within
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{16, 17, 21, 22}));

  q = LexicalQuery{};
  q.filter.attributes = {{"Color", "WHITE"}};
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{3, 5, 9}));
  q.filter.attributes.push_back({"color", "black"});  // ANDed: nothing is white and black
  EXPECT_TRUE(Run(q).hits.empty());

  q = LexicalQuery{};
  q.filter.in_stock = false;
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{3, 7, 17, 28}));

  q = LexicalQuery{};
  q.filter.numeric = {{"screen_size", 55, std::nullopt}};
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{0, 1, 4, 13}));
  q.filter.numeric = {{"screen_size", 50, 55}};
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{0, 4, 7, 13}));
}

TEST_F(LexicalIndexTest, PriceRangeIsInclusive) {
  LexicalQuery q;
  q.filter.price_min = 100;
  q.filter.price_max = 499;
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{0, 6, 9, 10, 16, 17, 20, 23, 29}));
  q.filter.price_max = 498.99;
  EXPECT_EQ(DocSet(Run(q)).count(0), 0u);
  q.filter.price_min = std::nullopt;
  q.filter.price_max = 10;  // open lower end
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{15, 21, 22}));
  q.filter.price_max = std::nullopt;
  q.filter.price_min = 2000;  // open upper end
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{12, 13}));
}

TEST_F(LexicalIndexTest, SortOrders) {
  LexicalQuery q = Query("tv");
  q.sort = SortBy::kPriceAsc;
  EXPECT_EQ(Docs(Run(q)), (std::vector<uint32_t>{26, 11, 10, 0, 7, 1, 4}));
  q.sort = SortBy::kPriceDesc;
  EXPECT_EQ(Docs(Run(q)), (std::vector<uint32_t>{4, 1, 7, 0, 10, 11, 26}));
  q.sort = SortBy::kPopularity;
  EXPECT_EQ(Docs(Run(q)), (std::vector<uint32_t>{0, 1, 4, 7, 11, 10, 26}));

  // The product without a price comes last either way.
  LexicalQuery all;
  all.limit = 100;
  all.sort = SortBy::kPriceAsc;
  std::vector<uint32_t> asc = Docs(Run(all));
  ASSERT_EQ(asc.size(), 30u);
  EXPECT_EQ(asc.front(), 22u);  // 3.99
  EXPECT_EQ(asc.back(), 25u);   // gift card, no price
  all.sort = SortBy::kPriceDesc;
  std::vector<uint32_t> desc = Docs(Run(all));
  EXPECT_EQ(desc.front(), 12u);  // 5999
  EXPECT_EQ(desc.back(), 25u);
}

TEST_F(LexicalIndexTest, AndVersusOr) {
  LexicalQuery q = Query("samsung tv");
  LexicalResult any = Run(q);
  EXPECT_EQ(DocSet(any), (std::set<uint32_t>{0, 1, 2, 3, 4, 7, 10, 11, 23, 26, 29}));
  // Documents with both words rank above those with one.
  std::set<uint32_t> both = {0, 1, 11};
  // Samsung TVs (both words in title, brand and category) rank first.
  EXPECT_EQ((std::set<uint32_t>{any.hits[0].doc, any.hits[1].doc}), (std::set<uint32_t>{0, 1}));
  q.mode = LexicalQuery::Mode::kAnd;
  EXPECT_EQ(DocSet(Run(q)), both);
  // A term absent from the index empties an AND query but not an OR query.
  q = Query("samsung zzzqqq");
  q.mode = LexicalQuery::Mode::kAnd;
  EXPECT_TRUE(Run(q).hits.empty());
  q.mode = LexicalQuery::Mode::kOr;
  EXPECT_EQ(Run(q).total_matches, 7u);
}

TEST_F(LexicalIndexTest, PrefixLast) {
  LexicalQuery q;
  q.terms = {"sams"};
  EXPECT_TRUE(Run(q).hits.empty());
  q.prefix_last = true;
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{0, 1, 2, 3, 11, 23, 29}));
  q.terms = {"samsung", "gal"};
  q.mode = LexicalQuery::Mode::kAnd;
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{2, 3}));
}

TEST_F(LexicalIndexTest, ChineseAndTraditionalQueries) {
  EXPECT_EQ(DocSet(Run(Query("电视"))), (std::set<uint32_t>{13}));
  EXPECT_EQ(DocSet(Run(Query("電視"))), (std::set<uint32_t>{13}));
  EXPECT_EQ(DocSet(Run(Query("華為手機"))).count(12), 1u);
  LexicalQuery q;
  q.filter.brands = {"華為"};  // traditional folds to the simplified brand
  EXPECT_EQ(DocSet(Run(q)), (std::set<uint32_t>{12}));
}

TEST_F(LexicalIndexTest, FieldsAreSearchable) {
  EXPECT_EQ(DocSet(Run(Query("Assam"))), (std::set<uint32_t>{21}));     // description
  EXPECT_EQ(DocSet(Run(Query("Patagonia"))), (std::set<uint32_t>{20}));  // brand
  EXPECT_EQ(DocSet(Run(Query("fasteners"))), (std::set<uint32_t>{15}));  // category
  EXPECT_EQ(DocSet(Run(Query("yellow"))), (std::set<uint32_t>{16, 17}));  // attribute value
  EXPECT_EQ(DocSet(Run(Query("water 5000ml"))), (std::set<uint32_t>{22}));  // quantity canonical
}

TEST_F(LexicalIndexTest, SpellingSuggestions) {
  EXPECT_EQ(index_->SuggestSpelling("samsng"), "samsung");
  EXPECT_EQ(index_->SuggestSpelling("SAMSNG"), "samsung");
  EXPECT_EQ(index_->SuggestSpelling("samsung"), "");  // already a word
  EXPECT_EQ(index_->SuggestSpelling("qwzxv"), "");
  EXPECT_EQ(index_->SuggestSpelling("smsng"), "samsung");  // two edits
  // Words under 4 characters allow a single edit only.
  EXPECT_EQ(index_->SuggestSpelling("cxp"), "cup");
  EXPECT_EQ(index_->SuggestSpelling("xxp"), "");  // "cup" is 2 edits away
  // Past queries extend the dictionary.
  EXPECT_EQ(index_->SuggestSpelling("blendr"), "");
  ASSERT_OK(index_->AddSpellingSource("Blender", 5));
  ASSERT_OK(index_->Commit());  // reads see the last commit
  EXPECT_EQ(index_->SuggestSpelling("blendr"), "blender");
  EXPECT_EQ(index_->AddSpellingSource("x", 0).code(), StatusCode::kInvalidArgument);
}

TEST_F(LexicalIndexTest, Synonyms) {
  ASSERT_OK(index_->AddSynonym("TV", "Television"));
  ASSERT_OK(index_->AddSynonym("tv", "flat screen"));
  ASSERT_OK(index_->Commit());  // reads see the last commit
  EXPECT_EQ(index_->Synonyms("tv"), (Strings{"flat screen", "televis"}));
  EXPECT_TRUE(index_->Synonyms("radio").empty());
  EXPECT_EQ(index_->AddSynonym("!!!", "tv").code(), StatusCode::kInvalidArgument);

  LexicalQuery q = Query("tv");
  EXPECT_EQ(DocSet(Run(q)).count(26), 1u);  // via its "TV" category
  q = Query("antenna tv");
  q.mode = LexicalQuery::Mode::kAnd;
  q.filter.categories = {"audio"};
  EXPECT_TRUE(Run(q).hits.empty());
  // An alternative matches at alt_weight: "televis" reaches doc 26's title.
  LexicalQuery a;
  a.terms = {"televis"};
  LexicalResult direct = Run(a);
  ASSERT_EQ(Docs(direct), (std::vector<uint32_t>{26}));
  LexicalQuery b;
  b.terms = {"nosuchword"};
  b.alternatives = {index_->Synonyms("tv")};
  b.alt_weight = 0.5;
  LexicalResult via = Run(b);
  ASSERT_EQ(Docs(via), (std::vector<uint32_t>{26}));
  EXPECT_NEAR(via.hits[0].score, 0.5 * direct.hits[0].score, 1e-9 * direct.hits[0].score);
}

TEST_F(LexicalIndexTest, ScoreAgreesWithSearch) {
  for (const char* text : {"samsung tv", "wireless earbuds", "running shoes men", "电视", "tv"}) {
    LexicalQuery q = Query(text);
    LexicalResult r = Run(q);
    ASSERT_FALSE(r.hits.empty()) << text;
    for (const LexicalHit& h : r.hits) {
      auto s = index_->Score(h.doc, q.terms);
      ASSERT_OK(s);
      EXPECT_NEAR(s->total, h.score, 1e-6 * h.score) << text << " doc " << h.doc;
      EXPECT_GE(s->matched_terms, 1);
    }
  }
  // Field breakdown: doc 0 has "samsung" in title and brand, "tv" in title and category.
  auto s = index_->Score(0, index_->analyzer().Terms("samsung tv"));
  ASSERT_OK(s);
  EXPECT_GT(s->bm25[static_cast<int>(Field::kTitle)], 0);
  EXPECT_GT(s->bm25[static_cast<int>(Field::kBrand)], 0);
  EXPECT_GT(s->bm25[static_cast<int>(Field::kCategory)], 0);
  EXPECT_EQ(s->bm25[static_cast<int>(Field::kDescription)], 0);
  EXPECT_EQ(s->matched_terms, 2);
  auto none = index_->Score(5, index_->analyzer().Terms("samsung tv"));
  ASSERT_OK(none);
  EXPECT_EQ(none->total, 0);
  EXPECT_EQ(none->matched_terms, 0);
  EXPECT_EQ(index_->Score(1000, {"tv"}).status().code(), StatusCode::kNotFound);
}

TEST_F(LexicalIndexTest, ScoreManyAgreesWithScore) {
  for (const char* text : {"samsung tv", "wireless earbuds", "running shoes men", "电视"}) {
    const std::vector<std::string> terms = index_->analyzer().Terms(text);
    // Every doc, in a shuffled order with a duplicate and one that is not indexed.
    std::vector<uint32_t> docs = {7, 0, 29, 3, 3, 1000, 12, 1, 20};
    auto many = index_->ScoreMany(docs, terms);
    ASSERT_OK(many);
    ASSERT_EQ(many->size(), docs.size());
    for (size_t i = 0; i < docs.size(); ++i) {
      auto one = index_->Score(docs[i], terms);
      if (!one.ok()) {
        EXPECT_EQ((*many)[i].total, 0) << text << " doc " << docs[i];
        continue;
      }
      EXPECT_NEAR((*many)[i].total, one->total, 1e-9) << text << " doc " << docs[i];
      EXPECT_EQ((*many)[i].matched_terms, one->matched_terms) << text << " doc " << docs[i];
      for (int f = 0; f < kNumFields; ++f) EXPECT_NEAR((*many)[i].bm25[f], one->bm25[f], 1e-9);
    }
  }
  auto empty = index_->ScoreMany({}, {"tv"});
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_F(LexicalIndexTest, FieldWeightsChangeRanking) {
  // "samsung" in the brand of doc 23 only via lowercase brand; doc 11 has it in the title.
  auto heavy_brand = TestOptions();
  heavy_brand.field_weight[static_cast<int>(Field::kTitle)] = 0.1;
  heavy_brand.field_weight[static_cast<int>(Field::kBrand)] = 10;
  auto index = LexicalIndex::Open("", heavy_brand);
  ASSERT_OK(index);
  ASSERT_OK((*index)->AddBatch(docs_));
  ASSERT_OK((*index)->Commit());
  LexicalQuery q;
  q.terms = {"samsung"};
  auto r = (*index)->Search(q);
  ASSERT_OK(r);
  ASSERT_EQ(r->hits.size(), 7u);
  EXPECT_EQ(r->hits.back().doc, 11u);  // the only Samsung title without the Samsung brand
}

TEST_F(LexicalIndexTest, PagingIsConsistent) {
  LexicalQuery q = Query("samsung tv");
  q.limit = 100;
  std::vector<uint32_t> all = Docs(Run(q));
  std::vector<uint32_t> paged;
  for (size_t off = 0; off < all.size(); off += 4) {
    q.offset = off;
    q.limit = 4;
    LexicalResult r = Run(q);
    EXPECT_EQ(r.total_matches, all.size());
    for (uint32_t d : Docs(r)) paged.push_back(d);
  }
  EXPECT_EQ(paged, all);
}

TEST_F(LexicalIndexTest, DeleteAndUpsert) {
  EXPECT_EQ(DocSet(Run(Query("galaxy"))), (std::set<uint32_t>{2, 3}));
  EXPECT_EQ(index_->SuggestSpelling("galaxu"), "galaxi");  // "galaxy" stems to "galaxi"

  IndexDoc replaced = docs_[2];
  replaced.title = "Samsung Flip Phone";
  ASSERT_OK(index_->Upsert(replaced));
  ASSERT_OK(index_->Commit());  // reads see the last commit
  EXPECT_EQ(DocSet(Run(Query("galaxy"))), (std::set<uint32_t>{3}));
  EXPECT_EQ(DocSet(Run(Query("flip"))), (std::set<uint32_t>{2}));
  EXPECT_EQ(index_->DocCount(), 30u);

  ASSERT_OK(index_->Delete(3));
  ASSERT_OK(index_->Commit());
  EXPECT_TRUE(Run(Query("galaxy")).hits.empty());
  EXPECT_EQ(index_->DocCount(), 29u);
  EXPECT_EQ(index_->TermFrequency("galaxi"), 0u);
  // The deleted words left the spelling dictionary.
  EXPECT_EQ(index_->SuggestSpelling("galaxu"), "");
  EXPECT_EQ(index_->Delete(3).code(), StatusCode::kNotFound);
  EXPECT_EQ(index_->Delete(12345).code(), StatusCode::kNotFound);

  // A new doc number beyond the current range.
  IndexDoc fresh;
  fresh.doc = 1000;
  fresh.title = "Galaxy Projector";
  ASSERT_OK(index_->Upsert(fresh));
  ASSERT_OK(index_->Commit());
  EXPECT_EQ(Docs(Run(Query("galaxy"))), (std::vector<uint32_t>{1000}));
}

// Reads see the database as of the last Commit, in both storage modes.
void CheckReadsSeeLastCommit(const std::string& dir) {
  auto opened = LexicalIndex::Open(dir, TestOptions());
  ASSERT_OK(opened);
  LexicalIndex& index = **opened;
  ASSERT_OK(index.AddBatch(Catalog()));
  ASSERT_OK(index.Commit());
  LexicalQuery q;
  q.terms = index.analyzer().Terms("projector");
  auto docs_of = [&](const LexicalQuery& query) {
    auto r = index.Search(query);
    EXPECT_OK(r);
    return r.ok() ? DocSet(*r) : std::set<uint32_t>{};
  };
  EXPECT_TRUE(docs_of(q).empty());

  IndexDoc fresh;
  fresh.doc = 40;
  fresh.external_id = "sku-40";
  fresh.title = "Galaxy Projector";
  ASSERT_OK(index.Upsert(fresh));
  ASSERT_OK(index.AddSynonym("beamer", "projector"));
  ASSERT_OK(index.AddSpellingSource("Blender", 5));
  // Not committed: reads still see the old state.
  EXPECT_TRUE(docs_of(q).empty());
  EXPECT_EQ(index.DocCount(), 30u);
  EXPECT_EQ(index.ExternalId(40).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(index.TermFrequency("projector"), 0u);
  EXPECT_TRUE(index.Synonyms("beamer").empty());
  EXPECT_EQ(index.SuggestSpelling("blendr"), "");
  // The writer sees its own uncommitted document: deleting it works.
  IndexDoc other = fresh;
  other.doc = 41;
  other.external_id = "sku-41";
  ASSERT_OK(index.Upsert(other));
  ASSERT_OK(index.Delete(41));

  ASSERT_OK(index.Commit());
  EXPECT_EQ(docs_of(q), (std::set<uint32_t>{40}));
  EXPECT_EQ(index.DocCount(), 31u);
  auto ext = index.ExternalId(40);
  ASSERT_OK(ext);
  EXPECT_EQ(*ext, "sku-40");
  EXPECT_EQ(index.ExternalId(41).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(index.TermFrequency("projector"), 1u);
  EXPECT_EQ(index.Synonyms("beamer"), (Strings{"projector"}));
  EXPECT_EQ(index.SuggestSpelling("blendr"), "blender");

  ASSERT_OK(index.Delete(40));
  EXPECT_EQ(docs_of(q), (std::set<uint32_t>{40}));  // until the commit
  ASSERT_OK(index.Commit());
  EXPECT_TRUE(docs_of(q).empty());
  EXPECT_EQ(index.DocCount(), 30u);
}

TEST(LexicalIndexVisibilityTest, TemporaryIndexReadsSeeLastCommit) { CheckReadsSeeLastCommit(""); }

TEST(LexicalIndexVisibilityTest, DirectoryIndexReadsSeeLastCommit) {
  CheckReadsSeeLastCommit((souk::testing::TempDir("lexical-visibility") / "db").string());
}

// Four threads search while one thread upserts, deletes and commits. The
// writer's documents ("zephyr gadget N") share no word with the reference
// queries, so those must keep returning exactly the same documents and facets;
// every "zephyr" result must be one committed state (a contiguous window of
// the writer's doc numbers); after each Commit the writer reads its writes.
void CheckConcurrentReadsWithWriter(const std::string& dir) {
  auto opened = LexicalIndex::Open(dir, TestOptions());
  ASSERT_OK(opened);
  LexicalIndex& index = **opened;
  ASSERT_OK(index.AddBatch(Catalog()));
  ASSERT_OK(index.Commit());

  struct Reference {
    LexicalQuery query;
    std::set<uint32_t> docs;
    uint64_t total;
    Facets brands;
  };
  std::vector<Reference> refs;
  for (const char* text : {"samsung tv", "wireless earbuds", "running shoes", "电视", "drill"}) {
    Reference ref;
    ref.query.terms = index.analyzer().Terms(text);
    ref.query.facets = {"brand"};
    auto r = index.Search(ref.query);
    ASSERT_OK(r);
    ASSERT_FALSE(r->hits.empty()) << text;
    ref.docs = DocSet(*r);
    ref.total = r->total_matches;
    ref.brands = FacetOf(*r, "brand");
    refs.push_back(std::move(ref));
  }
  LexicalQuery zephyr;
  zephyr.terms = index.analyzer().Terms("zephyr");
  zephyr.facets = {"brand", "price"};

  constexpr uint32_t kFirst = 100;
  constexpr uint32_t kWindow = 4;  // the writer keeps the last kWindow of its documents
  constexpr int kCommits = 150;
  std::atomic<bool> writer_done{false};
  std::atomic<int> failures{0};
  std::vector<int> reader_rounds(4, 0);
  std::mutex log_mu;
  std::string first_failure;
  auto fail = [&](const std::string& what) {
    if (failures.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> lock(log_mu);
      first_failure = what;
    }
  };
  // A "zephyr" result is valid when it is exactly {lo..hi} with hi - lo < kWindow.
  auto valid_window = [&](const LexicalResult& r) {
    if (r.total_matches != r.hits.size() || r.hits.size() > kWindow) return false;
    std::set<uint32_t> docs = DocSet(r);
    if (docs.size() != r.hits.size()) return false;
    if (docs.empty()) return true;
    if (*docs.begin() < kFirst) return false;
    return *docs.rbegin() - *docs.begin() + 1 == docs.size();
  };

  std::vector<std::thread> readers;
  // Stops and joins the readers however this function returns.
  struct StopReaders {
    std::atomic<bool>& done;
    std::vector<std::thread>& threads;
    void Stop() {
      done.store(true);
      for (std::thread& t : threads) {
        if (t.joinable()) t.join();
      }
    }
    ~StopReaders() { Stop(); }
  } stop{writer_done, readers};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int round = 0; !writer_done.load() || round < 3; ++round) {
        const Reference& ref = refs[static_cast<size_t>(round + t) % refs.size()];
        auto r = index.Search(ref.query);
        if (!r.ok()) {
          fail(r.status().ToString());
        } else if (DocSet(*r) != ref.docs || r->total_matches != ref.total ||
                   FacetOf(*r, "brand") != ref.brands) {
          fail("reference query changed under the writer");
        }
        auto z = index.Search(zephyr);
        if (!z.ok()) {
          fail(z.status().ToString());
        } else if (!valid_window(*z)) {
          std::string got;
          for (uint32_t d : Docs(*z)) got += " " + std::to_string(d);
          fail("zephyr result is not one committed state: total " +
               std::to_string(z->total_matches) + ", docs" + got);
        }
        if (index.SuggestSpelling("samsng") != "samsung") fail("spelling changed");
        if (index.TermFrequency("tv") != 7u) fail("term frequency changed");
        auto ext = index.ExternalId(13);
        if (!ext.ok() || *ext != "sku-13") fail("external id changed");
        const uint64_t n = index.DocCount();
        if (n < 30 || n > 30 + kWindow) fail("doc count " + std::to_string(n));
        auto s = index.Score(0, refs[0].query.terms);
        if (!s.ok() || s->matched_terms != 2) fail("score of doc 0 failed");
        ++reader_rounds[static_cast<size_t>(t)];
      }
    });
  }

  for (int i = 0; i < kCommits && failures.load() == 0; ++i) {
    IndexDoc d;
    d.doc = kFirst + static_cast<uint32_t>(i);
    d.external_id = "zephyr-" + std::to_string(i);
    d.title = "Zephyr gadget " + std::to_string(i);
    d.brand = "Zephyr";
    d.price = 10.0 + i;
    ASSERT_OK(index.Upsert(d));
    if (i >= static_cast<int>(kWindow)) {
      ASSERT_OK(index.Delete(d.doc - kWindow));
    }
    ASSERT_OK(index.Commit());
    // Read-your-commits: the window ending at this document.
    auto z = index.Search(zephyr);
    ASSERT_OK(z);
    const uint32_t lo = d.doc >= kFirst + kWindow - 1 ? d.doc - (kWindow - 1) : kFirst;
    std::set<uint32_t> want;
    for (uint32_t k = lo; k <= d.doc; ++k) want.insert(k);
    ASSERT_EQ(DocSet(*z), want) << "after commit " << i;
    ASSERT_EQ(FacetOf(*z, "brand"), (Facets{{"Zephyr", want.size()}}));
  }
  stop.Stop();
  EXPECT_EQ(failures.load(), 0) << first_failure;
  for (int t = 0; t < 4; ++t) EXPECT_GE(reader_rounds[static_cast<size_t>(t)], 3) << "reader " << t;
  EXPECT_EQ(index.DocCount(), 30u + kWindow);
}

TEST(LexicalIndexConcurrencyTest, TemporaryIndexSearchesDuringCommits) {
  CheckConcurrentReadsWithWriter("");
}

TEST(LexicalIndexConcurrencyTest, DirectoryIndexSearchesDuringCommits) {
  CheckConcurrentReadsWithWriter((souk::testing::TempDir("lexical-concurrency") / "db").string());
}

// Another process may rebuild the index and swap a new directory in under the
// same path; an open index keeps reading its own database, never a mix.
TEST(LexicalIndexPersistenceTest, ReadsStayOnOwnDatabaseWhenDirectoryIsReplaced) {
  const std::filesystem::path root = souk::testing::TempDir("lexical-swap");
  const std::string dir = (root / "lexical").string();
  LexicalIndexOptions o = TestOptions();
  o.max_idle_readers = 0;  // every read opens a fresh handle: the case to guard
  auto opened = LexicalIndex::Open(dir, o);
  ASSERT_OK(opened);
  LexicalIndex& index = **opened;
  ASSERT_OK(index.AddBatch(Catalog()));
  ASSERT_OK(index.Commit());
  LexicalQuery q;
  q.terms = index.analyzer().Terms("samsung tv");
  q.mode = LexicalQuery::Mode::kAnd;
  auto before = index.Search(q);
  ASSERT_OK(before);
  ASSERT_EQ(DocSet(*before), (std::set<uint32_t>{0, 1, 11}));

  // A rebuild with other documents, moved into place.
  std::filesystem::rename(dir, root / "lexical.old");
  {
    auto other = LexicalIndex::Open(dir, o);
    ASSERT_OK(other);
    IndexDoc d;
    d.doc = 0;
    d.title = "Samsung TV remote";
    ASSERT_OK((*other)->Upsert(d));
    ASSERT_OK((*other)->Commit());
  }
  auto after = index.Search(q);
  ASSERT_OK(after);
  EXPECT_EQ(DocSet(*after), DocSet(*before));
  EXPECT_EQ(index.DocCount(), 30u);
  auto ext = index.ExternalId(11);
  ASSERT_OK(ext);
  EXPECT_EQ(*ext, "sku-11");
  // Its own writes still show after a commit.
  ASSERT_OK(index.Delete(11));
  ASSERT_OK(index.Commit());
  after = index.Search(q);
  ASSERT_OK(after);
  EXPECT_EQ(DocSet(*after), (std::set<uint32_t>{0, 1}));
  EXPECT_EQ(index.DocCount(), 29u);
}

TEST(LexicalIndexPersistenceTest, ReopenKeepsDocumentsAndTables) {
  const std::string dir = (souk::testing::TempDir("lexical") / "db").string();
  {
    auto index = LexicalIndex::Open(dir, TestOptions());
    ASSERT_OK(index);
    ASSERT_OK((*index)->AddBatch(Catalog()));
    ASSERT_OK((*index)->AddSynonym("tv", "television"));
    ASSERT_OK((*index)->Commit());
  }
  {
    auto index = LexicalIndex::Open(dir, TestOptions());
    ASSERT_OK(index);
    EXPECT_EQ((*index)->DocCount(), 30u);
    LexicalQuery q;
    q.terms = (*index)->analyzer().Terms("samsung tv");
    q.mode = LexicalQuery::Mode::kAnd;
    q.facets = {"color"};  // attribute keys survive the reopen
    auto r = (*index)->Search(q);
    ASSERT_OK(r);
    EXPECT_EQ(DocSet(*r), (std::set<uint32_t>{0, 1, 11}));
    EXPECT_EQ(FacetOf(*r, "color"), (Facets{{"black", 3}}));
    EXPECT_EQ((*index)->SuggestSpelling("samsng"), "samsung");
    EXPECT_EQ((*index)->Synonyms("tv"), (Strings{"televis"}));
    q = LexicalQuery{};
    q.filter.numeric = {{"screen_size", 60, std::nullopt}};
    r = (*index)->Search(q);
    ASSERT_OK(r);
    EXPECT_EQ(DocSet(*r), (std::set<uint32_t>{1}));
  }
  // A different analyzer or numeric schema would not match the stored terms.
  auto other_stem = TestOptions();
  other_stem.stem_language = "none";
  EXPECT_EQ(LexicalIndex::Open(dir, other_stem).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(LexicalIndex::Open(dir, LexicalIndexOptions{}).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(LexicalIndexTest, BadQueriesAreInvalidArgument) {
  auto code = [&](const LexicalQuery& q) { return index_->Search(q).status().code(); };
  LexicalQuery q = Query("tv");
  q.limit = 10001;
  EXPECT_EQ(code(q), StatusCode::kInvalidArgument);
  q = Query("tv");
  q.filter.price_min = 50;
  q.filter.price_max = 10;
  auto s = index_->Search(q);
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("price"), std::string::npos);
  q = Query("tv");
  q.filter.price_min = std::nan("");
  EXPECT_EQ(code(q), StatusCode::kInvalidArgument);
  q = Query("tv");
  q.facets = {"colour"};
  s = index_->Search(q);
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("colour"), std::string::npos);
  q = Query("tv");
  q.filter.numeric = {{"weight", 1, 2}};
  EXPECT_EQ(code(q), StatusCode::kInvalidArgument);
  q = Query("tv");
  q.filter.numeric = {{"screen_size", 60, 50}};
  EXPECT_EQ(code(q), StatusCode::kInvalidArgument);
  q = Query("tv");
  q.alt_weight = 2;
  EXPECT_EQ(code(q), StatusCode::kInvalidArgument);
  q = Query("tv");
  q.alternatives = {{"a"}, {"b"}};
  EXPECT_EQ(code(q), StatusCode::kInvalidArgument);
  q = Query("tv");
  q.offset = 5000000;
  EXPECT_EQ(code(q), StatusCode::kInvalidArgument);
}

TEST_F(LexicalIndexTest, BadDocumentsAreInvalidArgument) {
  IndexDoc d;
  d.doc = 500;
  d.title = "thing";
  d.price = -1;
  Status st = index_->Upsert(d);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("doc 500"), std::string::npos);
  d.price = std::nullopt;
  d.popularity = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(index_->Upsert(d).code(), StatusCode::kInvalidArgument);
  d.popularity = 1;
  d.numeric = {{"weight_kg", 3}};
  st = index_->Upsert(d);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("weight_kg"), std::string::npos);
  d.numeric.clear();
  d.doc = std::numeric_limits<uint32_t>::max();
  EXPECT_EQ(index_->Upsert(d).code(), StatusCode::kInvalidArgument);

  // A batch with one bad document adds nothing.
  std::vector<IndexDoc> batch(2);
  batch[0].doc = 600;
  batch[0].title = "good doc";
  batch[1].doc = 601;
  batch[1].price = std::numeric_limits<double>::infinity();
  EXPECT_EQ(index_->AddBatch(batch).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index_->DocCount(), 30u);
}

TEST(LexicalIndexOptionsTest, BadOptions) {
  LexicalIndexOptions o;
  o.field_weight[1] = -1;
  auto r = LexicalIndex::Open("", o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("brand"), std::string::npos);
  o = LexicalIndexOptions{};
  o.stem_language = "klingon";
  EXPECT_EQ(LexicalIndex::Open("", o).status().code(), StatusCode::kInvalidArgument);
  o = LexicalIndexOptions{};
  o.numeric_attributes = {"size", "SIZE"};
  EXPECT_EQ(LexicalIndex::Open("", o).status().code(), StatusCode::kInvalidArgument);
  o = LexicalIndexOptions{};
  o.bm25_b = 2;
  EXPECT_EQ(LexicalIndex::Open("", o).status().code(), StatusCode::kInvalidArgument);
}

TEST(LexicalIndexBrowseTest, EmptyIndexAndEmptyQuery) {
  auto index = LexicalIndex::Open("", LexicalIndexOptions{});
  ASSERT_OK(index);
  LexicalQuery q;
  q.facets = {"brand", "price"};
  auto r = (*index)->Search(q);
  ASSERT_OK(r);
  EXPECT_EQ(r->total_matches, 0u);
  EXPECT_TRUE(r->hits.empty());
  EXPECT_TRUE(r->facets.at("brand").empty());
}

// Reads (product_uid, title) of the Home Depot catalog.
std::vector<IndexDoc> HomeDepotDocs(const std::filesystem::path& path) {
  std::vector<IndexDoc> docs;
  auto reader = ingest::CsvReader::Open(path.string());
  EXPECT_OK(reader);
  if (!reader.ok()) return docs;
  const int uid = (*reader)->Column("product_uid");
  const int title = (*reader)->Column("title");
  EXPECT_GE(uid, 0);
  EXPECT_GE(title, 0);
  ingest::CsvRecord rec;
  while ((*reader)->Next(&rec)) {
    if (rec.error != ingest::RecordError::kNone) continue;
    IndexDoc d;
    d.doc = static_cast<uint32_t>(docs.size());
    d.external_id = rec.fields[uid];
    d.title = rec.fields[title];
    docs.push_back(std::move(d));
  }
  return docs;
}

// The first `n` distinct queries of the Home Depot judgments, analyzed.
std::vector<LexicalQuery> HomeDepotQueries(const std::filesystem::path& path,
                                           const text::Analyzer& analyzer, size_t n) {
  std::vector<LexicalQuery> out;
  auto reader = ingest::CsvReader::Open(path.string());
  EXPECT_OK(reader);
  if (!reader.ok()) return out;
  const int query = (*reader)->Column("query");
  EXPECT_GE(query, 0);
  std::set<std::string> seen;
  ingest::CsvRecord rec;
  while (out.size() < n && (*reader)->Next(&rec)) {
    if (rec.error != ingest::RecordError::kNone) continue;
    std::string text(rec.fields[query]);
    if (!seen.insert(text).second) continue;
    LexicalQuery q;
    q.terms = analyzer.Terms(text);
    if (q.terms.empty()) continue;
    out.push_back(std::move(q));
  }
  return out;
}

TEST(LexicalIndexDataTest, HomeDepotTitles) {
  SOUK_REQUIRE_DATA(path, "homedepot/products.csv");
  std::vector<IndexDoc> docs = HomeDepotDocs(path);
  ASSERT_EQ(docs.size(), 54667u);
  auto index = LexicalIndex::Open("", LexicalIndexOptions{});
  ASSERT_OK(index);
  auto analyze_start = std::chrono::steady_clock::now();
  size_t n_terms = 0;
  for (const IndexDoc& d : docs) n_terms += (*index)->analyzer().Terms(d.title).size();
  std::fprintf(stderr, "analyzing the titles alone: %.2f s (%zu terms)\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - analyze_start).count(),
               n_terms);
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  ASSERT_OK((*index)->AddBatch(docs));
  ASSERT_OK((*index)->Commit());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = double(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::fprintf(stderr, "indexed %zu Home Depot titles in %.2f s wall, %.2f s CPU (%.0f docs/s)\n",
               docs.size(), secs, cpu, docs.size() / secs);
  EXPECT_EQ((*index)->DocCount(), 54667u);

  // Product 100001 ("Simpson Strong-Tie 12-Gauge Angle") is judged 3/3 for "angle
  // bracket" but has only "angle": the 8 titles with both words (or "bracket" twice)
  // outrank it, then it ties with the shortest "angle"-only titles (its "12-Gauge"
  // is two terms, so it is slightly longer). Observed rank: 16 of the top 20.
  LexicalQuery q;
  q.terms = (*index)->analyzer().Terms("angle bracket");
  q.limit = 20;
  auto r = (*index)->Search(q);
  ASSERT_OK(r);
  ASSERT_EQ(r->hits.size(), 20u);
  size_t rank = 0;
  int both_words_in_top10 = 0;
  for (size_t i = 0; i < r->hits.size(); ++i) {
    const LexicalHit& h = r->hits[i];
    auto ext = (*index)->ExternalId(h.doc);
    ASSERT_OK(ext);
    if (*ext == "100001") rank = i + 1;
    auto s = (*index)->Score(h.doc, q.terms);
    ASSERT_OK(s);
    EXPECT_NEAR(s->total, h.score, 1e-6 * h.score);
    if (i < 10 && s->matched_terms == 2) ++both_words_in_top10;
  }
  std::fprintf(stderr, "'angle bracket': product 100001 at rank %zu\n", rank);
  EXPECT_GE(rank, 1u) << "product 100001 not in the top 20 of 'angle bracket'";
  EXPECT_GE(both_words_in_top10, 7);
  EXPECT_GT(r->total_matches, 100u);
  EXPECT_EQ((*index)->SuggestSpelling("bracet"), "bracket");

  // Search cost on the Home Depot queries: single-thread latency, then the
  // throughput of 2 threads sharing the index. Printed, not asserted (timings
  // on a shared machine are noise); the threaded results must equal the
  // single-thread ones.
  const std::filesystem::path judgments = souk::testing::SharedData("homedepot/judgments.dev.csv");
  if (judgments.empty()) return;
  std::vector<LexicalQuery> queries = HomeDepotQueries(judgments, (*index)->analyzer(), 1000);
  ASSERT_EQ(queries.size(), 1000u);
  std::vector<std::vector<uint32_t>> expected(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {  // warm-up pass, and the reference results
    auto res = (*index)->Search(queries[i]);
    ASSERT_OK(res);
    expected[i] = Docs(*res);
  }
  // Wall time, and the thread's CPU time (steadier when other programs load the machine).
  auto thread_cpu_us = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
  };
  std::vector<double> micros, cpu_micros;
  micros.reserve(queries.size() * 3);
  cpu_micros.reserve(queries.size() * 3);
  const auto single_start = std::chrono::steady_clock::now();
  for (int round = 0; round < 3; ++round) {
    for (const LexicalQuery& query : queries) {
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = thread_cpu_us();
      auto res = (*index)->Search(query);
      cpu_micros.push_back(thread_cpu_us() - c0);
      micros.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      ASSERT_OK(res);
    }
  }
  const double single_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - single_start).count();
  std::sort(micros.begin(), micros.end());
  std::sort(cpu_micros.begin(), cpu_micros.end());
  auto pct = [](const std::vector<double>& v, double p) {
    return v[static_cast<size_t>(p * (v.size() - 1))];
  };
  double cpu_total = 0;
  for (double c : cpu_micros) cpu_total += c;
  std::fprintf(stderr,
               "search, 1 thread: %zu queries, wall p50 %.0f us, p90 %.0f us, p99 %.0f us, "
               "%.0f QPS; CPU p50 %.0f us, mean %.0f us\n",
               micros.size(), pct(micros, 0.5), pct(micros, 0.9), pct(micros, 0.99),
               micros.size() / single_secs, pct(cpu_micros, 0.5), cpu_total / cpu_micros.size());

  constexpr int kThreads = 2;
  std::atomic<size_t> mismatches{0};
  const auto multi_start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < 3; ++round) {
          for (size_t i = 0; i < queries.size(); ++i) {
            const size_t k = (i + static_cast<size_t>(t) * queries.size() / kThreads) % queries.size();
            auto res = (*index)->Search(queries[k]);
            if (!res.ok() || Docs(*res) != expected[k]) ++mismatches;
          }
        }
      });
    }
  }
  const double multi_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - multi_start).count();
  std::fprintf(stderr, "search, %d threads: %zu queries, %.0f QPS\n", kThreads,
               kThreads * 3 * queries.size(), kThreads * 3 * queries.size() / multi_secs);
  EXPECT_EQ(mismatches.load(), 0u);
}

}  // namespace
}  // namespace souk::index
