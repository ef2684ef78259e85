// Behavior tests of the whole search pipeline over a hand-made golden catalog:
// SearchCatalog -> BuildSearchParts (lexical index, sub-word encoder, vector
// index) -> SearchEngine::Search. Expected values are counted by hand from the
// fixture table below, so each assertion pins the documented behavior.
#include "search/engine.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/testing.h"
#include "rank/gbdt_model.h"
#include "search/builder.h"
#include "search/catalog.h"
#include "search/personalization.h"
#include "store/types.h"

namespace souk::search {
namespace {

// One fixture item. price < 0 = no price; stock -1 = unknown.
struct FixtureItem {
  const char* id;
  const char* title;
  const char* brand;
  const char* category;
  double price;
  int stock;
  const char* attributes;
};

// 60 items. Counts used by the tests (query "tv" = every item with "tv" in a field):
//   "tv" matches 13 items (12 TVs + the wall mount): brands Samsung 4, LG 3, Sony 3,
//   TCL 2, Sanus 1; in stock 9 / out 4; colors black 8, silver 4 (mount has none).
const FixtureItem kItems[] = {
    // --- Electronics > TV ---
    {"tv-sam-43", "Samsung 43 inch Crystal UHD TV", "Samsung", "Electronics > TV", 299, 1,
     R"({"color":"black"})"},
    {"tv-sam-55", "Samsung 55 inch QLED TV", "Samsung", "Electronics > TV", 799, 1,
     R"({"color":"black"})"},
    {"tv-sam-65", "Samsung 65 inch Neo QLED TV", "Samsung", "Electronics > TV", 1499, 0,
     R"({"color":"silver"})"},
    {"tv-sam-75", "Samsung 75 inch OLED TV", "Samsung", "Electronics > TV", 1999, 1,
     R"({"color":"black"})"},
    {"tv-lg-48", "LG 48 inch OLED evo C3 Series 4K Smart TV", "LG", "Electronics > TV", 999, 1,
     R"({"color":"black"})"},
    {"tv-lg-55", "LG 55 inch NanoCell 80 Series 4K Smart TV", "LG", "Electronics > TV", 649, 1,
     R"({"color":"silver"})"},
    {"tv-lg-65", "LG 65 inch OLED evo G3 Gallery Edition 4K Smart TV", "LG", "Electronics > TV",
     1799, 0, R"({"color":"black"})"},
    {"tv-sony-50", "Sony 50 inch Bravia LED TV", "Sony", "Electronics > TV", 449, 1,
     R"({"color":"black"})"},
    {"tv-sony-65", "Sony 65 inch Bravia XR TV", "Sony", "Electronics > TV", 1299, 1,
     R"({"color":"silver"})"},
    {"tv-sony-77", "Sony 77 inch Bravia OLED TV", "Sony", "Electronics > TV", 1899, 0,
     R"({"color":"black"})"},
    {"tv-tcl-40", "TCL 40 inch Smart TV", "TCL", "Electronics > TV", 349, 1,
     R"({"color":"silver"})"},
    {"tv-tcl-50", "TCL 50 inch 4K TV", "TCL", "Electronics > TV", 499, 0, R"({"color":"black"})"},
    {"acc-mount", "Universal TV Wall Mount", "Sanus", "Electronics > Accessories", 49.99, 1, "{}"},
    // --- Kitchen > Blenders ---
    {"bl-ninja-pro", "Ninja Professional Blender 1000W", "Ninja", "Kitchen > Blenders", 89.99, 1,
     R"({"color":"black"})"},
    {"bl-ninja-nutri", "Ninja Nutri Personal Blender", "Ninja", "Kitchen > Blenders", 59.99, 1,
     R"({"color":"silver"})"},
    {"bl-oster-classic", "Oster Classic 10-Speed Blender", "Oster", "Kitchen > Blenders", 39.99, 1,
     R"({"color":"white"})"},
    {"bl-oster-pro", "Oster Pro 1200 Blender with Glass Jar", "Oster", "Kitchen > Blenders", 74.99,
     0, R"({"color":"black"})"},
    {"bl-vitamix-e310", "Vitamix E310 Explorian Blender", "Vitamix", "Kitchen > Blenders", 349.95,
     1, R"({"color":"black"})"},
    {"bl-vitamix-5200", "Vitamix 5200 Professional Blender", "Vitamix", "Kitchen > Blenders",
     449.95, 1, R"({"color":"red"})"},
    {"bl-kitchenaid", "KitchenAid 3-Speed Ice Crushing Blender", "KitchenAid", "Kitchen > Blenders",
     99.99, 1, R"({"color":"red"})"},
    // --- Kitchen > Coffee Makers ---
    {"cf-keurig", "Keurig K-Classic Coffee Maker", "Keurig", "Kitchen > Coffee Makers", 129.99, 1,
     "{}"},
    {"cf-breville", "Breville Barista Express Espresso Machine", "Breville",
     "Kitchen > Coffee Makers", 699.95, 1, "{}"},
    {"cf-mrcoffee", "Mr. Coffee 12-Cup Coffee Maker", "Mr. Coffee", "Kitchen > Coffee Makers",
     39.99, 1, "{}"},
    {"cf-ninja", "Ninja Specialty Coffee Maker", "Ninja", "Kitchen > Coffee Makers", 169.99, 0,
     "{}"},
    // --- Fashion > Shoes ---
    {"sh-nike-red", "Nike Revolution Running Shoes", "Nike", "Fashion > Shoes", 79.99, 1,
     R"({"color":"red","size":"M"})"},
    {"sh-nike-blue", "Nike Pegasus Running Shoes", "Nike", "Fashion > Shoes", 129.99, 1,
     R"({"color":"blue","size":"L"})"},
    {"sh-adidas-canvas", "Adidas Canvas Sneaker Shoes", "Adidas", "Fashion > Shoes", 59.99, 1,
     R"({"color":"red","size":"S"})"},
    {"sh-adidas-trail", "Adidas Terrex Trail Shoes", "Adidas", "Fashion > Shoes", 109.99, 0,
     R"({"color":"red","size":"M"})"},
    {"sh-puma-suede", "Puma Suede Classic Shoes", "Puma", "Fashion > Shoes", 69.99, 1,
     R"({"color":"blue","size":"M"})"},
    {"sh-puma-court", "Puma Court Rider Shoes", "Puma", "Fashion > Shoes", 89.99, 1,
     R"({"color":"red","size":"XL"})"},
    {"sh-vans", "Vans Classic Slip-On Shoes", "Vans", "Fashion > Shoes", 54.99, 1,
     R"({"color":"blue","size":"S"})"},
    {"sh-nb-574", "New Balance 574 Shoes", "New Balance", "Fashion > Shoes", 89.99, 1,
     R"({"color":"red","size":"L"})"},
    // --- Fashion > Jackets / T-Shirts ---
    {"jk-patagonia", "Patagonia Nano Puff Jacket", "Patagonia", "Fashion > Jackets", 229, 1,
     R"({"color":"blue","size":"M"})"},
    {"jk-tnf", "The North Face Rain Jacket", "The North Face", "Fashion > Jackets", 99, 1,
     R"({"color":"red","size":"L"})"},
    {"ts-uniqlo", "Uniqlo Supima Cotton T-Shirt", "Uniqlo", "Fashion > T-Shirts", 14.90, 1,
     R"({"color":"white","size":"M"})"},
    {"ts-hanes", "Hanes Essentials Pocket T-Shirt", "Hanes", "Fashion > T-Shirts", 12, 1,
     R"({"color":"black","size":"XL"})"},
    // --- Electronics > Audio ---
    {"au-sony-xm5", "Sony WH-1000XM5 Wireless Headphones", "Sony", "Electronics > Audio", 399, 1,
     R"({"color":"black"})"},
    {"au-sony-wf", "Sony WF-C700N Wireless Earbuds", "Sony", "Electronics > Audio", 119.99, 1,
     R"({"color":"white"})"},
    {"au-bose-qc", "Bose QuietComfort Headphones", "Bose", "Electronics > Audio", 329, 1,
     R"({"color":"black"})"},
    {"au-airpods", "Apple AirPods Pro", "Apple", "Electronics > Audio", 249, 1,
     R"({"color":"white"})"},
    {"au-jbl", "JBL Tune 510BT Headphones", "JBL", "Electronics > Audio", 49.99, 0,
     R"({"color":"blue"})"},
    // --- Electronics > Laptops ---
    {"lp-macbook", "Apple MacBook Air 13 inch Laptop", "Apple", "Electronics > Laptops", 999, 1,
     R"({"color":"silver"})"},
    {"lp-thinkpad", "Lenovo ThinkPad X1 Carbon Laptop", "Lenovo", "Electronics > Laptops", 1499, 1,
     R"({"color":"black"})"},
    {"lp-xps", "Dell XPS 13 Laptop", "Dell", "Electronics > Laptops", 1199, 0,
     R"({"color":"silver"})"},
    // --- Home > Vacuums ---
    {"vc-dyson", "Dyson V15 Detect Cordless Vacuum", "Dyson", "Home > Vacuums", 749.99, 1, "{}"},
    {"vc-shark", "Shark Navigator Upright Vacuum", "Shark", "Home > Vacuums", 199.99, 1, "{}"},
    // --- Chinese items ---
    {"cn-mi-tv55", "小米电视 55英寸 4K超高清", "小米", "家电 > 电视", 1999, 1, "{}"},
    {"cn-mi-tv65", "小米电视 65英寸 全面屏", "小米", "家电 > 电视", 2999, 1, "{}"},
    {"cn-hisense-tv43", "海信电视 43英寸 智能平板", "海信", "家电 > 电视", 1299, 0, "{}"},
    {"cn-haier-fridge500", "海尔冰箱 双开门 500升", "海尔", "家电 > 冰箱", 3299, 1, "{}"},
    {"cn-haier-fridge216", "海尔冰箱 三门 216升", "海尔", "家电 > 冰箱", 1599, 1, "{}"},
    {"cn-midea-cooker4", "美的电饭煲 4升 智能预约", "美的", "家电 > 电饭煲", 159, 1, "{}"},
    {"cn-midea-cooker5", "美的电饭煲 5升 IH加热", "美的", "家电 > 电饭煲", 259, 1, "{}"},
    {"cn-supor-cooker", "苏泊尔电饭煲 3升 迷你", "苏泊尔", "家电 > 电饭煲", 129, 1, "{}"},
    {"cn-huawei-phone", "华为手机 Mate 60 Pro", "华为", "数码 > 手机", 5999, 1, "{}"},
    {"cn-mi-phone", "小米手机 14 徕卡影像", "小米", "数码 > 手机", 3999, 1, "{}"},
    {"cn-midea-ac", "美的空调 1.5匹 变频", "美的", "家电 > 空调", 2599, 1, "{}"},
    {"cn-gree-ac", "格力空调 大1匹 冷暖", "格力", "家电 > 空调", 2199, 0, "{}"},
    {"cn-joyoung", "九阳豆浆机 破壁", "九阳", "家电 > 厨房电器", 299, 1, "{}"},
    // --- no price, no stock ---
    {"gift-card", "Souk Gift Card", "", "Gift Cards", -1, -1, "{}"},
};
constexpr size_t kNumItems = sizeof(kItems) / sizeof(kItems[0]);
constexpr int64_t kT0 = 1700000000000;  // event clock origin (ms)
constexpr int64_t kDay = 86400000;

store::Event MakeEvent(const std::string& user, const std::string& item, store::EventType type,
                       int64_t ts) {
  store::Event e;
  e.user_id = user;
  e.item_id = item;
  e.type = type;
  e.timestamp_ms = ts;
  return e;
}

// Behavior log: the Ninja Professional is the best seller; "u-lg" only ever
// touched LG TVs; "u-mix" shops shoes.
std::vector<store::Event> FixtureEvents() {
  using T = store::EventType;
  std::vector<store::Event> ev;
  for (int u = 0; u < 8; ++u) {
    const std::string user = "buyer-" + std::to_string(u);
    ev.push_back(MakeEvent(user, "bl-ninja-pro", T::kImpression, kT0 + u * 1000));
    ev.push_back(MakeEvent(user, "bl-ninja-pro", T::kClick, kT0 + u * 1000 + 1));
    ev.push_back(MakeEvent(user, "bl-ninja-pro", T::kPurchase, kT0 + u * 1000 + 2));
  }
  ev.push_back(MakeEvent("u-lg", "tv-lg-48", T::kView, kT0 + 1 * kDay));
  ev.push_back(MakeEvent("u-lg", "tv-lg-48", T::kView, kT0 + 2 * kDay));
  ev.push_back(MakeEvent("u-lg", "tv-lg-48", T::kPurchase, kT0 + 3 * kDay));
  ev.push_back(MakeEvent("u-lg", "tv-lg-55", T::kAddToCart, kT0 + 3 * kDay));
  ev.push_back(MakeEvent("u-lg", "tv-lg-65", T::kView, kT0 + 4 * kDay));
  ev.push_back(MakeEvent("u-mix", "sh-nike-red", T::kClick, kT0 + 2 * kDay));
  ev.push_back(MakeEvent("u-mix", "sh-vans", T::kAddToCart, kT0 + 2 * kDay));
  for (int i = 0; i < 20; ++i) {
    ev.push_back(MakeEvent("", kItems[i % kNumItems].id, T::kImpression, kT0 + i));
  }
  return ev;
}

// Everything the tests share, built once (the encoder training is the slow part).
struct World {
  std::shared_ptr<index::LexicalIndex> lexical;
  std::shared_ptr<SearchCatalog> catalog;
  std::shared_ptr<UserProfiles> profiles;
  BuiltParts built;
  SearchEngine::Parts parts;
  std::unique_ptr<SearchEngine> engine;  // default options, no ranker
};

Status BuildWorld(World& w) {
  ASSIGN_OR_RETURN(std::unique_ptr<index::LexicalIndex> lex,
                   index::LexicalIndex::Open("", index::LexicalIndexOptions{}));
  w.lexical = std::move(lex);
  w.catalog = std::make_shared<SearchCatalog>(&w.lexical->analyzer());
  for (const FixtureItem& it : kItems) {
    store::Item item;
    item.external_id = it.id;
    item.title = it.title;
    item.brand = it.brand;
    item.category = it.category;
    if (it.price >= 0) item.price = it.price;
    if (it.stock >= 0) item.in_stock = it.stock == 1;
    item.attributes_json = it.attributes;
    item.created_at_ms = kT0 - 100 * kDay;
    w.catalog->Add(item);
  }
  const std::vector<store::Event> events = FixtureEvents();
  for (const store::Event& e : events) w.catalog->AddEvent(e);
  w.catalog->Finish();
  w.profiles = std::make_shared<UserProfiles>(w.catalog.get());
  for (const store::Event& e : events) w.profiles->AddEvent(e);
  w.profiles->Finish();

  BuildOptions bo;
  bo.encoder.dim = 32;
  bo.encoder.epochs = 3;
  bo.encoder.threads = 1;
  bo.encoder.buckets = 20000;
  ASSIGN_OR_RETURN(w.built, BuildSearchParts(w.lexical, *w.catalog, nullptr, bo, nullptr));
  w.parts.catalog = w.catalog;
  w.parts.lexical = w.built.lexical;
  w.parts.vectors = w.built.vectors;
  w.parts.encoder = w.built.encoder;
  w.parts.profiles = w.profiles;
  ASSIGN_OR_RETURN(w.engine, SearchEngine::Create(w.parts, SearchOptions{}));
  return OkStatus();
}

class SearchEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new World;
    build_status_ = new Status(BuildWorld(*world_));
  }
  static void TearDownTestSuite() {
    delete world_;
    delete build_status_;
    world_ = nullptr;
    build_status_ = nullptr;
  }
  void SetUp() override { ASSERT_OK(*build_status_); }

