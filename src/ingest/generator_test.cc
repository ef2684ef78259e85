#include "ingest/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/testing.h"

namespace souk::gen {
namespace {

namespace fs = std::filesystem;
using Row = std::vector<std::string>;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Minimal RFC 4180 parser (quoted fields, doubled quotes, CRLF/LF); fails the
// test on malformed quoting.
std::vector<Row> ParseCsv(const std::string& text) {
  std::vector<Row> rows;
  Row row;
  std::string field;
  bool quoted = false, after_quote = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
          after_quote = true;
        }
      } else {
        field.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      EXPECT_TRUE(field.empty() && !after_quote) << "stray quote at byte " << i;
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      after_quote = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      after_quote = false;
      rows.push_back(std::move(row));
      row.clear();
    } else {
      EXPECT_FALSE(after_quote) << "text after closing quote at byte " << i;
      field.push_back(c);
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted field";
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<nlohmann::json> ReadJsonl(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

const Row kEventsHeader = {"user_id", "session_id", "item_id", "type",      "query",
                           "value",   "quantity",   "price",   "timestamp", "context"};
enum Col { kUser, kSession, kItem, kType, kQuery, kValue, kQuantity, kPrice, kTs, kContext };

struct Generated {
  GeneratorOptions options;
  GeneratorSummary summary;
  std::vector<Row> events;   // without header
  std::vector<Row> holdout;  // without header
  std::vector<nlohmann::json> items;
  std::vector<nlohmann::json> users;
  nlohmann::json manifest;
};

void Load(const fs::path& dir, Generated* g) {
  auto strip = [](std::vector<Row> rows) {
    EXPECT_FALSE(rows.empty());
    if (!rows.empty()) {
      EXPECT_EQ(rows[0], kEventsHeader);
      rows.erase(rows.begin());
    }
    return rows;
  };
  g->events = strip(ParseCsv(ReadFile(dir / "events.csv")));
  g->holdout = strip(ParseCsv(ReadFile(dir / "ground_truth" / "holdout_events.csv")));
  g->items = ReadJsonl(dir / "items.jsonl");
  g->users = ReadJsonl(dir / "users.jsonl");
  g->manifest = nlohmann::json::parse(ReadFile(dir / "ground_truth" / "manifest.json"));
}

GeneratorOptions SmallOptions(const std::string& tag, uint64_t seed) {
  GeneratorOptions o;
  o.items = 1500;
  o.users = 800;
  o.days = 20;
  o.seed = seed;
  o.languages = {"en", "zh"};
  o.out_dir = testing::TempDir(tag).string();
  o.progress.mode = ProgressMode::kOff;
  return o;
}

// One larger store shared by the statistical tests (generated once).
class GeneratorStats : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_ = new Generated;
    g_->options.items = 3000;
    g_->options.users = 4000;
    g_->options.days = 45;
    g_->options.seed = 2024;
    g_->options.languages = {"en", "zh"};
    g_->options.events_target = 300000;
    g_->options.out_dir = testing::TempDir("gen_stats").string();
    g_->options.progress.mode = ProgressMode::kOff;
    auto s = GenerateStore(g_->options);
    ASSERT_OK(s);
    g_->summary = *s;
    Load(g_->options.out_dir, g_);
  }
  static void TearDownTestSuite() {
    delete g_;
    g_ = nullptr;
  }
  static fs::path Dir() { return g_->options.out_dir; }
  static Generated* g_;
};
Generated* GeneratorStats::g_ = nullptr;

std::vector<std::string> AllFiles(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Generator, SameSeedGivesIdenticalBytesDifferentSeedDiffers) {
  GeneratorOptions a = SmallOptions("gen_det_a", 11);
  GeneratorOptions b = SmallOptions("gen_det_b", 11);
  GeneratorOptions c = SmallOptions("gen_det_c", 12);
  ASSERT_OK(GenerateStore(a));
  ASSERT_OK(GenerateStore(b));
  ASSERT_OK(GenerateStore(c));
  const auto files = AllFiles(a.out_dir);
  ASSERT_EQ(files, AllFiles(b.out_dir));
  EXPECT_GE(files.size(), 11u);
  for (const std::string& f : files) {
    EXPECT_EQ(ReadFile(fs::path(a.out_dir) / f), ReadFile(fs::path(b.out_dir) / f)) << f;
  }
  EXPECT_NE(ReadFile(fs::path(a.out_dir) / "items.jsonl"), ReadFile(fs::path(c.out_dir) / "items.jsonl"));
  EXPECT_NE(ReadFile(fs::path(a.out_dir) / "events.csv"), ReadFile(fs::path(c.out_dir) / "events.csv"));
}

TEST(Generator, CountsMatchOptionsFilesAndSummary) {
  GeneratorOptions o = SmallOptions("gen_counts", 5);
  auto s = GenerateStore(o);
  ASSERT_OK(s);
  Generated g;
  Load(o.out_dir, &g);
  EXPECT_EQ(s->items, o.items);
  EXPECT_EQ(s->users, o.users);
  EXPECT_EQ(static_cast<int64_t>(g.items.size()), o.items);
  EXPECT_EQ(static_cast<int64_t>(g.users.size()), o.users);
  EXPECT_EQ(static_cast<int64_t>(g.events.size()), s->events_train);
  EXPECT_EQ(static_cast<int64_t>(g.holdout.size()), s->events_holdout);
  EXPECT_EQ(s->events, s->events_train + s->events_holdout);
  // Default rate: 0.1 sessions per user per day.
  EXPECT_NEAR(static_cast<double>(s->sessions), 0.1 * o.users * o.days, 2.0);
  auto sessions = ParseCsv(ReadFile(fs::path(o.out_dir) / "ground_truth" / "sessions.csv"));
  EXPECT_EQ(static_cast<int64_t>(sessions.size()) - 1, s->sessions);
  int64_t purchases = 0, n_events_sum = 0;
  for (const auto* rows : {&g.events, &g.holdout}) {
    for (const Row& r : *rows) purchases += r[kType] == "purchase";
  }
  for (size_t i = 1; i < sessions.size(); ++i) n_events_sum += std::stoll(sessions[i][3]);
  EXPECT_EQ(purchases, s->purchases);
  EXPECT_EQ(n_events_sum, s->events);
  EXPECT_GT(s->purchases, 0);

  const nlohmann::json j = SummaryToJson(*s);
  for (const char* key : {"out", "items", "users", "events", "sessions", "purchases", "seconds", "files"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["items"], o.items);
  EXPECT_EQ(j["events"], s->events);
  EXPECT_EQ(j["sessions"], s->sessions);
  EXPECT_EQ(j["purchases"], s->purchases);
  for (const auto& [name, path] : j["files"].items()) {
    EXPECT_TRUE(fs::exists(path.get<std::string>())) << name;
  }
  EXPECT_EQ(g.manifest["counts"]["events"], s->events);
  EXPECT_EQ(g.manifest["counts"]["items"], o.items);
  EXPECT_EQ(g.manifest["seed"], o.seed);
  EXPECT_EQ(g.manifest["cutoff"], "2025-09-14T00:00:00Z");  // 20 days - 7 holdout
}

TEST_F(GeneratorStats, EventsAreWellFormedReferToKnownIdsAndAreSorted) {
  std::unordered_set<std::string> item_ids, user_ids;
  for (const auto& it : g_->items) item_ids.insert(it["id"].get<std::string>());
  for (const auto& u : g_->users) user_ids.insert(u["id"].get<std::string>());
  const std::string cutoff = g_->manifest["cutoff"];
  const std::set<std::string> types = {"impression", "view", "click", "add_to_cart",
                                       "remove_from_cart", "purchase", "rating", "search"};
  std::string last;
  int64_t searches = 0;
  for (const auto* rows : {&g_->events, &g_->holdout}) {
    const bool holdout = rows == &g_->holdout;
    for (const Row& r : *rows) {
      ASSERT_EQ(r.size(), 10u);
      ASSERT_TRUE(user_ids.count(r[kUser])) << r[kUser];
      ASSERT_TRUE(types.count(r[kType])) << r[kType];
      if (r[kType] == "search") {
        ++searches;
        EXPECT_TRUE(r[kItem].empty());
        EXPECT_FALSE(r[kQuery].empty());
      } else {
        ASSERT_TRUE(item_ids.count(r[kItem])) << r[kItem];
        EXPECT_TRUE(r[kQuery].empty());
      }
      if (r[kType] == "rating") {
        const int v = std::stoi(r[kValue]);
        EXPECT_TRUE(v >= 1 && v <= 5);
      } else {
        EXPECT_TRUE(r[kValue].empty());
      }
      const bool priced = r[kType] == "add_to_cart" || r[kType] == "purchase";
      EXPECT_EQ(!r[kQuantity].empty(), priced);
      EXPECT_EQ(!r[kPrice].empty(), priced);
      if (priced) {
        EXPECT_GE(std::stoi(r[kQuantity]), 1);
        EXPECT_GT(std::stod(r[kPrice]), 0);
      }
      ASSERT_EQ(r[kTs].size(), 20u);
      EXPECT_EQ(r[kTs][10], 'T');
      EXPECT_EQ(r[kTs].back(), 'Z');
      ASSERT_GE(r[kTs], last) << "events out of time order";
      last = r[kTs];
      EXPECT_EQ(r[kTs] >= cutoff, holdout);
      const auto ctx = nlohmann::json::parse(r[kContext]);
      EXPECT_TRUE(ctx.is_object() && ctx.contains("device") && ctx.contains("page"));
    }
  }
  EXPECT_GT(searches, 0);
}

TEST_F(GeneratorStats, EventsTargetIsApproximatelyReached) {
  EXPECT_NEAR(static_cast<double>(g_->summary.events), 300000.0, 300000.0 * 0.1);
}

TEST_F(GeneratorStats, FunnelRatesArePlausible) {
  auto sessions = ParseCsv(ReadFile(Dir() / "ground_truth" / "sessions.csv"));
  ASSERT_GT(sessions.size(), 1000u);
  int64_t converted = 0;
  for (size_t i = 1; i < sessions.size(); ++i) converted += sessions[i][4] == "1";
  const double conversion = static_cast<double>(converted) / static_cast<double>(sessions.size() - 1);
  EXPECT_GT(conversion, 0.01);
  EXPECT_LT(conversion, 0.08);

  std::map<std::string, int64_t> by_type;
  std::unordered_set<std::string> cart_sessions, buy_sessions;
  for (const Row& r : g_->events) {
    ++by_type[r[kType]];
    if (r[kType] == "add_to_cart") cart_sessions.insert(r[kSession]);
    if (r[kType] == "purchase") buy_sessions.insert(r[kSession]);
  }
  EXPECT_GT(by_type["impression"], by_type["click"]);
  EXPECT_GT(by_type["view"], by_type["add_to_cart"]);
  EXPECT_GT(by_type["add_to_cart"], by_type["purchase"]);
  EXPECT_GT(by_type["purchase"], 0);
  EXPECT_GT(by_type["remove_from_cart"], 0);
  EXPECT_GT(by_type["rating"], 0);
  // Cart abandonment (Baymard average ~70%).
  int64_t carts_bought = 0;
  for (const auto& s : cart_sessions) carts_bought += buy_sessions.count(s);
  const double abandonment =
      1.0 - static_cast<double>(carts_bought) / static_cast<double>(cart_sessions.size());
  EXPECT_GT(abandonment, 0.5);
  EXPECT_LT(abandonment, 0.85);
}

TEST_F(GeneratorStats, ItemPopularityIsZipfLike) {
  std::unordered_map<std::string, int64_t> views;
  int64_t total = 0;
  for (const Row& r : g_->events) {
    if (r[kType] == "view") {
      ++views[r[kItem]];
      ++total;
    }
  }
  std::vector<int64_t> counts;
  for (const auto& [_, c] : views) counts.push_back(c);
  counts.resize(g_->items.size(), 0);  // items never viewed count as 0
  std::sort(counts.rbegin(), counts.rend());
  int64_t top = 0;
  for (size_t i = 0; i < counts.size() / 10; ++i) top += counts[i];
  EXPECT_GT(static_cast<double>(top) / static_cast<double>(total), 0.4);
}

TEST_F(GeneratorStats, ComplementsAreBoughtTogetherFarMoreThanChance) {
  auto pairs = ParseCsv(ReadFile(Dir() / "ground_truth" / "complements.csv"));
  ASSERT_GT(pairs.size(), 10u);
  std::unordered_map<std::string, std::unordered_set<std::string>> basket;  // session -> items
  for (const auto* rows : {&g_->events, &g_->holdout}) {
    for (const Row& r : *rows) {
      if (r[kType] == "purchase") basket[r[kSession]].insert(r[kItem]);
    }
  }
  std::unordered_map<std::string, int64_t> sessions_with;
  for (const auto& [_, items] : basket) {
    for (const auto& i : items) ++sessions_with[i];
  }
  const double n_sessions = static_cast<double>(g_->summary.sessions);
  int64_t with_a = 0, with_both = 0;
  double expected_both = 0;
  for (size_t k = 1; k < pairs.size(); ++k) {
    const std::string& a = pairs[k][0];
    const std::string& b = pairs[k][1];
    for (const auto& [_, items] : basket) {
      if (!items.count(a)) continue;
      ++with_a;
      with_both += items.count(b);
    }
    expected_both += static_cast<double>(sessions_with[a]) *
                     (static_cast<double>(sessions_with[b]) / n_sessions);
  }
  ASSERT_GT(with_a, 20);
  EXPECT_GT(with_both, 5);
  EXPECT_GT(static_cast<double>(with_both), 10.0 * expected_both);
}

TEST_F(GeneratorStats, BotsAreFastAndNeverBuy) {
  auto bots_rows = ParseCsv(ReadFile(Dir() / "ground_truth" / "bots.csv"));
  ASSERT_GT(bots_rows.size(), 1u);
  std::unordered_set<std::string> bots;
  for (size_t i = 1; i < bots_rows.size(); ++i) bots.insert(bots_rows[i][0]);
  // Mean gap between successive events of a session, per group.
  std::unordered_map<std::string, std::pair<std::string, int64_t>> last;  // session -> (ts, user)
  auto seconds = [](const std::string& ts) {
    return std::stoll(ts.substr(8, 2)) * 86400 + std::stoll(ts.substr(11, 2)) * 3600 +
           std::stoll(ts.substr(14, 2)) * 60 + std::stoll(ts.substr(17, 2));
  };
  double gap_sum[2] = {0, 0};
  int64_t gap_n[2] = {0, 0};
  int64_t bot_events = 0;
  for (const Row& r : g_->events) {
    const int is_bot = bots.count(r[kUser]) ? 1 : 0;
    bot_events += is_bot;
    if (is_bot) {
      EXPECT_NE(r[kType], "purchase");
      EXPECT_NE(r[kType], "add_to_cart");
    }
    auto it = last.find(r[kSession]);
    const int64_t t = seconds(r[kTs]);
    if (it != last.end()) {
      gap_sum[is_bot] += static_cast<double>(t - it->second.second);
      ++gap_n[is_bot];
    }
    last[r[kSession]] = {r[kUser], t};
  }
  ASSERT_GT(bot_events, 100);
  const double bot_gap = gap_sum[1] / static_cast<double>(gap_n[1]);
  const double human_gap = gap_sum[0] / static_cast<double>(gap_n[0]);
  EXPECT_LT(bot_gap, 1.0);
  EXPECT_GT(human_gap, 5.0);
}

TEST_F(GeneratorStats, FuturePurchasesAreAfterCutoffAndOnlyInHoldout) {
  const std::string cutoff = g_->manifest["cutoff"];
  auto future = ParseCsv(ReadFile(Dir() / "ground_truth" / "future_purchases.csv"));
  ASSERT_EQ(future[0], (Row{"user_id", "item_id", "timestamp"}));
  ASSERT_GT(future.size(), 10u);
  EXPECT_EQ(static_cast<int64_t>(future.size()) - 1, g_->summary.future_purchases);
  std::set<std::string> train_purchases, holdout_purchases;
  for (const Row& r : g_->events) {
    if (r[kType] == "purchase") train_purchases.insert(r[kUser] + "|" + r[kItem] + "|" + r[kTs]);
  }
  for (const Row& r : g_->holdout) {
    if (r[kType] == "purchase") holdout_purchases.insert(r[kUser] + "|" + r[kItem] + "|" + r[kTs]);
  }
  for (size_t i = 1; i < future.size(); ++i) {
    const Row& f = future[i];
    EXPECT_GE(f[2], cutoff);
    const std::string key = f[0] + "|" + f[1] + "|" + f[2];
    EXPECT_FALSE(train_purchases.count(key)) << key;
    EXPECT_TRUE(holdout_purchases.count(key)) << key;
  }
}

TEST_F(GeneratorStats, ConsumablesAreRepurchased) {
  // The same user buys the same item in two different sessions (replenishment).
  std::map<std::pair<std::string, std::string>, std::set<std::string>> sessions_of;
  for (const auto* rows : {&g_->events, &g_->holdout}) {
    for (const Row& r : *rows) {
      if (r[kType] == "purchase") sessions_of[{r[kUser], r[kItem]}].insert(r[kSession]);
    }
  }
  int64_t repeats = 0;
  for (const auto& [_, s] : sessions_of) repeats += s.size() >= 2;
  EXPECT_GT(repeats, 5);
}

TEST_F(GeneratorStats, PriceOutliersAreListedAndExtreme) {
  auto rows = ParseCsv(ReadFile(Dir() / "ground_truth" / "price_outliers.csv"));
  ASSERT_EQ(rows[0], (Row{"item_id", "price", "currency", "typical_price"}));
  EXPECT_GE(rows.size() - 1, 3u);
  EXPECT_LE(rows.size() - 1, 45u);  // ~0.5% of 3000
  std::unordered_map<std::string, double> price;
  for (const auto& it : g_->items) price[it["id"]] = it["price"].get<double>();
  for (size_t i = 1; i < rows.size(); ++i) {
    const double p = price.at(rows[i][0]);
    EXPECT_DOUBLE_EQ(p, std::stod(rows[i][1]));
    const double ratio = p / std::stod(rows[i][3]);
    EXPECT_TRUE(ratio > 20 || ratio < 0.05) << rows[i][0] << " ratio " << ratio;
  }
}

bool HasCjk(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0xE4 && c <= 0xE9) return true;  // lead bytes of U+4000..U+9FFF
  }
  return false;
}

