// souk_load_gen: an HTTP load generator for `souk serve` (there is no wrk on the build
// machines). Closed loop (each client thread sends its next request when the answer
// comes) or open loop (a fixed total request rate; latency is measured from the
// scheduled send time, so a stalled server is charged for the requests it delayed:
// no coordinated omission). Optionally samples the server's RSS from /proc/PID/status
// and triggers a hot swap (a training job or reloads) during the measured period.
//
// Targets file: one request per line, "GET /v1/search?q=..." or "POST /path {json}";
// empty lines and lines starting with '#' are skipped. The path is sent as written
// (URL-encode it when writing the file).
//
// Usage:
//   souk_load_gen --port 8080 --key sk_... --targets t.txt --concurrency 4
//     --duration 20 --warmup 5 [--rate 300] [--rss-pid PID --sample-every 10]
//     [--swap train|reload --swap-at 10] [--interval 5] [--json]
//
// Output: a table on stdout, or with --json one JSON object on stdout (the table then
// goes to stderr). Exit code 0 when the run happened (whatever the error count), 2 on
// bad options or an unreadable targets file.
//
// This is a benchmark tool, not library code: it stands alone and is not thread-safe
// beyond what it does itself (one client per thread, per-thread sample vectors).

#include <fmt/format.h>
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace souk::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Target {
  std::string method;  // GET, POST, DELETE
  std::string path;    // as sent (already URL-encoded)
  std::string body;    // POST body (JSON), may be empty
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string key;
  std::string targets_file;
  int concurrency = 1;
  bool keep_alive = true;  // false: a new connection per request
  double duration_s = 20;
  double warmup_s = 5;
  double rate = 0;  // total requests per second; 0 = closed loop
  uint64_t seed = 1;
  bool json_out = false;
  double timeout_s = 30;
  double interval_s = 0;  // per-window time series (0 = none)
  // RSS sampling.
  int rss_pid = 0;
  double sample_every_s = 10;
  // Hot swap during the measured period.
  std::string swap;  // "", "train" or "reload"
  double swap_at_s = 10;
  std::string swap_body = R"({"kinds":["recommender"]})";
  int swap_count = 3;
  double swap_every_s = 10;
  double swap_tail_s = 1;  // requests scheduled this long after a swap ends still count as "during"
  bool extend_for_swap = false;  // keep the load on until the swap ends (+ tail + 5 s)
  double max_duration_s = 1800;  // cap of the measured period with extend_for_swap
  std::string admin_key;   // defaults to --key
  std::string label;
};

// One finished request. t is the scheduled (open loop) or actual (closed loop) send
// time in seconds since the measured period began (negative: warm-up).
struct Sample {
  float t;
  float latency_ms;
  int32_t status;  // HTTP status, or -(1 + httplib::Error) for a connection error
};

struct SwapWindow {
  std::string what;  // "train job 3" / "reload 2"
  double start_s = 0;
  double end_s = 0;
  bool ok = false;
  std::string detail;
};

struct RssPoint {
  double t_s;
  double rss_mb;
};

double Percentile(const std::vector<float>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(sorted.size() - 1, lo + 1);
  const double f = pos - static_cast<double>(lo);
  return sorted[lo] * (1 - f) + sorted[hi] * f;
}

std::string StatusName(int32_t status) {
  if (status >= 0) return std::to_string(status);
  return "conn:" + httplib::to_string(static_cast<httplib::Error>(-status - 1));
}

bool IsOk(int32_t status) { return status >= 200 && status < 300; }

// Latency and status summary of a set of samples over a period of `seconds`.
json Summarize(const std::vector<const Sample*>& s, double seconds) {
  std::vector<float> lat;
  lat.reserve(s.size());
  std::map<std::string, int64_t> errors;
  int64_t ok = 0;
  for (const Sample* x : s) {
    lat.push_back(x->latency_ms);
    if (IsOk(x->status)) ++ok;
    else ++errors[StatusName(x->status)];
  }
  std::sort(lat.begin(), lat.end());
  double mean = 0;
  for (float v : lat) mean += v;
  if (!lat.empty()) mean /= static_cast<double>(lat.size());
  auto r3 = [](double v) { return std::round(v * 1000) / 1000; };
  json err = json::object();
  int64_t n_err = 0;
  for (const auto& [k, v] : errors) {
    err[k] = v;
    n_err += v;
  }
  return {{"requests", static_cast<int64_t>(s.size())},
          {"ok", ok},
          {"errors", n_err},
          {"errors_by_status", err},
          {"throughput_rps", r3(seconds > 0 ? static_cast<double>(s.size()) / seconds : 0)},
          {"latency_ms",
           {{"mean", r3(mean)},
            {"p50", r3(Percentile(lat, 0.50))},
            {"p90", r3(Percentile(lat, 0.90))},
            {"p99", r3(Percentile(lat, 0.99))},
            {"p999", r3(Percentile(lat, 0.999))},
            {"max", r3(lat.empty() ? 0 : lat.back())}}}};
}

