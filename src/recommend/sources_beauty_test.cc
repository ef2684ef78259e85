// Smoke test on real data: every built-in source fits on Amazon Beauty (22,363
// users, 12,101 items, 198,502 interactions; S3-Rec format, one line per user in
// time order), prints its Fit time, and answers leave-one-out requests (the last
// item of each user held out). Checks that the collaborative sources beat the
// popularity baseline on HR@10. Skipped when the dataset is missing.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/testing.h"
#include "recommend/candidate_source.h"

namespace souk::recommend {
namespace {

constexpr int64_t kDay = 86400000;
constexpr int64_t kT0 = 1400000000000;

struct Beauty {
  InteractionData train;             // every sequence without its last item
  std::vector<int32_t> held_out;     // per user: the last item
};

Beauty LoadBeauty(const std::filesystem::path& sequences, const std::filesystem::path& attrs) {
  Beauty out;
  std::unordered_map<std::string, std::string> texts;
  if (!attrs.empty()) {
    std::ifstream f(attrs);
    nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_object()) {
      for (const auto& [item, list] : j.items()) {
        std::string text;
        for (const auto& a : list) text += "attr" + a.dump() + " ";
        texts[item] = text;
      }
    }
  }
  std::ifstream in(sequences);
  std::string line;
  std::vector<std::vector<int32_t>> sequences_by_user;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string user, item;
    words >> user;
    std::vector<int32_t> seq;
    while (words >> item) {
      std::optional<int32_t> i = out.train.FindItem(item);
      if (!i) {
        i = out.train.AddItem({.external_id = item, .title = texts.count(item) ? texts[item] : ""});
      }
      seq.push_back(*i);
    }
    if (seq.size() < 2) continue;
    const int32_t u = out.train.AddUser(user);
    for (size_t p = 0; p + 1 < seq.size(); ++p) {
      EXPECT_TRUE(out.train
                      .Add({.user = u,
                            .item = seq[p],
                            .type = EventType::kPurchase,
                            .timestamp_ms = kT0 + static_cast<int64_t>(p) * kDay})
                      .ok());
    }
    out.held_out.push_back(seq.back());
  }
  out.train.Finalize();
  return out;
}

TEST(BeautySmokeTest, EverySourceFitsAndAnswers) {
  SOUK_REQUIRE_DATA(sequences, "amazon-beauty/Beauty.txt");
  const std::filesystem::path attrs =
      testing::SharedData("amazon-beauty/Beauty_item2attributes.json");
  Beauty beauty = LoadBeauty(sequences, attrs);
  const InteractionData& data = beauty.train;
  ASSERT_GT(data.num_items(), 12000);
  std::printf("Beauty: %d users, %d items, %zu training events\n", data.num_users(),
              data.num_items(), data.interactions().size());

  SourceRegistry registry;
  ASSERT_OK(RegisterBuiltinSources(registry));
  const ProgressOptions quiet{.mode = ProgressMode::kOff};
  std::unordered_map<std::string, double> hit_rate;
  for (const std::string& name : registry.Names()) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<CandidateSource> source, registry.Create(name));
    const auto start = std::chrono::steady_clock::now();
    ASSERT_OK(source->Fit(data, quiet));
    const double fit_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Leave-one-out HR@10 over every 10th user.
    int hits = 0, asked = 0;
    const auto ask_start = std::chrono::steady_clock::now();
    for (int32_t u = 0; u < data.num_users(); u += 10) {
      RecommendRequest req;
      req.user = u;
      req.history = HistoryOf(data, u);
      std::vector<Candidate> c;
      source->Candidates(req, 10, &c);
      ++asked;
      for (const Candidate& x : c) hits += x.item == beauty.held_out[u];
    }
    const double ask_ms = std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - ask_start).count() / asked;
    hit_rate[name] = static_cast<double>(hits) / asked;
    std::printf("%-13s fit %7.2f s   HR@10 %.4f   %.3f ms/request\n", name.c_str(), fit_s,
                hit_rate[name], ask_ms);
  }
  EXPECT_GT(hit_rate["ease"], hit_rate["popular"]);
  EXPECT_GT(hit_rate["cooccurrence"], hit_rate["popular"]);
}

// EASE over the whole catalog (12,101 items: a 12k x 12k inverse) instead of the
// default 8,000 most popular.
TEST(BeautySmokeTest, EaseFullCatalog) {
  SOUK_REQUIRE_DATA(sequences, "amazon-beauty/Beauty.txt");
  Beauty beauty = LoadBeauty(sequences, {});
  SourceRegistry registry;
  ASSERT_OK(RegisterBuiltinSources(registry));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<CandidateSource> ease,
                       registry.Create("ease", {{"max_items", 20000}}));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_OK(ease->Fit(beauty.train, {.mode = ProgressMode::kOff}));
  const double fit_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int hits = 0, asked = 0;
  for (int32_t u = 0; u < beauty.train.num_users(); u += 10) {
    RecommendRequest req;
    req.history = HistoryOf(beauty.train, u);
    std::vector<Candidate> c;
    ease->Candidates(req, 10, &c);
    ++asked;
    for (const Candidate& x : c) hits += x.item == beauty.held_out[u];
  }
  std::printf("ease (all %d items) fit %.2f s   HR@10 %.4f\n", beauty.train.num_items(), fit_s,
              static_cast<double>(hits) / asked);
  EXPECT_GT(hits, 0);
}

}  // namespace
}  // namespace souk::recommend
