#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/file.h"
#include "common/testing.h"
#include "common/time.h"
#include "registry/job_runner.h"
#include "registry/model_registry.h"
#include "registry/schedule.h"

namespace souk::registry {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// ---------------------------------------------------------------- helpers

void SetMtimeSeconds(const fs::path& p, int64_t seconds) {
  struct timespec times[2];
  times[0].tv_sec = seconds;
  times[0].tv_nsec = 0;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0) << p;
}

// A version folder with an optional manifest (raw text) and a fixed mtime.
void MakeVersion(const fs::path& kind_dir, const std::string& version, int64_t mtime_s,
                 const std::string& manifest = "") {
  const fs::path dir = kind_dir / version;
  fs::create_directories(dir);
  if (!manifest.empty()) {
    ASSERT_OK(WriteFileAtomically(dir / "manifest.json", manifest));
  }
  std::ofstream(dir / "model.bin") << "weights";
  SetMtimeSeconds(dir, mtime_s);
}

// What the trainers do: CURRENT = "<version>\n".
void WriteCurrentLikeTrainers(const fs::path& kind_dir, const std::string& version) {
  ASSERT_OK(WriteFileAtomically(kind_dir / "CURRENT", version + "\n"));
}

// The way recommend::LoadCurrentRecommender / app::LoadCurrentIntentModels read it.
std::string ReadCurrentLikeLoaders(const fs::path& kind_dir) {
  std::ifstream in(kind_dir / "CURRENT");
  std::string v;
  if (in) std::getline(in, v);
  return v;
}

std::vector<std::string> Names(const std::vector<VersionInfo>& vs) {
  std::vector<std::string> out;
  for (const VersionInfo& v : vs) out.push_back(v.version);
  return out;
}

std::set<std::string> DirEntries(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// ---------------------------------------------------------------- ModelRegistry

TEST(ModelRegistryTest, ListOrdersNewestFirstAndReadsEveryManifestShape) {
  const fs::path root = testing::TempDir("reg_list");
  const fs::path rec = root / "recommender";
  // recommend::Recommender::Save shape.
  MakeVersion(rec, "1700000000", 1700000000,
              R"({"kind":"recommender","format_version":3,"pipeline":"default","watermark":42,
                  "metrics":{"ndcg@10":0.31},"num_items":10})");
  // rank::GbdtModel::Save + SaveRanker extra shape (ltr).
  MakeVersion(rec, "1700000300", 1700000300,
              R"({"kind":"gbdt","format_version":1,"objective":"rank:ndcg","data_watermark":77,
                  "trained_from":"search log","metrics":{"ltr":{"mrr@10":0.5}}})");
  // A manifest with an explicit creation time wins over the folder mtime.
  MakeVersion(rec, "1600000000", 1600000000,
              R"({"kind":"bert","format":2,"created_ms":1800000000000})");
  // No manifest: mtime, defaults.
  MakeVersion(rec, "1700000200", 1700000200);
  // Unreadable manifest: {} and defaults.
  MakeVersion(rec, "1700000100", 1700000100, "{not json");
  // Same mtime: natural name order decides ("-10" is newer than "-2").
  MakeVersion(rec, "1700000400", 1700000400);
  MakeVersion(rec, "1700000400-2", 1700000400);
  MakeVersion(rec, "1700000400-10", 1700000400);
  // In-progress writes and deletions are not versions.
  fs::create_directories(rec / ".1700000500.tmp-99");
  fs::create_directories(rec / "1700000600.tmp");
  fs::create_directories(rec / ".1700000000.deleting-7");
  std::ofstream(rec / "CURRENT.tmp") << "junk";
  WriteCurrentLikeTrainers(rec, "1700000300");

  ModelRegistry reg(root);
  ASSERT_OK_AND_ASSIGN(std::vector<VersionInfo> vs, reg.List("recommender"));
  EXPECT_EQ(Names(vs),
            (std::vector<std::string>{"1600000000", "1700000400-10", "1700000400-2", "1700000400",
                                      "1700000300", "1700000200", "1700000100", "1700000000"}));
  const VersionInfo& bert = vs[0];
  EXPECT_EQ(bert.created_ms, 1800000000000);
  EXPECT_EQ(bert.format_version, 2);
  EXPECT_EQ(bert.data_watermark, -1);
  EXPECT_TRUE(bert.metrics.empty());
  EXPECT_FALSE(bert.active);

  const VersionInfo& ltr = vs[4];
  EXPECT_EQ(ltr.version, "1700000300");
  EXPECT_TRUE(ltr.active);
  EXPECT_EQ(ltr.kind, "recommender");
  EXPECT_EQ(ltr.dir, rec / "1700000300");
  EXPECT_EQ(ltr.created_ms, 1700000300000);
  EXPECT_EQ(ltr.data_watermark, 77);
  EXPECT_EQ(ltr.format_version, 1);
  EXPECT_DOUBLE_EQ(ltr.metrics["ltr"]["mrr@10"].get<double>(), 0.5);
  EXPECT_EQ(ltr.manifest.value("trained_from", ""), "search log");
  EXPECT_EQ(ltr.ToJson().value("model_kind", ""), "gbdt");

  const VersionInfo& bare = vs[5];
  EXPECT_EQ(bare.version, "1700000200");
  EXPECT_TRUE(bare.manifest.is_object());
  EXPECT_TRUE(bare.manifest.empty());
  EXPECT_EQ(bare.created_ms, 1700000200000);
  EXPECT_EQ(bare.format_version, 0);

  EXPECT_TRUE(vs[6].manifest.empty());  // unparsable manifest
  EXPECT_EQ(vs[6].data_watermark, -1);

  const VersionInfo& recv = vs[7];
  EXPECT_EQ(recv.data_watermark, 42);
  EXPECT_EQ(recv.format_version, 3);
  EXPECT_DOUBLE_EQ(recv.metrics["ndcg@10"].get<double>(), 0.31);
  EXPECT_EQ(recv.manifest.value("pipeline", ""), "default");

  // Intent shape (app::TrainIntentModels) in its own kind.
  MakeVersion(root / "intent", "1700000000", 1700000000,
              R"({"kind":"intent_models","format_version":1,"watermark":9,"base_rate":0.1,
                  "levels":{"high":0.5,"low":0.1},"models":{}})");
  ASSERT_OK_AND_ASSIGN(std::vector<VersionInfo> intent, reg.List("intent"));
  ASSERT_EQ(intent.size(), 1u);
  EXPECT_EQ(intent[0].data_watermark, 9);
  EXPECT_EQ(intent[0].format_version, 1);
  EXPECT_FALSE(intent[0].active);
  EXPECT_TRUE(intent[0].metrics.empty());
}