// Reads the targets file: "METHOD PATH [BODY]" per line.
std::optional<std::vector<Target>> ReadTargets(const std::string& file, std::string* error) {
  std::ifstream in(file);
  if (!in) {
    *error = fmt::format("--targets: cannot open {}", file);
    return std::nullopt;
  }
  std::vector<Target> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.find(' ');
    if (sp == std::string::npos) {
      *error = fmt::format("{}:{}: expected 'METHOD /path [body]', got '{}'", file, line_no, line.substr(0, 80));
      return std::nullopt;
    }
    Target t;
    t.method = line.substr(0, sp);
    const size_t sp2 = line.find(' ', sp + 1);
    t.path = line.substr(sp + 1, sp2 == std::string::npos ? std::string::npos : sp2 - sp - 1);
    if (sp2 != std::string::npos) t.body = line.substr(sp2 + 1);
    if (t.method != "GET" && t.method != "POST" && t.method != "DELETE") {
      *error = fmt::format("{}:{}: method must be GET, POST or DELETE, got '{}'", file, line_no, t.method);
      return std::nullopt;
    }
    if (t.path.empty() || t.path[0] != '/') {
      *error = fmt::format("{}:{}: the path must start with '/', got '{}'", file, line_no, t.path.substr(0, 80));
      return std::nullopt;
    }
    out.push_back(std::move(t));
  }
  if (out.empty()) {
    *error = fmt::format("--targets: {} holds no request lines", file);
    return std::nullopt;
  }
  return out;
}

std::optional<double> ReadRssMb(int pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream ss(line.substr(6));
      double kb = 0;
      ss >> kb;
      return kb / 1024.0;
    }
  }
  return std::nullopt;
}

// Least-squares slope of y over x.
double Slope(const std::vector<RssPoint>& p) {
  if (p.size() < 2) return 0;
  double mx = 0, my = 0;
  for (const auto& q : p) {
    mx += q.t_s;
    my += q.rss_mb;
  }
  mx /= static_cast<double>(p.size());
  my /= static_cast<double>(p.size());
  double num = 0, den = 0;
  for (const auto& q : p) {
    num += (q.t_s - mx) * (q.rss_mb - my);
    den += (q.t_s - mx) * (q.t_s - mx);
  }
  return den > 0 ? num / den : 0;
}

std::unique_ptr<httplib::Client> MakeClient(const Options& o, const std::string& key) {
  auto c = std::make_unique<httplib::Client>(o.host, o.port);
  c->set_keep_alive(o.keep_alive);
  c->set_url_encode(false);
  const auto to_sec = static_cast<time_t>(o.timeout_s);
  const auto to_usec = static_cast<time_t>((o.timeout_s - static_cast<double>(to_sec)) * 1e6);
  c->set_connection_timeout(5, 0);
  c->set_read_timeout(to_sec, to_usec);
  c->set_write_timeout(to_sec, to_usec);
  if (!key.empty()) c->set_default_headers({{"Authorization", "Bearer " + key}});
  return c;
}

int32_t Send(httplib::Client& c, const Target& t, size_t* bytes) {
  httplib::Result r = t.method == "GET"    ? c.Get(t.path.c_str())
                      : t.method == "POST" ? c.Post(t.path.c_str(), t.body, "application/json")
                                           : c.Delete(t.path.c_str());
  if (!r) return -(1 + static_cast<int32_t>(r.error()));
  *bytes += r->body.size();
  return r->status;
}

class LoadRun {
 public:
  explicit LoadRun(Options o, std::vector<Target> targets) : o_(std::move(o)), targets_(std::move(targets)) {}