  const SearchEngine& engine() const { return *world_->engine; }
  const SearchCatalog& catalog() const { return *world_->catalog; }
  const World& world() const { return *world_; }

  const CatalogDoc& Doc(const SearchHit& h) const { return catalog().doc(h.doc); }
  uint32_t DocOf(const std::string& external_id) const {
    std::optional<uint32_t> d = catalog().Find(external_id);
    EXPECT_TRUE(d.has_value()) << external_id;
    return d.value_or(0);
  }
  static std::vector<std::string> Ids(const SearchResponse& r) {
    std::vector<std::string> out;
    for (const SearchHit& h : r.hits) out.push_back(h.external_id);
    return out;
  }
  static SearchRequest Req(std::string query, size_t limit = 20) {
    SearchRequest r;
    r.query = std::move(query);
    r.limit = limit;
    return r;
  }
  bool InCategory(const SearchHit& h, const std::string& level) const {
    const auto& path = Doc(h).category_path;
    return std::find(path.begin(), path.end(), level) != path.end();
  }

  static World* world_;
  static Status* build_status_;
};

World* SearchEngineTest::world_ = nullptr;
Status* SearchEngineTest::build_status_ = nullptr;

using Counts = std::vector<std::pair<std::string, uint64_t>>;
Counts FacetOf(const SearchResponse& r, const std::string& name) {
  Counts out;
  auto it = r.facets.find(name);
  if (it == r.facets.end()) return out;
  for (const index::FacetCount& c : it->second) out.emplace_back(c.value, c.count);
  return out;
}

