// Crash safety of `souk serve` with real processes and a real SIGKILL.
//
// StreamingKillRestart: two client threads stream batches of events (each with
// its own Idempotency-Key) to a running server; after a random 1-3 s the server
// is SIGKILLed mid-stream. It is restarted on the same data directory (it must
// open cleanly: store consistent, session journal recovered), every batch that
// was not acknowledged is retried with the same key and a few acknowledged ones
// are re-sent. Three such cycles, then SIGTERM (exit 0 expected) and checks:
//  - the store holds every event of every batch exactly once, nothing else;
//  - re-sent acknowledged batches answered appended 0 / duplicates N, and a
//    retried batch was either fully new or fully a duplicate (never partial);
//  - GET /v1/sessions/{id} counters (after each restart, and at the end) equal
//    the counters computed from the events stored for that session: the live
//    session state lost nothing and counted nothing twice.
// IdleKill: SIGKILL while the server is idle after acknowledging; then
// `souk quality --json` must open the store and count every event once, and a
// restarted server must show the same session counters.
//
// The random kill time is drawn from a seed printed at the start of each test
// (set SOUK_CRASH_SEED to replay one).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/testing.h"
#include "souk_cli.h"
#include "store/sqlite_store.h"
#include "store/types.h"

namespace souk {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kUsers = 10;
constexpr int kSessionsPerUser = 3;
constexpr int kItems = 50;
constexpr int kBatchSize = 200;
constexpr int kCycles = 3;

// ---------------------------------------------------------------------------
// The binary may be relinked by someone else while the test runs (a few
// seconds where it is missing): exec failures are retried.

bool IsExecFailure(int exit_code) { return exit_code == 126 || exit_code == 127; }

testing::CliResult RunSouk(const std::string& args) {
  testing::CliResult r;
  for (int attempt = 0; attempt < 30; ++attempt) {
    r = testing::RunSoukBinary(SOUK_BINARY, args);
    if (!IsExecFailure(r.exit_code)) break;
    std::this_thread::sleep_for(1s);
  }
  return r;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Tail(const std::string& s, size_t n = 3000) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

std::string CreateKey(const fs::path& data_dir, const std::string& scope) {
  auto r = RunSouk(fmt::format("keys create --scope {} --json --data-dir {}", scope,
                               testing::ShellQuote(data_dir.string())));
  if (r.exit_code != 0) {
    ADD_FAILURE() << "souk keys create failed (exit " << r.exit_code << "): " << r.err;
    return "";
  }
  json j = json::parse(r.out, nullptr, false);
  if (!j.is_object() || !j.contains("key") || !j["key"].is_string()) {
    ADD_FAILURE() << "souk keys create --json printed no key: " << r.out;
    return "";
  }
  return j["key"].get<std::string>();
}

// ---------------------------------------------------------------------------
// One `souk serve` child process. Its stdout and stderr go to one log file per
// start (server-<n>.log in `work_dir`).

class ServerProcess {
 public:
  ServerProcess(fs::path data_dir, fs::path work_dir) : data_dir_(std::move(data_dir)), work_dir_(std::move(work_dir)) {}
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the server and waits (up to 60 s) until it has written its port.
  // Returns "" when it is up, else what went wrong with the tail of its log.
  std::string Start() {
    if (pid_ > 0) return "already running";
    ++starts_;
    log_ = work_dir_ / fmt::format("server-{}.log", starts_);
    const fs::path port_file = work_dir_ / "port";
    const auto deadline = SteadyClock::now() + 60s;
    while (true) {
      std::error_code ec;
      fs::remove(port_file, ec);
      const std::string data = data_dir_.string(), pf = port_file.string(), log = log_.string();
      const pid_t pid = ::fork();
      if (pid < 0) return "fork failed";
      if (pid == 0) {
        // Child: only async-signal-safe calls until exec.
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
          ::dup2(fd, STDOUT_FILENO);
          ::dup2(fd, STDERR_FILENO);
        }
        for (int i = 3; i < 1024; ++i) ::close(i);  // no test sockets or files in the server
        // No per-key rate limit: a fast machine must not turn the stream into 429s.
        ::execl(SOUK_BINARY, SOUK_BINARY, "serve", "--data-dir", data.c_str(), "--port", "0", "--port-file",
                pf.c_str(), "--set", "server.rate_limit_per_second=0", static_cast<char*>(nullptr));
        ::_exit(127);
      }
      pid_ = pid;
      while (SteadyClock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          if (WIFEXITED(status) && IsExecFailure(WEXITSTATUS(status))) break;  // binary being relinked: retry
          return fmt::format("the server exited during start-up ({}); log {}:\n{}", DescribeStatus(status),
                             log_.string(), Tail(ReadFile(log_)));
        }
        const std::string text = ReadFile(port_file);
        if (!text.empty() && text.back() == '\n') {
          port_ = std::atoi(text.c_str());
          if (port_ > 0) return "";
        }
        std::this_thread::sleep_for(20ms);
      }
      if (SteadyClock::now() >= deadline) {
        return fmt::format("the server wrote no port within 60 s; log {}:\n{}", log_.string(), Tail(ReadFile(log_)));
      }
      std::this_thread::sleep_for(1s);
    }
  }

