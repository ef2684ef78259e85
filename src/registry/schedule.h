// Schedule: when scheduled retraining runs, in UTC.
//
// Accepted specs (case-insensitive, surrounding blanks ignored):
//   "off" or ""           never
//   "every <N><unit>"     unit m (minutes), h (hours), d (days); e.g. "every 30m",
//                         "every 6h", "every 1d"; at least 1 minute
//   "hourly"              = "every 1h"
//   "daily HH:MM"         once a day at HH:MM UTC, e.g. "daily 03:00"
//   "nightly"             = "daily 03:00"
//
// Thread-safety: an immutable value; safe to share between threads.
// Cost: Parse and Next are O(length of the spec) / O(1), no allocation in Next.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace souk::registry {

class Schedule {
 public:
  // A schedule that never fires ("off").
  Schedule() = default;

  // Errors: InvalidArgument naming the spec and listing the accepted forms
  // (also for an interval below 1 minute or a time of day outside 00:00..23:59).
  static StatusOr<Schedule> Parse(std::string_view spec);

  // The first run time (Unix ms) strictly after `after_ms`:
  //   every: the next multiple of the interval counted from the epoch, i.e.
  //          floor(after_ms / interval) * interval + interval;
  //   daily: the next HH:MM:00.000 UTC after `after_ms` (today's, or tomorrow's
  //          when today's is at or before `after_ms`).
  // nullopt when the schedule is off.
  std::optional<int64_t> Next(int64_t after_ms) const;

  // Canonical spec that Parse accepts back: "off", "every 30m", "every 6h",
  // "every 1d", "daily 03:00".
  std::string ToString() const;

  bool off() const { return kind_ == Kind::kOff; }

  friend bool operator==(const Schedule& a, const Schedule& b) {
    return a.kind_ == b.kind_ && a.interval_ms_ == b.interval_ms_ &&
           a.minute_of_day_ == b.minute_of_day_;
  }

 private:
  enum class Kind { kOff, kEvery, kDaily };

  Kind kind_ = Kind::kOff;
  int64_t interval_ms_ = 0;  // kEvery
  int minute_of_day_ = 0;    // kDaily: 0..1439
};

}  // namespace souk::registry
