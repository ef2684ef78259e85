#include "store/types.h"

#include "common/testing.h"

namespace souk::store {
namespace {

TEST(TypesTest, EventTypeNamesRoundTrip) {
  for (int i = 0; i < kNumEventTypes; ++i) {
    auto t = static_cast<EventType>(i);
    auto back = ParseEventType(EventTypeName(t));
    ASSERT_TRUE(back.has_value()) << EventTypeName(t);
    EXPECT_EQ(*back, t);
  }
  EXPECT_EQ(ParseEventType("cart"), EventType::kAddToCart);
  EXPECT_EQ(ParseEventType("Add-To-Cart"), EventType::kAddToCart);
  EXPECT_FALSE(ParseEventType("wishlist").has_value());
}

TEST(TypesTest, ParsesTimestamps) {
  // 2019-10-01 00:00:00 UTC = 1569888000 s
  EXPECT_EQ(ParseTimestampMs("2019-10-01 00:00:00 UTC"), 1569888000000);
  EXPECT_EQ(ParseTimestampMs("2019-10-01T00:00:00Z"), 1569888000000);
  EXPECT_EQ(ParseTimestampMs("2019-10-01"), 1569888000000);
  EXPECT_EQ(ParseTimestampMs("2019-10-01T08:00:00+08:00"), 1569888000000);
  EXPECT_EQ(ParseTimestampMs("2019-10-01T00:00:01.5Z"), 1569888001500);
  EXPECT_EQ(ParseTimestampMs("1569888000"), 1569888000000);
  EXPECT_EQ(ParseTimestampMs("1569888000123"), 1569888000123);
  EXPECT_EQ(ParseTimestampMs("10/1/2019 0:00"), 1569888000000);
  EXPECT_FALSE(ParseTimestampMs("2019-13-01").has_value());
  EXPECT_FALSE(ParseTimestampMs("yesterday").has_value());
  EXPECT_FALSE(ParseTimestampMs("2019-10-01T25:00:00Z").has_value());
  EXPECT_EQ(FormatTimestampMs(1569888000000), "2019-10-01T00:00:00Z");
  EXPECT_EQ(FormatTimestampMs(1569888001500), "2019-10-01T00:00:01.500Z");
  EXPECT_EQ(ParseTimestampMs(FormatTimestampMs(1234567890123)), 1234567890123);
}

TEST(TypesTest, ContentHashSeparatesFields) {
  Item a, b;
  a.external_id = "1";
  a.title = "ab";
  a.brand = "c";
  b.external_id = "1";
  b.title = "a";
  b.brand = "bc";
  EXPECT_NE(a.ContentHash(), b.ContentHash());
  b = a;
  EXPECT_EQ(a.ContentHash(), b.ContentHash());
  b.price = 0.0;
  EXPECT_NE(a.ContentHash(), b.ContentHash());
  Event e1, e2;
  e1.item_id = e2.item_id = "x";
  e1.timestamp_ms = e2.timestamp_ms = 5;
  EXPECT_EQ(e1.ContentHash(), e2.ContentHash());
  e2.import_key = 99;  // not part of the content
  EXPECT_EQ(e1.ContentHash(), e2.ContentHash());
  e2.quantity = 1;
  EXPECT_NE(e1.ContentHash(), e2.ContentHash());
}

}  // namespace
}  // namespace souk::store
