#include "common/id_map.h"

#include "common/testing.h"

namespace souk {
namespace {

TEST(IdMapTest, DenseAndStable) {
  IdMap m;
  EXPECT_EQ(m.GetOrAdd("sku-b"), 0u);
  EXPECT_EQ(m.GetOrAdd("sku-a"), 1u);
  EXPECT_EQ(m.GetOrAdd("sku-b"), 0u);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.External(1), "sku-a");
  EXPECT_FALSE(m.Find("nope").has_value());
  // Many insertions keep earlier keys valid (deque storage, no dangling views).
  for (int i = 0; i < 100000; ++i) m.GetOrAdd("k" + std::to_string(i));
  EXPECT_EQ(*m.Find("sku-a"), 1u);
  EXPECT_EQ(*m.Find("k99999"), 100001u);
}

}  // namespace
}  // namespace souk