// Sum of a facet's counts = the number of matching documents having that field.
uint64_t FacetSum(const SearchResponse& r, const std::string& name) {
  uint64_t n = 0;
  for (const auto& [value, count] : FacetOf(r, name)) n += count;
  return n;
}

size_t FeatureIndex(const std::string& name) {
  const auto& names = FeatureNames();
  return static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

// ---------------------------------------------------------------- fixture sanity

TEST_F(SearchEngineTest, FixtureIsBuilt) {
  EXPECT_EQ(catalog().size(), kNumItems);
  EXPECT_EQ(kNumItems, 60u);
  EXPECT_EQ(world().lexical->DocCount(), kNumItems);
  ASSERT_NE(world().built.vectors, nullptr);
  EXPECT_EQ(world().built.vectors->size(), kNumItems);
  EXPECT_TRUE(engine().has_dense());
  EXPECT_TRUE(world().profiles->Has("u-lg"));
}

// ---------------------------------------------------------------- filters and facets

TEST_F(SearchEngineTest, BrandFacetOfTvQueryIsExact) {
  SearchRequest r = Req("tv");
  r.facets = {"brand", "in_stock", "color", "price"};
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  EXPECT_EQ(FacetOf(resp, "brand"),
            (Counts{{"Samsung", 4}, {"LG", 3}, {"Sony", 3}, {"TCL", 2}, {"Sanus", 1}}));
  EXPECT_EQ(FacetOf(resp, "in_stock"), (Counts{{"true", 9}, {"false", 4}}));
  EXPECT_EQ(FacetOf(resp, "color"), (Counts{{"black", 8}, {"silver", 4}}));
  EXPECT_EQ(FacetOf(resp, "price"),
            (Counts{{"1000+", 5}, {"250-500", 4}, {"500-1000", 3}, {"25-50", 1}}));
  // The 13 lexical matches rank above every dense-only candidate.
  ASSERT_GE(resp.hits.size(), 13u);
  for (size_t i = 0; i < 13; ++i) {
    const std::string& id = resp.hits[i].external_id;
    EXPECT_TRUE(id.starts_with("tv-") || id == "acc-mount") << i << ": " << id;
  }
}

TEST_F(SearchEngineTest, CategoryFacetWithPriceFilter) {
  SearchRequest r = Req("tv", 50);
  r.filter.price_max = 800;
  r.facets = {"category"};
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  EXPECT_EQ(FacetOf(resp, "category"), (Counts{{"Electronics", 7}, {"TV", 6}, {"Accessories", 1}}));
  ASSERT_FALSE(resp.hits.empty());
  for (const SearchHit& h : resp.hits) {
    ASSERT_TRUE(Doc(h).price.has_value()) << h.external_id;
    EXPECT_LE(*Doc(h).price, 800) << h.external_id;
  }
}

TEST_F(SearchEngineTest, InStockFilter) {
  SearchRequest r = Req("tv", 50);
  r.filter.in_stock = true;
  r.facets = {"brand", "in_stock"};
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  EXPECT_EQ(FacetOf(resp, "brand"),
            (Counts{{"Samsung", 3}, {"LG", 2}, {"Sony", 2}, {"Sanus", 1}, {"TCL", 1}}));
  EXPECT_EQ(FacetOf(resp, "in_stock"), (Counts{{"true", 9}}));
  for (const SearchHit& h : resp.hits) {
    EXPECT_EQ(Doc(h).in_stock, std::optional<bool>(true)) << h.external_id;
  }
}

TEST_F(SearchEngineTest, AttributeFilterOnColor) {
  SearchRequest r = Req("tv", 50);
  r.filter.attributes = {{"color", "Silver"}};  // case-folded like the index
  r.facets = {"brand"};
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  EXPECT_EQ(FacetOf(resp, "brand"), (Counts{{"LG", 1}, {"Samsung", 1}, {"Sony", 1}, {"TCL", 1}}));
  // Dense retrieval honors the filter too: every hit is silver.
  std::set<std::string> ids;
  for (const SearchHit& h : resp.hits) {
    ids.insert(h.external_id);
    bool silver = false;
    for (const auto& [k, v] : Doc(h).attributes) silver = silver || (k == "color" && v == "silver");
    EXPECT_TRUE(silver) << h.external_id;
  }
  for (const char* id : {"tv-sam-65", "tv-lg-55", "tv-sony-65", "tv-tcl-40"}) {
    EXPECT_TRUE(ids.count(id)) << id;
  }
}

TEST_F(SearchEngineTest, FacetsOnBrowse) {
  SearchRequest r = Req("", 50);
  r.filter.categories = {"kitchen"};
  r.facets = {"brand", "category"};
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  EXPECT_EQ(resp.ranker, "browse");
  EXPECT_EQ(resp.total, 11u);
  EXPECT_EQ(resp.hits.size(), 11u);
  EXPECT_EQ(FacetOf(resp, "brand"), (Counts{{"Ninja", 3},
                                            {"Oster", 2},
                                            {"Vitamix", 2},
                                            {"Breville", 1},
                                            {"Keurig", 1},
                                            {"KitchenAid", 1},
                                            {"Mr. Coffee", 1}}));
  EXPECT_EQ(FacetOf(resp, "category"),
            (Counts{{"Kitchen", 11}, {"Blenders", 7}, {"Coffee Makers", 4}}));
  // Browse is ordered by popularity: the best seller first.
  ASSERT_FALSE(resp.hits.empty());
  EXPECT_EQ(resp.hits[0].external_id, "bl-ninja-pro");
}

TEST_F(SearchEngineTest, ChineseCategoryFacet) {
  SearchRequest r = Req("", 50);
  r.filter.categories = {"家电"};
  r.facets = {"brand"};
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  EXPECT_EQ(resp.total, 11u);
  EXPECT_EQ(FacetOf(resp, "brand"), (Counts{{"美的", 3},
                                            {"小米", 2},
                                            {"海尔", 2},
                                            {"九阳", 1},
                                            {"格力", 1},
                                            {"海信", 1},
                                            {"苏泊尔", 1}}));
}

// ---------------------------------------------------------------- typos

TEST_F(SearchEngineTest, TypoInBrandFindsSamsungTv) {
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(Req("samsng tv")));
  EXPECT_TRUE(resp.parsed.corrected);
  EXPECT_EQ(resp.parsed.did_you_mean, "samsung tv");
  EXPECT_GE(resp.parsed.spelling_confidence, 0.5);
  EXPECT_LE(resp.parsed.spelling_confidence, 1.0);
  EXPECT_EQ(resp.parsed.raw_terms, (std::vector<std::string>{"samsng", "tv"}));
  EXPECT_EQ(resp.parsed.terms, (std::vector<std::string>{"samsung", "tv"}));
  ASSERT_FALSE(resp.hits.empty());
  EXPECT_EQ(Doc(resp.hits[0]).brand, "Samsung");
  EXPECT_TRUE(InCategory(resp.hits[0], "TV"));
  const nlohmann::json j = resp.ToJson(false);
  EXPECT_EQ(j.value("did_you_mean", ""), "samsung tv");
  EXPECT_TRUE(j.contains("spelling_confidence"));
}