TEST(ModelRegistryTest, KindsAndUnknownKinds) {
  const fs::path root = testing::TempDir("reg_kinds");
  ModelRegistry missing(root / "nope");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> none, missing.Kinds());
  EXPECT_TRUE(none.empty());

  MakeVersion(root / "recommender", "1", 1000);
  fs::create_directories(root / "ltr");
  WriteCurrentLikeTrainers(root / "ltr", "5");  // CURRENT alone is enough
  fs::create_directories(root / "empty");
  fs::create_directories(root / "only_tmp" / ".1.tmp-3");
  MakeVersion(root / "hub", "sentence-transformers--all-MiniLM-L6-v2", 1000);  // pulled models
  fs::create_directories(root / ".trash" / "1");

  ModelRegistry reg(root);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> kinds, reg.Kinds());
  EXPECT_EQ(kinds, (std::vector<std::string>{"ltr", "recommender"}));

  auto list = reg.List("intent");
  EXPECT_EQ(list.status().code(), StatusCode::kNotFound);
  EXPECT_NE(list.status().message().find("intent"), std::string::npos);
  EXPECT_EQ(reg.History("intent").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reg.Active("recommender").status().code(), StatusCode::kNotFound);  // no CURRENT
  EXPECT_EQ(reg.List("../etc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reg.List(".trash").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reg.List("").status().code(), StatusCode::kInvalidArgument);
}

TEST(ModelRegistryTest, ActivateRollbackHistoryRoundTrip) {
  const fs::path root = testing::TempDir("reg_roundtrip");
  const fs::path dir = root / "recommender";
  MakeVersion(dir, "100", 100);
  MakeVersion(dir, "200", 200);
  MakeVersion(dir, "300", 300);
  WriteCurrentLikeTrainers(dir, "100");
  FakeClock clock(5'000'000);  // 5000 ms
  ModelRegistry reg(root, &clock);

  ASSERT_OK_AND_ASSIGN(std::string active, reg.Active("recommender"));
  EXPECT_EQ(active, "100");

  ASSERT_OK(reg.Activate("recommender", "200", "cli"));
  std::string raw = ReadFileToString(dir / "CURRENT").value();
  EXPECT_EQ(raw, "200\n");
  EXPECT_EQ(ReadCurrentLikeLoaders(dir), "200");
  clock.Advance(1'000'000);
  ASSERT_OK(reg.Activate("recommender", "300", "api key 1a2b"));
  EXPECT_EQ(ReadCurrentLikeLoaders(dir), "300");
  ASSERT_OK_AND_ASSIGN(std::vector<VersionInfo> vs, reg.List("recommender"));
  EXPECT_TRUE(vs[0].active);
  EXPECT_FALSE(vs[1].active);

  // Re-activating the active version records nothing.
  ASSERT_OK(reg.Activate("recommender", "300", "cli"));

  // Errors name what is wrong.
  Status missing = reg.Activate("recommender", "999");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find((dir / "999").string()), std::string::npos)
      << missing.ToString();
  EXPECT_EQ(reg.Activate("recommender", "../../etc").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reg.Activate("recommender", ".hidden").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reg.Activate("ltr", "1").code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadCurrentLikeLoaders(dir), "300");

  ASSERT_OK_AND_ASSIGN(std::string target, reg.RollbackTarget("recommender"));
  EXPECT_EQ(target, "200");
  clock.Advance(1'000'000);
  ASSERT_OK_AND_ASSIGN(std::string back, reg.Rollback("recommender", "ops"));
  EXPECT_EQ(back, "200");
  EXPECT_EQ(ReadCurrentLikeLoaders(dir), "200");
  // A second rollback walks further back instead of toggling.
  ASSERT_OK_AND_ASSIGN(std::string back2, reg.Rollback("recommender", "ops"));
  EXPECT_EQ(back2, "100");
  EXPECT_EQ(ReadFileToString(dir / "CURRENT").value(), "100\n");
  // Nothing older than 100.
  auto none = reg.Rollback("recommender");
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(none.status().message().find("100"), std::string::npos);

  ASSERT_OK_AND_ASSIGN(json h, reg.History("recommender"));
  ASSERT_EQ(h.size(), 4u) << h.dump();
  EXPECT_EQ(h[0]["action"], "rollback");
  EXPECT_EQ(h[0]["version"], "100");
  EXPECT_EQ(h[0]["previous"], "200");
  EXPECT_EQ(h[1]["action"], "rollback");
  EXPECT_EQ(h[1]["version"], "200");
  EXPECT_EQ(h[1]["previous"], "300");
  EXPECT_EQ(h[1]["actor"], "ops");
  EXPECT_EQ(h[1]["ts_ms"], 7000);
  EXPECT_EQ(h[2]["action"], "activate");
  EXPECT_EQ(h[2]["version"], "300");
  EXPECT_EQ(h[2]["previous"], "200");
  EXPECT_EQ(h[2]["actor"], "api key 1a2b");
  EXPECT_EQ(h[2]["ts_ms"], 6000);
  EXPECT_EQ(h[3]["version"], "200");
  EXPECT_EQ(h[3]["previous"], "100");
  EXPECT_EQ(h[3]["ts_ms"], 5000);
  ASSERT_OK_AND_ASSIGN(json h2, reg.History("recommender", 2));
  EXPECT_EQ(h2.size(), 2u);
  EXPECT_EQ(h2[1]["version"], "200");

  // A fresh registry object (another process) sees the same state.
  ModelRegistry again(root);
  EXPECT_EQ(again.Active("recommender").value(), "100");
  EXPECT_EQ(again.History("recommender").value().size(), 4u);
}

