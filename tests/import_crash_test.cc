// Crash safety: a `souk import` child process is killed with SIGKILL in the
// middle of an import. Every batch it had acknowledged must be in the store,
// the store must open cleanly and pass SQLite's integrity check, and running
// the same import again must complete it without duplicates.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <regex>

#include "common/testing.h"
#include "store/sqlite_store.h"

namespace souk {
namespace {

constexpr int kItems = 500;
constexpr int kEvents = 300000;

void WriteInput(const std::filesystem::path& dir) {
  std::ofstream items(dir / "items.jsonl");
  for (int i = 0; i < kItems; ++i) items << fmt::format("{{\"id\":\"P{}\",\"title\":\"Product {}\",\"price\":{}}}\n", i, i, 1 + i % 50);
  std::ofstream ev(dir / "events.csv");
  ev << "user_id,session_id,item_id,type,query,value,quantity,price,timestamp,context\n";
  for (int64_t i = 0; i < kEvents; ++i) {
    const int64_t ts = 1700000000 + i;
    ev << fmt::format("U{},S{},P{},view,,,,,{},\n", i % 997, i / 10, (i * 7919) % kItems, ts);
  }
}

class ImportCrashTest : public ::testing::TestWithParam<const char*> {};

int CountIndexes(const std::string& db) {
  sqlite3* raw = nullptr;
  sqlite3_open(db.c_str(), &raw);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "SELECT COUNT(*) FROM sqlite_master WHERE type='index' AND name = 'events_user_ts'", -1, &st, nullptr);
  int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(raw);
  return n;
}

TEST_P(ImportCrashTest, AcknowledgedBatchesSurviveSigkill) {
  const std::string defer = std::string("import.defer_indexes=") + GetParam();
  auto dir = testing::TempDir("crash");
  WriteInput(dir);
  const std::string data_dir = (dir / "data").string();
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(pipefd[1], STDERR_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    close(pipefd[0]);
    execl(SOUK_BINARY, SOUK_BINARY, "import", "--format", "souk", "--data-dir", data_dir.c_str(),
          "--set", "import.batch_size=5000", "--set", defer.c_str(), "--log-level", "debug", "--progress", "off",
          dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipefd[1]);
  FILE* in = fdopen(pipefd[0], "r");
  ASSERT_NE(in, nullptr);
  const std::regex ack(R"(batch committed: (\d+) events)");
  int64_t acknowledged = -1;
  int acks = 0;
  char line[4096];
  while (std::fgets(line, sizeof line, in)) {
    std::cmatch m;
    if (std::regex_search(line, m, ack)) {
      acknowledged = std::stoll(m[1].str());
      if (++acks == 12) {  // well into the import, far from its end
        kill(pid, SIGKILL);
        break;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::fclose(in);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the import finished before it could be killed";
  ASSERT_GT(acknowledged, 0);
  ASSERT_LT(acknowledged, kEvents);

  const std::string db = data_dir + "/souk.db";
  if (std::string(GetParam()) == "always") EXPECT_EQ(CountIndexes(db), 0) << "bulk mode should have dropped them";
  {
    auto store = store::SqliteStore::Open(db);
    ASSERT_OK(store);
    auto stats = (*store)->Stats();
    ASSERT_OK(stats);
    EXPECT_GE(stats->events, acknowledged) << "an acknowledged batch was lost";
    EXPECT_LT(stats->events, kEvents);
    EXPECT_EQ(stats->items, kItems);
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  sqlite3_close(raw);

  // Resume: the same import again completes it, adding exactly the missing events.
  const std::string cmd = fmt::format("{} import --format souk --data-dir {} --progress off {} > /dev/null 2>&1",
                                      SOUK_BINARY, data_dir, dir.string());
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto store = store::SqliteStore::Open(db);
  ASSERT_OK(store);
  EXPECT_EQ((*store)->Stats()->events, kEvents);
  EXPECT_EQ(CountIndexes(db), 1);  // rebuilt by the reopen after the crash / the finished import
}

INSTANTIATE_TEST_SUITE_P(IndexModes, ImportCrashTest, ::testing::Values("never", "always"));

}  // namespace
}  // namespace souk
