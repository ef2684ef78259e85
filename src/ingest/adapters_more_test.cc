// The remaining public-dataset adapters (adapters_more.cc): each imports its
// real files from ../shared/data with the counts of the data README (every input
// record accepted or quarantined with a known reason), and each quarantines a
// malformed synthetic record with its reason and line.
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/testing.h"
#include "ingest/adapter.h"
#include "ingest/import_test_fixture.h"
#include "ingest/adapters_internal.h"
#include "store/sqlite_store.h"

namespace souk::ingest {
namespace {

class MoreDatasetsTest : public ImportFixture {
 protected:
  std::vector<store::QuarantineRecord> Quarantine(const std::string& reason = "") {
    auto q = store_->ListQuarantine(1000, 0, reason);
    EXPECT_OK(q);
    return q.ok() ? *q : std::vector<store::QuarantineRecord>{};
  }
  store::Item GetItem(const std::string& id) {
    auto it = store_->GetItem(id);
    EXPECT_OK(it);
    if (!it.ok() || !it->has_value()) {
      ADD_FAILURE() << "item " << id << " not found";
      return {};
    }
    return (*it)->item;
  }
  // Stored events in append order.
  std::vector<store::StoredEvent> Events() {
    std::vector<store::StoredEvent> out;
    auto snap = store_->OpenSnapshot();
    EXPECT_OK(snap);
    if (!snap.ok()) return out;
    EXPECT_OK((*snap)->ForEachEvent([&](const store::StoredEvent& e) {
      out.push_back(e);
      return true;
    }));
    return out;
  }
  bool HasNote(const ImportSummary& s, std::string_view part) {
    for (const auto& n : s.notes) {
      if (n.find(part) != std::string::npos) return true;
    }
    return false;
  }
};

// ---------------------------------------------------------------- real data

TEST_F(MoreDatasetsTest, AmazonSeqBeauty) {
  SOUK_REQUIRE_DATA(seq, "amazon-beauty/Beauty.txt");
  SOUK_REQUIRE_DATA(attrs, "amazon-beauty/Beauty_item2attributes.json");
  // Sequences given first: the adapter still reads the attributes first.
  auto s = Import("amazon-seq", {seq.string(), attrs.string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->events, 198502) << s->ToText();
  EXPECT_EQ(s->event_types["purchase"], 198502);
  EXPECT_EQ(s->quarantined, 0) << s->ToText();
  EXPECT_EQ(s->items_inserted, 12101);
  EXPECT_EQ(s->stubs_created, 0);  // every sequence item has an attributes entry
  auto st = store_->Stats();
  ASSERT_OK(st);
  EXPECT_EQ(st->users, 22363);
  EXPECT_EQ(st->sessions, 22363);
  EXPECT_EQ(st->items, 12101);
  EXPECT_EQ(GetItem("4").attributes_json, "{\"attribute_ids\":[1,2,3]}");
  // Line 1 is "1 1 2 3 4 5": user 1's items keep their order one minute apart.
  auto ev = Events();
  ASSERT_GE(ev.size(), 5u);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(ev[k].timestamp_ms, kSyntheticEpochMs + k * 60000);
  EXPECT_EQ(ev[0].session, "1");
}

TEST_F(MoreDatasetsTest, AmazonUniSRecScientific) {
  SOUK_REQUIRE_DATA(dir, "amazon-scientific/Scientific.text");
  auto s = Import("amazon-unisrec", {dir.parent_path().string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->items, 1585) << s->ToText();
  EXPECT_EQ(s->stubs_created, 0);
  EXPECT_EQ(s->quarantined, 0) << s->ToText();
  // 2,928 users; each user's full sequence is its longest row + target (test split).
  EXPECT_EQ(s->events, 19712);
  auto st = store_->Stats();
  ASSERT_OK(st);
  EXPECT_EQ(st->users, 2928);
  // 10,928 + 2,928 + 2,928 rows; 2,928 emit, the other 13,856 are prefixes.
  EXPECT_TRUE(HasNote(*s, "13856 .inter rows are prefixes")) << s->ToText();
  // Test row of user 0 ("0<TAB>0 1 2 3<TAB>4") -> A1AXCV2WYDA4PD bought items 0..4 in order.
  auto ev = Events();
  ASSERT_GE(ev.size(), 5u);
  EXPECT_EQ(ev[0].session, "A1AXCV2WYDA4PD");
  auto first = store_->GetItem("B00O47ILVA");  // index 0
  ASSERT_OK(first);
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ(ev[0].item, (*first)->id);
  EXPECT_FALSE((*first)->item.title.empty());
  EXPECT_EQ(ev[4].timestamp_ms, kSyntheticEpochMs + 4 * 60000);
}

TEST_F(MoreDatasetsTest, Flipkart) {
  SOUK_REQUIRE_DATA(f, "flipkart/flipkart_product.csv");
  auto s = Import("flipkart", {f.string()});
  ASSERT_OK(s);
  // The README says 1,000 products; the file holds 1,002 records, all with a
  // distinct pid, so all 1,002 import and none is quarantined.
  EXPECT_EQ(s->items, 1002) << s->ToText();
  EXPECT_EQ(s->quarantined, 0) << s->ToText();
  EXPECT_EQ(s->records, 1002);
  store::Item it = GetItem("SHOEH4GRSUBJGZXE");
  EXPECT_EQ(it.title, "aw bellies");
  // "['footwear', 'womens footwear', 'ballerinas', 'aw bellies']": the last entry is the product itself.
  EXPECT_EQ(it.category, "footwear > womens footwear > ballerinas");
  ASSERT_TRUE(it.price.has_value());
  EXPECT_DOUBLE_EQ(*it.price, 499);
  EXPECT_EQ(it.currency, "INR");
  EXPECT_EQ(it.brand, "aw");
  EXPECT_EQ(it.language, "en");
  auto attrs = nlohmann::json::parse(it.attributes_json);
  EXPECT_DOUBLE_EQ(attrs["retail_price"].get<double>(), 999);
  EXPECT_EQ(attrs["Color"], "Red");
  EXPECT_EQ(attrs["Ideal For"], "Women");
  auto images = nlohmann::json::parse(it.images_json);
  ASSERT_TRUE(images.is_array());
  EXPECT_GT(images.size(), 0u);
}

TEST_F(MoreDatasetsTest, Dunnhumby) {
  SOUK_REQUIRE_DATA(tx, "dunnhumby/transactions_sample.csv");
  // The whole folder, transactions sorted after products and demographics.
  auto s = Import("dunnhumby", {tx.parent_path().string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->items, 92331) << s->ToText();
  EXPECT_EQ(s->users, 801);
  // 75,000 lines: 416 have quantity 0 (price adjustments without units) and are
  // quarantined as invalid_quantity; the rest are purchases.
  EXPECT_EQ(s->events + s->quarantined, 75000);
  EXPECT_EQ(s->reasons["invalid_quantity"], 416);
  EXPECT_EQ(s->quarantined, 416) << s->ToText();
  EXPECT_EQ(s->event_types["purchase"], 74584);
  // One product id named by transactions is missing from products.csv: a stub.
  EXPECT_EQ(s->stubs_created, 1);
  EXPECT_EQ(s->records, 92331 + 801 + 75000);
  EXPECT_TRUE(HasNote(*s, "campaigns.csv"));
  EXPECT_TRUE(HasNote(*s, "coupon_redemptions.csv"));
  EXPECT_TRUE(HasNote(*s, "campaign_descriptions.csv"));
  store::Item ice = GetItem("25671");
  EXPECT_EQ(ice.category, "GROCERY > FRZN ICE > ICE - CRUSHED/CUBED");
  EXPECT_EQ(ice.brand, "National");
  EXPECT_EQ(nlohmann::json::parse(ice.attributes_json)["package_size"], "22 LB");
  auto st = store_->Stats();
  ASSERT_OK(st);
  // 2,377 households in transactions, 4 of them only on quarantined quantity-0 lines;
  // the 801 households of demographics.csv are all among the other 2,373.
  EXPECT_EQ(st->users, 2373);
  auto q = Quarantine("invalid_quantity");
  ASSERT_FALSE(q.empty());
  EXPECT_GT(q[0].line, 1);
  EXPECT_NE(q[0].detail.find("quantity"), std::string::npos);
}

TEST_F(MoreDatasetsTest, Diginetica) {
  SOUK_REQUIRE_DATA(cats, "diginetica/product-categories.csv");
  SOUK_REQUIRE_DATA(buys, "diginetica/train-purchases.csv");
  SOUK_REQUIRE_DATA(views, "diginetica/sample_train-item-views.csv");
  auto s = Import("diginetica", {views.string(), buys.string(), cats.string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->items_inserted, 184047) << s->ToText();
  EXPECT_EQ(s->stubs_created, 0);  // every purchased or viewed item has a category row
  // train-purchases.csv has 28 lines that repeat an earlier line byte for byte.
  EXPECT_EQ(s->reasons["duplicate_event"], 28);
  EXPECT_EQ(s->quarantined, 28) << s->ToText();
  EXPECT_EQ(s->event_types["purchase"], 18025 - 28);
  EXPECT_EQ(s->event_types["view"], 12391);
  auto st = store_->Stats();
  ASSERT_OK(st);
  EXPECT_EQ(st->users, 5624);  // "NA" users are anonymous
  EXPECT_EQ(st->sessions, 15478);
  EXPECT_EQ(GetItem("139578").category, "1096");
  // First purchase: 2016-05-06 + 17,100,868 ms.
  auto ev = Events();
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev[0].timestamp_ms, *store::ParseTimestampMs("2016-05-06") + 17100868);
  EXPECT_EQ(ev[0].session, "150");
}

TEST_F(MoreDatasetsTest, YoochooseAllFilesQuarantinesOverlapAsDuplicates) {
  SOUK_REQUIRE_DATA(f, "yoochoose-100k/yoochoose-clicks-100k_train_full.txt");
  auto s = Import("yoochoose", {f.parent_path().string()});
  ASSERT_OK(s);
  // 153,639 rows in the four files. train_full holds every row of train_tr and
  // train_valid (plus 485 rows of 287 sessions that are in neither), and
  // train_full and train_valid each repeat one row: 69,794 rows are exact
  // duplicates of an earlier event and are quarantined as such.
  EXPECT_EQ(s->events + s->quarantined, 153639);
  EXPECT_EQ(s->reasons["duplicate_event"], 69794) << s->ToText();
  EXPECT_EQ(s->quarantined, 69794);
  EXPECT_EQ(s->event_types["click"], 83845);
  auto ev = Events();
  ASSERT_FALSE(ev.empty());
  // First file in name order is _test: "1<TAB>214536502<TAB>1396860669.277".
  EXPECT_EQ(ev[0].timestamp_ms, 1396860669277);
  EXPECT_EQ(ev[0].session, "1");
  EXPECT_EQ(ev[0].user, 0);  // anonymous
}

TEST_F(MoreDatasetsTest, MovieLens) {
  SOUK_REQUIRE_DATA(ratings, "movielens-small/ratings.csv");
  auto s = Import("movielens", {ratings.parent_path().string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->items, 7998) << s->ToText();  // movies.csv of this copy holds 7,998 movies
  EXPECT_EQ(s->event_types["rating"], 100004);
  EXPECT_EQ(s->quarantined, 0) << s->ToText();
  // Ratings name 1,093 movies that this movies.csv lacks: they become stubs.
  EXPECT_EQ(s->stubs_created, 1093);
  EXPECT_TRUE(HasNote(*s, "tags.csv"));
  EXPECT_TRUE(HasNote(*s, "links.csv"));
  store::Item toy = GetItem("1");
  EXPECT_EQ(toy.title, "Toy Story (1995)");
  EXPECT_EQ(toy.category, "Adventure");
  EXPECT_EQ(toy.attributes_json, "{\"genres\":[\"Adventure\",\"Animation\",\"Children\",\"Comedy\",\"Fantasy\"]}");
  auto ev = Events();
  ASSERT_FALSE(ev.empty());
  ASSERT_TRUE(ev[0].value.has_value());
  EXPECT_DOUBLE_EQ(*ev[0].value, 2.5);  // "1,31,2.5,1260759144"
  EXPECT_EQ(ev[0].timestamp_ms, 1260759144000);
}

TEST_F(MoreDatasetsTest, Tafeng) {
  SOUK_REQUIRE_DATA(f, "tafeng/tafeng_merged.json");
  auto s = Import("tafeng", {f.string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->events, 571933) << s->ToText();  // item lines over 91,227 baskets
  EXPECT_EQ(s->quarantined, 0) << s->ToText();
  auto st = store_->Stats();
  ASSERT_OK(st);
  EXPECT_EQ(st->users, 13858);
  EXPECT_EQ(st->sessions, 91227);
  auto ev = Events();
  ASSERT_GE(ev.size(), 4u);
  // User "1": basket 0 = [0, 1, 2] at day 0, basket 1 starts at day 1.
  EXPECT_EQ(ev[0].session, "1-0");
  EXPECT_EQ(ev[2].timestamp_ms, kSyntheticEpochMs);
  EXPECT_EQ(ev[3].session, "1-1");
  EXPECT_EQ(ev[3].timestamp_ms, kSyntheticEpochMs + 86400000);
}

TEST_F(MoreDatasetsTest, CnReviews) {
  SOUK_REQUIRE_DATA(f, "cn-reviews/online_shopping_10_cats.csv");
  auto s = Import("cn-reviews", {f.string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->records, 62774);
  // One row has an empty review: quarantined as missing_field.
  EXPECT_EQ(s->reasons["missing_field"], 1) << s->ToText();
  EXPECT_EQ(s->quarantined, 1);
  EXPECT_EQ(s->event_types["rating"], 62773);
  EXPECT_EQ(s->items_inserted, 10);  // one item per category
  store::Item hotel = GetItem("cn-reviews:酒店");
  EXPECT_EQ(hotel.title, "酒店");
  EXPECT_EQ(hotel.language, "zh");
  auto q = Quarantine("missing_field");
  ASSERT_EQ(q.size(), 1u);
  EXPECT_NE(q[0].detail.find("review"), std::string::npos);
}

TEST_F(MoreDatasetsTest, MultiCpr) {
  SOUK_REQUIRE_DATA(train, "multi-cpr-queries/train.query.txt");
  SOUK_REQUIRE_DATA(dev, "multi-cpr-queries/dev.query.txt");
  auto s = Import("multi-cpr", {train.string(), dev.string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->event_types["search"], 101000) << s->ToText();
  EXPECT_EQ(s->quarantined, 0);
  auto st = store_->Stats();
  ASSERT_OK(st);
  EXPECT_EQ(st->sessions, 101000);
  auto ev = Events();
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev[0].session, "mcpr-1");
  EXPECT_EQ(ev[0].query, "减速器链条");  // "1<TAB>减速器链条"
}

TEST_F(MoreDatasetsTest, Wands) {
  SOUK_REQUIRE_DATA(q, "wands-queries/query.csv");
  auto s = Import("wands", {q.parent_path().string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->event_types["search"], 480) << s->ToText();
  EXPECT_EQ(s->quarantined, 0);
  EXPECT_TRUE(HasNote(*s, "query_attributes_enriched.csv"));
  auto ev = Events();
  ASSERT_EQ(ev.size(), 480u);
  EXPECT_EQ(ev[0].query, "salon chair");
  EXPECT_EQ(ev[205].query, "fawkes 36\" blue vanity");  // CSV-quoted with a doubled quote
}

// ---------------------------------------------------------------- malformed input

TEST_F(MoreDatasetsTest, AmazonSeqRejectsUserWithoutItemsAndBadAttributes) {
  auto attrs = Write("X_item2attributes.json", "{\"1\": [5, 6], \"2\": \"oops\"}");
  auto seq = Write("X.txt", "u1 1 2\nu2\nu3 2 1\n");
  AdapterOptions ao;
  ao.event_type = "view";
  auto s = Import("amazon-seq", {seq, attrs}, ao);
  ASSERT_OK(s);
  EXPECT_EQ(s->event_types["view"], 4);
  EXPECT_EQ(s->reasons["missing_item"], 1);
  EXPECT_EQ(s->reasons["invalid_json"], 1);
  auto q = Quarantine("missing_item");
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].line, 2);
  EXPECT_NE(q[0].detail.find("u2"), std::string::npos);
  EXPECT_NE(Quarantine("invalid_json")[0].detail.find("'2'"), std::string::npos);
  ao.event_type = "teleport";
  EXPECT_FALSE(Import("amazon-seq", {seq}, ao).ok());
}

TEST_F(MoreDatasetsTest, UniSRecRejectsUnknownIndexAndInconsistentRows) {
  Write("S.item2index", "A\t0\nB\t1\nC\t2\n");
  Write("S.user2index", "U0\t0\nU1\t1\n");
  Write("S.text", "item_id:token\ttext:token_seq\nA\tKettle\nB\tToaster\nC\t12\" ruler\n");
  const std::string h = "user_id:token\titem_id_list:token_seq\titem_id:token\n";
  Write("S.train.inter", h + "0\t0\t1\n1\t2\t0\n");
  Write("S.test.inter", h + "0\t0 1\t2\n1\t1\t0\n9\t0\t1\n0\t0\t7\n");
  auto s = Import("amazon-unisrec", {dir_.string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->items, 3);
  EXPECT_EQ(GetItem("C").title, "12\" ruler");
  // User 0: A B C (3 events). User 1: longest is "2 0" (train) vs "1 0" (test): same
  // length, the first one wins and the other is inconsistent.
  EXPECT_EQ(s->events, 5) << s->ToText();
  EXPECT_EQ(s->reasons["inconsistent_sequence"], 1);
  EXPECT_EQ(s->reasons["unknown_index"], 2);  // user 9, item 7
  auto q = Quarantine("unknown_index");
  ASSERT_EQ(q.size(), 2u);
  std::set<int64_t> lines = {q[0].line, q[1].line};
  EXPECT_EQ(lines, (std::set<int64_t>{4, 5}));
}

TEST_F(MoreDatasetsTest, FlipkartQuarantinesMissingPidAndBadPrice) {
  auto f = Write("fk.csv",
                 "pid,product_name,product_category_tree,retail_price,discounted_price,image,brand,"
                 "product_specifications\n"
                 "P1,Kettle,\"[\"\"Home >> Kitchen >> Kettles\"\"]\",100,80,\"[\"\"http://x/1.jpg\"\"]\",Acme,"
                 "\"{\"\"product_specification\"\"=>[{\"\"key\"\"=>\"\"Color\"\", \"\"value\"\"=>\"\"Red\"\"}]}\"\n"
                 ",No id,,1,1,,,\n"
                 "P3,Bad,,abc,1,,,\n"
                 "P4,Odd specs,,5,,not json,,\n"
                 "P5,Raw specs,,5,,,,not a literal\n");
  auto s = Import("flipkart", {f});
  ASSERT_OK(s);
  EXPECT_EQ(s->items, 2) << s->ToText();
  store::Item p1 = GetItem("P1");
  EXPECT_EQ(p1.category, "Home > Kitchen > Kettles");
  EXPECT_DOUBLE_EQ(*p1.price, 80);
  EXPECT_EQ(nlohmann::json::parse(p1.attributes_json)["Color"], "Red");
  EXPECT_EQ(nlohmann::json::parse(GetItem("P5").attributes_json)["specifications"], "not a literal");
  EXPECT_DOUBLE_EQ(*GetItem("P5").price, 5);  // no discounted price: the retail price
  auto missing = Quarantine("missing_field");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].line, 3);
  auto number = Quarantine("invalid_number");
  ASSERT_EQ(number.size(), 1u);
  EXPECT_EQ(number[0].line, 4);
  EXPECT_NE(number[0].detail.find("retail_price"), std::string::npos);
  auto img = Quarantine("invalid_json");
  ASSERT_EQ(img.size(), 1u);
  EXPECT_EQ(img[0].line, 5);
}

TEST_F(MoreDatasetsTest, DunnhumbyQuarantinesNonNumericQuantity) {
  auto tx = Write("transactions.csv",
                  "household_id,store_id,basket_id,product_id,quantity,sales_value,retail_disc,coupon_disc,"
                  "coupon_match_disc,week,transaction_timestamp\n"
                  "1,10,100,500,2.0,3.00,0.5,0.0,0.0,1,2017-01-01 10:00:00\n"
                  "1,10,100,501,two,3.00,0.0,0.0,0.0,1,2017-01-01 10:00:00\n"
                  "1,10,100,502,1.0,1.00,0.0,0.0,0.0,1,yesterday\n");
  auto pr = Write("products.csv",
                  "product_id,manufacturer_id,department,brand,product_category,product_type,package_size\n"
                  "500,7,GROCERY,Private,SOUP,CANNED SOUP,10 OZ\n");
  auto s = Import("dunnhumby", {tx, pr});
  ASSERT_OK(s);
  EXPECT_EQ(s->items, 1);
  EXPECT_EQ(s->events, 1);
  EXPECT_EQ(s->stubs_created, 0);
  auto ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_DOUBLE_EQ(*ev[0].price, 1.5);  // sales_value / quantity
  EXPECT_EQ(ev[0].session, "100");
  auto q = Quarantine("invalid_number");
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].line, 3);
  EXPECT_NE(q[0].detail.find("'quantity' = 'two'"), std::string::npos);
  auto t = Quarantine("bad_timestamp");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].line, 4);
}

TEST_F(MoreDatasetsTest, DigineticaQuarantinesBadTimeframe) {
  auto f = Write("train-purchases.csv",
                 "sessionId;userId;timeframe;eventdate;ordernumber;itemId\n"
                 "1;NA;1000;2016-05-06;7;42\n"
                 "2;u9;soon;2016-05-06;8;43\n");
  auto s = Import("diginetica", {f});
  ASSERT_OK(s);
  EXPECT_EQ(s->events, 1);
  auto q = Quarantine("invalid_number");
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].line, 3);
  EXPECT_NE(q[0].detail.find("timeframe"), std::string::npos);
  auto ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].user, 0);
  EXPECT_EQ(ev[0].timestamp_ms, *store::ParseTimestampMs("2016-05-06") + 1000);
}