  json Run() {
    std::mt19937_64 rng(o_.seed);
    std::shuffle(targets_.begin(), targets_.end(), rng);
    samples_.resize(static_cast<size_t>(o_.concurrency));
    bytes_.assign(static_cast<size_t>(o_.concurrency), 0);

    // The measured period starts after the warm-up; clients start a little later
    // than now so they all begin together.
    start_ = Clock::now() + std::chrono::milliseconds(50);
    measure_start_ = start_ + Secs(o_.warmup_s);
    SetEnd(measure_start_ + Secs(o_.duration_s));

    std::vector<std::thread> threads;
    for (int i = 0; i < o_.concurrency; ++i) threads.emplace_back([this, i] { Client(i); });
    std::thread rss;
    if (o_.rss_pid > 0) rss = std::thread([this] { SampleRss(); });
    std::thread swapper;
    if (!o_.swap.empty()) swapper = std::thread([this] { Swap(); });
    for (auto& t : threads) t.join();
    done_.store(true);
    if (rss.joinable()) rss.join();
    if (swapper.joinable()) swapper.join();
    return Report();
  }

 private:
  static Clock::duration Secs(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }
  Clock::time_point End() const { return Clock::time_point(Clock::duration(end_.load())); }
  void SetEnd(Clock::time_point t) { end_.store(t.time_since_epoch().count()); }
  // Requests still being sent this long after the end are abandoned (a stalled server).
  Clock::time_point HardEnd() const { return End() + Secs(o_.timeout_s + 5); }
  double SinceMeasure(Clock::time_point t) const {
    return std::chrono::duration<double>(t - measure_start_).count();
  }

  void Client(int index) {
    auto client = MakeClient(o_, o_.key);
    std::vector<Sample>& out = samples_[static_cast<size_t>(index)];
    std::this_thread::sleep_until(start_);
    const bool open = o_.rate > 0;
    const double interval = open ? 1.0 / o_.rate : 0;
    while (true) {
      const uint64_t k = next_.fetch_add(1, std::memory_order_relaxed);
      const Target& t = targets_[k % targets_.size()];
      Clock::time_point scheduled;
      if (open) {
        scheduled = start_ + Secs(static_cast<double>(k) * interval);
        if (scheduled >= End()) break;
        std::this_thread::sleep_until(scheduled);
      } else {
        scheduled = Clock::now();
        if (scheduled >= End()) break;
      }
      if (Clock::now() >= HardEnd()) break;
      const int32_t status = Send(*client, t, &bytes_[static_cast<size_t>(index)]);
      const auto done = Clock::now();
      out.push_back({static_cast<float>(SinceMeasure(scheduled)),
                     static_cast<float>(std::chrono::duration<double, std::milli>(done - scheduled).count()),
                     status});
    }
  }

