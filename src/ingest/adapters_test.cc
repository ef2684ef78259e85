// Every public dataset imports through its adapter; counts are checked against
// the figures in ../shared/data/README.md.
#include <fmt/format.h>

#include "common/testing.h"
#include "ingest/import_test_fixture.h"

namespace souk::ingest {
namespace {

using DatasetImportTest = ImportFixture;

TEST_F(DatasetImportTest, HomeDepot) {
  SOUK_REQUIRE_DATA(products, "homedepot/products.csv");
  SOUK_REQUIRE_DATA(judgments, "homedepot/judgments.dev.csv");
  auto s = Import("homedepot", {judgments.string(), products.string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->items, 54667);
  EXPECT_EQ(s->judgments, 44496);
  EXPECT_EQ(s->quarantined, 0) << s->ToText();
  EXPECT_EQ(store_->Stats()->judgments, 44496);
}

TEST_F(DatasetImportTest, Rees46) {
  SOUK_REQUIRE_DATA(f, "rees46/2019-Oct.sample.csv");
  auto s = Import("rees46", {f.string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->events + s->quarantined, 17434) << s->ToText();
  EXPECT_EQ(s->event_types["purchase"], 214);
  EXPECT_EQ(s->reasons["duplicate_event"], 5);  // 5 exact duplicate rows in the file
  auto st = store_->Stats();
  // The data README says 5,067 sessions; the file has 5,066 distinct user_session values.
  EXPECT_EQ(st->sessions, 5066);
  EXPECT_EQ(st->stub_items, 0);
}

TEST_F(DatasetImportTest, OnlineRetail) {
  SOUK_REQUIRE_DATA(f, "online-retail/online_retail_2010-12_2011-09.csv");
  auto s = Import("online-retail", {f.string()});
  ASSERT_OK(s);
  // Every invoice line is accounted for: accepted or quarantined with a reason.
  EXPECT_EQ(s->events + s->quarantined, 370931) << s->ToText();
  EXPECT_GT(s->events, 360000);
  EXPECT_GT(s->reasons["duplicate_event"], 0);  // the raw log has exact duplicate lines
  EXPECT_GT(s->event_types["return"], 0);       // C-invoices
  fmt::print("{}", s->ToText());
}

}  // namespace
}  // namespace souk::ingest
