// souk_intent_bench: latency of scoring a live session's purchase intent, one
// thread, after warm-up. The session model trains on the REES46 sample (EVAL.md D
// training sessions); then the test sessions' events are replayed one at a time
// through a SessionTracker and the session is scored after every event:
//
//   score         SessionFeatures + calibrated prediction (the tracker snapshot given)
//   score+drivers the same plus the top-5 drivers described in English
//   observe+score SessionTracker::Observe (in memory) + snapshot + score
//   durable       the same with a journal on disk and fsync per event
//
//   build/bench/souk_intent_bench [--events PATH/2019-Oct.sample.csv]
//       [--requests 20000] [--warmup 2000] [--json]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <unistd.h>
#include <vector>

#include "eval/intent_protocols.h"
#include "online/session_tracker.h"
#include "rank/intent_features.h"
#include "rank/intent_model.h"

namespace {

using namespace souk;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

struct Stats {
  double p50 = 0, p95 = 0, p99 = 0, mean = 0;
  size_t n = 0;
};
Stats Summarize(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto q = [&](double p) { return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))]; };
  s.p50 = q(0.50);
  s.p95 = q(0.95);
  s.p99 = q(0.99);
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / v.size();
  s.n = v.size();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"live session intent scoring latency"};
  std::string events = std::string(SOUK_INTENT_BENCH_SHARED_DIR) + "/data/rees46/2019-Oct.sample.csv";
  int requests = 20000, warmup = 2000;
  bool json = false;
  app.add_option("--events", events, "REES46 events CSV");
  app.add_option("--requests", requests, "timed requests per variant");
  app.add_option("--warmup", warmup, "untimed requests first");
  app.add_flag("--json", json, "one JSON object on stdout");
  CLI11_PARSE(app, argc, argv);

  auto data = eval::ReadRees46Sessions(events);
  if (!data.ok()) {
    fmt::print(stderr, "souk_intent_bench: {}\n", data.status().ToString());
    return 1;
  }
  const size_t n = data->sessions.size(), n_train = n * 7 / 10;
  std::span<const rank::LabeledSession> train(data->sessions.data(), n_train);
  rank::IntentPriors priors;
  std::vector<int64_t> groups;
  const rank::IntentSignals signals;
  rank::TrainingSet ts = rank::BuildSessionTrainingSet(train, signals, 5, &priors, &groups);
  auto model = rank::IntentModel::Train(ts, rank::IntentModelOptions{}, groups);
  if (!model.ok()) {
    fmt::print(stderr, "souk_intent_bench: {}\n", model.status().ToString());
    return 1;
  }
  // The replay stream: the test sessions' events (before their first purchase).
  std::vector<online::TrackedEvent> stream;
  for (size_t i = n_train; i < n; ++i) {
    for (const auto& e : data->sessions[i].events) {
      online::TrackedEvent t;
      t.session_id = data->ids[i];
      t.user_id = "u" + std::to_string(data->sessions[i].group);
      t.event = e;
      stream.push_back(std::move(t));
    }
  }
  fmt::print(stderr, "trained on {} sessions ({} rounds); replaying {} events\n", n_train,
             (*model)->rounds(), stream.size());

  auto run = [&](bool observe, bool drivers, const std::string& dir) -> Stats {
    online::TrackerOptions to;
    to.dir = dir;
    to.sync = !dir.empty();
    to.checkpoint_every = 0;
    auto tracker = online::SessionTracker::Open(to);
    if (!tracker.ok()) {
      fmt::print(stderr, "tracker: {}\n", tracker.status().ToString());
      std::exit(1);
    }
    std::vector<double> ms;
    ms.reserve(static_cast<size_t>(requests));
    double sink = 0;
    // Pre-load the tracker once for the score-only variants.
    if (!observe) {
      for (const auto& e : stream) (void)(*tracker)->Observe(std::span(&e, 1));
    }
    for (int r = 0; r < warmup + requests; ++r) {
      const online::TrackedEvent& e = stream[static_cast<size_t>(r) % stream.size()];
      const auto t0 = SteadyClock::now();
      if (observe) {
        auto st = (*tracker)->Observe(std::span(&e, 1));
        if (!st.ok()) std::exit(2);
      }
      auto snap = (*tracker)->Session(e.session_id);
      if (snap) {
        const std::vector<float> row = rank::SessionFeatures(
            snap->counters, snap->events, nullptr, priors, signals, snap->counters.last_ms);
        sink += (*model)->Predict(row);
        if (drivers) {
          auto d = (*model)->Drivers(row, 5);
          if (d.ok()) {
            for (const auto& x : *d) sink += rank::DescribeDriver(x, "en").size();
          }
        }
      }
      const double t = std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
      if (r >= warmup) ms.push_back(t);
    }
    if (sink == -1) fmt::print(stderr, "unreachable\n");
    return Summarize(ms);
  };

  const fs::path tmp = fs::temp_directory_path() / fmt::format("souk-intent-bench-{}", ::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  nlohmann::json out = {{"bench", "intent"}, {"events", events}, {"requests", requests}};
  for (const auto& [name, observe, drivers, durable] :
       std::vector<std::tuple<std::string, bool, bool, bool>>{
           {"score", false, false, false},
           {"score+drivers", false, true, false},
           {"observe+score", true, false, false},
           {"durable observe+score", true, false, true}}) {
    const Stats s = run(observe, drivers, durable ? tmp.string() : "");
    out["variants"][name] = {{"p50_ms", s.p50}, {"p95_ms", s.p95}, {"p99_ms", s.p99},
                             {"mean_ms", s.mean}, {"n", s.n}};
    if (!json) {
      fmt::print("{:<24} p50 {:7.3f} ms  p95 {:7.3f} ms  p99 {:7.3f} ms  mean {:7.3f} ms  (n={})\n",
                 name, s.p50, s.p95, s.p99, s.mean, s.n);
    }
  }
  fs::remove_all(tmp, ec);
  if (json) fmt::print("{}\n", out.dump());
  return 0;
}