TEST(ModelRegistryTest, RollbackSkipsDeletedFolders) {
  const fs::path root = testing::TempDir("reg_skip");
  const fs::path dir = root / "intent";
  for (const char* v : {"100", "200", "300", "400"}) MakeVersion(dir, v, std::stoll(v));
  ModelRegistry reg(root);
  ASSERT_OK(reg.Activate("intent", "100"));
  ASSERT_OK(reg.Activate("intent", "300"));
  ASSERT_OK(reg.Activate("intent", "200"));
  ASSERT_OK(reg.Activate("intent", "400"));
  fs::remove_all(dir / "200");
  ASSERT_OK_AND_ASSIGN(std::string back, reg.Rollback("intent"));
  EXPECT_EQ(back, "300");
  fs::remove_all(dir / "100");
  // Only 300 is left besides... nothing older in history, and the only older folder is gone.
  auto none = reg.Rollback("intent");
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition) << none.status().ToString();
  EXPECT_EQ(reg.Active("intent").value(), "300");
}

TEST(ModelRegistryTest, RollbackFallsBackToOlderVersionWhenHistoryIsStale) {
  const fs::path root = testing::TempDir("reg_fallback");
  const fs::path dir = root / "ltr";
  for (const char* v : {"100", "200", "300"}) MakeVersion(dir, v, std::stoll(v));
  // Trainers wrote CURRENT; no history at all.
  WriteCurrentLikeTrainers(dir, "300");
  ModelRegistry reg(root);
  ASSERT_OK_AND_ASSIGN(std::string t, reg.RollbackTarget("ltr"));
  EXPECT_EQ(t, "200");
  ASSERT_OK(reg.Activate("ltr", "100"));  // history: 300 -> 100
  // A trainer then makes a new version CURRENT behind the registry's back.
  MakeVersion(dir, "400", 400);
  WriteCurrentLikeTrainers(dir, "400");
  ASSERT_OK_AND_ASSIGN(std::string back, reg.Rollback("ltr"));
  EXPECT_EQ(back, "300");  // newest existing version older than 400, not the history's 300->100
  // Nothing active: FailedPrecondition.
  fs::remove(dir / "CURRENT");
  EXPECT_EQ(reg.Rollback("ltr").status().code(), StatusCode::kFailedPrecondition);
}

