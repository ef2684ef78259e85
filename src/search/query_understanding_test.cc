// Unit tests of query understanding: the price-phrase parser, the category
// classifier, and QueryUnderstanding over a small catalog (no dense parts).
#include "search/query_understanding.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "common/testing.h"
#include "index/lexical_index.h"
#include "search/catalog.h"

namespace souk::search {
namespace {

// ---------------------------------------------------------------- FindPricePhrase

struct PriceCase {
  const char* text;  // normalized input
  std::optional<double> min, max;
  const char* span;  // the phrase FindPricePhrase reports
};

TEST(FindPricePhraseTest, RecognizesPricePhrasings) {
  const std::optional<double> none;
  const PriceCase cases[] = {
      {"under 50", none, 50.0, "under 50"},
      {"tv under $500", none, 500.0, "under $500"},
      {"tv under $500 sony", none, 500.0, "under $500"},
      {"less than 30 dollars", none, 30.0, "less than 30 dollars"},
      {"cheaper than 80 bucks", none, 80.0, "cheaper than 80 bucks"},
      {"below 99.99", none, 99.99, "below 99.99"},
      {"up to $1,299", none, 1299.0, "up to $1,299"},
      {"50 dollars or less", none, 50.0, "50 dollars or less"},
      {"over 100", 100.0, none, "over 100"},
      {"at least $20", 20.0, none, "at least $20"},
      {"$25.50 and up", 25.5, none, "$25.50 and up"},
      {"$20-$40", 20.0, 40.0, "$20-$40"},
      {"$20 - 40", 20.0, 40.0, "$20 - 40"},
      {"blender $50-100", 50.0, 100.0, "$50-100"},
      {"$20 to $40", 20.0, 40.0, "$20 to $40"},
      {"20 to 40 dollars", 20.0, 40.0, "20 to 40 dollars"},
      {"between 20 and 40", 20.0, 40.0, "between 20 and 40"},
      {"price 50-100", 50.0, 100.0, "price 50-100"},
      {"$40-$20", 20.0, 40.0, "$40-$20"},  // reversed bounds are sorted
      {"100-200元", 100.0, 200.0, "100-200元"},
      {"100-200元 电饭煲", 100.0, 200.0, "100-200元"},
      {"电视 2000元以下", none, 2000.0, "2000元以下"},
      {"100元以上", 100.0, none, "100元以上"},
      {"低于100元", none, 100.0, "低于100元"},
      {"不超过300块", none, 300.0, "不超过300块"},
      {"¥300以内", none, 300.0, "¥300以内"},
      {"价格 1000到2000", 1000.0, 2000.0, "价格 1000到2000"},
      {"500-1000 rmb", 500.0, 1000.0, "500-1000 rmb"},
      {"size 10 shoes under 80", none, 80.0, "under 80"},
  };
  for (const PriceCase& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string text = c.text;
    std::optional<PricePhrase> p = FindPricePhrase(text);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->min, c.min);
    EXPECT_EQ(p->max, c.max);
    ASSERT_LE(p->begin, p->end);
    ASSERT_LE(p->end, text.size());
    EXPECT_EQ(text.substr(p->begin, p->end - p->begin), c.span);
  }
}

TEST(FindPricePhraseTest, NumbersThatAreNotPrices) {
  for (const char* text :
       {"2-4 inch", "size 10", "55 inch tv", "iphone 15", "tv 4k", "1-2 years", "between", "under",
        "$", "3 to 5", "2 and 3", "55英寸", "100-200", "under the sink", "", "   "}) {
    SCOPED_TRACE(text);
    std::optional<PricePhrase> p = FindPricePhrase(text);
    EXPECT_FALSE(p.has_value()) << "[" << (p ? p->begin : 0) << "," << (p ? p->end : 0) << ")";
  }
}

// A number followed by a unit of measure is a size, weight or capacity, not a
// price, even after "under"/"over"/"max".
TEST(FindPricePhraseTest, NumberWithUnitIsNotAPrice) {
  for (const char* text : {"tv over 65 inch", "laptop under 2 kg", "iphone 15 pro max 256gb",
                           "delivery within 3 days", "电视 大于55英寸"}) {
    SCOPED_TRACE(text);
    std::optional<PricePhrase> p = FindPricePhrase(text);
    EXPECT_FALSE(p.has_value()) << "min " << (p && p->min ? *p->min : -1) << " max "
                                << (p && p->max ? *p->max : -1);
  }
}

// "1k" is a thousand: if the phrase is taken as a price, its bound must be 1000.
TEST(FindPricePhraseTest, ThousandSuffix) {
  std::optional<PricePhrase> p = FindPricePhrase("laptop under 1k");
  if (p) {
    ASSERT_TRUE(p->max.has_value());
    EXPECT_EQ(*p->max, 1000.0);
  }
}

TEST(FindPricePhraseTest, GarbageDoesNotCrash) {
  std::string s;
  for (int i = 0; i < 2000; ++i) s += static_cast<char>((i * 37) % 256);
  (void)FindPricePhrase(s);
  (void)FindPricePhrase("$$$---~~~元元元以下以上");
  (void)FindPricePhrase("under $");
  (void)FindPricePhrase("1,,,,2 - .5 元");
  SUCCEED();
}

// ---------------------------------------------------------------- CategoryClassifier

CategoryClassifier TrainedClassifier() {
  CategoryClassifier c;
  c.Add({"tv"}, "tv", 3);
  c.Add({"oled", "tv"}, "tv", 2);
  c.Add({"smart", "tv"}, "tv");
  c.Add({"blender"}, "blenders", 3);
  c.Add({"smoothie", "blender"}, "blenders");
  c.Add({"running", "shoe"}, "shoes", 2);
  c.Add({"sneaker"}, "shoes");
  c.Add({"电视"}, "电视", 2);
  c.Finish();
  return c;
}

TEST(CategoryClassifierTest, PredictsTheTrainedCategory) {
  const CategoryClassifier c = TrainedClassifier();
  EXPECT_EQ(c.num_classes(), 4u);
  EXPECT_FALSE(c.empty());
  struct Case {
    std::vector<std::string> terms;
    std::string want;
  };
  for (const Case& k : std::vector<Case>{{{"tv"}, "tv"},
                                         {{"oled"}, "tv"},
                                         {{"smoothie"}, "blenders"},
                                         {{"sneaker"}, "shoes"},
                                         {{"running", "shoe"}, "shoes"},
                                         {{"电视"}, "电视"},
                                         {{"cheap", "blender", "xyz"}, "blenders"}}) {
    SCOPED_TRACE(k.want);
    const auto pred = c.Predict(k.terms);
    ASSERT_FALSE(pred.empty());
    EXPECT_EQ(pred[0].first, k.want);
    EXPECT_GT(pred[0].second, 0.5);
    double sum = 0;
    for (size_t i = 0; i < pred.size(); ++i) {
      sum += pred[i].second;
      EXPECT_GE(pred[i].second, 0.05);
      if (i > 0) {
        EXPECT_GE(pred[i - 1].second, pred[i].second);
      }
    }
    EXPECT_LE(sum, 1.0 + 1e-9);
  }
}

TEST(CategoryClassifierTest, NoIntentForUnknownWords) {
  const CategoryClassifier c = TrainedClassifier();
  EXPECT_TRUE(c.Predict({"qwzx"}).empty());
  EXPECT_TRUE(c.Predict({"qwzx", "plugh"}).empty());
  EXPECT_TRUE(c.Predict({}).empty());
  CategoryClassifier untrained;
  untrained.Finish();
  EXPECT_TRUE(untrained.empty());
  EXPECT_TRUE(untrained.Predict({"tv"}).empty());
}

TEST(CategoryClassifierTest, TopKAndMinProb) {
  const CategoryClassifier c = TrainedClassifier();
  EXPECT_LE(c.Predict({"tv", "blender"}, 1).size(), 1u);
  const auto all = c.Predict({"tv", "blender"}, 10, 0.0);
  EXPECT_EQ(all.size(), 4u);  // min_prob 0 keeps every class
  double sum = 0;
  for (const auto& [cat, p] : all) sum += p;
  EXPECT_NEAR(sum, 1.0, 1e-9);
  // Empty category or no terms are ignored by Add.
  CategoryClassifier d;
  d.Add({}, "tv");
  d.Add({"tv"}, "");
  d.Finish();
  EXPECT_TRUE(d.empty());
}

// ---------------------------------------------------------------- QueryUnderstanding

struct MiniItem {
  const char* id;
  const char* title;
  const char* brand;
  const char* category;
  const char* attributes;
};
const MiniItem kMini[] = {
    {"a", "Nike Running Shoes", "Nike", "Fashion > Shoes", R"({"color":"red","size":"M"})"},
    {"b", "Adidas Trail Shoes", "Adidas", "Fashion > Shoes", R"({"color":"pink","size":"XL"})"},
    {"c", "Samsung 55 inch QLED TV", "Samsung", "Electronics > TV", R"({"color":"black"})"},
    {"d", "小米电视 55英寸", "小米", "家电 > 电视", "{}"},
    {"e", "海尔冰箱 双开门", "海尔", "家电 > 冰箱", "{}"},
    {"f", "The North Face Rain Jacket", "The North Face", "Fashion > Jackets",
     R"({"color":"red","size":"L"})"},
};

class QueryUnderstandingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto lex = index::LexicalIndex::Open("", index::LexicalIndexOptions{});
    ASSERT_OK(lex);
    index_ = std::move(lex).value();
    catalog_ = std::make_unique<SearchCatalog>(&index_->analyzer());
    for (const MiniItem& m : kMini) {
      store::Item it;
      it.external_id = m.id;
      it.title = m.title;
      it.brand = m.brand;
      it.category = m.category;
      it.attributes_json = m.attributes;
      catalog_->Add(it);
    }
    catalog_->Finish();
    std::vector<index::IndexDoc> docs;
    for (uint32_t d = 0; d < catalog_->size(); ++d) docs.push_back(catalog_->ToIndexDoc(d));
    ASSERT_OK(index_->AddBatch(docs));
    ASSERT_OK(index_->Commit());
  }
  ParsedQuery Understand(std::string_view q, QueryUnderstandingOptions o = {}) const {
    QueryUnderstanding qu(index_.get(), catalog_.get(), o);
    return qu.Understand(q);
  }

  std::unique_ptr<index::LexicalIndex> index_;
  std::unique_ptr<SearchCatalog> catalog_;
};