TEST_F(SearchEngineTest, TypoBlendrFindsBlenders) {
  SearchRequest r = Req("blendr");
  r.facets = {"category"};
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  EXPECT_TRUE(resp.parsed.corrected);
  EXPECT_EQ(resp.parsed.did_you_mean, "blender");
  EXPECT_EQ(FacetOf(resp, "category"), (Counts{{"Blenders", 7}, {"Kitchen", 7}}));
  ASSERT_GE(resp.hits.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(InCategory(resp.hits[i], "Blenders")) << resp.hits[i].external_id;
  }
}

TEST_F(SearchEngineTest, CorrectQueryIsNotCorrected) {
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(Req("samsung tv")));
  EXPECT_FALSE(resp.parsed.corrected);
  EXPECT_TRUE(resp.parsed.did_you_mean.empty());
  EXPECT_FALSE(resp.ToJson(false).contains("did_you_mean"));
}

// ---------------------------------------------------------------- Chinese

TEST_F(SearchEngineTest, ChineseQueryFindsChineseTvs) {
  SearchRequest r = Req("电视");
  r.facets = {"brand"};
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  EXPECT_EQ(FacetOf(resp, "brand"), (Counts{{"小米", 2}, {"海信", 1}}));
  ASSERT_GE(resp.hits.size(), 3u);
  std::set<std::string> top3;
  for (size_t i = 0; i < 3; ++i) top3.insert(resp.hits[i].external_id);
  EXPECT_EQ(top3, (std::set<std::string>{"cn-mi-tv55", "cn-mi-tv65", "cn-hisense-tv43"}));
}

TEST_F(SearchEngineTest, TraditionalChineseEqualsSimplified) {
  ASSERT_OK_AND_ASSIGN(SearchResponse simp, engine().Search(Req("电视", 60)));
  ASSERT_OK_AND_ASSIGN(SearchResponse trad, engine().Search(Req("電視", 60)));
  EXPECT_EQ(trad.parsed.normalized, "电视");
  EXPECT_EQ(trad.parsed.terms, simp.parsed.terms);
  EXPECT_EQ(trad.total, simp.total);
  EXPECT_EQ(Ids(trad), Ids(simp));
  ASSERT_EQ(trad.hits.size(), simp.hits.size());
  for (size_t i = 0; i < trad.hits.size(); ++i) {
    EXPECT_DOUBLE_EQ(trad.hits[i].score, simp.hits[i].score) << i;
  }
}

// ---------------------------------------------------------------- price phrases

// Runs `query` and checks the extracted range, the remaining text and that every
// hit (lexical and dense) lies inside the range.
void ExpectPriceQuery(const SearchEngine& engine, const std::string& query,
                      std::optional<double> min, std::optional<double> max, const std::string& text,
                      uint64_t total) {
  SCOPED_TRACE(query);
  SearchRequest r;
  r.query = query;
  r.limit = 60;
  r.facets = {"price"};
  StatusOr<SearchResponse> resp = engine.Search(r);
  ASSERT_OK(resp);
  EXPECT_EQ(resp->parsed.filter.price_min, min);
  EXPECT_EQ(resp->parsed.filter.price_max, max);
  EXPECT_EQ(resp->parsed.text, text);
  EXPECT_EQ(FacetSum(*resp, "price"), total);  // the lexical matches inside the range
  ASSERT_FALSE(resp->hits.empty());
  for (const SearchHit& h : resp->hits) {
    const CatalogDoc& d = engine.catalog().doc(h.doc);
    ASSERT_TRUE(d.price.has_value()) << h.external_id;
    if (min) {
      EXPECT_GE(*d.price, *min) << h.external_id;
    }
    if (max) {
      EXPECT_LE(*d.price, *max) << h.external_id;
    }
  }
  bool has_price = false;
  for (const Extraction& e : resp->parsed.extractions) {
    has_price = has_price || (e.kind == "price" && e.as_filter);
  }
  EXPECT_TRUE(has_price);
}

TEST_F(SearchEngineTest, PricePhrasesBecomeRangeFilters) {
  ExpectPriceQuery(engine(), "tv under 500", std::nullopt, 500.0, "tv", 5);
  ExpectPriceQuery(engine(), "blender $50-100", 50.0, 100.0, "blender", 4);
  ExpectPriceQuery(engine(), "电视 2000元以下", std::nullopt, 2000.0, "电视", 2);
  ExpectPriceQuery(engine(), "100-200元 电饭煲", 100.0, 200.0, "电饭煲", 2);
}

TEST_F(SearchEngineTest, PricePhraseTermsLeaveTheTextQuery) {
  const ParsedQuery q = engine().Understand("tv under 500");
  EXPECT_EQ(q.terms, (std::vector<std::string>{"tv"}));
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(Req("tv under 500", 5)));
  const std::vector<std::string> ids = Ids(resp);
  std::set<std::string> got(ids.begin(), ids.end());
  EXPECT_EQ(got, (std::set<std::string>{"tv-sam-43", "tv-sony-50", "tv-tcl-40", "tv-tcl-50",
                                        "acc-mount"}));
}

TEST_F(SearchEngineTest, PriceOnlyQueryBrowsesTheRange) {
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(Req("under 50", 60)));
  EXPECT_EQ(resp.ranker, "browse");
  EXPECT_TRUE(resp.parsed.terms.empty());
  EXPECT_EQ(resp.total, 6u);  // mount, Oster classic, Mr. Coffee, Uniqlo, Hanes, JBL
  EXPECT_EQ(resp.hits.size(), 6u);
  for (const SearchHit& h : resp.hits) EXPECT_LE(*Doc(h).price, 50) << h.external_id;
}

TEST_F(SearchEngineTest, PricePhraseIntersectsExplicitFilter) {
  SearchRequest r = Req("tv under 1000", 60);
  r.filter.price_min = 500;
  r.facets = {"price"};
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  EXPECT_EQ(FacetOf(resp, "price"), (Counts{{"500-1000", 3}}));  // 799, 999, 649
  for (const SearchHit& h : resp.hits) {
    EXPECT_GE(*Doc(h).price, 500);
    EXPECT_LE(*Doc(h).price, 1000);
  }
}

// ---------------------------------------------------------------- colors / sizes

TEST_F(SearchEngineTest, ColorAndSizeBecomeFilters) {
  SearchRequest r = Req("red shoes size m", 60);
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  const ParsedQuery& q = resp.parsed;
  EXPECT_EQ(q.colors, (std::vector<std::string>{"red"}));
  EXPECT_EQ(q.sizes, (std::vector<std::string>{"M"}));
  std::set<std::pair<std::string, std::string>> attrs(q.filter.attributes.begin(),
                                                      q.filter.attributes.end());
  EXPECT_EQ(attrs,
            (std::set<std::pair<std::string, std::string>>{{"color", "red"}, {"size", "M"}}));
  EXPECT_EQ(q.text.find("red"), std::string::npos) << q.text;
  EXPECT_EQ(resp.total, 2u);
  const std::vector<std::string> ids = Ids(resp);
  std::set<std::string> got(ids.begin(), ids.end());
  EXPECT_EQ(got, (std::set<std::string>{"sh-nike-red", "sh-adidas-trail"}));
}