  // SIGKILL and reap. Returns the wait status.
  int Kill() {
    int status = 0;
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  // SIGTERM, then waits up to `timeout` for the exit (SIGKILL after that).
  // Returns the wait status, or nullopt on timeout.
  std::optional<int> Terminate(std::chrono::seconds timeout) {
    if (pid_ <= 0) return std::nullopt;
    ::kill(pid_, SIGTERM);
    const auto deadline = SteadyClock::now() + timeout;
    while (SteadyClock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(20ms);
    }
    Kill();
    return std::nullopt;
  }

  static std::string DescribeStatus(int status) {
    if (WIFEXITED(status)) return fmt::format("exit code {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return fmt::format("signal {}", WTERMSIG(status));
    return fmt::format("wait status {}", status);
  }

  int port() const { return port_; }
  std::string LogTail() const { return Tail(ReadFile(log_)); }

 private:
  fs::path data_dir_, work_dir_, log_;
  pid_t pid_ = -1;
  int port_ = 0;
  int starts_ = 0;
};

// ---------------------------------------------------------------------------
// The events the test sends, and what the server answered.

struct TestEvent {
  std::string type, user, session, item, query;
  int64_t ts = 0;
  std::optional<double> price, quantity;
};

// Event number `i` of the test: unique timestamp; user, session, type and item
// vary independently so every session gets every type and repeated items.
TestEvent MakeEvent(int64_t i, int64_t base_ms) {
  static const char* const kTypes[10] = {"view", "view", "view", "view",        "view",
                                         "click", "click", "add_to_cart", "purchase", "search"};
  TestEvent e;
  const int64_t user = i % kUsers;
  e.user = fmt::format("u{}", user);
  e.session = fmt::format("s{}-{}", user, (i / kUsers) % kSessionsPerUser);
  e.type = kTypes[(i / kUsers + user) % 10];
  e.ts = base_ms + i;
  if (e.type == "search") {
    e.query = fmt::format("query {}", i % 7);
  } else {
    e.item = fmt::format("i{}", (i * 7919) % kItems);
  }
  if (e.type == "purchase") {
    e.price = 10 + (i % 5);
    e.quantity = 1;
  }
  return e;
}

json EventJson(const TestEvent& e) {
  json j = {{"type", e.type}, {"user", e.user}, {"session", e.session}, {"timestamp", e.ts}};
  if (!e.item.empty()) j["item"] = e.item;
  if (!e.query.empty()) j["query"] = e.query;
  if (e.price) j["price"] = *e.price;
  if (e.quantity) j["quantity"] = *e.quantity;
  return j;
}

// One answer to POST /v1/events.
struct Answer {
  int http = 0;           // 0 = no HTTP answer (connection error)
  std::string error;      // httplib error or the body of a non-200 answer
  int64_t received = -1, appended = -1, duplicates = -1;
};

struct Batch {
  std::string key;  // Idempotency-Key
  std::vector<TestEvent> events;
  std::string body;
  int cycle = 0;
  Answer first;                // the first attempt
  std::vector<Answer> resends;  // retries (unacknowledged) and re-sends (acknowledged)
  bool acked() const { return first.http == 200; }
};

Answer PostBatch(httplib::Client& cli, const std::string& api_key, const Batch& b) {
  httplib::Headers headers = {{"Authorization", "Bearer " + api_key}, {"Idempotency-Key", b.key}};
  auto res = cli.Post("/v1/events", headers, b.body, "application/json");
  Answer a;
  if (!res) {
    a.error = httplib::to_string(res.error());
    return a;
  }
  a.http = res->status;
  if (res->status != 200) {
    a.error = res->body;
    return a;
  }
  json j = json::parse(res->body, nullptr, false);
  if (!j.is_object()) {
    a.error = "unparsable 200 body: " + res->body;
    return a;
  }
  a.received = j.value("received", int64_t{-1});
  a.appended = j.value("appended", int64_t{-1});
  a.duplicates = j.value("duplicates", int64_t{-1});
  return a;
}

void ConfigureClient(httplib::Client& cli) {
  cli.set_connection_timeout(5, 0);
  cli.set_read_timeout(30, 0);
  cli.set_write_timeout(30, 0);
}

// Shared by the client threads of one test.
struct EventSource {
  std::atomic<int64_t> next{0};
  int64_t base_ms = 0;

  Batch Next(const std::string& key, int cycle) {
    Batch b;
    b.key = key;
    b.cycle = cycle;
    const int64_t first = next.fetch_add(kBatchSize);
    json events = json::array();
    for (int64_t i = first; i < first + kBatchSize; ++i) {
      b.events.push_back(MakeEvent(i, base_ms));
      events.push_back(EventJson(b.events.back()));
    }
    b.body = json{{"events", events}}.dump();
    return b;
  }
};

// ---------------------------------------------------------------------------
// Session counters as GET /v1/sessions/{id} reports them, computed from events.

struct Counters {
  int64_t events = 0, views = 0, clicks = 0, carts = 0, purchases = 0, searches = 0;
  int64_t repeat_views = 0, distinct_items = 0, first_ms = 0, last_ms = 0;

  bool operator==(const Counters&) const = default;
  std::string ToString() const {
    return fmt::format("events={} views={} clicks={} carts={} purchases={} searches={} repeat_views={} "
                       "distinct_items={} first_ms={} last_ms={}",
                       events, views, clicks, carts, purchases, searches, repeat_views, distinct_items, first_ms,
                       last_ms);
  }
};

// `events`: (type, item, ts) of one session.
Counters CountersOf(const std::vector<TestEvent>& events) {
  Counters c;
  std::map<std::string, int> viewed;
  for (const TestEvent& e : events) {
    if (c.events == 0) {
      c.first_ms = c.last_ms = e.ts;
    } else {
      c.first_ms = std::min(c.first_ms, e.ts);
      c.last_ms = std::max(c.last_ms, e.ts);
    }
    ++c.events;
    if (e.type == "view") {
      ++c.views;
      if (++viewed[e.item] > 1) ++c.repeat_views;
    } else if (e.type == "click") {
      ++c.clicks;
    } else if (e.type == "add_to_cart") {
      ++c.carts;
    } else if (e.type == "purchase") {
      ++c.purchases;
    } else if (e.type == "search") {
      ++c.searches;
    }
  }
  c.distinct_items = static_cast<int64_t>(viewed.size());
  return c;
}

std::optional<Counters> CountersFromJson(const json& j) {
  if (!j.is_object() || !j.contains("counters") || !j["counters"].is_object()) return std::nullopt;
  const json& c = j["counters"];
  Counters out;
  try {
    out.events = c.at("events").get<int64_t>();
    out.views = c.at("views").get<int64_t>();
    out.clicks = c.at("clicks").get<int64_t>();
    out.carts = c.at("carts").get<int64_t>();
    out.purchases = c.at("purchases").get<int64_t>();
    out.searches = c.at("searches").get<int64_t>();
    out.repeat_views = c.at("repeat_views").get<int64_t>();
    out.distinct_items = c.at("distinct_items").get<int64_t>();
    out.first_ms = c.at("first_ms").get<int64_t>();
    out.last_ms = c.at("last_ms").get<int64_t>();
  } catch (const json::exception&) {
    return std::nullopt;
  }
  return out;
}

// The events of `batches` per session, leaving out the batches named in `skip`.
std::map<std::string, std::vector<TestEvent>> BySession(const std::vector<Batch>& batches,
                                                        const std::set<std::string>& skip = {}) {
  std::map<std::string, std::vector<TestEvent>> out;
  for (const Batch& b : batches) {
    if (skip.count(b.key)) continue;
    for (const TestEvent& e : b.events) out[e.session].push_back(e);
  }
  return out;
}

// GET /v1/sessions/{id} for every session of `expected`; returns one line per
// session whose counters differ (or that is missing), empty when all agree.
std::vector<std::string> CompareSessions(int port, const std::string& api_key,
                                         const std::map<std::string, std::vector<TestEvent>>& expected,
                                         std::map<std::string, Counters>* live = nullptr) {
  httplib::Client cli("127.0.0.1", port);
  ConfigureClient(cli);
  httplib::Headers headers = {{"Authorization", "Bearer " + api_key}};
  std::vector<std::string> problems;
  for (const auto& [session, events] : expected) {
    const Counters want = CountersOf(events);
    auto res = cli.Get(("/v1/sessions/" + session).c_str(), headers);
    if (!res) {
      problems.push_back(fmt::format("{}: GET failed: {}", session, httplib::to_string(res.error())));
      continue;
    }
    if (res->status != 200) {
      problems.push_back(fmt::format("{}: HTTP {} {}", session, res->status, res->body));
      continue;
    }
    auto got = CountersFromJson(json::parse(res->body, nullptr, false));
    if (!got) {
      problems.push_back(fmt::format("{}: unexpected body {}", session, res->body.substr(0, 300)));
      continue;
    }
    if (live) (*live)[session] = *got;
    if (!(*got == want)) {
      problems.push_back(fmt::format("{}: live {{{}}} but stored events give {{{}}} (live - stored events = {})",
                                     session, got->ToString(), want.ToString(), got->events - want.events));
    }
  }
  return problems;
}

// GET /v1/admin/status -> store.events (-1 when unavailable).
int64_t StoreEventsViaStatus(int port, const std::string& admin_key, json* status_out = nullptr) {
  httplib::Client cli("127.0.0.1", port);
  ConfigureClient(cli);
  auto res = cli.Get("/v1/admin/status", httplib::Headers{{"Authorization", "Bearer " + admin_key}});
  if (!res || res->status != 200) return -1;
  json j = json::parse(res->body, nullptr, false);
  if (status_out) *status_out = j;
  if (!j.is_object() || !j.contains("store")) return -1;
  return j["store"].value("events", int64_t{-1});
}

// ---------------------------------------------------------------------------
// The store read back after the server stopped: every event as a key
// "user|session|ts|type|item|query" with its multiplicity.

std::string EventKey(const std::string& user, const std::string& session, int64_t ts, std::string_view type,
                     const std::string& item, const std::string& query) {
  return fmt::format("{}|{}|{}|{}|{}|{}", user, session, ts, type, item, query);
}

struct StoredContent {
  std::map<std::string, int> counts;                         // event key -> times stored
  std::map<std::string, std::vector<TestEvent>> by_session;  // for the counters
  int64_t events = 0;
};

::testing::AssertionResult ReadStore(const fs::path& db, StoredContent* out) {
  auto store = store::SqliteStore::Open(db.string());
  if (!store.ok()) return ::testing::AssertionFailure() << "open " << db << ": " << store.status().ToString();
  auto snap = (*store)->OpenSnapshot();
  if (!snap.ok()) return ::testing::AssertionFailure() << "snapshot: " << snap.status().ToString();
  auto users = (*snap)->UserIds();
  if (!users.ok()) return ::testing::AssertionFailure() << "users: " << users.status().ToString();
  std::map<int64_t, std::string> items;
  Status st = (*snap)->ForEachItem([&](const store::StoredItem& it) {
    items[it.id] = it.item.external_id;
    return true;
  });
  if (!st.ok()) return ::testing::AssertionFailure() << "items: " << st.ToString();
  std::string problem;
  st = (*snap)->ForEachEvent([&](const store::StoredEvent& e) {
    const std::string user = e.user >= 0 && e.user < static_cast<int64_t>(users->size()) ? (*users)[e.user] : "?";
    std::string item;
    if (e.item != 0) {
      auto it = items.find(e.item);
      item = it == items.end() ? "?" : it->second;
    }
    const std::string_view type = store::EventTypeName(e.type);
    ++out->counts[EventKey(user, e.session, e.timestamp_ms, type, item, e.query)];
    TestEvent t;
    t.type = std::string(type);
    t.item = item;
    t.ts = e.timestamp_ms;
    out->by_session[e.session].push_back(std::move(t));
    ++out->events;
    return true;
  });
  if (!st.ok()) return ::testing::AssertionFailure() << "events: " << st.ToString();
  return ::testing::AssertionSuccess();
}

// Every event of `batches` stored exactly once and nothing else; returns the
// problems (at most 20 listed).
std::vector<std::string> CompareStore(const StoredContent& stored, const std::vector<Batch>& batches) {
  std::map<std::string, int> want;
  for (const Batch& b : batches) {
    for (const TestEvent& e : b.events) ++want[EventKey(e.user, e.session, e.ts, e.type, e.item, e.query)];
  }
  std::vector<std::string> problems;
  int64_t missing = 0, duplicated = 0, unexpected = 0;
  for (const auto& [k, n] : want) {
    auto it = stored.counts.find(k);
    const int got = it == stored.counts.end() ? 0 : it->second;
    if (got == 0) {
      if (++missing <= 10) problems.push_back("missing: " + k);
    } else if (got > 1) {
      if (++duplicated <= 10) problems.push_back(fmt::format("stored {} times: {}", got, k));
    }
  }
  for (const auto& [k, n] : stored.counts) {
    if (!want.count(k) && ++unexpected <= 10) problems.push_back("never sent: " + k);
  }
  if (missing + duplicated + unexpected > 0) {
    problems.push_back(fmt::format("{} events missing, {} duplicated, {} never sent (of {} sent, {} stored)", missing,
                                   duplicated, unexpected, want.size(), stored.events));
  }
  return problems;
}

// When live counters disagree with the store: is the difference exactly the
// events of some batches that were stored before a kill whose answer was lost
// (`candidates`), on top of those already known to be missing (`known_lost`)?
// Returns the smallest such subset of candidates, or nullopt.
std::optional<std::set<std::string>> FindLostBatches(const std::map<std::string, Counters>& live,
                                                     const std::vector<Batch>& all,
                                                     const std::vector<std::string>& candidates,
                                                     const std::set<std::string>& known_lost) {
  const size_t n = candidates.size();
  if (n > 12) return std::nullopt;
  std::vector<uint32_t> masks;
  for (uint32_t mask = 0; mask < (1u << n); ++mask) masks.push_back(mask);
  std::stable_sort(masks.begin(), masks.end(),
                   [](uint32_t x, uint32_t y) { return __builtin_popcount(x) < __builtin_popcount(y); });
  for (uint32_t mask : masks) {
    std::set<std::string> skip = known_lost;
    for (size_t i = 0; i < n; ++i) {
      if (mask & (1u << i)) skip.insert(candidates[i]);
    }
    const auto by_session = BySession(all, skip);
    bool match = true;
    for (const auto& [session, counters] : live) {
      auto it = by_session.find(session);
      const Counters want = it == by_session.end() ? Counters{} : CountersOf(it->second);
      if (!(want == counters)) {
        match = false;
        break;
      }
    }
    if (match) return skip;
  }
  return std::nullopt;
}

std::string DescribeLost(const std::optional<std::set<std::string>>& lost) {
  if (!lost) return "The difference is not explained by batches whose answer was lost to a kill.";
  std::string keys;
  for (const auto& k : *lost) keys += (keys.empty() ? "" : ", ") + k;
  return fmt::format(
      "The live counters equal the stored events minus exactly the batch(es) [{}]: they were committed to the "
      "store before a SIGKILL but never reached the session tracker's journal, and their retry (a full "
      "duplicate, appended 0) does not feed the tracker either, so the tracker never counts them.",
      keys);
}

// The first 8 lines, then how many more.
std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size() && i < 8; ++i) out += "  " + lines[i] + "\n";
  if (lines.size() > 8) out += fmt::format("  ... and {} more\n", lines.size() - 8);
  return out;
}