TEST_F(MoreDatasetsTest, YoochooseQuarantinesBadTime) {
  auto f = Write("clicks.txt", "SessionId\tItemId\tTime\n1\t5\t1396860669.5\n1\t6\tnoon\n1\t7\n");
  auto s = Import("yoochoose", {f});
  ASSERT_OK(s);
  EXPECT_EQ(s->events, 1);
  auto t = Quarantine("bad_timestamp");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].line, 3);
  EXPECT_EQ(Quarantine("wrong_column_count").size(), 1u);
  EXPECT_EQ(Events()[0].timestamp_ms, 1396860669500);
}

TEST_F(MoreDatasetsTest, MovieLensQuarantinesBadRating) {
  auto movies = Write("movies.csv", "movieId,title,genres \n1,Heat (1995),Action|Crime\n2,Blank,(no genres listed)\n");
  auto ratings = Write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.5,964982703\n1,2,great,964982703\n"
                                      "2,1,11,964982703\n");
  auto s = Import("movielens", {ratings, movies});
  ASSERT_OK(s);
  EXPECT_EQ(s->items, 2);
  EXPECT_EQ(s->events, 1);
  EXPECT_EQ(GetItem("2").category, "");
  EXPECT_EQ(GetItem("2").attributes_json, "{\"genres\":[]}");
  auto q = Quarantine("invalid_number");
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].line, 3);
  auto r = Quarantine("invalid_rating");  // 11 is outside [0, 10]
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].line, 4);
}

