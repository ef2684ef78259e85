#include "server/api.h"

#include <gtest/gtest.h>

#include "common/testing.h"

namespace souk::server {
namespace {

using nlohmann::json;

TEST(ApiTest, ErrorFromStatusMapsCodesAndFields) {
  ApiError e = ErrorFromStatus(InvalidArgumentError("items[2].price: must be >= 0, got -1"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_argument");
  EXPECT_EQ(e.field, "items[2].price");
  e = ErrorFromStatus(NotFoundError("no item 'x'"));
  EXPECT_EQ(e.http, 404);
  EXPECT_EQ(e.field, "");
  EXPECT_EQ(ErrorFromStatus(FailedPreconditionError("search is not available: run souk index")).http, 503);
  EXPECT_EQ(ErrorFromStatus(AlreadyExistsError("x")).http, 409);
  EXPECT_EQ(ErrorFromStatus(InternalError("bug")).http, 500);
  json b = ErrorBody(ErrorFromStatus(InvalidArgumentError("limit: too big")), "rid-1");
  EXPECT_EQ(b["error"]["code"], "invalid_argument");
  EXPECT_EQ(b["error"]["field"], "limit");
  EXPECT_EQ(b["error"]["request_id"], "rid-1");
}

TEST(ApiTest, ParseJsonBodyRejectsBadBodies) {
  RequestLimits lim;
  EXPECT_FALSE(ParseJsonBody("", lim).ok());
  auto bad = ParseJsonBody("{\"a\": [1, 2", lim);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("malformed JSON at byte"), std::string::npos) << bad.status().message();
  auto utf = ParseJsonBody(std::string("{\"a\": \"\xff\xfe\"}"), lim);
  ASSERT_FALSE(utf.ok());
  EXPECT_NE(utf.status().message().find("UTF-8"), std::string::npos);
  EXPECT_FALSE(ParseJsonBody("[1,2]", lim).ok());
  std::string deep(100, '[');
  deep = "{\"a\":" + deep + std::string(100, ']') + "}";
  auto d = ParseJsonBody(deep, lim);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("nested deeper"), std::string::npos);
  EXPECT_TRUE(ParseJsonBody("{\"items\": []}", lim).ok());
}

TEST(ApiTest, ParseItemsValidatesEveryField) {
  RequestLimits lim;
  auto ok = ParseItems(json::parse(R"({"items":[{"id":"a","title":"T","category":["X","Y"],"price":3.5,
      "in_stock":true,"attributes":{"color":"red"},"images":["http://x/1.jpg"],"created_at":"2024-01-02"}]})"), lim, 1000);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].category, "X > Y");
  EXPECT_EQ(*(*ok)[0].price, 3.5);
  EXPECT_EQ((*ok)[0].updated_at_ms, 1000);
  EXPECT_GT((*ok)[0].created_at_ms, 0);
  struct Case { const char* body; const char* field; };
  for (const Case& c : {Case{R"({"items":[{"title":"no id"}]})", "items[0].id"},
                        Case{R"({"items":[{"id":"a","price":-1}]})", "items[0].price"},
                        Case{R"({"items":[{"id":"a","price":"cheap"}]})", "items[0].price"},
                        Case{R"({"items":[{"id":"a","colour":"red"}]})", "items[0].colour"},
                        Case{R"({"items":[{"id":"a"},{"id":"a"}]})", "items[1].id"},
                        Case{R"({"items":[{"id":"a","in_stock":"yes"}]})", "items[0].in_stock"},
                        Case{R"({"items":[{"id":"a","attributes":[1]}]})", "items[0].attributes"},
                        Case{R"({"items":{}})", "items"},
                        Case{R"({"items":[]})", "items"},
                        Case{R"({"item":[]})", "body.item"}}) {
    auto r = ParseItems(json::parse(c.body), lim, 0);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(ErrorFromStatus(r.status()).field, c.field) << r.status().message();
  }
  lim.max_items = 2;
  auto big = ParseItems(json::parse(R"({"items":[{"id":"a"},{"id":"b"},{"id":"c"}]})"), lim, 0);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("at most 2"), std::string::npos);
}

TEST(ApiTest, ParseEventsAndIdempotencyKeys) {
  RequestLimits lim;
  auto ok = ParseEvents(json::parse(R"({"events":[{"type":"cart","user":"u","item":"i","timestamp":1700000000000,
      "event_id":"e1","context":{"page":"home"}},{"type":"search","session":"s","query":"drill"}]})"), lim, 5);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)[0].event.type, store::EventType::kAddToCart);
  EXPECT_EQ((*ok)[0].event.timestamp_ms, 1700000000000);
  EXPECT_EQ((*ok)[0].event_id, "e1");
  EXPECT_EQ((*ok)[1].event.timestamp_ms, 5);
  for (const char* body : {R"({"events":[{"type":"teleport","user":"u"}]})", R"({"events":[{"type":"view"}]})",
                           R"({"events":[{"type":"view","user":"u","timestamp":"yesterday"}]})",
                           R"({"events":[{"type":"view","user":"u","quantity":"2"}]})",
                           R"({"events":[{"type":"view","user":"u","context":"x"}]})"}) {
    auto r = ParseEvents(json::parse(body), lim, 0);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(ErrorFromStatus(r.status()).field.rfind("events[0]", 0), 0u) << r.status().message();
  }
  EXPECT_EQ(EventImportKey("", "", 3), 0);
  EXPECT_EQ(EventImportKey("e1", "", 0), EventImportKey("e1", "other", 7));
  EXPECT_NE(EventImportKey("", "batch", 0), EventImportKey("", "batch", 1));
  EXPECT_EQ(EventImportKey("", "batch", 1), EventImportKey("", "batch", 1));
  EXPECT_GT(EventImportKey("", "batch", 1), 0);
}

TEST(ApiTest, QueryParams) {
  QueryParams p{{"q", "drill"}, {"filter", "brand=A"}, {"filter", "price<=50"}, {"limit", "5"}, {"explain", "true"}};
  auto s = ParseSearchParams(p, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->filters.size(), 2u);
  EXPECT_EQ(s->limit, 5);
  EXPECT_TRUE(s->explain);
  for (auto bad : {QueryParams{{"limit", "0"}}, QueryParams{{"limit", "5x"}}, QueryParams{{"limit", "100000"}},
                   QueryParams{{"qq", "x"}}, QueryParams{{"explain", "maybe"}}, QueryParams{{"q", "\xff"}}}) {
    auto r = ParseSearchParams(bad, {});
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(ErrorFromStatus(r.status()).http, 400);
  }
  auto b = ParseSearchBody(json::parse(R"({"query":"x","filters":["brand=A"],"limit":3})"), {});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->limit, 3);
  EXPECT_FALSE(ParseSearchBody(json::parse(R"({"query":1})"), {}).ok());
  EXPECT_FALSE(ParseSearchBody(json::parse(R"({"limit":-1})"), {}).ok());
  EXPECT_FALSE(ParseSearchBody(json::parse(R"({"filters":[1]})"), {}).ok());
}

}  // namespace
}  // namespace souk::server