TEST(ModelRegistryTest, PruneKeepsNewestActiveAndRollbackTarget) {
  const fs::path root = testing::TempDir("reg_prune");
  const fs::path dir = root / "recommender";
  for (int v = 1; v <= 6; ++v) MakeVersion(dir, std::to_string(v * 100), v * 100);
  ModelRegistry reg(root);
  ASSERT_OK(reg.Activate("recommender", "100"));
  ASSERT_OK(reg.Activate("recommender", "300"));  // active 300, rollback target 100
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> deleted, reg.Prune("recommender", 2));
  EXPECT_EQ(deleted, (std::vector<std::string>{"400", "200"}));
  ASSERT_OK_AND_ASSIGN(std::vector<VersionInfo> left, reg.List("recommender"));
  EXPECT_EQ(Names(left), (std::vector<std::string>{"600", "500", "300", "100"}));
  EXPECT_EQ(DirEntries(dir),
            (std::set<std::string>{"600", "500", "300", "100", "CURRENT", "HISTORY.jsonl"}));

  // keep 0: only the active one and the rollback target survive.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> deleted2, reg.Prune("recommender", 0));
  EXPECT_EQ(deleted2, (std::vector<std::string>{"600", "500"}));
  EXPECT_EQ(Names(reg.List("recommender").value()), (std::vector<std::string>{"300", "100"}));
  // After rolling back to the oldest version there is no rollback target left to protect.
  EXPECT_EQ(reg.Rollback("recommender").value(), "100");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> deleted3, reg.Prune("recommender", 0));
  EXPECT_EQ(deleted3, (std::vector<std::string>{"300"}));
  EXPECT_EQ(Names(reg.List("recommender").value()), (std::vector<std::string>{"100"}));
  EXPECT_EQ(reg.Active("recommender").value(), "100");
  // Nothing to prune: empty result.
  EXPECT_TRUE(reg.Prune("recommender", 5).value().empty());
  EXPECT_EQ(reg.Prune("nope", 1).status().code(), StatusCode::kNotFound);
}

TEST(ModelRegistryTest, CurrentIsWrittenAtomicallyWithoutLeftovers) {
  const fs::path root = testing::TempDir("reg_atomic");
  const fs::path dir = root / "bert";
  MakeVersion(dir, "100", 100);
  MakeVersion(dir, "100-pretrain", 100);
  ModelRegistry reg(root);
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(reg.Activate("bert", i % 2 ? "100-pretrain" : "100"));
    EXPECT_EQ(ReadFileToString(dir / "CURRENT").value(), i % 2 ? "100-pretrain\n" : "100\n");
  }
  EXPECT_EQ(DirEntries(dir),
            (std::set<std::string>{"100", "100-pretrain", "CURRENT", "HISTORY.jsonl"}));
  ASSERT_EQ(reg.History("bert").value().size(), 5u);
  EXPECT_EQ(reg.History("bert").value()[4]["previous"], "");  // the first activation had none

  // Concurrent activations from several threads: CURRENT always holds one whole name.
  std::vector<std::thread> threads;
  std::atomic<bool> bad{false};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if (!reg.Activate("bert", (t + i) % 2 ? "100-pretrain" : "100").ok()) bad = true;
        const std::string v = ReadCurrentLikeLoaders(dir);
        if (v != "100" && v != "100-pretrain") bad = true;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(bad.load());
  EXPECT_EQ(DirEntries(dir),
            (std::set<std::string>{"100", "100-pretrain", "CURRENT", "HISTORY.jsonl"}));
}

TEST(ModelRegistryTest, HistorySurvivesATornLine) {
  const fs::path root = testing::TempDir("reg_torn");
  const fs::path dir = root / "recommender";
  MakeVersion(dir, "100", 100);
  MakeVersion(dir, "200", 200);
  ModelRegistry reg(root);
  ASSERT_OK(reg.Activate("recommender", "100"));
  {
    std::ofstream f(dir / "HISTORY.jsonl", std::ios::app);
    f << R"({"ts_ms":1,"action":"activ)";  // a crash mid-append
  }
  ASSERT_OK(reg.Activate("recommender", "200"));
  ASSERT_OK_AND_ASSIGN(json h, reg.History("recommender"));
  ASSERT_EQ(h.size(), 2u) << h.dump();
  EXPECT_EQ(h[0]["version"], "200");
  EXPECT_EQ(h[1]["version"], "100");
  EXPECT_EQ(reg.Rollback("recommender").value(), "100");
}

// ---------------------------------------------------------------- Schedule

int64_t Ms(const char* iso) { return ParseTimestampMs(iso).value(); }

