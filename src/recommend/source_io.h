// Shared plumbing of the built-in candidate sources (popular, cooccurrence,
// ease, content, fbt, buy_again): options parsing with errors that name the
// key, manifest.json writing/checking, typed binary arrays with a header and
// a checksum, sparse item x item rows, and the request helpers every source
// uses the same way (which history events count, category prefixes, k clamp).
//
// Binary array file ("*.bin"): magic "SOUKARR1", u32 format 1, u32 type code
// (1 = f32, 2 = i32, 3 = i64), u64 element count, the elements (little
// endian, as in memory), then the u64 FNV-1a hash of the element bytes.
// Reading checks all of it: a truncated or corrupt file is DataLoss naming it.
//
// Thread-safety: free functions without shared state; OptionReader is a
// value used by one thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "recommend/candidate_source.h"
#include "recommend/interactions.h"

namespace souk::recommend::internal {

// ---- options ---------------------------------------------------------------

// Reads typed fields of a source's JSON options. Every error is an
// InvalidArgument "<source>: option '<key>' ..." naming the key and the value.
class OptionReader {
 public:
  OptionReader(const nlohmann::json& options, std::string_view source)
      : options_(options), source_(source) {}

  // InvalidArgument naming the first unknown key (CheckOptionKeys).
  Status CheckKeys(std::span<const std::string_view> known) const;
  // Leaves *out unchanged when the key is absent. Ranges are inclusive;
  // `min_exclusive` makes the lower bound exclusive (for "> 0").
  Status Double(std::string_view key, double* out, double min, double max,
                bool min_exclusive = false) const;
  Status Float(std::string_view key, float* out, double min, double max,
               bool min_exclusive = false) const;
  Status Int(std::string_view key, int* out, int64_t min, int64_t max) const;
  Status Bool(std::string_view key, bool* out) const;
  // A string that must be one of `allowed`.
  Status Choice(std::string_view key, std::string* out,
                std::span<const std::string_view> allowed) const;

 private:
  const nlohmann::json* Find(std::string_view key) const;
  Status Error(std::string_view key, const std::string& what) const;

  const nlohmann::json& options_;
  std::string source_;
};

// ---- files -----------------------------------------------------------------

// Writes `dir`/manifest.json = {"kind", "format_version", "num_items", plus
// the fields of `extra`} atomically (dir created).
Status WriteManifest(const std::string& dir, std::string_view kind, int format_version,
                     int64_t num_items, const nlohmann::json& extra = nlohmann::json::object());
// Reads and checks `dir`/manifest.json: NotFound when missing, DataLoss when
// not a JSON object, FailedPrecondition when kind, format_version or
// num_items differ from the expected ones (the message names both values).
StatusOr<nlohmann::json> ReadManifest(const std::string& dir, std::string_view kind,
                                      int format_version, int64_t num_items);

// Typed binary arrays (format above). Write is atomic (temp + rename).
Status WriteFloatArray(const std::string& path, std::span<const float> values);
Status WriteInt32Array(const std::string& path, std::span<const int32_t> values);
Status WriteInt64Array(const std::string& path, std::span<const int64_t> values);
// NotFound when missing; DataLoss (naming the file) on a bad header, type,
// size or checksum.
StatusOr<std::vector<float>> ReadFloatArray(const std::string& path);
StatusOr<std::vector<int32_t>> ReadInt32Array(const std::string& path);
StatusOr<std::vector<int64_t>> ReadInt64Array(const std::string& path);

// Whole-file read (NotFound / Unavailable naming the file).
StatusOr<std::string> ReadFileBytes(const std::string& path);

// ---- sparse rows -----------------------------------------------------------

// Compressed rows: row r holds cols[offsets[r] .. offsets[r+1]) with values
// (and an optional second value array, `extra`, of the same length).
struct SparseRows {
  std::vector<int64_t> offsets{0};  // rows + 1
  std::vector<int32_t> cols;
  std::vector<float> values;
  std::vector<float> extra;  // empty or cols.size()

  int64_t rows() const { return static_cast<int64_t>(offsets.size()) - 1; }
  std::span<const int32_t> Cols(int64_t r) const {
    return {cols.data() + offsets[r], cols.data() + offsets[r + 1]};
  }
  std::span<const float> Values(int64_t r) const {
    return {values.data() + offsets[r], values.data() + offsets[r + 1]};
  }
  std::span<const float> Extra(int64_t r) const {
    return {extra.data() + offsets[r], extra.data() + offsets[r + 1]};
  }
};
// Saves to `dir`/<prefix>_{offsets,cols,values,extra}.bin.
Status SaveSparseRows(const std::string& dir, std::string_view prefix, const SparseRows& rows);
// Loads and checks consistency (rows == expected_rows, offsets monotone, cols
// in [0, num_cols)): DataLoss naming the file otherwise.
StatusOr<SparseRows> LoadSparseRows(const std::string& dir, std::string_view prefix,
                                    int64_t expected_rows, int64_t num_cols);

// ---- requests --------------------------------------------------------------

// The last `max_events` events of request.history whose item is in
// [0, num_items) (others are dropped), oldest first.
std::vector<HistoryEvent> RecentValidHistory(const RecommendRequest& request, int32_t num_items,
                                             int max_events);

// A query item of a request with its weight.
struct Seed {
  int32_t item = -1;
  float weight = 0;
};
// The request's query items: each valid context item with `context_weight`,
// and each of the last `max_history` valid history events with
// recency_decay^(events after it) * ImplicitWeight(type) (zero-weight events
// such as impressions are skipped). Weights of a repeated item are summed.
// Sorted by decreasing weight (ties by item).
std::vector<Seed> RequestSeeds(const RecommendRequest& request, int32_t num_items,
                               int max_history, double recency_decay, double context_weight);

// True when `category` equals `prefix` or starts with `prefix` + " > ";
// an empty prefix matches everything.
bool InCategory(std::string_view category, std::string_view prefix);

// The first level of a " > " category path ("" for "").
std::string_view TopLevelCategory(std::string_view category);

// k clamped to [0, limit].
int ClampK(int k, int64_t limit);

// Request time: request.now_ms, or `fallback_ms` when it is 0.
inline int64_t RequestNow(const RecommendRequest& request, int64_t fallback_ms) {
  return request.now_ms != 0 ? request.now_ms : fallback_ms;
}

inline constexpr double kMsPerDay = 86400000.0;

}  // namespace souk::recommend::internal