TEST_F(SearchEngineTest, UnknownColorStaysAWord) {
  const ParsedQuery q = engine().Understand("green shoes");
  EXPECT_EQ(q.colors, (std::vector<std::string>{"green"}));
  EXPECT_TRUE(q.filter.attributes.empty());
  EXPECT_EQ(q.text, "green shoes");
  EXPECT_NE(std::find(q.terms.begin(), q.terms.end(), "green"), q.terms.end());
  bool found = false;
  for (const Extraction& e : q.extractions) {
    if (e.kind == "color") {
      found = true;
      EXPECT_EQ(e.value, "green");
      EXPECT_FALSE(e.as_filter);
    }
  }
  EXPECT_TRUE(found);
  SearchRequest r = Req("green shoes");
  r.facets = {"category"};
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  EXPECT_EQ(FacetOf(resp, "category"), (Counts{{"Fashion", 8}, {"Shoes", 8}}));
}

// ---------------------------------------------------------------- brands

TEST_F(SearchEngineTest, BrandDetectionAndBrandMatchFeature) {
  const ParsedQuery q = engine().Understand("sony tv");
  EXPECT_EQ(q.brands, (std::vector<std::string>{"Sony"}));
  EXPECT_TRUE(q.filter.brands.empty());  // a soft signal by default
  EXPECT_EQ(q.terms, catalog().analyzer().Terms("sony tv"));
  ASSERT_OK_AND_ASSIGN(std::vector<Candidate> cands, engine().Retrieve(q, {}));
  ASSERT_OK(engine().Featurize(q, cands));
  const size_t bm = FeatureIndex("brand_match");
  ASSERT_LT(bm, FeatureNames().size());
  size_t sony = 0;
  for (const Candidate& c : cands) {
    const bool is_sony = catalog().doc(c.doc).brand == "Sony";
    sony += is_sony;
    EXPECT_EQ(c.features[bm], is_sony ? 1.0f : 0.0f) << catalog().doc(c.doc).external_id;
  }
  EXPECT_EQ(sony, 5u);  // 3 TVs + 2 audio items, all retrieved (dense covers the catalog)

  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(Req("sony tv")));
  ASSERT_FALSE(resp.hits.empty());
  EXPECT_TRUE(resp.hits[0].external_id.starts_with("tv-sony-")) << resp.hits[0].external_id;
}

TEST_F(SearchEngineTest, BrandAsFilter) {
  SearchOptions o;
  o.qu.brand_as_filter = true;
  ASSERT_OK_AND_ASSIGN(auto eng, SearchEngine::Create(world().parts, o));
  SearchRequest r = Req("sony tv", 60);
  r.facets = {"brand"};
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, eng->Search(r));
  EXPECT_EQ(resp.parsed.filter.brands, (std::vector<std::string>{"Sony"}));
  EXPECT_EQ(resp.parsed.text, "tv");
  EXPECT_EQ(FacetOf(resp, "brand"), (Counts{{"Sony", 3}}));
  ASSERT_FALSE(resp.hits.empty());
  for (const SearchHit& h : resp.hits) EXPECT_EQ(Doc(h).brand, "Sony") << h.external_id;
}

TEST_F(SearchEngineTest, ChineseBrandDetection) {
  const ParsedQuery q = engine().Understand("小米 电视");
  EXPECT_EQ(q.brands, (std::vector<std::string>{"小米"}));
}

// SearchResponse::total is "matching documents (lexical matches under the
// filters)": the same number whatever page is asked for.
TEST_F(SearchEngineTest, TotalIsTheMatchCountWhateverThePage) {
  struct Case {
    const char* query;
    uint64_t total;
  };
  const Case cases[] = {{"tv", 13},  {"tv under 500", 5}, {"blendr", 7},
                        {"电视", 3}, {"sony tv", 15},     {"red shoes size m", 2}};
  for (const Case& c : cases) {
    for (size_t limit : {1, 5, 20, 60}) {
      for (size_t offset : {0, 20}) {
        SCOPED_TRACE(std::string(c.query) + " limit " + std::to_string(limit) + " offset " +
                     std::to_string(offset));
        SearchRequest r = Req(c.query, limit);
        r.offset = offset;
        ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
        EXPECT_EQ(resp.total, c.total);
      }
    }
  }
}

// ---------------------------------------------------------------- sorting / pagination

TEST_F(SearchEngineTest, SortByPrice) {
  const std::vector<std::string> asc = {
      "acc-mount", "tv-sam-43",  "tv-tcl-40", "tv-sony-50", "tv-tcl-50",  "tv-lg-55", "tv-sam-55",
      "tv-lg-48",  "tv-sony-65", "tv-sam-65", "tv-lg-65",   "tv-sony-77", "tv-sam-75"};
  SearchRequest r = Req("tv", 100);
  r.sort = index::SortBy::kPriceAsc;
  ASSERT_OK_AND_ASSIGN(SearchResponse up, engine().Search(r));
  EXPECT_EQ(up.ranker, "sort");
  EXPECT_EQ(Ids(up), asc);
  r.sort = index::SortBy::kPriceDesc;
  ASSERT_OK_AND_ASSIGN(SearchResponse down, engine().Search(r));
  EXPECT_EQ(Ids(down), std::vector<std::string>(asc.rbegin(), asc.rend()));
}

TEST_F(SearchEngineTest, SortByPriceOnBrowsePutsMissingPriceLast) {
  SearchRequest r = Req("", 100);
  r.sort = index::SortBy::kPriceAsc;
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  ASSERT_EQ(resp.hits.size(), kNumItems);
  EXPECT_EQ(resp.hits.back().external_id, "gift-card");
  for (size_t i = 1; i + 1 < resp.hits.size(); ++i) {
    EXPECT_LE(*Doc(resp.hits[i - 1]).price, *Doc(resp.hits[i]).price) << i;
  }
  r.sort = index::SortBy::kPriceDesc;
  ASSERT_OK_AND_ASSIGN(SearchResponse desc, engine().Search(r));
  ASSERT_EQ(desc.hits.size(), kNumItems);
  EXPECT_EQ(desc.hits.front().external_id, "cn-huawei-phone");
  EXPECT_EQ(desc.hits.back().external_id, "gift-card");
}

void ExpectPagesContinue(const SearchEngine& engine, SearchRequest r) {
  r.offset = 0;
  r.limit = 10;
  StatusOr<SearchResponse> all = engine.Search(r);
  ASSERT_OK(all);
  r.limit = 5;
  StatusOr<SearchResponse> p1 = engine.Search(r);
  r.offset = 5;
  StatusOr<SearchResponse> p2 = engine.Search(r);
  ASSERT_OK(p1);
  ASSERT_OK(p2);
  std::vector<std::string> joined;
  for (const SearchHit& h : p1->hits) joined.push_back(h.external_id);
  for (const SearchHit& h : p2->hits) joined.push_back(h.external_id);
  std::vector<std::string> want;
  for (const SearchHit& h : all->hits) want.push_back(h.external_id);
  EXPECT_EQ(joined, want);
  EXPECT_EQ(std::set<std::string>(joined.begin(), joined.end()).size(), joined.size());
  EXPECT_EQ(p1->total, all->total);
  EXPECT_EQ(p2->total, all->total);
  r.offset = 5000;
  StatusOr<SearchResponse> past = engine.Search(r);
  ASSERT_OK(past);
  EXPECT_TRUE(past->hits.empty());
}