TEST(ScheduleTest, ParsesTheAcceptedForms) {
  struct Case {
    const char* spec;
    const char* canonical;
  } cases[] = {
      {"off", "off"},
      {"", "off"},
      {"  OFF ", "off"},
      {"every 30m", "every 30m"},
      {" Every  6h ", "every 6h"},
      {"every 1d", "every 1d"},
      {"every 90m", "every 90m"},
      {"every 120m", "every 2h"},
      {"every 48h", "every 2d"},
      {"every 1m", "every 1m"},
      {"hourly", "every 1h"},
      {"nightly", "daily 03:00"},
      {"daily 03:00", "daily 03:00"},
      {"daily 23:59", "daily 23:59"},
      {"daily 0:05", "daily 00:05"},
  };
  for (const Case& c : cases) {
    auto s = Schedule::Parse(c.spec);
    ASSERT_OK(s) << c.spec;
    EXPECT_EQ(s->ToString(), c.canonical) << c.spec;
    EXPECT_EQ(s->off(), std::string(c.canonical) == "off") << c.spec;
    // The canonical form parses back to the same schedule.
    EXPECT_EQ(Schedule::Parse(s->ToString()).value(), *s) << c.spec;
  }
}

TEST(ScheduleTest, RejectsBadSpecsNamingThem) {
  for (const char* spec :
       {"every 0m", "every 30s", "every m", "every", "every -5m", "every 1.5h", "daily 24:00",
        "daily 12:60", "daily 3", "daily", "daily 03:00:00", "weekly", "every 30m please", "30m"}) {
    auto s = Schedule::Parse(spec);
    ASSERT_FALSE(s.ok()) << spec;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << spec;
    EXPECT_NE(s.status().message().find(std::string("\"") + spec + "\""), std::string::npos)
        << s.status().message();
    EXPECT_NE(s.status().message().find("accepted"), std::string::npos) << s.status().message();
  }
}

