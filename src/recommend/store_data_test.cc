#include "recommend/store_data.h"

#include <fstream>

#include "common/testing.h"
#include "store/sqlite_store.h"

namespace souk::recommend {
namespace {

store::Item MakeItem(std::string id, std::string title, std::optional<bool> stock = std::nullopt) {
  store::Item it;
  it.external_id = std::move(id);
  it.title = std::move(title);
  it.brand = "Acme";
  it.category = "Kitchen > Mugs";
  it.description = "A sturdy mug.";
  it.price = 12.5;
  it.in_stock = stock;
  it.created_at_ms = 1000;
  return it;
}

store::Event Ev(std::string user, std::string item, store::EventType type, int64_t ts,
                std::string session = "") {
  store::Event e;
  e.user_id = std::move(user);
  e.item_id = std::move(item);
  e.type = type;
  e.timestamp_ms = ts;
  e.session_id = std::move(session);
  return e;
}

TEST(StoreDataTest, LoadsItemsUsersEventsAndRoundTrips) {
  const auto dir = souk::testing::TempDir("rec-store-data");
  ASSERT_OK_AND_ASSIGN(auto db, store::SqliteStore::Open((dir / "souk.db").string()));
  store::WriteBatch b;
  b.items.push_back({.item = MakeItem("a", "Blue mug")});
  b.items.push_back({.item = MakeItem("b", "Red mug", false)});
  b.items.push_back({.item = MakeItem("gone", "Deleted mug")});
  store::Item stub;
  stub.external_id = "s";
  stub.is_stub = true;
  b.items.push_back({.item = stub, .mode = store::ItemWriteMode::kStub});
  store::Item unused_stub;
  unused_stub.external_id = "s2";
  unused_stub.is_stub = true;
  b.items.push_back({.item = unused_stub, .mode = store::ItemWriteMode::kStub});
  b.delete_items = {"gone"};
  b.events = {Ev("u1", "a", store::EventType::kView, 10, "x1"),
              Ev("u1", "b", store::EventType::kPurchase, 20, "x1"),
              Ev("u2", "a", store::EventType::kImpression, 30),   // no positive weight
              Ev("", "s", store::EventType::kView, 40, "anon"),    // anonymous session
              Ev("", "a", store::EventType::kView, 50),            // anonymous, no session
              Ev("u2", "gone", store::EventType::kView, 60),       // deleted item
              Ev("u2", "a", store::EventType::kAddToCart, 70)};
  b.events[1].quantity = 3;
  store::WriteResult wr;
  ASSERT_OK(db->Write(b, &wr));
  ASSERT_OK_AND_ASSIGN(auto snap, db->OpenSnapshot());
  ASSERT_OK_AND_ASSIGN(InteractionData data, LoadInteractionData(*snap));
  ASSERT_EQ(data.num_items(), 3);  // a, b, and the stub s (it has an event)
  EXPECT_EQ(data.item(0).external_id, "a");
  EXPECT_EQ(data.item(0).text, "Blue mug Acme Kitchen > Mugs A sturdy mug.");
  EXPECT_TRUE(data.item(0).in_stock);
  EXPECT_FALSE(data.item(1).in_stock);
  EXPECT_EQ(*data.item(1).price, 12.5);
  EXPECT_EQ(data.item(2).external_id, "s");
  EXPECT_FALSE(data.FindItem("gone"));
  EXPECT_FALSE(data.FindItem("s2"));
  ASSERT_EQ(data.interactions().size(), 4u);
  ASSERT_EQ(data.num_users(), 3);  // u1, session:anon, u2
  EXPECT_TRUE(data.FindUser("session:anon"));
  const auto u1 = data.UserHistory(*data.FindUser("u1"));
  ASSERT_EQ(u1.size(), 2u);
  EXPECT_EQ(u1[1].type, EventType::kPurchase);
  EXPECT_FLOAT_EQ(u1[1].quantity, 3);
  EXPECT_EQ(u1[0].session, u1[1].session);
  EXPECT_GE(u1[0].session, 0);

  ASSERT_OK(WriteInteractionData(data, (dir / "saved").string()));
  ASSERT_OK_AND_ASSIGN(InteractionData back, ReadInteractionData((dir / "saved").string()));
  ASSERT_EQ(back.num_items(), data.num_items());
  ASSERT_EQ(back.num_users(), data.num_users());
  ASSERT_EQ(back.num_sessions(), data.num_sessions());
  ASSERT_EQ(back.interactions().size(), data.interactions().size());
  for (size_t i = 0; i < data.interactions().size(); ++i) {
    const auto& x = data.interactions()[i];
    const auto& y = back.interactions()[i];
    EXPECT_EQ(x.user, y.user);
    EXPECT_EQ(x.item, y.item);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.timestamp_ms, y.timestamp_ms);
    EXPECT_EQ(x.session, y.session);
    EXPECT_EQ(x.quantity, y.quantity);
  }
  EXPECT_EQ(back.item(0).text, data.item(0).text);
  EXPECT_EQ(back.item(1).in_stock, false);
  EXPECT_EQ(back.user_id(1), data.user_id(1));
  // A damaged file is a clear error.
  std::ofstream(dir / "saved" / "interactions.bin", std::ios::trunc) << "SOUKINT1xx";
  auto bad = ReadInteractionData((dir / "saved").string());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("interactions.bin"), std::string::npos);
  EXPECT_EQ(ReadInteractionData((dir / "nothing").string()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace souk::recommend