TEST_F(SearchEngineTest, PaginationIsConsistent) {
  {
    SCOPED_TRACE("relevance");
    ExpectPagesContinue(engine(), Req("tv"));
  }
  {
    SCOPED_TRACE("price sort");
    SearchRequest r = Req("tv");
    r.sort = index::SortBy::kPriceDesc;
    ExpectPagesContinue(engine(), r);
  }
  {
    SCOPED_TRACE("browse");
    ExpectPagesContinue(engine(), Req(""));
  }
}

// ---------------------------------------------------------------- personalization

size_t RankOf(const SearchResponse& r, const std::string& prefix) {
  for (size_t i = 0; i < r.hits.size(); ++i) {
    if (r.hits[i].external_id.starts_with(prefix)) return i;
  }
  return r.hits.size();
}

TEST_F(SearchEngineTest, PersonalizationLiftsTheUsersBrand) {
  SearchOptions off;
  off.personalization_weight = 0;
  SearchOptions on;
  on.personalization_weight = 0.5;
  ASSERT_OK_AND_ASSIGN(auto plain, SearchEngine::Create(world().parts, off));
  ASSERT_OK_AND_ASSIGN(auto personal, SearchEngine::Create(world().parts, on));
  SearchRequest r = Req("tv", 20);
  r.user_id = "u-lg";
  r.explain = true;
  ASSERT_OK_AND_ASSIGN(SearchResponse base, plain->Search(r));
  ASSERT_OK_AND_ASSIGN(SearchResponse boosted, personal->Search(r));
  EXPECT_EQ(base.ranker, "fusion");
  EXPECT_EQ(boosted.ranker, "fusion+personal");
  const size_t before = RankOf(base, "tv-lg-"), after = RankOf(boosted, "tv-lg-");
  ASSERT_LT(after, boosted.hits.size());
  EXPECT_LT(after, before) << "best LG TV rank without personalization " << before;
  EXPECT_EQ(after, 0u);

  // Anonymous and unknown users get the unpersonalized order.
  SearchRequest anon = r;
  anon.user_id = "";
  ASSERT_OK_AND_ASSIGN(SearchResponse a, personal->Search(anon));
  EXPECT_EQ(a.ranker, "fusion");
  EXPECT_EQ(Ids(a), Ids(base));
  anon.user_id = "nobody";
  ASSERT_OK_AND_ASSIGN(SearchResponse n, personal->Search(anon));
  EXPECT_EQ(Ids(n), Ids(base));

  // The explanation shows the boost: weight * affinity, with its parts.
  for (const SearchHit& h : boosted.hits) {
    ASSERT_TRUE(h.explanation.has_value());
    const HitExplanation& e = *h.explanation;
    std::vector<std::pair<std::string, double>> parts;
    const double affinity = world().profiles->Affinity("u-lg", h.doc, &parts);
    EXPECT_NEAR(e.personal_boost, 0.5 * affinity, 1e-12) << h.external_id;
    if (affinity > 0) {
      EXPECT_EQ(e.personal_parts, parts) << h.external_id;
    }
    EXPECT_DOUBLE_EQ(e.final_score, h.score);
  }
  const SearchHit& top = boosted.hits[0];
  ASSERT_TRUE(top.explanation.has_value());
  EXPECT_GT(top.explanation->personal_boost, 0);
  std::map<std::string, double> parts(top.explanation->personal_parts.begin(),
                                      top.explanation->personal_parts.end());
  EXPECT_DOUBLE_EQ(parts["brand"], 1.0);     // every event was on LG
  EXPECT_DOUBLE_EQ(parts["category"], 1.0);  // ... and on TVs
  const nlohmann::json j = boosted.ToJson(true);
  ASSERT_TRUE(j["hits"][0]["explain"].contains("personalization"));
  EXPECT_GT(j["hits"][0]["explain"]["personalization"]["boost"].get<double>(), 0);
  // A Samsung TV has no brand affinity for this user.
  for (const SearchHit& h : boosted.hits) {
    if (h.external_id.starts_with("tv-sam-")) {
      std::map<std::string, double> p(h.explanation->personal_parts.begin(),
                                      h.explanation->personal_parts.end());
      EXPECT_EQ(p["brand"], 0.0) << h.external_id;
    }
  }
}

// ---------------------------------------------------------------- explanations

TEST_F(SearchEngineTest, ExplanationMatchesTheComponents) {
  SearchRequest r = Req("samsung tv", 20);
  r.explain = true;
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  ASSERT_EQ(resp.ranker, "fusion");
  ASSERT_FALSE(resp.hits.empty());
  const SearchOptions& o = engine().options();
  std::vector<float> qv(world().built.encoder->Dim());
  const std::string text = resp.parsed.dense_text;
  ASSERT_OK(world().built.encoder->Encode({&text, 1}, lm::TextKind::kQuery, qv.data()));
  size_t lexical_hits = 0, dense_hits = 0;
  for (const SearchHit& h : resp.hits) {
    SCOPED_TRACE(h.external_id);
    ASSERT_TRUE(h.explanation.has_value());
    const HitExplanation& e = *h.explanation;
    ASSERT_OK_AND_ASSIGN(index::FieldScores fs, world().lexical->Score(h.doc, resp.parsed.terms));
    for (int f = 0; f < index::kNumFields; ++f) {
      EXPECT_NEAR(e.field_bm25[f], fs.bm25[f], 1e-5 * std::max(1.0, std::abs(fs.bm25[f]))) << f;
    }
    if (e.lexical_rank) {
      ++lexical_hits;
      EXPECT_NEAR(e.lexical_score, fs.total, 1e-6 * std::max(1.0, fs.total));
    } else {
      EXPECT_EQ(fs.total, 0.0);  // a dense-only hit matches no query term
    }
    if (e.dense_rank) {
      ++dense_hits;
      ASSERT_OK_AND_ASSIGN(std::vector<float> dv, world().built.vectors->Get(h.doc));
      double dot = 0;
      for (size_t i = 0; i < dv.size(); ++i) dot += qv[i] * dv[i];
      EXPECT_NEAR(e.dense_score, dot, 1e-4);
    }
    const double rrf = (e.lexical_rank ? o.lexical_weight / (o.rrf_k + *e.lexical_rank) : 0) +
                       (e.dense_rank ? o.dense_weight / (o.rrf_k + *e.dense_rank) : 0);
    EXPECT_NEAR(e.fused_score, rrf, 1e-12);
    EXPECT_DOUBLE_EQ(e.final_score, h.score);
    EXPECT_FALSE(e.ltr_score.has_value());
  }
  EXPECT_EQ(lexical_hits, 13u);  // "samsung" OR "tv": 13 items, all on this page
  EXPECT_GT(dense_hits, 0u);
  // Ranks are consistent with the order of fused scores.
  for (size_t i = 1; i < resp.hits.size(); ++i) {
    EXPECT_GE(resp.hits[i - 1].score, resp.hits[i].score) << i;
  }
}

TEST_F(SearchEngineTest, ExplainJsonHasQueryUnderstandingSteps) {
  SearchRequest r = Req("Samsng TV under $500", 5);
  r.explain = true;
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  const nlohmann::json j = resp.ToJson(true);
  ASSERT_TRUE(j.contains("query_understanding"));
  std::set<std::string> steps;
  for (const auto& s : j["query_understanding"]) steps.insert(s.value("step", ""));
  for (const char* want : {"normalize", "extract_price", "analyze", "spelling"}) {
    EXPECT_TRUE(steps.count(want)) << want;
  }
  EXPECT_EQ(j["extracted_filters"].value("price_max", -1.0), 500.0);
  EXPECT_EQ(j.value("did_you_mean", ""), "samsung tv");
  ASSERT_FALSE(j["hits"].empty());
  const nlohmann::json& ex = j["hits"][0]["explain"];
  for (const char* k : {"lexical", "dense", "fused", "final"}) EXPECT_TRUE(ex.contains(k)) << k;
  EXPECT_TRUE(ex["lexical"]["fields_bm25"].contains("title"));
  EXPECT_EQ(j["hits"][0].value("id", ""), resp.hits[0].external_id);
  EXPECT_EQ(Doc(resp.hits[0]).brand, "Samsung");
  EXPECT_LE(*Doc(resp.hits[0]).price, 500);

  const nlohmann::json plain = resp.ToJson(false);
  EXPECT_FALSE(plain.contains("query_understanding"));
  EXPECT_FALSE(plain["hits"][0].contains("explain"));
}