TEST(ScheduleTest, NextForIntervals) {
  const Schedule every30 = Schedule::Parse("every 30m").value();
  const int64_t t = Ms("2023-11-14T22:13:20Z");
  EXPECT_EQ(every30.Next(t), Ms("2023-11-14T22:30:00Z"));
  // Strictly after: a time on the boundary moves to the next one.
  EXPECT_EQ(every30.Next(Ms("2023-11-14T22:30:00Z")), Ms("2023-11-14T23:00:00Z"));
  EXPECT_EQ(every30.Next(Ms("2023-11-14T23:59:59.999Z")), Ms("2023-11-15T00:00:00Z"));
  const Schedule every6h = Schedule::Parse("every 6h").value();
  EXPECT_EQ(every6h.Next(t), Ms("2023-11-15T00:00:00Z"));
  const Schedule every1d = Schedule::Parse("every 1d").value();
  EXPECT_EQ(every1d.Next(t), Ms("2023-11-15T00:00:00Z"));
  const Schedule minute = Schedule::Parse("every 1m").value();
  EXPECT_EQ(minute.Next(0), 60'000);
  EXPECT_EQ(minute.Next(59'999), 60'000);
  EXPECT_EQ(minute.Next(60'000), 120'000);
  EXPECT_FALSE(Schedule::Parse("off").value().Next(t).has_value());
  EXPECT_FALSE(Schedule().Next(t).has_value());
}

TEST(ScheduleTest, NextForDailyWrapsPastMidnight) {
  const Schedule nightly = Schedule::Parse("nightly").value();
  EXPECT_EQ(nightly.Next(Ms("2023-11-14T22:13:20Z")), Ms("2023-11-15T03:00:00Z"));
  EXPECT_EQ(nightly.Next(Ms("2023-11-15T02:59:59Z")), Ms("2023-11-15T03:00:00Z"));
  EXPECT_EQ(nightly.Next(Ms("2023-11-15T03:00:00Z")), Ms("2023-11-16T03:00:00Z"));
  // Month and year ends.
  EXPECT_EQ(nightly.Next(Ms("2023-12-31T23:00:00Z")), Ms("2024-01-01T03:00:00Z"));
  const Schedule late = Schedule::Parse("daily 23:30").value();
  EXPECT_EQ(late.Next(Ms("2024-02-28T23:45:00Z")), Ms("2024-02-29T23:30:00Z"));
  const Schedule midnight = Schedule::Parse("daily 00:00").value();
  EXPECT_EQ(midnight.Next(Ms("2024-02-29T00:00:00Z")), Ms("2024-03-01T00:00:00Z"));
}

// ---------------------------------------------------------------- JobRunner

// A gate a job blocks on until the test opens it.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Pass() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Polls `pred` for up to 10 s of real time.
template <typename Pred>
bool Eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

JobRunner::Options NoScheduleThread(const Clock* clock = nullptr) {
  JobRunner::Options o;
  o.clock = clock;
  o.start_schedule_thread = false;
  return o;
}

TEST(JobRunnerTest, RunsJobsOneAtATimeInSubmissionOrder) {
  JobRunner runner(NoScheduleThread());
  Gate gate;
  std::mutex mu;
  std::vector<int> order;
  std::atomic<int> concurrent{0}, max_concurrent{0};
  auto job = [&](int n, bool wait) {
    return [&, n, wait](JobContext&) -> StatusOr<json> {
      const int c = ++concurrent;
      max_concurrent = std::max(max_concurrent.load(), c);
      if (wait) gate.Pass();
      {
        std::lock_guard<std::mutex> l(mu);
        order.push_back(n);
      }
      --concurrent;
      return json{{"n", n}};
    };
  };
  const int64_t a = runner.Submit("train:a", "api", job(1, true));
  const int64_t b = runner.Submit("train:b", "cli", job(2, false));
  const int64_t c = runner.Submit("train:c", "api", job(3, false));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 2);
  EXPECT_EQ(c, 3);
  ASSERT_TRUE(Eventually([&] { return runner.Get(a)->state == "running"; }));
  EXPECT_EQ(runner.Get(b)->state, "queued");
  EXPECT_EQ(runner.Get(b)->trigger, "cli");
  EXPECT_EQ(runner.Stats()["queued"], 2);
  EXPECT_EQ(runner.Stats()["running"], 1);
  gate.Open();
  ASSERT_TRUE(runner.Wait(c, 10s)->finished());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(max_concurrent.load(), 1);
  const std::vector<JobInfo> all = runner.List();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, c);
  EXPECT_EQ(all[2].id, a);
  for (const JobInfo& j : all) {
    EXPECT_EQ(j.state, "succeeded");
    EXPECT_DOUBLE_EQ(j.progress, 1.0);
    EXPECT_GT(j.started_ms, 0);
    EXPECT_GE(j.finished_ms, j.started_ms);
    EXPECT_GE(j.started_ms, j.queued_ms);
  }
  EXPECT_EQ(all[1].result["n"], 2);
  EXPECT_LE(all[2].finished_ms, all[1].started_ms);
  EXPECT_FALSE(runner.Get(99).has_value());
  EXPECT_FALSE(runner.Wait(99, 1ms).has_value());
}

TEST(JobRunnerTest, CoalescesQueuedJobsOfTheSameKind) {
  JobRunner runner(NoScheduleThread());
  Gate gate;
  std::atomic<int> runs_a{0}, runs_b{0};
  auto a = [&](JobContext&) -> StatusOr<json> {
    ++runs_a;
    gate.Pass();
    return json::object();
  };
  auto b = [&](JobContext&) -> StatusOr<json> {
    ++runs_b;
    return json::object();
  };
  const int64_t a1 = runner.Submit("train:a", "api", a);
  ASSERT_TRUE(Eventually([&] { return runner.Get(a1)->state == "running"; }));
  const int64_t b1 = runner.Submit("train:b", "api", b);
  const int64_t b2 = runner.Submit("train:b", "schedule", b);
  EXPECT_EQ(b1, b2);
  EXPECT_EQ(runner.Get(b1)->trigger, "api");  // the first submission is the one kept
  // A running job does not absorb a new submission of its kind.
  const int64_t a2 = runner.Submit("train:a", "api", a);
  EXPECT_NE(a2, a1);
  EXPECT_EQ(runner.Submit("train:a", "api", a), a2);
  gate.Open();
  ASSERT_TRUE(runner.Wait(a2, 10s)->finished());
  EXPECT_EQ(runs_a.load(), 2);
  EXPECT_EQ(runs_b.load(), 1);
  EXPECT_EQ(runner.List().size(), 3u);
  // Once finished, the kind is queued afresh.
  const int64_t b3 = runner.Submit("train:b", "api", b);
  EXPECT_GT(b3, a2);
  ASSERT_EQ(runner.Wait(b3, 10s)->state, "succeeded");
  EXPECT_EQ(runs_b.load(), 2);
}

TEST(JobRunnerTest, RecordsFailuresExceptionsAndCancellation) {
  FakeClock clock;
  JobRunner runner(NoScheduleThread(&clock));
  Gate gate;  // holds the first job so the second "train:x" is not coalesced into it
  const int64_t failed = runner.Submit("train:x", "api", [&](JobContext&) -> StatusOr<json> {
    gate.Pass();
    clock.Advance(2'500'000);
    return InternalError("xgboost said boom");
  });
  ASSERT_TRUE(Eventually([&] { return runner.Get(failed)->state == "running"; }));
  const int64_t thrown = runner.Submit(
      "train:y", "api", [](JobContext&) -> StatusOr<json> { throw std::runtime_error("kaboom"); });
  const int64_t odd =
      runner.Submit("train:z", "api", [](JobContext&) -> StatusOr<json> { throw 42; });
  const int64_t ok = runner.Submit("train:x", "api", [&](JobContext&) -> StatusOr<json> {
    clock.Advance(1'000'000);
    return json{{"summary", "3 models"}, {"version", "170"}};
  });
  const int64_t stopped = runner.Submit("train:w", "api", [](JobContext&) -> StatusOr<json> {
    return CancelledError("stopped at epoch 2");
  });
  gate.Open();
  ASSERT_TRUE(runner.Wait(stopped, 10s)->finished());

  const JobInfo f = *runner.Get(failed);
  EXPECT_EQ(f.state, "failed");
  EXPECT_NE(f.message.find("xgboost said boom"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("INTERNAL"), std::string::npos) << f.message;
  EXPECT_TRUE(f.result.is_null());
  const JobInfo t = *runner.Get(thrown);
  EXPECT_EQ(t.state, "failed");
  EXPECT_NE(t.message.find("kaboom"), std::string::npos) << t.message;
  EXPECT_EQ(runner.Get(odd)->state, "failed");
  EXPECT_NE(runner.Get(odd)->message.find("exception"), std::string::npos);
  const JobInfo s = *runner.Get(ok);
  EXPECT_EQ(s.state, "succeeded");  // the worker survived the exceptions
  EXPECT_EQ(s.message, "3 models");
  EXPECT_EQ(s.result["version"], "170");
  EXPECT_EQ(runner.Get(stopped)->state, "cancelled");
  EXPECT_EQ(runner.Get(stopped)->message, "stopped at epoch 2");

  const json stats = runner.Stats();
  EXPECT_EQ(stats["kinds"]["train:x"]["failed"], 1);
  EXPECT_EQ(stats["kinds"]["train:x"]["succeeded"], 1);
  EXPECT_EQ(stats["kinds"]["train:x"]["last_state"], "succeeded");
  EXPECT_DOUBLE_EQ(stats["kinds"]["train:x"]["last_duration_s"].get<double>(), 1.0);
  EXPECT_EQ(stats["kinds"]["train:x"]["last_success_ms"], s.finished_ms);
  EXPECT_EQ(stats["kinds"]["train:y"]["failed"], 1);
  EXPECT_EQ(stats["kinds"]["train:w"]["cancelled"], 1);
  EXPECT_EQ(stats["queued"], 0);
  EXPECT_EQ(stats["running"], 0);
  // The first job's duration came from the injected clock.
  EXPECT_EQ(f.finished_ms - f.started_ms, 2500);
}

TEST(JobRunnerTest, ReportsProgressAndWaitTimesOut) {
  JobRunner runner(NoScheduleThread());
  Gate gate;
  const int64_t id = runner.Submit("train:p", "api", [&](JobContext& ctx) -> StatusOr<json> {
    ctx.SetProgress(0.5, "epoch 1/2");
    gate.Pass();
    ctx.SetProgress(7.0);  // clamped
    return json{{"ok", true}};
  });
  ASSERT_TRUE(Eventually([&] { return runner.Get(id)->progress == 0.5; }));
  EXPECT_EQ(runner.Get(id)->message, "epoch 1/2");
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<JobInfo> waited = runner.Wait(id, 50ms);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 45ms);
  ASSERT_TRUE(waited.has_value());
  EXPECT_FALSE(waited->finished());
  EXPECT_EQ(waited->state, "running");
  EXPECT_EQ(waited->ToJson()["progress"], 0.5);
  gate.Open();
  std::optional<JobInfo> done = runner.Wait(id, 10s);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->state, "succeeded");
  EXPECT_DOUBLE_EQ(done->progress, 1.0);
  EXPECT_EQ(done->message, "epoch 1/2");
  EXPECT_EQ(done->ToJson()["result"]["ok"], true);
}

