#include "recommend/interactions.h"

#include <gtest/gtest.h>

#include "common/testing.h"
#include "recommend/candidate_source.h"

namespace souk::recommend {
namespace {

TEST(InteractionDataTest, SortsByTimeAndGroupsByUser) {
  InteractionData data;
  int32_t a = data.AddItem({.external_id = "a"});
  int32_t b = data.AddItem({.external_id = "b"});
  int32_t u = data.AddUser("u");
  int32_t v = data.AddUser("v");
  ASSERT_OK(data.Add({.user = u, .item = b, .type = EventType::kPurchase, .timestamp_ms = 30}));
  ASSERT_OK(data.Add({.user = v, .item = a, .timestamp_ms = 5}));
  ASSERT_OK(data.Add({.user = u, .item = a, .timestamp_ms = 10}));
  data.Finalize();
  ASSERT_EQ(data.interactions().size(), 3u);
  EXPECT_EQ(data.interactions()[0].timestamp_ms, 5);
  auto hu = data.UserHistory(u);
  ASSERT_EQ(hu.size(), 2u);
  EXPECT_EQ(hu[0].item, a);
  EXPECT_EQ(hu[1].item, b);
  EXPECT_EQ(data.UserHistory(v).size(), 1u);
  EXPECT_TRUE(data.UserHistory(7).empty());
  EXPECT_EQ(data.max_timestamp_ms(), 30);
  EXPECT_EQ(data.FindItem("b"), b);
  EXPECT_FALSE(data.FindItem("zz").has_value());
  EXPECT_EQ(data.FindUser("v"), v);
  EXPECT_EQ(HistoryOf(data, u).back().type, EventType::kPurchase);
  // Adding after Finalize is refused.
  EXPECT_FALSE(data.Add({.user = u, .item = a}).ok());
}

TEST(InteractionDataTest, RejectsOutOfRangeIds) {
  InteractionData data;
  data.AddItem({.external_id = "a"});
  data.AddUser("u");
  Status s = data.Add({.user = 0, .item = 3});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("item 3"), std::string::npos);
  EXPECT_FALSE(data.Add({.user = -1, .item = 0}).ok());
}

TEST(TopKTest, OrdersByScoreThenItem) {
  std::vector<std::pair<int32_t, float>> v = {{3, 1.0f}, {1, 2.0f}, {2, 1.0f}, {0, 0.5f}};
  auto top = TopK(v, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].first, 1);
  EXPECT_EQ(top[1].first, 2);
  EXPECT_EQ(top[2].first, 3);
  EXPECT_EQ(TopK(v, 10).size(), 4u);
  EXPECT_TRUE(TopK(v, 0).empty());
}

TEST(CheckOptionKeysTest, NamesTheUnknownKey) {
  std::vector<std::string_view> known = {"alpha", "k"};
  EXPECT_OK(CheckOptionKeys({{"alpha", 1}}, known, "ease"));
  Status s = CheckOptionKeys({{"beta", 1}}, known, "ease");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'beta'"), std::string::npos);
}

}  // namespace
}  // namespace souk::recommend
