// The importer end to end on small files: validation, quarantine with line
// numbers and reasons, the unknown-item policy, duplicates and idempotency.
#include "ingest/importer.h"

#include <fmt/format.h>

#include <fstream>

#include "common/testing.h"
#include "ingest/import_test_fixture.h"

namespace souk::ingest {
namespace {

constexpr const char* kHeader = "user_id,session_id,item_id,type,query,value,quantity,price,timestamp,context\n";

class ImporterTest : public ImportFixture {
 protected:
  void SetUp() override {
    ImportFixture::SetUp();
    Write("items.jsonl",
          "{\"id\":\"A\",\"title\":\"Kettle\",\"price\":20,\"category\":[\"Home\",\"Kitchen\"],\"attributes\":{\"color\":\"red\"}}\n"
          "{\"id\":\"B\",\"title\":\"Toaster\",\"price\":35,\"images\":[\"http://x/b.jpg\"],\"in_stock\":true}\n");
  }
  StatusOr<ImportSummary> Import(const std::string& format, std::vector<std::string> paths,
                                 ImportOptions o = {}, AdapterOptions ao = {}) {
    return ImportFixture::Import(format, std::move(paths), std::move(ao), std::move(o));
  }
  std::vector<store::QuarantineRecord> Quarantine(const std::string& reason = "") {
    auto q = store_->ListQuarantine(1000, 0, reason);
    EXPECT_OK(q);
    return q.ok() ? *q : std::vector<store::QuarantineRecord>{};
  }
};

TEST_F(ImporterTest, SoukFormatImportsItemsAndEvents) {
  Write("events.csv", std::string(kHeader) +
                          "u1,s1,A,view,,,,,2025-10-01T10:00:00Z,\"{\"\"device\"\":\"\"mobile\"\"}\"\n"
                          "u1,s1,A,add_to_cart,,,1,20,2025-10-01T10:01:00Z,\n"
                          "u1,s1,A,purchase,,,1,20,2025-10-01T10:02:00Z,\n"
                          "u2,s2,,search,red kettle,,,,2025-10-01T11:00:00Z,\n"
                          "u2,s2,B,rating,,4.5,,,2025-10-02T11:00:00Z,\n");
  auto s = Import("souk", {(dir_ / "items.jsonl").string(), (dir_ / "events.csv").string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->items, 2);
  EXPECT_EQ(s->events, 5);
  EXPECT_EQ(s->quarantined, 0);
  EXPECT_EQ(s->accepted, 7);
  auto a = *store_->GetItem("A");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->item.category, "Home > Kitchen");
  EXPECT_EQ(a->item.attributes_json, "{\"color\":\"red\"}");
  EXPECT_EQ((*store_->GetItem("B"))->item.images_json, "[\"http://x/b.jpg\"]");
  EXPECT_EQ((*store_->GetItem("B"))->item.in_stock, true);
  auto st = store_->Stats();
  EXPECT_EQ(st->events_by_type[static_cast<int>(store::EventType::kSearch)], 1);
  EXPECT_EQ(st->users, 2);
}

TEST_F(ImporterTest, MalformedInputIsQuarantinedWithLineAndReasonAndTheRestImports) {
  const std::string big(10 * 1024 * 1024, 'x');  // a 10 MB field
  std::string csv = std::string(kHeader) +
                    "u1,s1,A,view,,,,,2025-10-01T10:00:00Z,\n"                    // 2 ok
                    "u1,s1,A,view,,,,2025-10-01T10:00:00Z,\n"                     // 3 wrong column count
                    "u1,s1,A,vi\xff\xfe,,,,,2025-10-01T10:00:00Z,\n"              // 4 bad UTF-8
                    "u1,s1,A,purchase,,,1,-5,2025-10-01T10:00:00Z,\n"             // 5 negative price
                    "u1,s1,A,wishlist,,,,,2025-10-01T10:00:00Z,\n"                // 6 unknown event type
                    "u1,s1,A,view,,,,,2025-10-01T10:00:05Z," + big + "\n"         // 7 10 MB field
                    "u1,s1,B,view,,,,,not-a-time,\n"                              // 8 bad timestamp
                    "u1,s1,B,view,,,,,2099-01-01T00:00:00Z,\n"                    // 9 future
                    "u1,s1,B,view,,,,,1970-01-02T00:00:00Z,\n"                    // 10 ancient
                    "u1,s1,A,view,,,,,2025-10-01T10:00:00Z,\n"                    // 11 exact duplicate of 2
                    "u1,s1,B,purchase,,,0,35,2025-10-01T10:09:00Z,\n"             // 12 zero quantity
                    "u2,s2,B,view,,,,,2025-10-01T12:00:00Z,\n"                    // 13 ok
                    "u2,s2,B,view,,,,,2025-10-01T12:";                            // 14 truncated last line
  Write("events.csv", csv);
  auto s = Import("souk", {(dir_ / "items.jsonl").string(), (dir_ / "events.csv").string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->events, 2);
  std::map<std::string, int64_t> expect = {
      {"wrong_column_count", 2}, {"invalid_utf8", 1}, {"negative_price", 1}, {"unknown_event_type", 1},
      {"field_too_long", 1}, {"bad_timestamp", 1}, {"future_timestamp", 1}, {"ancient_timestamp", 1},
      {"duplicate_event", 1}, {"invalid_quantity", 1}};
  EXPECT_EQ(s->reasons, expect);
  EXPECT_EQ(s->quarantined, 11);
  // Every quarantined row is in the store with its line and a message naming the problem.
  std::map<int64_t, std::string> by_line;
  for (const auto& q : Quarantine()) {
    EXPECT_FALSE(q.detail.empty()) << q.reason;
    EXPECT_NE(q.source.find("events.csv"), std::string::npos);
    by_line[q.line] = q.reason;
  }
  EXPECT_EQ(by_line[3], "wrong_column_count");
  EXPECT_EQ(by_line[4], "invalid_utf8");
  EXPECT_EQ(by_line[5], "negative_price");
  EXPECT_EQ(by_line[6], "unknown_event_type");
  EXPECT_EQ(by_line[7], "field_too_long");
  EXPECT_EQ(by_line[11], "duplicate_event");
  EXPECT_EQ(by_line[14], "wrong_column_count");
  auto q7 = Quarantine("field_too_long");
  ASSERT_EQ(q7.size(), 1u);
  EXPECT_LT(q7[0].raw.size(), 10000u);  // raw text is kept, but bounded
  EXPECT_NE(q7[0].detail.find("column"), std::string::npos) << q7[0].detail;
  auto q5 = Quarantine("negative_price");
  EXPECT_NE(q5[0].detail.find("-5"), std::string::npos) << q5[0].detail;
  EXPECT_EQ(store_->Stats()->events, 2);
}

TEST_F(ImporterTest, EmptyFileIsReportedNotFatal) {
  Write("events.csv", "");
  auto s = Import("souk", {(dir_ / "items.jsonl").string(), (dir_ / "events.csv").string()});
  ASSERT_OK(s);
  EXPECT_EQ(s->items, 2);
  EXPECT_EQ(s->reasons["empty_file"], 1);
  ASSERT_FALSE(s->notes.empty());
  EXPECT_NE(s->notes[0].find("empty"), std::string::npos);
}

TEST_F(ImporterTest, UnknownItemPolicy) {
  Write("events.csv", std::string(kHeader) + "u1,s1,ZZZ,view,,,,,2025-10-01T10:00:00Z,\n");
  ImportOptions quarantine;
  quarantine.validation.unknown_item = UnknownItemPolicy::kQuarantine;
  auto s = Import("souk", {(dir_ / "events.csv").string()}, quarantine);
  ASSERT_OK(s);
  EXPECT_EQ(s->events, 0);
  EXPECT_EQ(s->reasons["unknown_item"], 1);
  EXPECT_FALSE(store_->HasItem("ZZZ"));
  auto stub = Import("souk", {(dir_ / "events.csv").string()});  // default: stub
  ASSERT_OK(stub);
  EXPECT_EQ(stub->events, 1);
  EXPECT_EQ(stub->stubs_created, 1);
  EXPECT_TRUE((*store_->GetItem("ZZZ"))->item.is_stub);
}

TEST_F(ImporterTest, ReimportIsIdempotentAndAppendsOnlyNewLines) {
  const std::string p = Write("events.csv", std::string(kHeader) +
                                                "u1,s1,A,view,,,,,2025-10-01T10:00:00Z,\n"
                                                "u1,s1,B,view,,,,,2025-10-01T10:01:00Z,\n");
  auto paths = std::vector<std::string>{(dir_ / "items.jsonl").string(), p};
  ASSERT_OK(Import("souk", paths));
  auto again = Import("souk", paths);
  ASSERT_OK(again);
  EXPECT_EQ(again->events_new, 0);
  EXPECT_EQ(again->events_already_present, 2);
  EXPECT_EQ(again->items_unchanged, 2);
  EXPECT_EQ(store_->Stats()->events, 2);
  std::ofstream(p, std::ios::app) << "u2,s2,A,view,,,,,2025-10-02T10:00:00Z,\n";
  auto grown = Import("souk", paths);
  ASSERT_OK(grown);
  EXPECT_EQ(grown->events_new, 1);
  EXPECT_EQ(store_->Stats()->events, 3);
}

TEST_F(ImporterTest, ConflictingItemsInOneFile) {
  const std::string p = Write("items2.jsonl",
                              "{\"id\":\"C\",\"title\":\"Lamp\",\"price\":9}\n"
                              "{\"id\":\"C\",\"title\":\"Lamp\",\"price\":9}\n"
                              "{\"id\":\"C\",\"title\":\"Lamp\",\"price\":12}\n"
                              "{\"id\":\"D\",\"price\":\"cheap\"}\n"
                              "[1,2]\n"
                              "{\"id\": \"E\", \"title\": \"Mug\"\n");
  AdapterOptions ao;
  ao.kind = "items";
  auto s = Import("generic-jsonl", {p}, {}, ao);
  ASSERT_OK(s);
  EXPECT_EQ(s->items, 1);
  EXPECT_EQ(s->reasons["duplicate_item"], 1);
  EXPECT_EQ(s->reasons["conflicting_item"], 1);
  EXPECT_EQ(s->reasons["invalid_number"], 1);
  EXPECT_EQ(s->reasons["not_an_object"], 1);
  EXPECT_EQ(s->reasons["truncated"] + s->reasons["invalid_json"], 1);
  EXPECT_EQ((*store_->GetItem("C"))->item.price, 9);
}

TEST_F(ImporterTest, GenericCsvWithMapping) {
  const std::string p = Write("products.tsv",
                              "sku\tname\tcost\tColour\n"
                              "X1\tBlue mug\t4.5\tblue\n"
                              "X2\tRed mug\t-1\tred\n");
  AdapterOptions ao;
  ao.kind = "items";
  ao.mapping = {{"id", "sku"}, {"title", "name"}, {"price", "cost"}, {"attr.color", "Colour"}};
  auto s = Import("generic-csv", {p}, {}, ao);
  ASSERT_OK(s);
  EXPECT_EQ(s->items, 1);
  EXPECT_EQ(s->reasons["negative_price"], 1);
  auto x = *store_->GetItem("X1");
  EXPECT_EQ(x->item.title, "Blue mug");
  EXPECT_EQ(x->item.attributes_json, "{\"color\":\"blue\"}");
  ao.mapping = {{"idd", "sku"}};
  auto bad = Import("generic-csv", {p}, {}, ao);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("idd"), std::string::npos);
}

TEST_F(ImporterTest, MissingColumnIsAFileLevelErrorNamingIt) {
  const std::string p = Write("rees.csv", "event_time,event_type,product_id\n2019-10-01 00:00:00 UTC,view,1\n");
  auto s = Import("rees46", {p});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("missing column 'user_id'"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("rees.csv"), std::string::npos);
}

TEST_F(ImporterTest, BatchesAreAcknowledgedAsTheyCommit) {
  std::string csv = kHeader;
  for (int i = 0; i < 1000; ++i) csv += fmt::format("u{},s{},A,view,,,,,2025-10-01T10:{:02d}:{:02d}Z,\n", i % 7, i % 13, i / 60, i % 60);
  Write("events.csv", csv);
  ImportOptions o;
  o.batch_size = 100;
  std::vector<int64_t> acks;
  o.on_commit = [&](int64_t events, int64_t) { acks.push_back(events); };
  auto s = Import("souk", {(dir_ / "items.jsonl").string(), (dir_ / "events.csv").string()}, o);
  ASSERT_OK(s);
  EXPECT_EQ(s->events, 1000);
  ASSERT_GE(acks.size(), 10u);
  for (size_t i = 1; i < acks.size(); ++i) EXPECT_GT(acks[i], acks[i - 1]);
  EXPECT_EQ(acks.back(), 1000);
}

}  // namespace
}  // namespace souk::ingest