TEST(JobRunnerTest, CancelQueuedAndRunningJobs) {
  JobRunner runner(NoScheduleThread());
  std::atomic<bool> queued_ran{false};
  const int64_t running = runner.Submit("train:a", "api", [&](JobContext& ctx) -> StatusOr<json> {
    while (!ctx.cancelled()) std::this_thread::sleep_for(1ms);
    return CancelledError("noticed the cancel");
  });
  const int64_t queued = runner.Submit("train:b", "api", [&](JobContext&) -> StatusOr<json> {
    queued_ran = true;
    return json::object();
  });
  ASSERT_TRUE(Eventually([&] { return runner.Get(running)->state == "running"; }));
  ASSERT_OK(runner.Cancel(queued));
  EXPECT_EQ(runner.Get(queued)->state, "cancelled");
  ASSERT_OK(runner.Cancel(running));
  EXPECT_EQ(runner.Wait(running, 10s)->state, "cancelled");
  EXPECT_EQ(runner.Get(running)->message, "noticed the cancel");
  EXPECT_FALSE(queued_ran.load());
  EXPECT_EQ(runner.Cancel(queued).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(runner.Cancel(12345).code(), StatusCode::kNotFound);
  // The queue was not stalled by the cancelled job.
  const int64_t next =
      runner.Submit("train:b", "api", [](JobContext&) -> StatusOr<json> { return json(1); });
  EXPECT_EQ(runner.Wait(next, 10s)->state, "succeeded");
}

TEST(JobRunnerTest, DestructorCancelsQueuedAndWaitsForTheRunningJob) {
  std::atomic<bool> saw_cancel{false}, queued_ran{false}, running_returned{false};
  {
    JobRunner runner(NoScheduleThread());
    const int64_t id = runner.Submit("train:a", "api", [&](JobContext& ctx) -> StatusOr<json> {
      while (!ctx.cancelled()) std::this_thread::sleep_for(1ms);
      saw_cancel = true;
      std::this_thread::sleep_for(20ms);
      running_returned = true;
      return CancelledError("bye");
    });
    runner.Submit("train:b", "api", [&](JobContext&) -> StatusOr<json> {
      queued_ran = true;
      return json::object();
    });
    ASSERT_TRUE(Eventually([&] { return runner.Get(id)->state == "running"; }));
  }
  EXPECT_TRUE(saw_cancel.load());
  EXPECT_TRUE(running_returned.load());
  EXPECT_FALSE(queued_ran.load());
}

TEST(JobRunnerTest, KeepsAtMostMaxHistoryFinishedJobs) {
  JobRunner::Options o = NoScheduleThread();
  o.max_history = 3;
  JobRunner runner(o);
  int64_t last = 0;
  for (int i = 0; i < 6; ++i) {
    last = runner.Submit("train:" + std::to_string(i), "api",
                         [i](JobContext&) -> StatusOr<json> { return json(i); });
    ASSERT_TRUE(runner.Wait(last, 10s)->finished());
  }
  const std::vector<JobInfo> all = runner.List();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, last);
  EXPECT_EQ(all[2].id, last - 2);
  EXPECT_FALSE(runner.Get(1).has_value());
  EXPECT_EQ(runner.Stats()["kinds"].size(), 6u);  // counters are not trimmed
}