TEST_F(GeneratorStats, BilingualCatalogHasBothLanguagesAndTraditionalTitles) {
  int64_t en = 0, zh = 0, traditional = 0;
  for (const auto& it : g_->items) {
    const std::string lang = it["language"];
    const std::string title = it["title"];
    if (lang == "en") {
      ++en;
      EXPECT_EQ(it["currency"], "USD");
      EXPECT_FALSE(HasCjk(title)) << title;
    } else {
      ASSERT_EQ(lang, "zh");
      ++zh;
      EXPECT_EQ(it["currency"], "CNY");
      EXPECT_TRUE(HasCjk(title)) << title;
      // Characters that exist only in traditional script.
      for (const char* t : {"數", "機", "裝", "鍋", "電", "衛", "護", "飲", "製", "鏡", "號", "質", "設"}) {
        if (title.find(t) != std::string::npos || it["category"].get<std::string>().find(t) != std::string::npos) {
          ++traditional;
          break;
        }
      }
    }
    const std::string category = it["category"];
    EXPECT_EQ(std::count(category.begin(), category.end(), '>'), 2) << category;
  }
  EXPECT_GT(en, 0);
  EXPECT_GT(zh, 0);
  EXPECT_GT(traditional, 0);
  EXPECT_LT(traditional, zh / 4);
  int64_t zh_queries = 0;
  for (const Row& r : g_->events) zh_queries += r[kType] == "search" && HasCjk(r[kQuery]);
  EXPECT_GT(zh_queries, 0);
}