uint64_t TestSeed() {
  if (const char* s = std::getenv("SOUK_CRASH_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------------------

class ServerCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = testing::TempDir("server-crash");
    data_ = work_ / "data";
    ingest_key_ = CreateKey(data_, "ingest");
    admin_key_ = CreateKey(data_, "admin");
    ASSERT_FALSE(ingest_key_.empty());
    ASSERT_FALSE(admin_key_.empty());
    seed_ = TestSeed();
    fmt::print("seed {} (SOUK_CRASH_SEED={} replays the kill times), work dir {}\n", seed_, seed_, work_.string());
    // Events start 10 minutes ago, one millisecond apart: all recent, none in the future.
    source_.base_ms = NowMs() - 10 * 60 * 1000;
  }

  fs::path work_, data_;
  std::string ingest_key_, admin_key_;
  uint64_t seed_ = 0;
  EventSource source_;
};

TEST_F(ServerCrashTest, StreamingKillRestart) {
  const auto started = SteadyClock::now();
  std::mt19937_64 rng(seed_);
  ServerProcess server(data_, work_);
  {
    const std::string err = server.Start();
    ASSERT_EQ(err, "") << err;
  }
  std::vector<Batch> all;  // every batch that was sent at least once
  std::vector<std::string> lost_answers;  // batches stored before a kill that had not answered yet
  std::set<std::string> tracker_lost;     // of those, the ones the session tracker never counted
  int64_t committed_unacked_total = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE(fmt::format("cycle {}", cycle));
    // 1. Stream from two threads; SIGKILL after 1-3 s.
    std::atomic<bool> stop{false}, killed{false};
    constexpr int kThreads = 2;
    std::vector<std::vector<Batch>> sent(kThreads);
    std::vector<std::string> early_errors(kThreads);
    std::vector<std::thread> clients;
    const int port = server.port();
    for (int t = 0; t < kThreads; ++t) {
      clients.emplace_back([&, t] {
        httplib::Client cli("127.0.0.1", port);
        ConfigureClient(cli);
        for (int n = 0; !stop; ++n) {
          Batch b = source_.Next(fmt::format("c{}-t{}-b{}", cycle, t, n), cycle);
          const bool before_kill = !killed;
          b.first = PostBatch(cli, ingest_key_, b);
          const bool failed = b.first.http == 0;
          if (b.first.http != 200 && before_kill && !killed && early_errors[t].empty()) {
            early_errors[t] = fmt::format("batch {} failed before the kill: HTTP {} {}", b.key, b.first.http,
                                          b.first.error);
          }
          sent[t].push_back(std::move(b));
          if (failed) break;  // the server is gone
        }
      });
    }
    const int kill_after_ms = std::uniform_int_distribution<int>(1000, 3000)(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms));
    killed = true;
    const int status = server.Kill();
    stop = true;
    for (auto& th : clients) th.join();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the server was not running when killed: " << ServerProcess::DescribeStatus(status) << "\n"
        << server.LogTail();
    for (const auto& e : early_errors) EXPECT_EQ(e, "");

    std::vector<Batch> cycle_batches;
    for (auto& v : sent) {
      for (auto& b : v) cycle_batches.push_back(std::move(b));
    }
    int64_t acked = 0;
    for (const Batch& b : cycle_batches) {
      if (!b.acked()) continue;
      ++acked;
      EXPECT_EQ(b.first.received, kBatchSize) << b.key;
      EXPECT_EQ(b.first.appended, kBatchSize) << b.key << ": a fresh batch must be appended in full";
      EXPECT_EQ(b.first.duplicates, 0) << b.key;
    }
    EXPECT_GT(acked, 0) << "no batch was acknowledged in " << kill_after_ms << " ms";

    // 2. Restart on the same data directory: it must open cleanly.
    {
      const std::string err = server.Start();
      ASSERT_EQ(err, "") << "restart after SIGKILL failed: " << err;
    }
    httplib::Client cli("127.0.0.1", server.port());
    ConfigureClient(cli);

    // 3. Retry every unacknowledged batch with its key; re-send a few acknowledged ones.
    int64_t retried = 0, committed_unacked = 0;
    for (Batch& b : cycle_batches) {
      if (b.acked()) continue;
      ++retried;
      Answer a = PostBatch(cli, ingest_key_, b);
      b.resends.push_back(a);
      ASSERT_EQ(a.http, 200) << "retry of " << b.key << ": " << a.error;
      EXPECT_EQ(a.received, kBatchSize) << b.key;
      EXPECT_EQ(a.appended + a.duplicates, kBatchSize) << b.key;
      EXPECT_TRUE(a.appended == 0 || a.appended == kBatchSize)
          << b.key << ": a batch is one transaction, yet its retry appended " << a.appended << " of " << kBatchSize;
      if (a.appended == 0) ++committed_unacked;  // stored before the kill, the answer was lost
    }
    std::vector<size_t> acked_idx;
    for (size_t i = 0; i < cycle_batches.size(); ++i) {
      if (cycle_batches[i].acked()) acked_idx.push_back(i);
    }
    std::shuffle(acked_idx.begin(), acked_idx.end(), rng);
    int64_t resent = 0;
    for (size_t k = 0; k < acked_idx.size() && k < 3; ++k) {
      Batch& b = cycle_batches[acked_idx[k]];
      Answer a = PostBatch(cli, ingest_key_, b);
      b.resends.push_back(a);
      ++resent;
      ASSERT_EQ(a.http, 200) << "re-send of " << b.key << ": " << a.error;
      EXPECT_EQ(a.appended, 0) << "re-sent acknowledged batch " << b.key << " was appended again";
      EXPECT_EQ(a.duplicates, kBatchSize) << b.key;
    }
    committed_unacked_total += committed_unacked;
    for (auto& b : cycle_batches) {
      if (!b.acked() && !b.resends.empty() && b.resends.front().appended == 0) lost_answers.push_back(b.key);
      all.push_back(std::move(b));
    }
    fmt::print("cycle {}: killed after {} ms; {} batches sent, {} acknowledged, {} retried ({} had been stored "
               "before the kill), {} acknowledged re-sent\n",
               cycle, kill_after_ms, acked + retried, acked, retried, committed_unacked, resent);

    // 4. The restarted server: store count and live sessions agree with what was sent.
    json admin_status;
    const int64_t store_events = StoreEventsViaStatus(server.port(), admin_key_, &admin_status);
    EXPECT_EQ(store_events, static_cast<int64_t>(all.size()) * kBatchSize)
        << "events in the store (GET /v1/admin/status) after cycle " << cycle;
    // Batches already reported as lost by the tracker (an earlier cycle) are left
    // out here, so each cycle reports only what it lost itself.
    std::map<std::string, Counters> live;
    const auto problems = CompareSessions(server.port(), admin_key_, BySession(all, tracker_lost), &live);
    if (!problems.empty()) {
      std::vector<std::string> candidates;
      for (const auto& k : lost_answers) {
        if (!tracker_lost.count(k)) candidates.push_back(k);
      }
      const auto lost = FindLostBatches(live, all, candidates, tracker_lost);
      ADD_FAILURE() << "live session counters after restart " << cycle + 1
                    << " disagree with the events sent (all of which are stored):\n"
                    << Join(problems) << "tracker status: " << admin_status.value("sessions", json()).dump() << "\n"
                    << DescribeLost(lost);
      if (lost) tracker_lost = *lost;
    }
  }

  // 5. Live counters at the end, then a clean stop.
  const auto by_session = BySession(all);
  std::map<std::string, Counters> live;
  (void)CompareSessions(server.port(), admin_key_, by_session, &live);
  const auto st = server.Terminate(60s);
  ASSERT_TRUE(st.has_value()) << "the server did not stop within 60 s of SIGTERM\n" << server.LogTail();
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0)
      << "SIGTERM: " << ServerProcess::DescribeStatus(*st) << "\n"
      << server.LogTail();

  // 6. The store: every event of every batch exactly once.
  StoredContent stored;
  ASSERT_TRUE(ReadStore(data_ / "souk.db", &stored));
  const auto store_problems = CompareStore(stored, all);
  EXPECT_TRUE(store_problems.empty()) << Join(store_problems);
  // The live counters the server showed equal the counters of the stored events.
  std::vector<std::string> session_problems;
  for (const auto& [session, events] : stored.by_session) {
    const Counters want = CountersOf(events);
    auto it = live.find(session);
    if (it == live.end()) {
      session_problems.push_back(session + ": stored but not shown live");
    } else if (!(it->second == want)) {
      session_problems.push_back(fmt::format("{}: live {{{}}} stored {{{}}}", session, it->second.ToString(),
                                             want.ToString()));
    }
  }
  EXPECT_EQ(live.size(), stored.by_session.size());
  EXPECT_TRUE(session_problems.empty()) << Join(session_problems)
                                        << DescribeLost(FindLostBatches(live, all, lost_answers, {}));
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  fmt::print("{} batches ({} events) in {} sessions; {} answers lost to the kills; {:.1f} s\n", all.size(),
             stored.events, stored.by_session.size(), committed_unacked_total, seconds);
  EXPECT_LT(seconds, 120.0) << "the crash test should stay under 2 minutes";
}