TEST(JobRunnerTest, TickFiresDueSchedulesOnceWithoutCatchingUp) {
  FakeClock clock(Ms("2024-01-01T10:00:30Z") * 1000);
  JobRunner runner(NoScheduleThread(&clock));
  std::atomic<int> runs{0};
  runner.AddSchedule("train:recommender", Schedule::Parse("every 1m").value(),
                     [&](JobContext&) -> StatusOr<json> {
                       ++runs;
                       return json::object();
                     });
  runner.AddSchedule("train:never", Schedule(),
                     [&](JobContext&) -> StatusOr<json> { return json(); });
  const json schedules = runner.Schedules();
  ASSERT_EQ(schedules.size(), 1u);
  EXPECT_EQ(schedules[0]["next_ms"], Ms("2024-01-01T10:01:00Z"));
  EXPECT_EQ(schedules[0]["schedule"], "every 1m");

  EXPECT_TRUE(runner.Tick(clock.NowMillis()).empty());
  clock.Advance(29'999'000);  // 10:00:59.999
  EXPECT_TRUE(runner.Tick(clock.NowMillis()).empty());
  clock.Advance(1'000);  // 10:01:00
  std::vector<int64_t> ids = runner.Tick(clock.NowMillis());
  ASSERT_EQ(ids.size(), 1u);
  const JobInfo j = *runner.Wait(ids[0], 10s);
  EXPECT_EQ(j.kind, "train:recommender");
  EXPECT_EQ(j.trigger, "schedule");
  EXPECT_EQ(j.state, "succeeded");
  EXPECT_TRUE(runner.Tick(clock.NowMillis()).empty());  // not twice for the same slot
  clock.Advance(5 * 60'000'000LL);                      // five slots missed: one run, not five
  ids = runner.Tick(clock.NowMillis());
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_TRUE(runner.Wait(ids[0], 10s)->finished());
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(runner.Schedules()[0]["next_ms"], Ms("2024-01-01T10:07:00Z"));
}

TEST(JobRunnerTest, ScheduleThreadFiresWhenTheInjectedClockAdvances) {
  FakeClock clock(Ms("2024-01-01T10:00:30Z") * 1000);
  JobRunner::Options o;
  o.clock = &clock;
  o.schedule_poll = 5ms;
  JobRunner runner(o);
  std::atomic<int> runs{0};
  runner.AddSchedule("train:intent", Schedule::Parse("every 1m").value(),
                     [&](JobContext&) -> StatusOr<json> {
                       ++runs;
                       return json{{"summary", "trained"}};
                     });
  std::this_thread::sleep_for(30ms);  // several polls: not due yet
  EXPECT_TRUE(runner.List().empty());
  clock.Advance(31'000'000);
  ASSERT_TRUE(Eventually([&] { return runs.load() == 1; }));
  ASSERT_TRUE(Eventually([&] { return !runner.List().empty() && runner.List()[0].finished(); }));
  const JobInfo j = runner.List()[0];
  EXPECT_EQ(j.kind, "train:intent");
  EXPECT_EQ(j.trigger, "schedule");
  EXPECT_EQ(j.message, "trained");
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(runs.load(), 1);  // the clock did not move again
}

}  // namespace
}  // namespace souk::registry