// Labels for the tiny LTR training set: 2 = the intended brand in the intended
// category, 1 = intended category, 0 = other.
struct LtrQuery {
  const char* query;
  const char* category;
  const char* brand;
};
const LtrQuery kLtrQueries[] = {
    {"tv", "TV", ""},
    {"samsung tv", "TV", "Samsung"},
    {"oled tv", "TV", ""},
    {"lg tv", "TV", "LG"},
    {"blender", "Blenders", ""},
    {"ninja blender", "Blenders", "Ninja"},
    {"running shoes", "Shoes", ""},
    {"coffee maker", "Coffee Makers", ""},
    {"headphones", "Audio", ""},
    {"sony headphones", "Audio", "Sony"},
    {"laptop", "Laptops", ""},
    {"电视", "电视", ""},
    {"vacuum", "Vacuums", ""},
    {"jacket", "Jackets", ""},
};

TEST_F(SearchEngineTest, LtrExplanationContributionsSumToTheScore) {
  rank::TrainingSet set;
  set.feature_names = FeatureNames();
  for (const LtrQuery& lq : kLtrQueries) {
    const ParsedQuery q = engine().Understand(lq.query);
    ASSERT_OK_AND_ASSIGN(std::vector<Candidate> cands, engine().Retrieve(q, {}));
    ASSERT_OK(engine().Featurize(q, cands));
    for (const Candidate& c : cands) {
      const CatalogDoc& d = catalog().doc(c.doc);
      const bool cat = std::find(d.category_path.begin(), d.category_path.end(), lq.category) !=
                       d.category_path.end();
      const float label = cat ? (std::string(lq.brand) == d.brand ? 2.0f : 1.0f) : 0.0f;
      set.AddRow(c.features, label);
    }
    set.groups.push_back(static_cast<uint32_t>(cands.size()));
  }
  ASSERT_OK(set.Validate());
  rank::GbdtOptions go;
  go.rounds = 30;
  go.early_stopping_rounds = 0;
  go.max_depth = 3;
  go.subsample = 1.0;
  go.colsample_bytree = 1.0;
  go.threads = 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<rank::GbdtModel> model,
                       rank::GbdtModel::Train(set, nullptr, go));
  std::shared_ptr<const rank::GbdtModel> ranker = std::move(model);

  SearchEngine::Parts parts = world().parts;
  parts.ranker = ranker;
  ASSERT_OK_AND_ASSIGN(auto eng, SearchEngine::Create(parts, SearchOptions{}));
  SearchRequest r = Req("oled tv", 20);
  r.explain = true;
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, eng->Search(r));
  EXPECT_EQ(resp.ranker, "ltr");
  ASSERT_FALSE(resp.hits.empty());
  for (size_t i = 0; i < resp.hits.size(); ++i) {
    const SearchHit& h = resp.hits[i];
    SCOPED_TRACE(h.external_id);
    ASSERT_TRUE(h.explanation.has_value());
    const HitExplanation& e = *h.explanation;
    ASSERT_TRUE(e.ltr_score.has_value());
    double sum = e.ltr_bias;
    for (const auto& [name, v] : e.ltr_contributions) {
      EXPECT_NE(std::find(FeatureNames().begin(), FeatureNames().end(), name), FeatureNames().end())
          << name;
      EXPECT_NE(v, 0.0) << name;
      sum += v;
    }
    EXPECT_NEAR(sum, *e.ltr_score, 1e-4);
    EXPECT_NEAR(*e.ltr_score, h.score, 1e-4);  // no personalization: final = LTR score
    for (size_t k = 1; k < e.ltr_contributions.size(); ++k) {
      EXPECT_GE(std::abs(e.ltr_contributions[k - 1].second),
                std::abs(e.ltr_contributions[k].second));
    }
    // The model scores the same features to the same value (independent path).
    std::vector<Candidate> one(1);
    one[0].doc = h.doc;
    one[0].lexical_rank = e.lexical_rank;
    one[0].dense_rank = e.dense_rank;
    one[0].lexical_score = e.lexical_score;
    one[0].dense_score = e.dense_score;
    one[0].fused = e.fused_score;
    ASSERT_OK(eng->Featurize(resp.parsed, one));
    float pred = 0;
    ASSERT_OK(ranker->Predict(one[0].features.data(), 1, &pred));
    EXPECT_NEAR(pred, *e.ltr_score, 1e-4);
    if (i > 0) {
      EXPECT_GE(resp.hits[i - 1].score, h.score);
    }
  }
  // The trained model puts TVs first for a TV query.
  EXPECT_TRUE(InCategory(resp.hits[0], "TV")) << resp.hits[0].external_id;
  const nlohmann::json j = resp.ToJson(true);
  ASSERT_TRUE(j["hits"][0]["explain"].contains("ltr"));
  EXPECT_NEAR(j["hits"][0]["explain"]["ltr"]["score"].get<double>(),
              *resp.hits[0].explanation->ltr_score, 1e-9);

  // A model trained on other feature names is refused.
  rank::TrainingSet other = set;
  other.feature_names.back() = "something_else";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<rank::GbdtModel> wrong,
                       rank::GbdtModel::Train(other, nullptr, go));
  parts.ranker = std::shared_ptr<const rank::GbdtModel>(std::move(wrong));
  EXPECT_EQ(SearchEngine::Create(parts, SearchOptions{}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(SearchEngineTest, WeightedFusionExplanation) {
  SearchOptions o;
  o.fusion = "weighted";
  o.lexical_weight = 0.7;
  o.dense_weight = 0.3;
  ASSERT_OK_AND_ASSIGN(auto eng, SearchEngine::Create(world().parts, o));
  SearchRequest r = Req("oled tv", 60);
  r.explain = true;
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, eng->Search(r));
  ASSERT_FALSE(resp.hits.empty());
  // fused = 0.7 * lex / max lex + 0.3 * max(0, dense) / max dense over the candidates; every
  // candidate is on this page (60 >= catalog size), so the maxima are visible here.
  double lex_max = 0, dense_max = 0;
  for (const SearchHit& h : resp.hits) {
    const HitExplanation& e = *h.explanation;
    if (e.lexical_rank) lex_max = std::max(lex_max, e.lexical_score);
    if (e.dense_rank) dense_max = std::max(dense_max, e.dense_score);
  }
  ASSERT_GT(lex_max, 0);
  ASSERT_GT(dense_max, 0);
  for (const SearchHit& h : resp.hits) {
    SCOPED_TRACE(h.external_id);
    const HitExplanation& e = *h.explanation;
    const double lex = e.lexical_rank ? e.lexical_score : 0;
    const double dense = e.dense_rank ? std::max(0.0, e.dense_score) : 0;
    EXPECT_NEAR(e.fused_score, 0.7 * lex / lex_max + 0.3 * dense / dense_max, 1e-9);
    EXPECT_DOUBLE_EQ(h.score, e.fused_score);
  }
}

TEST_F(SearchEngineTest, CreateRejectsBadParts) {
  SearchEngine::Parts p = world().parts;
  p.catalog.reset();
  EXPECT_EQ(SearchEngine::Create(p, {}).status().code(), StatusCode::kInvalidArgument);
  p = world().parts;
  p.lexical.reset();
  EXPECT_EQ(SearchEngine::Create(p, {}).status().code(), StatusCode::kInvalidArgument);
  SearchOptions o;
  o.fusion = "borda";
  StatusOr<std::unique_ptr<SearchEngine>> bad = SearchEngine::Create(world().parts, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("borda"), std::string::npos);
  // Lexical only (no dense parts) still searches.
  p = world().parts;
  p.vectors.reset();
  p.encoder.reset();
  ASSERT_OK_AND_ASSIGN(auto lexical_only, SearchEngine::Create(p, {}));
  EXPECT_FALSE(lexical_only->has_dense());
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, lexical_only->Search(Req("tv", 60)));
  EXPECT_EQ(resp.hits.size(), 13u);
  EXPECT_EQ(resp.total, 13u);
}

