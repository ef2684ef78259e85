// Deterministic train/test splitters for the protocols of ../shared/EVAL.md:
//   B  leave-one-out over user sequences          (SplitLeaveOneOut)
//   C  cold items by FNV-1a 64 of the decimal id   (Fnv1a64, IsColdItem)
//   A  k-fold cross-fitting by query               (FoldOfQuery)
//   D  earliest fraction of sessions by start time (SplitByTimeFraction),
//      first fraction of rows in file order        (SplitByOrder)
//   F  cut-off date with a target window           (CutoffWindow, ParseDate)
// None of them uses randomness: the same input always gives the same split.
//
// Thread-safety: pure functions / immutable values; safe to use concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/hash.h"
#include "common/status.h"

namespace souk::eval {

// 64-bit FNV-1a of the bytes of `data` (common/hash.h).
using ::souk::Fnv1a64;

// EVAL.md C: an item is cold when Fnv1a64(decimal id string, no sign or leading
// zeros for non-negative ids, e.g. "1234") % 10 == 0. The string form is the one
// in the data files, so callers that hold the raw token should pass it to
// IsColdItemToken to avoid re-formatting.
bool IsColdItem(int64_t item_id);
bool IsColdItemToken(std::string_view item_id_token);

// EVAL.md A cross-fitting: fold of a query = Fnv1a64(query bytes, as given) % k.
// Precondition: k >= 1.
int FoldOfQuery(std::string_view query, int k);

// EVAL.md B: leave-one-out over one user's time-ordered sequence.
//   n >= 3: train = items[0 .. n-3], valid = items[n-2], test = items[n-1]
//   n == 2: train = {},  valid = items[0], test = items[1]
//   n == 1: train = {},  no valid target, test = items[0]
//   n == 0: nothing (no targets)
// The history before the valid target is `train`; before the test target it is
// train + valid (i.e. items[0 .. n-2]).
struct LeaveOneOut {
  std::span<const int32_t> train;  // views into the input sequence
  std::optional<int32_t> valid;    // validation target
  std::optional<int32_t> test;     // test target
  std::span<const int32_t> history_before_valid;
  std::span<const int32_t> history_before_test;
};
// The result views `sequence`, which must outlive it.
LeaveOneOut SplitLeaveOneOut(std::span<const int32_t> sequence);

// EVAL.md D: the earliest `train_fraction` of the elements by start time go to
// train, the rest to test. Sorted by (start time, original index), so ties keep
// file order; the number of train elements is floor(train_fraction * n).
// Returns is_train per input element. InvalidArgument when train_fraction is not
// in [0, 1].
StatusOr<std::vector<bool>> SplitByTimeFraction(std::span<const int64_t> start_times,
                                                double train_fraction);

// EVAL.md D (online-shoppers): the first floor(train_fraction * n) rows in file
// order are train. Returns the number of train rows. InvalidArgument when
// train_fraction is not in [0, 1].
StatusOr<int64_t> SplitByOrder(int64_t n, double train_fraction);

// Seconds since the Unix epoch (UTC) of "YYYY-MM-DD"; InvalidArgument naming the
// text when it is malformed or not a real calendar date.
StatusOr<int64_t> ParseDate(std::string_view text);
// Seconds since the Unix epoch (UTC) of "YYYY-MM-DD hh:mm[:ss]" (also accepts a
// 'T' separator). InvalidArgument when malformed.
StatusOr<int64_t> ParseDateTime(std::string_view text);
// "YYYY-MM-DD" of a Unix time (UTC).
std::string FormatDate(int64_t unix_seconds);

// EVAL.md F: train on everything strictly before the cut-off T; the target
// window is [T, T + window_days days).
class CutoffWindow {
 public:
  enum class Part {
    kTrain,   // t < T
    kTarget,  // T <= t < T + window
    kAfter,   // t >= T + window (unused by the protocol)
  };

  CutoffWindow(int64_t cutoff_unix_seconds, int window_days)
      : cutoff_(cutoff_unix_seconds),
        window_end_(cutoff_unix_seconds + int64_t{window_days} * 86400) {}
  // From "YYYY-MM-DD" (UTC midnight); InvalidArgument when the date is malformed
  // or window_days < 1.
  static StatusOr<CutoffWindow> FromDate(std::string_view date, int window_days = 30);

  Part Classify(int64_t unix_seconds) const {
    if (unix_seconds < cutoff_) return Part::kTrain;
    return unix_seconds < window_end_ ? Part::kTarget : Part::kAfter;
  }
  int64_t cutoff() const { return cutoff_; }
  int64_t window_end() const { return window_end_; }

 private:
  int64_t cutoff_;
  int64_t window_end_;
};

}  // namespace souk::eval
