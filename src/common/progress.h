// Progress: reports the advance of a long job. On a terminal it draws a live bar
// (count, rate, ETA) on stderr; otherwise it writes a log line every few seconds.
//
//   Progress p("import events", total_bytes, ProgressOptions{});
//   p.Add(n);            // from any thread
//   p.Finish();          // final line with the total and mean rate
//
// Thread-safety: Add/Set are thread-safe (atomics + a mutex around rendering).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include "common/clock.h"

namespace souk {

enum class ProgressMode {
  kAuto,   // bar when stderr is a terminal, lines otherwise
  kBar,    // live bar, redrawn in place
  kLines,  // a log line every `line_interval_s` seconds
  kOff,    // silent
};

struct ProgressOptions {
  ProgressMode mode = ProgressMode::kAuto;  // how to show progress
  double bar_interval_s = 0.2;              // minimum seconds between bar redraws
  double line_interval_s = 5.0;             // seconds between log lines
  std::string unit = "";                    // unit shown after counts ("rows", "B", ...)
  bool bytes = false;                       // show counts as KiB/MiB/GiB
  FILE* out = stderr;                       // where to write
  const Clock* clock = nullptr;             // nullptr = real clock
};

// Parses "auto", "bar", "lines", "off".
bool ParseProgressMode(const std::string& s, ProgressMode* mode);

class Progress {
 public:
  // total == 0 means unknown (no percentage, no ETA).
  Progress(std::string label, uint64_t total, ProgressOptions options = {});
  ~Progress();  // calls Finish() if not yet done
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Add(uint64_t n);
  void Set(uint64_t done);
  void SetTotal(uint64_t total) { total_.store(total); }
  // A short status shown after the counts ("loss 0.412"); thread-safe.
  void SetStatus(std::string status);
  void Finish();

  uint64_t done() const { return done_.load(); }
  // Text of the current state (what the bar or line shows), for tests.
  std::string Render() const;

 private:
  void MaybeRender(bool force);

  std::string label_;
  std::atomic<uint64_t> total_;
  ProgressOptions options_;
  const Clock* clock_;
  bool bar_;
  std::atomic<uint64_t> done_{0};
  int64_t start_us_;
  std::atomic<int64_t> last_render_us_;
  std::mutex render_mu_;
  bool finished_ = false;
  mutable std::mutex status_mu_;
  std::string status_;
};

// "1.5 MiB", "12.0 KiB" for byte counts; "1.2M", "35.0k" for plain counts.
std::string HumanCount(double n, bool bytes);
// "1h02m", "3m05s", "12s".
std::string HumanDuration(double seconds);

}  // namespace souk