TEST_F(MoreDatasetsTest, TafengQuarantinesMalformedBaskets) {
  auto f = Write("tf.json", "{\"a\": [[1, 2], \"x\", [3, {\"no\": 1}], []], \"b\": 7}");
  auto s = Import("tafeng", {f});
  ASSERT_OK(s);
  EXPECT_EQ(s->events, 3);  // a-0: 1, 2; a-2: 3
  EXPECT_EQ(s->reasons["invalid_json"], 2);  // basket "x", user b
  EXPECT_EQ(s->reasons["invalid_id"], 1);    // {"no": 1}
  EXPECT_EQ(s->reasons["missing_item"], 1);  // empty basket a-3
  auto ev = Events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[2].session, "a-2");
  EXPECT_EQ(ev[2].timestamp_ms, kSyntheticEpochMs + 2 * 86400000LL);
  // A file that is not JSON at all is an error naming it.
  auto bad = Write("broken.json", "{\"a\": [[1, 2]");
  auto e = Import("tafeng", {bad});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().ToString().find("broken.json"), std::string::npos);
}

TEST_F(MoreDatasetsTest, CnReviewsQuarantinesBadLabel) {
  auto f = Write("r.csv", "cat,label,review\n书籍,1,很好\n书籍,yes,不错\n水果,0,\"坏了,\"\"差\"\"\"\n");
  auto s = Import("cn-reviews", {f});
  ASSERT_OK(s);
  EXPECT_EQ(s->events, 2);
  EXPECT_EQ(s->items_inserted, 2);
  auto q = Quarantine("invalid_rating");
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].line, 3);
  EXPECT_NE(q[0].detail.find("'yes'"), std::string::npos);
  auto ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_DOUBLE_EQ(*ev[1].value, 1);
  EXPECT_EQ(ev[1].timestamp_ms, kSyntheticEpochMs + 2 * 60000);  // row 2 (0-based), rejected rows count
}

TEST_F(MoreDatasetsTest, MultiCprQuarantinesLinesWithoutQuery) {
  auto f = Write("q.txt", "1\t手机壳\n2\n3\t \n4\t\"引号\"开头\n");
  auto s = Import("multi-cpr", {f});
  ASSERT_OK(s);
  EXPECT_EQ(s->events, 2);
  auto q = Quarantine("wrong_column_count");
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].line, 2);
  auto m = Quarantine("missing_query");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].line, 3);
  EXPECT_EQ(Events()[1].query, "\"引号\"开头");  // quotes are literal: no CSV quoting
}

TEST_F(MoreDatasetsTest, WandsQuarantinesEmptyQuery) {
  auto f = Write("query.csv", "query_id\tquery\tquery_class\n0\tsofa\tSofas\n1\t\tChairs\n");
  auto s = Import("wands", {f});
  ASSERT_OK(s);
  EXPECT_EQ(s->events, 1);
  auto m = Quarantine("missing_query");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].line, 3);
  auto missing = Write("other.csv", "id\tq\n1\tx\n");
  auto e = Import("wands", {missing});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().ToString().find("query_id"), std::string::npos);
}

}  // namespace
}  // namespace souk::ingest