TEST_F(QueryUnderstandingTest, BrandsDetectedByLongestMatch) {
  const ParsedQuery q = Understand("the north face jacket");
  EXPECT_EQ(q.brands, (std::vector<std::string>{"The North Face"}));
  EXPECT_TRUE(q.filter.brands.empty());
  QueryUnderstandingOptions o;
  o.brand_as_filter = true;
  const ParsedQuery f = Understand("Samsung tv", o);
  EXPECT_EQ(f.filter.brands, (std::vector<std::string>{"Samsung"}));
  EXPECT_EQ(f.text, "tv");
}

// Chinese queries have no spaces: a brand followed or preceded by other words
// in the same run must still be found.
TEST_F(QueryUnderstandingTest, BrandInsideChineseText) {
  EXPECT_EQ(Understand("小米电视").brands, (std::vector<std::string>{"小米"}));
  EXPECT_EQ(Understand("55英寸小米电视").brands, (std::vector<std::string>{"小米"}));
  EXPECT_EQ(Understand("便宜的海尔冰箱").brands, (std::vector<std::string>{"海尔"}));
}

TEST_F(QueryUnderstandingTest, ColorsAndSizes) {
  const ParsedQuery q = Understand("RED shoes size m");
  EXPECT_EQ(q.colors, (std::vector<std::string>{"red"}));
  EXPECT_EQ(q.sizes, (std::vector<std::string>{"M"}));
  EXPECT_EQ(q.filter.attributes.size(), 2u);
  // A lone single letter is not a size ("m" could be anything).
  const ParsedQuery lone = Understand("m shoes");
  EXPECT_TRUE(lone.sizes.empty());
  EXPECT_TRUE(lone.filter.attributes.empty());
  // Two-letter sizes need no "size" word.
  const ParsedQuery xl = Understand("xl shoes");
  EXPECT_EQ(xl.sizes, (std::vector<std::string>{"XL"}));
  // "red" inside another word is not a color.
  EXPECT_TRUE(Understand("shredder").colors.empty());
  // Switched off: the words stay and nothing is filtered.
  QueryUnderstandingOptions o;
  o.extract_attributes = false;
  const ParsedQuery off = Understand("red shoes", o);
  EXPECT_TRUE(off.colors.empty());
  EXPECT_EQ(off.text, "red shoes");
}

