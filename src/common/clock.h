// Clock: an injectable source of time, so tests can run with a fake clock.
// Thread-safety: SystemClock is thread-safe; FakeClock is thread-safe (atomic).
#pragma once

#include <atomic>
#include <cstdint>

namespace souk {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch (wall time, for timestamps).
  virtual int64_t NowMicros() const = 0;
  // Monotonic microseconds (for durations and rates).
  virtual int64_t MonotonicMicros() const = 0;
  int64_t NowMillis() const { return NowMicros() / 1000; }
};

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
  int64_t MonotonicMicros() const override;
};

// Returns a process-wide SystemClock (stateless, so this is not mutable global state).
const Clock& RealClock();

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_micros = 1'700'000'000'000'000) : now_(now_micros) {}
  int64_t NowMicros() const override { return now_.load(); }
  int64_t MonotonicMicros() const override { return now_.load(); }
  void Advance(int64_t micros) { now_ += micros; }
  void Set(int64_t micros) { now_ = micros; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace souk
