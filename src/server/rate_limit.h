// Per-key request rate limits for the HTTP service (token buckets).
//
// Thread-safety: RateLimiter is thread-safe; the buckets are split over 16 shards, each
// with its own mutex, so concurrent requests of different keys rarely contend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace souk::server {

// A token bucket per key (an API key id, a client address, any string): a key may send
// `burst` requests at once, then `requests_per_second` on average. Time is passed in by
// the caller (milliseconds of any monotonic clock), so tests need no sleeping.
class RateLimiter {
 public:
  struct Options {
    // Behavior.
    double requests_per_second = 50;  // refill rate per key; <= 0 means unlimited
    double burst = 100;               // bucket size (values below 1 are treated as 1)
    // Memory.
    size_t max_keys = 100000;  // buckets kept at most (approximately; split over the shards)
  };

  explicit RateLimiter(Options o);
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes one token from `key`'s bucket (a new key starts with a full bucket). Returns true
  // when the request is allowed. When refused and `retry_after_s` is given, sets it to the
  // exact seconds until one token is available ((1 - tokens) / rps, > 0); the HTTP layer
  // rounds it up to whole seconds (>= 1) for the Retry-After header. A clock going
  // backwards refills nothing. Cost: O(1) amortized; when a shard exceeds its share of
  // max_keys it drops idle (full) buckets first, then the least recently used ones, down
  // to 3/4 of its share (O(share) once per share/4 new keys).
  bool Allow(std::string_view key, int64_t now_ms, double* retry_after_s = nullptr);

  // Buckets currently held (sum over shards; for tests and metrics).
  size_t size() const;

  const Options& options() const { return options_; }

 private:
  struct Shard;
  Options options_;
  size_t shard_capacity_ = 0;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace souk::server