TEST(Generator, EnglishOnlyHasNoChinese) {
  GeneratorOptions o = SmallOptions("gen_en", 9);
  o.languages = {"en"};
  ASSERT_OK(GenerateStore(o));
  const std::string items = ReadFile(fs::path(o.out_dir) / "items.jsonl");
  const std::string events = ReadFile(fs::path(o.out_dir) / "events.csv");
  EXPECT_FALSE(HasCjk(items));
  EXPECT_FALSE(HasCjk(events));
  EXPECT_EQ(items.find("\"CNY\""), std::string::npos);
  EXPECT_EQ(items.find("\"language\":\"zh\""), std::string::npos);
}

TEST(Generator, RejectsBadOptionsNamingTheField) {
  GeneratorOptions o = SmallOptions("gen_bad", 1);
  o.days = 5;
  o.holdout_days = 7;
  Status s = GenerateStore(o).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("holdout_days"), std::string::npos) << s.message();
  o = SmallOptions("gen_bad", 1);
  o.items = 0;
  s = GenerateStore(o).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("items"), std::string::npos);
  o = SmallOptions("gen_bad", 1);
  o.typo_rate = 1.5;
  EXPECT_NE(ValidateOptions(o).message().find("typo_rate"), std::string::npos);
  auto l = ParseLanguages("en,fr");
  EXPECT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("fr"), std::string::npos);
  auto ok = ParseLanguages("zh, en");
  ASSERT_OK(ok);
  EXPECT_EQ(*ok, (std::vector<std::string>{"zh", "en"}));
}

TEST(Generator, FormatTimestampIsIso8601Utc) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(1756684800), "2025-09-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(951782400 + 3723), "2000-02-29T01:02:03Z");
  EXPECT_EQ(FormatTimestamp(1759501351), "2025-10-03T14:22:31Z");
}

}  // namespace
}  // namespace souk::gen