  void SampleRss() {
    auto next = Clock::now();
    while (!done_.load()) {
      if (Clock::now() >= next) {
        if (auto mb = ReadRssMb(o_.rss_pid)) {
          std::lock_guard<std::mutex> l(mu_);
          rss_.push_back({SinceMeasure(Clock::now()), *mb});
        } else {
          std::lock_guard<std::mutex> l(mu_);
          rss_missing_ = true;
        }
        next += Secs(o_.sample_every_s);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (auto mb = ReadRssMb(o_.rss_pid)) {
      std::lock_guard<std::mutex> l(mu_);
      rss_.push_back({SinceMeasure(Clock::now()), *mb});
    }
  }

  // The admin side: its own connection (the load clients' connections stay busy).
  void Swap() {
    auto admin = MakeClient(o_, o_.admin_key.empty() ? o_.key : o_.admin_key);
    admin->set_keep_alive(false);
    std::this_thread::sleep_until(measure_start_ + Secs(o_.swap_at_s));
    const int rounds = o_.swap == "train" ? 1 : std::max(1, o_.swap_count);
    for (int i = 0; i < rounds && !done_.load(); ++i) {
      if (i > 0) std::this_thread::sleep_until(measure_start_ + Secs(o_.swap_at_s + i * o_.swap_every_s));
      SwapWindow w;
      if (o_.extend_for_swap) SetEnd(measure_start_ + Secs(o_.max_duration_s));
      w.start_s = SinceMeasure(Clock::now());
      if (o_.swap == "reload") {
        w.what = fmt::format("reload {}", i + 1);
        auto r = admin->Post("/v1/admin/reload", "", "application/json");
        w.ok = r && r->status == 200;
        w.detail = r ? fmt::format("HTTP {} {}", r->status, r->body.substr(0, 200))
                     : "connection error: " + httplib::to_string(r.error());
      } else {
        auto r = admin->Post("/v1/admin/train", o_.swap_body, "application/json");
        if (!r || r->status != 202) {
          w.what = "train";
          w.detail = r ? fmt::format("HTTP {} {}", r->status, r->body.substr(0, 300))
                       : "connection error: " + httplib::to_string(r.error());
        } else {
          json body = json::parse(r->body, nullptr, false);
          std::vector<int64_t> ids;
          if (body.is_object() && body.contains("jobs")) {
            for (const auto& j : body["jobs"]) ids.push_back(j.value("id", int64_t{-1}));
          }
          w.what = fmt::format("train jobs {}", fmt::join(ids, ","));
          w.ok = !ids.empty();
          std::vector<std::string> states;
          for (int64_t id : ids) {
            std::string state;
            json last;
            // Poll until the job ends (or the run's hard end).
            while (!done_.load()) {
              auto g = admin->Get(fmt::format("/v1/admin/jobs/{}", id).c_str());
              if (g && g->status == 200) {
                last = json::parse(g->body, nullptr, false);
                state = last.is_object() ? last.value("state", "") : "";
                if (state == "succeeded" || state == "failed" || state == "cancelled") break;
              }
              std::this_thread::sleep_for(std::chrono::milliseconds(250));
            }
            if (state.empty() || state == "queued" || state == "running") state += " (still running when the load ended)";
            if (state != "succeeded") w.ok = false;
            states.push_back(fmt::format("job {} {} {}", id, state,
                                         last.is_object() && last.contains("message") ? last["message"].dump() : ""));
          }
          w.detail = fmt::format("{}", fmt::join(states, "; "));
        }
      }
      w.end_s = SinceMeasure(Clock::now());
      if (o_.extend_for_swap) {
        const auto planned = measure_start_ + Secs(o_.duration_s);
        const auto after = Clock::now() + Secs(o_.swap_tail_s + 5);
        SetEnd(std::max(planned, std::min(after, measure_start_ + Secs(o_.max_duration_s))));
      }
      std::lock_guard<std::mutex> l(mu_);
      swaps_.push_back(w);
    }
  }

  json Report() {
    const double duration = std::chrono::duration<double>(End() - measure_start_).count();
    std::vector<const Sample*> measured, warm;
    for (const auto& v : samples_) {
      for (const Sample& s : v) (s.t >= 0 ? measured : warm).push_back(&s);
    }
    size_t bytes = 0;
    for (size_t b : bytes_) bytes += b;
    json out;
    if (!o_.label.empty()) out["label"] = o_.label;
    out["mode"] = o_.rate > 0 ? "open" : "closed";
    out["concurrency"] = o_.concurrency;
    out["keep_alive"] = o_.keep_alive;
    out["target_rate_rps"] = o_.rate;
    out["duration_s"] = std::round(duration * 1000) / 1000;
    out["warmup_s"] = o_.warmup_s;
    out["targets"] = targets_.size();
    out["warmup_requests"] = warm.size();
    json s = Summarize(measured, duration);
    for (auto it = s.begin(); it != s.end(); ++it) out[it.key()] = it.value();
    out["response_bytes"] = bytes;

    if (o_.interval_s > 0) {
      const int n = std::max(1, static_cast<int>(std::ceil(duration / o_.interval_s - 1e-9)));
      std::vector<std::vector<const Sample*>> win(static_cast<size_t>(n));
      for (const Sample* x : measured) {
        const int w = std::min(n - 1, static_cast<int>(x->t / o_.interval_s));
        win[static_cast<size_t>(w)].push_back(x);
      }
      json series = json::array();
      for (int w = 0; w < n; ++w) {
        const double secs = std::min(o_.interval_s, duration - w * o_.interval_s);
        json e = Summarize(win[static_cast<size_t>(w)], secs);
        e["t_s"] = w * o_.interval_s;
        series.push_back(e);
      }
      out["windows"] = series;
    }

    if (!o_.swap.empty()) {
      json arr = json::array();
      std::vector<const Sample*> during, outside;
      bool all_ok = !swaps_.empty();
      for (const Sample* x : measured) {
        bool in = false;
        for (const auto& w : swaps_) in |= x->t >= w.start_s && x->t <= w.end_s + o_.swap_tail_s;
        (in ? during : outside).push_back(x);
      }
      double during_s = 0;
      for (const auto& w : swaps_) {
        arr.push_back({{"what", w.what}, {"start_s", std::round(w.start_s * 1000) / 1000},
                       {"end_s", std::round(w.end_s * 1000) / 1000}, {"ok", w.ok}, {"detail", w.detail}});
        all_ok &= w.ok;
        during_s += std::max(0.0, std::min(w.end_s + o_.swap_tail_s, duration) - w.start_s);
      }
      out["swap"] = {{"kind", o_.swap}, {"events", arr}, {"all_ok", all_ok},
                     {"during", Summarize(during, during_s)},
                     {"outside", Summarize(outside, duration - during_s)}};
    }

    if (o_.rss_pid > 0) {
      json series = json::array();
      double mx = 0;
      for (const auto& p : rss_) {
        series.push_back({std::round(p.t_s * 10) / 10, std::round(p.rss_mb * 10) / 10});
        mx = std::max(mx, p.rss_mb);
      }
      std::vector<RssPoint> half;
      for (const auto& p : rss_) {
        if (p.t_s >= duration / 2) half.push_back(p);
      }
      auto r1 = [](double v) { return std::round(v * 10) / 10; };
      out["rss"] = {{"pid", o_.rss_pid},
                    {"sample_every_s", o_.sample_every_s},
                    {"series_t_s_mb", series},
                    {"first_mb", rss_.empty() ? 0 : r1(rss_.front().rss_mb)},
                    {"last_mb", rss_.empty() ? 0 : r1(rss_.back().rss_mb)},
                    {"max_mb", r1(mx)},
                    {"slope_mb_per_hour", r1(Slope(rss_) * 3600)},
                    {"slope_second_half_mb_per_hour", r1(Slope(half) * 3600)},
                    {"process_gone", rss_missing_}};
    }
    return out;
  }

  Options o_;
  std::vector<Target> targets_;
  Clock::time_point start_, measure_start_;
  std::atomic<Clock::rep> end_{0};  // end of the measured period (moved by --extend-for-swap)
  std::atomic<uint64_t> next_{0};
  std::atomic<bool> done_{false};
  std::vector<std::vector<Sample>> samples_;  // one vector per client thread
  std::vector<size_t> bytes_;                 // one counter per client thread
  std::mutex mu_;
  std::vector<RssPoint> rss_;        // guarded by mu_
  bool rss_missing_ = false;         // guarded by mu_
  std::vector<SwapWindow> swaps_;    // guarded by mu_
};

void PrintTable(const json& r, std::FILE* f) {
  auto line = [&](const std::string& name, const json& s) {
    const json& l = s["latency_ms"];
    fmt::print(f, "{:<10} {:>8} {:>8} {:>7} {:>9.1f} {:>8.2f} {:>8.2f} {:>8.2f} {:>8.2f} {:>8.2f}\n", name,
               s["requests"].get<int64_t>(), s["ok"].get<int64_t>(), s["errors"].get<int64_t>(),
               s["throughput_rps"].get<double>(), l["p50"].get<double>(), l["p90"].get<double>(),
               l["p99"].get<double>(), l["p999"].get<double>(), l["max"].get<double>());
  };
  fmt::print(f, "{}{} loop, concurrency {}{}{}, {} s measured after {} s warm-up, {} targets\n",
             r.contains("label") ? r["label"].get<std::string>() + ": " : "", r["mode"].get<std::string>(),
             r["concurrency"].get<int>(),
             r["mode"] == "open" ? fmt::format(", target {} req/s", r["target_rate_rps"].get<double>()) : "",
             r["keep_alive"].get<bool>() ? "" : ", a new connection per request",
             r["duration_s"].get<double>(), r["warmup_s"].get<double>(), r["targets"].get<size_t>());
  fmt::print(f, "{:<10} {:>8} {:>8} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}\n", "", "requests", "ok", "errors",
             "req/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms");
  line("all", r);
  if (r.contains("swap")) {
    line("swap", r["swap"]["during"]);
    line("no swap", r["swap"]["outside"]);
    for (const auto& e : r["swap"]["events"]) {
      fmt::print(f, "  {} {:.1f}..{:.1f} s {}: {}\n", e["what"].get<std::string>(), e["start_s"].get<double>(),
                 e["end_s"].get<double>(), e["ok"].get<bool>() ? "ok" : "FAILED", e["detail"].get<std::string>());
    }
  }
  if (r["errors"].get<int64_t>() > 0) fmt::print(f, "errors by status: {}\n", r["errors_by_status"].dump());
  if (r.contains("windows")) {
    for (const auto& w : r["windows"]) {
      fmt::print(f, "  t={:>6.0f}s {:>8.1f} req/s  p50 {:>7.2f}  p99 {:>8.2f} ms  errors {}\n", w["t_s"].get<double>(),
                 w["throughput_rps"].get<double>(), w["latency_ms"]["p50"].get<double>(),
                 w["latency_ms"]["p99"].get<double>(), w["errors"].get<int64_t>());
    }
  }
  if (r.contains("rss")) {
    const json& m = r["rss"];
    fmt::print(f, "server RSS: first {} MB, last {} MB, max {} MB, slope {} MB/h (second half {} MB/h), {} samples\n",
               m["first_mb"].dump(), m["last_mb"].dump(), m["max_mb"].dump(), m["slope_mb_per_hour"].dump(),
               m["slope_second_half_mb_per_hour"].dump(), m["series_t_s_mb"].size());
  }
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"souk_load_gen: HTTP load generator for souk serve (closed/open loop, percentiles, RSS)"};
  app.add_option("--host", o.host, "server address")->capture_default_str();
  app.add_option("--port", o.port, "server port")->required();
  app.add_option("--key", o.key, "API key (Authorization: Bearer KEY)");
  app.add_option("--targets", o.targets_file, "file: one request per line, 'GET /path' or 'POST /path {json}'")
      ->required();
  app.add_option("--concurrency", o.concurrency, "client threads, one keep-alive connection each")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_flag("!--no-keep-alive", o.keep_alive, "open a new connection for every request");
  app.add_option("--duration", o.duration_s, "measured seconds")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--warmup", o.warmup_s, "seconds sent before measuring")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--rate", o.rate, "open loop: total requests/s at fixed intervals (0 = closed loop)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", o.seed, "shuffle seed of the targets")->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "per-request read/write timeout, seconds")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--interval", o.interval_s, "also report per-window stats every S seconds (0 = off)")->check(CLI::NonNegativeNumber);
  app.add_option("--rss-pid", o.rss_pid, "sample VmRSS of this process (the server)");
  app.add_option("--sample-every", o.sample_every_s, "RSS sampling period, seconds")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--swap", o.swap, "hot swap during the run: 'train' (POST /v1/admin/train, wait for the job) or 'reload'")
      ->check(CLI::IsMember({"train", "reload"}));
  app.add_option("--swap-at", o.swap_at_s, "seconds into the measured period of the first swap")->capture_default_str();
  app.add_option("--swap-body", o.swap_body, "body of POST /v1/admin/train")->capture_default_str();
  app.add_option("--swap-count", o.swap_count, "number of reloads (--swap reload)")->capture_default_str();
  app.add_option("--swap-every", o.swap_every_s, "seconds between reloads")->capture_default_str();
  app.add_option("--swap-tail", o.swap_tail_s, "requests scheduled up to this long after a swap ends count as 'during'")
      ->capture_default_str();
  app.add_flag("--extend-for-swap", o.extend_for_swap,
               "keep the load on until the swap (e.g. a training job) ends, then swap-tail + 5 s more");
  app.add_option("--max-duration", o.max_duration_s, "cap of the measured seconds with --extend-for-swap")
      ->capture_default_str();
  app.add_option("--admin-key", o.admin_key, "admin-scope key for --swap (default: --key)");
  app.add_option("--label", o.label, "a name for this run in the output");
  app.add_flag("--json", o.json_out, "print one JSON object on stdout (the table goes to stderr)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::string error;
  auto targets = ReadTargets(o.targets_file, &error);
  if (!targets) {
    fmt::print(stderr, "souk_load_gen: error: {}\n", error);
    return 2;
  }
  LoadRun run(o, std::move(*targets));
  json r = run.Run();
  if (o.json_out) {
    PrintTable(r, stderr);
    std::cout << r.dump() << "\n";
  } else {
    PrintTable(r, stdout);
  }
  return 0;
}

}  // namespace
}  // namespace souk::bench

int main(int argc, char** argv) { return souk::bench::Main(argc, argv); }