// ---------------------------------------------------------------- category intent

TEST_F(SearchEngineTest, CategoryIntentFeedsTheFeature) {
  auto classifier = std::make_shared<CategoryClassifier>();
  const text::Analyzer& an = catalog().analyzer();
  classifier->Add(an.Terms("tv"), "tv", 3);
  classifier->Add(an.Terms("oled tv"), "tv", 2);
  classifier->Add(an.Terms("smart tv"), "tv");
  classifier->Add(an.Terms("blender"), "blenders", 3);
  classifier->Add(an.Terms("smoothie blender"), "blenders");
  classifier->Add(an.Terms("running shoes"), "shoes", 2);
  classifier->Finish();
  SearchEngine::Parts parts = world().parts;
  parts.classifier = classifier;
  ASSERT_OK_AND_ASSIGN(auto eng, SearchEngine::Create(parts, SearchOptions{}));
  const ParsedQuery q = eng->Understand("oled tv");
  ASSERT_FALSE(q.category_intent.empty());
  EXPECT_EQ(q.category_intent[0].first, "tv");
  EXPECT_GT(q.category_intent[0].second, 0.5);
  bool step = false;
  for (const QueryStep& s : q.steps) step = step || s.value("step", "") == "category_intent";
  EXPECT_TRUE(step);
  ASSERT_OK_AND_ASSIGN(std::vector<Candidate> cands, eng->Retrieve(q, {}));
  ASSERT_OK(eng->Featurize(q, cands));
  const size_t ci = FeatureIndex("category_intent");
  for (const Candidate& c : cands) {
    const CatalogDoc& d = catalog().doc(c.doc);
    const bool tv =
        std::find(d.category_path.begin(), d.category_path.end(), "TV") != d.category_path.end();
    EXPECT_FLOAT_EQ(c.features[ci], tv ? static_cast<float>(q.category_intent[0].second) : 0.0f)
        << d.external_id;
  }
  EXPECT_TRUE(eng->Understand("qwzx").category_intent.empty());
}

// ---------------------------------------------------------------- bad input

TEST_F(SearchEngineTest, EmptyQueryBrowsesPopularItems) {
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(Req("")));
  EXPECT_EQ(resp.ranker, "browse");
  EXPECT_EQ(resp.total, kNumItems);
  EXPECT_EQ(resp.hits.size(), 20u);
  ASSERT_FALSE(resp.hits.empty());
  EXPECT_EQ(resp.hits[0].external_id, "bl-ninja-pro");
  for (size_t i = 1; i < resp.hits.size(); ++i) {
    EXPECT_GE(catalog().popularity(resp.hits[i - 1].doc), catalog().popularity(resp.hits[i].doc));
  }
  // Whitespace and punctuation only is the same browse.
  ASSERT_OK_AND_ASSIGN(SearchResponse blank, engine().Search(Req("   \t ")));
  EXPECT_EQ(blank.ranker, "browse");
  EXPECT_EQ(blank.total, kNumItems);
}

TEST_F(SearchEngineTest, VeryLongQuery) {
  std::string q;
  while (q.size() < 10000) q += "samsung tv ";
  q.resize(10000);
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(Req(q)));
  EXPECT_EQ(resp.parsed.original.size(), 10000u);
  EXPECT_LE(resp.parsed.normalized.size(), engine().options().qu.max_query_bytes);
  ASSERT_FALSE(resp.hits.empty());
  EXPECT_EQ(Doc(resp.hits[0]).brand, "Samsung");
  // Multi-byte text is cut at a code point boundary.
  std::string cjk;
  while (cjk.size() < 10000) cjk += "电视 ";  // 7-byte units: 1024 falls inside a character
  SearchRequest cr = Req(cjk);
  cr.facets = {"brand"};
  ASSERT_OK_AND_ASSIGN(SearchResponse c, engine().Search(cr));
  EXPECT_LE(c.parsed.normalized.size(), engine().options().qu.max_query_bytes);
  EXPECT_TRUE(c.parsed.normalized.ends_with("电视")) << c.parsed.normalized.size();
  EXPECT_EQ(FacetSum(c, "brand"), 3u);
}

TEST_F(SearchEngineTest, ControlCharactersSeparateWords) {
  const std::string raw = std::string("samsung") + '\x01' + "tv" + '\x7f' + '\0' + "oled\n";
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(Req(raw)));
  EXPECT_EQ(resp.parsed.terms, engine().catalog().analyzer().Terms("samsung tv oled"));
  EXPECT_EQ(resp.parsed.terms.size(), 3u);
  ASSERT_FALSE(resp.hits.empty());
  EXPECT_EQ(Doc(resp.hits[0]).brand, "Samsung");
}

TEST_F(SearchEngineTest, UnbalancedQuote) {
  SearchRequest r = Req("\"tv");
  r.facets = {"brand"};
  ASSERT_OK_AND_ASSIGN(SearchResponse quoted, engine().Search(r));
  r.query = "tv";
  ASSERT_OK_AND_ASSIGN(SearchResponse plain, engine().Search(r));
  EXPECT_EQ(quoted.parsed.terms, (std::vector<std::string>{"tv"}));
  EXPECT_EQ(FacetSum(quoted, "brand"), 13u);
  EXPECT_EQ(quoted.total, plain.total);
  EXPECT_EQ(Ids(quoted), Ids(plain));
  ASSERT_OK(engine().Search(Req("'sony\" `tv")));
}

TEST_F(SearchEngineTest, InvertedPriceRangeIsInvalid) {
  SearchRequest r = Req("tv");
  r.filter.price_min = 500;
  r.filter.price_max = 100;
  StatusOr<SearchResponse> resp = engine().Search(r);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(resp.status().message().find("price"), std::string::npos) << resp.status().message();
  r.filter.price_min = std::nan("");
  r.filter.price_max.reset();
  resp = engine().Search(r);
  EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(resp.status().message().find("price"), std::string::npos);
}

TEST_F(SearchEngineTest, LimitTooLargeIsInvalid) {
  StatusOr<SearchResponse> resp = engine().Search(Req("tv", 5000));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(resp.status().message().find("limit"), std::string::npos) << resp.status().message();
  EXPECT_OK(engine().Search(Req("tv", 1000)));
}

TEST_F(SearchEngineTest, UnknownFacetIsInvalid) {
  SearchRequest r = Req("tv");
  r.facets = {"brand", "colour"};
  StatusOr<SearchResponse> resp = engine().Search(r);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(resp.status().message().find("colour"), std::string::npos) << resp.status().message();
  r.facets = {"brand", "size"};  // an attribute key of the catalog
  EXPECT_OK(engine().Search(r));
}

TEST_F(SearchEngineTest, QueryPriceContradictingFilterGivesNoHits) {
  SearchRequest r = Req("tv under 100");
  r.filter.price_min = 500;
  r.facets = {"brand"};
  ASSERT_OK_AND_ASSIGN(SearchResponse resp, engine().Search(r));
  EXPECT_TRUE(resp.hits.empty());
  EXPECT_EQ(resp.total, 0u);
  EXPECT_EQ(resp.parsed.filter.price_max, 100.0);
}

}  // namespace
}  // namespace souk::search