TEST_F(ServerCrashTest, IdleKill) {
  ServerProcess server(data_, work_);
  {
    const std::string err = server.Start();
    ASSERT_EQ(err, "") << err;
  }
  constexpr int kBatches = 20;
  std::vector<Batch> all;
  {
    httplib::Client cli("127.0.0.1", server.port());
    ConfigureClient(cli);
    for (int n = 0; n < kBatches; ++n) {
      Batch b = source_.Next(fmt::format("idle-b{}", n), 0);
      b.first = PostBatch(cli, ingest_key_, b);
      ASSERT_EQ(b.first.http, 200) << b.key << ": " << b.first.error;
      ASSERT_EQ(b.first.appended, kBatchSize) << b.key;
      all.push_back(std::move(b));
    }
  }
  // Idle: every batch answered; kill without a checkpoint.
  std::this_thread::sleep_for(std::chrono::milliseconds(200 + std::mt19937_64(seed_)() % 800));
  const int status = server.Kill();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << ServerProcess::DescribeStatus(status);

  // `souk quality` opens the store and counts every event once.
  const auto q = RunSouk(fmt::format("quality --data-dir {} --json", testing::ShellQuote(data_.string())));
  ASSERT_EQ(q.exit_code, 0) << "souk quality after SIGKILL: " << Tail(q.err);
  const json report = json::parse(q.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << "souk quality --json printed no JSON object: " << Tail(q.out);
  ASSERT_TRUE(report.contains("summary") && report["summary"].contains("events")) << Tail(q.out);
  EXPECT_EQ(report["summary"]["events"].get<int64_t>(), int64_t{kBatches} * kBatchSize);
  ASSERT_TRUE(report.contains("uniqueness")) << Tail(q.out);
  EXPECT_EQ(report["uniqueness"].value("duplicate_events", int64_t{-1}), 0);

  // The restarted server replays the session journal: the same counters.
  {
    const std::string err = server.Start();
    ASSERT_EQ(err, "") << "restart after an idle SIGKILL failed: " << err;
  }
  const auto by_session = BySession(all);
  std::map<std::string, Counters> live;
  const auto problems = CompareSessions(server.port(), admin_key_, by_session, &live);
  EXPECT_TRUE(problems.empty()) << Join(problems);
  const auto st = server.Terminate(60s);
  ASSERT_TRUE(st.has_value()) << "the server did not stop within 60 s of SIGTERM\n" << server.LogTail();
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << ServerProcess::DescribeStatus(*st) << "\n"
                                                       << server.LogTail();
  StoredContent stored;
  ASSERT_TRUE(ReadStore(data_ / "souk.db", &stored));
  const auto store_problems = CompareStore(stored, all);
  EXPECT_TRUE(store_problems.empty()) << Join(store_problems);
  EXPECT_EQ(live.size(), stored.by_session.size());
}

}  // namespace
}  // namespace souk
