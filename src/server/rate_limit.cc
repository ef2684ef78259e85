#include "server/rate_limit.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/hash.h"

namespace souk::server {

namespace {

constexpr size_t kShards = 16;

struct Bucket {
  double tokens = 0;
  int64_t last_ms = 0;  // time of the last refill
};

// Heterogeneous lookup so Allow() does not allocate a std::string for known keys.
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
struct KeyEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

}  // namespace

struct RateLimiter::Shard {
  std::mutex mu;
  std::unordered_map<std::string, Bucket, KeyHash, KeyEq> buckets;  // guarded by mu
};

RateLimiter::RateLimiter(Options o) : options_(o), shards_(new Shard[kShards]) {
  if (options_.burst < 1) options_.burst = 1;
  shard_capacity_ = std::max<size_t>(1, (options_.max_keys + kShards - 1) / kShards);
}

RateLimiter::~RateLimiter() = default;

namespace {

// Adds the tokens earned since b->last_ms (capped at burst).
void Refill(Bucket* b, int64_t now_ms, double rps, double burst) {
  if (now_ms > b->last_ms) {
    b->tokens = std::min(burst, b->tokens + static_cast<double>(now_ms - b->last_ms) * rps / 1000.0);
    b->last_ms = now_ms;
  }
}

// Shrinks `buckets` to `target` entries: idle (full) buckets go first -- forgetting them
// changes nothing, a new bucket starts full -- then the least recently refilled ones.
void Evict(std::unordered_map<std::string, Bucket, KeyHash, KeyEq>* buckets, size_t target,
           int64_t now_ms, double rps, double burst) {
  for (auto it = buckets->begin(); it != buckets->end() && buckets->size() > target;) {
    Refill(&it->second, now_ms, rps, burst);
    if (it->second.tokens >= burst) {
      it = buckets->erase(it);
    } else {
      ++it;
    }
  }
  if (buckets->size() <= target) return;
  std::vector<std::pair<int64_t, const std::string*>> by_age;
  by_age.reserve(buckets->size());
  for (const auto& [key, b] : *buckets) by_age.emplace_back(b.last_ms, &key);
  const size_t drop = buckets->size() - target;
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                   by_age.end());
  std::vector<std::string> victims;
  victims.reserve(drop);
  for (size_t i = 0; i < drop; ++i) victims.push_back(*by_age[i].second);
  for (const std::string& k : victims) buckets->erase(k);
}

}  // namespace

bool RateLimiter::Allow(std::string_view key, int64_t now_ms, double* retry_after_s) {
  const double rps = options_.requests_per_second;
  if (rps <= 0) return true;
  const double burst = options_.burst;
  Shard& shard = shards_[Fnv1a64(key) % kShards];
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= shard_capacity_) {
      Evict(&shard.buckets, shard_capacity_ * 3 / 4, now_ms, rps, burst);
    }
    it = shard.buckets.emplace(std::string(key), Bucket{burst, now_ms}).first;
  } else {
    Refill(&it->second, now_ms, rps, burst);
  }
  Bucket& b = it->second;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  if (retry_after_s != nullptr) *retry_after_s = (1 - b.tokens) / rps;
  return false;
}

size_t RateLimiter::size() const {
  size_t n = 0;
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    n += shards_[i].buckets.size();
  }
  return n;
}

}  // namespace souk::server
