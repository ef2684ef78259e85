#include "common/progress.h"

#include <unistd.h>

#include <cmath>
#include <fmt/format.h>

namespace souk {

bool ParseProgressMode(const std::string& s, ProgressMode* mode) {
  if (s == "auto") *mode = ProgressMode::kAuto;
  else if (s == "bar") *mode = ProgressMode::kBar;
  else if (s == "lines") *mode = ProgressMode::kLines;
  else if (s == "off") *mode = ProgressMode::kOff;
  else return false;
  return true;
}

std::string HumanCount(double n, bool bytes) {
  if (bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (n >= 1024 && u < 4) { n /= 1024; ++u; }
    return u == 0 ? fmt::format("{:.0f} B", n) : fmt::format("{:.1f} {}", n, units[u]);
  }
  if (n >= 1e9) return fmt::format("{:.2f}G", n / 1e9);
  if (n >= 1e6) return fmt::format("{:.2f}M", n / 1e6);
  if (n >= 1e4) return fmt::format("{:.1f}k", n / 1e3);
  return fmt::format("{:.0f}", n);
}

std::string HumanDuration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  auto t = static_cast<long long>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, static_cast<int>((t % 3600) / 60));
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, static_cast<int>(t % 60));
  return fmt::format("{}s", t);
}

Progress::Progress(std::string label, uint64_t total, ProgressOptions options)
    : label_(std::move(label)),
      total_(total),
      options_(options),
      clock_(options.clock ? options.clock : &RealClock()) {
  ProgressMode m = options_.mode;
  if (m == ProgressMode::kAuto) m = isatty(fileno(options_.out)) ? ProgressMode::kBar : ProgressMode::kLines;
  options_.mode = m;
  bar_ = m == ProgressMode::kBar;
  start_us_ = clock_->MonotonicMicros();
  last_render_us_ = start_us_;
}

Progress::~Progress() { Finish(); }

void Progress::Add(uint64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  MaybeRender(false);
}

void Progress::Set(uint64_t done) {
  done_.store(done, std::memory_order_relaxed);
  MaybeRender(false);
}

std::string Progress::Render() const {
  const double elapsed = std::max(1e-6, (clock_->MonotonicMicros() - start_us_) / 1e6);
  const double done = static_cast<double>(done_.load());
  const double total = static_cast<double>(total_.load());
  const double rate = done / elapsed;
  const std::string unit = options_.unit.empty() ? "" : " " + options_.unit;
  std::string s = label_ + " ";
  if (total > 0) {
    const double frac = std::min(1.0, done / total);
    if (bar_) {
      const int width = 24, filled = static_cast<int>(frac * width);
      s += "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    }
    s += fmt::format("{:5.1f}% {}/{}{}", 100 * frac, HumanCount(done, options_.bytes),
                     HumanCount(total, options_.bytes), unit);
    const double eta = rate > 0 ? (total - done) / rate : NAN;
    s += fmt::format(" {}/s{} ETA {}", HumanCount(rate, options_.bytes), unit,
                     HumanDuration(eta));
  } else {
    s += fmt::format("{}{} {}/s{}", HumanCount(done, options_.bytes), unit,
                     HumanCount(rate, options_.bytes), unit);
  }
  s += " elapsed " + HumanDuration(elapsed);
  std::lock_guard<std::mutex> lock(status_mu_);
  if (!status_.empty()) s += " " + status_;
  return s;
}

void Progress::SetStatus(std::string status) {
  std::lock_guard<std::mutex> lock(status_mu_);
  status_ = std::move(status);
}

void Progress::MaybeRender(bool force) {
  if (options_.mode == ProgressMode::kOff) return;
  const int64_t now = clock_->MonotonicMicros();
  const double interval = bar_ ? options_.bar_interval_s : options_.line_interval_s;
  int64_t last = last_render_us_.load(std::memory_order_relaxed);
  if (!force && now - last < static_cast<int64_t>(interval * 1e6)) return;
  std::unique_lock<std::mutex> lock(render_mu_, std::try_to_lock);
  if (!lock.owns_lock() && !force) return;
  if (!lock.owns_lock()) lock.lock();
  last_render_us_ = now;
  const std::string line = Render();
  if (bar_) {
    fmt::print(options_.out, "\r\033[K{}", line);
  } else {
    fmt::print(options_.out, "[progress] {}\n", line);
  }
  std::fflush(options_.out);
}

void Progress::Finish() {
  {
    std::lock_guard<std::mutex> lock(render_mu_);
    if (finished_) return;
    finished_ = true;
  }
  if (options_.mode == ProgressMode::kOff) return;
  const std::string line = Render();
  if (bar_) fmt::print(options_.out, "\r\033[K{} done\n", line);
  else fmt::print(options_.out, "[progress] {} done\n", line);
  std::fflush(options_.out);
}

}  // namespace souk