TEST_F(QueryUnderstandingTest, ChineseColorLongestMatch) {
  // The catalog has both red and pink: "粉红色" is pink, not red.
  const ParsedQuery q = Understand("粉红色 鞋");
  EXPECT_EQ(q.colors, (std::vector<std::string>{"pink"}));
  ASSERT_EQ(q.filter.attributes.size(), 1u);
  EXPECT_EQ(q.filter.attributes[0], (std::pair<std::string, std::string>{"color", "pink"}));
  const ParsedQuery red = Understand("红色 鞋");
  EXPECT_EQ(red.colors, (std::vector<std::string>{"red"}));
}

TEST_F(QueryUnderstandingTest, PriceExtractionCanBeSwitchedOff) {
  const ParsedQuery on = Understand("shoes under $50");
  EXPECT_EQ(on.filter.price_max, 50.0);
  EXPECT_EQ(on.text, "shoes");
  QueryUnderstandingOptions o;
  o.extract_price = false;
  const ParsedQuery off = Understand("shoes under $50", o);
  EXPECT_FALSE(off.filter.price_max.has_value());
  EXPECT_EQ(off.text, "shoes under $50");
}

TEST_F(QueryUnderstandingTest, SpellingCorrectionAndThreshold) {
  const ParsedQuery q = Understand("samsng tv");
  EXPECT_TRUE(q.corrected);
  EXPECT_EQ(q.terms[0], "samsung");
  EXPECT_EQ(q.did_you_mean, "samsung tv");
  EXPECT_EQ(q.dense_text, "samsung tv");
  QueryUnderstandingOptions strict;
  strict.spelling_min_confidence = 1.01;  // nothing is that sure
  const ParsedQuery s = Understand("samsng tv", strict);
  EXPECT_FALSE(s.corrected);
  EXPECT_EQ(s.terms[0], "samsng");
  QueryUnderstandingOptions off;
  off.spelling = false;
  EXPECT_FALSE(Understand("samsng tv", off).corrected);
}

TEST_F(QueryUnderstandingTest, LongQueryIsCutAtUtf8Boundary) {
  QueryUnderstandingOptions o;
  o.max_query_bytes = 10;
  const ParsedQuery q = Understand("小米电视小米电视", o);  // 24 bytes
  EXPECT_EQ(q.normalized, "小米电");                        // 9 bytes: never half a character
}

TEST_F(QueryUnderstandingTest, StepsRecordEveryStage) {
  const ParsedQuery q = Understand("red samsng shoes under $50");
  std::vector<std::string> steps;
  for (const QueryStep& s : q.steps) steps.push_back(s.value("step", ""));
  for (const char* want : {"normalize", "extract_price", "extract_color", "analyze", "spelling"}) {
    EXPECT_NE(std::find(steps.begin(), steps.end(), want), steps.end()) << want;
  }
  EXPECT_EQ(steps.front(), "normalize");
}

}  // namespace
}  // namespace souk::search
