// Private helpers of the quality module (not for other modules).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/quality.h"
#include "store/store.h"

namespace souk::quality::internal {

// Open-addressing hash map from uint64 keys to int64 values; 16 bytes per slot,
// at most half full. Key ~0 is reserved. Not thread-safe.
class FlatU64Map {
 public:
  FlatU64Map() { Rehash(1024); }
  // Inserts `value` for a new key, or keeps the smaller of the old and new values.
  void InsertMin(uint64_t key, int64_t value);
  // nullptr when absent.
  const int64_t* Find(uint64_t key) const;
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  void Rehash(size_t capacity);
  size_t Slot(uint64_t key) const;
  std::vector<uint64_t> keys_;
  std::vector<int64_t> values_;
  size_t size_ = 0;
};

uint64_t Mix64(uint64_t x);

// Hash of the fields Store::RemoveEvents(exact_duplicates) compares that a
// StoredEvent carries (timestamp, user, session, item, type, query, value,
// quantity, price). Events equal in all of them hash equally.
uint64_t EventKeyHash(const store::StoredEvent& e);

// Number of entries equal to an earlier one (sorts `hashes`).
int64_t CountRepeats(std::vector<uint64_t>* hashes);

// Lower-case ASCII, punctuation to spaces, whitespace collapsed and trimmed;
// bytes >= 0x80 kept as they are.
std::string NormalizeTitle(std::string_view title);

// Fills report->metrics from the sections (every name of QualityMetricNames()).
void FillMetrics(QualityReport* report);

// Share with NaN for an empty denominator.
inline double Ratio(double num, double den) {
  return den > 0 ? num / den : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace souk::quality::internal
