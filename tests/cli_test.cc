// Black-box tests of the `souk` command line: the JSON output contract, exit
// codes and error messages for bad input.
#include <fmt/format.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/testing.h"
#include "souk_cli.h"

namespace souk {
namespace {

using Result = testing::CliResult;

Result RunSouk(const std::string& args) { return testing::RunSoukBinary(SOUK_BINARY, args); }

TEST(CliTest, ImportJsonContract) {
  SOUK_REQUIRE_DATA(f, "rees46/2019-Oct.sample.csv");
  auto data = testing::TempDir("cli");
  auto r = RunSouk(fmt::format("import --data-dir {} --format rees46 --json --progress off {}", data.string(), f.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);  // exactly one JSON object on stdout
  for (const char* k : {"items", "events", "accepted", "quarantined", "reasons"}) EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["events"].get<int64_t>() + j["quarantined"].get<int64_t>(), 17434);
  EXPECT_EQ(j["reasons"]["duplicate_event"], 5);
}

TEST(CliTest, BadInputGivesAClearErrorAndExitCode) {
  auto data = testing::TempDir("cli");
  auto r = RunSouk(fmt::format("import --data-dir {} --format rees46 /no/such/file.csv", data.string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/no/such/file.csv"), std::string::npos) << r.err;
  r = RunSouk(fmt::format("import --data-dir {} --format bogus x", data.string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown format 'bogus'"), std::string::npos) << r.err;
  r = RunSouk("config --set import.batch_size=lots");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("import.batch_size"), std::string::npos) << r.err;
  r = RunSouk("import --list-formats");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("homedepot"), std::string::npos);
}

TEST(CliTest, ImportWithAMappingFile) {
  auto dir = testing::TempDir("cli-map");
  std::ofstream(dir / "products.csv") << "sku;name;cost;Colour\nA1;Blue mug;4.5;blue\nA2;Red mug;-2;red\n";
  std::ofstream(dir / "map.toml") << "kind = \"items\"\ndelimiter = \";\"\n[map]\nid = \"sku\"\ntitle = \"name\"\nprice = \"cost\"\n\"attr.color\" = \"Colour\"\n";
  auto r = RunSouk(fmt::format("import --data-dir {} --format generic-csv --mapping {} --json --progress off {}",
                               (dir / "data").string(), (dir / "map.toml").string(), (dir / "products.csv").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["items"], 1);
  EXPECT_EQ(j["reasons"]["negative_price"], 1);
  std::ofstream(dir / "bad.toml") << "kind = \"items\"\nmapp = 3\n";
  r = RunSouk(fmt::format("import --data-dir {} --format generic-csv --mapping {} {}", (dir / "data").string(),
                          (dir / "bad.toml").string(), (dir / "products.csv").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown key 'mapp'"), std::string::npos) << r.err;
}

TEST(CliTest, ConfigDocMatchesTheBinary) {
  // docs/config.md embeds the output of `souk config`; keep them in sync.
  auto r = RunSouk("config");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream doc(std::string(SOUK_SOURCE_DIR) + "/docs/config.md");
  std::string text((std::istreambuf_iterator<char>(doc)), {});
  EXPECT_NE(text.find(r.out), std::string::npos)
      << "docs/config.md is stale: regenerate it from `souk config`";
}

TEST(CliTest, DemoRunsEndToEnd) {
  auto data = testing::TempDir("cli-demo");
  auto r = RunSouk(fmt::format("demo --data-dir {} --items 400 --users 150 --days 20 --progress off --no-serve", data.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"[1/9]", "[3/9]", "[9/9]", "Imported souk", "Popularity concentration",
                        "items indexed", "held-out searches", "matches", "purchase intent",
                        "Recommending", "Evaluating purchase intent", "Where to look next"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
  // The recommender's held-out evaluation is saved as a report (the console plots it).
  bool rec_report = false;
  for (const auto& e : std::filesystem::directory_iterator(data / "reports")) {
    if (e.path().filename().string().rfind("eval-synthetic-holdout-", 0) == 0) rec_report = true;
  }
  EXPECT_TRUE(rec_report) << r.out;
  EXPECT_TRUE(std::filesystem::exists(data / "reports" / "quality.json"));
  EXPECT_TRUE(std::filesystem::exists(data / "index" / "search.json"));
  EXPECT_TRUE(std::filesystem::exists(data / "models" / "ltr" / "CURRENT"));
  // The indexes the demo built answer `souk search` (JSON, with explanations and facets).
  auto s = RunSouk(fmt::format("search \"wireless headphones\" --facet brand --explain --json --data-dir {} --progress off", data.string()));
  ASSERT_EQ(s.exit_code, 0) << s.err;
  auto sj = nlohmann::json::parse(s.out);
  ASSERT_FALSE(sj["hits"].empty());
  EXPECT_TRUE(sj["hits"][0].contains("explain"));
  EXPECT_TRUE(sj.contains("query_understanding"));
  EXPECT_TRUE(sj["facets"].contains("brand"));
  // Bad filters are clear errors, not crashes.
  auto bad = RunSouk(fmt::format("search tv --filter colour=red --data-dir {} --progress off", data.string()));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("unknown field 'colour'"), std::string::npos) << bad.err;
  bad = RunSouk(fmt::format("search tv --filter price=50..10 --data-dir {} --progress off", data.string()));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("inverted"), std::string::npos) << bad.err;
  // The quality gate works on the demo store: a gate that must fail exits 3 and names the metric.
  auto gate = RunSouk(fmt::format("quality --data-dir {} --fail-on \"gini<0\" --progress off", data.string()));
  EXPECT_EQ(gate.exit_code, 0) << gate.err;
  gate = RunSouk(fmt::format("quality --data-dir {} --fail-on \"gini>=0\" --progress off", data.string()));
  EXPECT_EQ(gate.exit_code, 3) << gate.err;
  EXPECT_NE((gate.err + gate.out).find("gini"), std::string::npos);
  auto q = RunSouk(fmt::format("quality --data-dir {} --json --progress off", data.string()));
  ASSERT_EQ(q.exit_code, 0) << q.err;
  auto j = nlohmann::json::parse(q.out);
  EXPECT_TRUE(j.contains("metrics"));
}

TEST(CliTest, EvalJsonContract) {
  SOUK_REQUIRE_DATA(f, "amazon-beauty/Beauty.txt");
  auto data = testing::TempDir("cli-eval");
  auto r = RunSouk(fmt::format("eval rec --protocol amazon-seq --data {} --json --data-dir {} --progress off", f.string(), data.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"protocol", "dataset", "metrics", "ablations", "seconds"}) EXPECT_TRUE(j.contains(k)) << k;
  for (const char* k : {"hr@10", "ndcg@10", "hr@20", "ndcg@20", "n_users"}) EXPECT_TRUE(j["metrics"].contains(k)) << k;
  EXPECT_EQ(j["metrics"]["n_users"], 22363);
  // A missing data file is named.
  auto na = RunSouk(fmt::format("eval intent --protocol rees46 --events no-such-file.csv --json --data-dir {}", data.string()));
  EXPECT_NE(na.exit_code, 0);
  EXPECT_NE(na.err.find("no-such-file.csv"), std::string::npos) << na.err;
}

}  // namespace
}  // namespace souk
