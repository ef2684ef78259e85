#include "eval/splits.h"

#include "common/time.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <numeric>
#include <string>

#include <fmt/format.h>

namespace souk::eval {

bool IsColdItemToken(std::string_view item_id_token) { return Fnv1a64(item_id_token) % 10 == 0; }

bool IsColdItem(int64_t item_id) { return IsColdItemToken(std::to_string(item_id)); }

int FoldOfQuery(std::string_view query, int k) {
  return static_cast<int>(Fnv1a64(query) % static_cast<uint64_t>(std::max(k, 1)));
}

LeaveOneOut SplitLeaveOneOut(std::span<const int32_t> sequence) {
  LeaveOneOut s;
  const size_t n = sequence.size();
  if (n == 0) return s;
  s.test = sequence[n - 1];
  s.history_before_test = sequence.first(n - 1);
  if (n >= 2) {
    s.valid = sequence[n - 2];
    s.train = sequence.first(n - 2);
    s.history_before_valid = s.train;
  }
  return s;
}

StatusOr<std::vector<bool>> SplitByTimeFraction(std::span<const int64_t> start_times,
                                                double train_fraction) {
  if (!(train_fraction >= 0.0 && train_fraction <= 1.0)) {
    return InvalidArgumentError(
        fmt::format("train fraction must be in [0, 1], got {}", train_fraction));
  }
  std::vector<size_t> order(start_times.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return start_times[a] < start_times[b]; });
  const auto n_train =
      static_cast<size_t>(std::floor(train_fraction * static_cast<double>(start_times.size())));
  std::vector<bool> is_train(start_times.size(), false);
  for (size_t i = 0; i < n_train; ++i) is_train[order[i]] = true;
  return is_train;
}

StatusOr<int64_t> SplitByOrder(int64_t n, double train_fraction) {
  if (!(train_fraction >= 0.0 && train_fraction <= 1.0)) {
    return InvalidArgumentError(
        fmt::format("train fraction must be in [0, 1], got {}", train_fraction));
  }
  if (n < 0) return InvalidArgumentError(fmt::format("row count must be >= 0, got {}", n));
  return static_cast<int64_t>(std::floor(train_fraction * static_cast<double>(n)));
}

namespace {

// Parses exactly `width` decimal digits at text[pos].
bool ParseFixed(std::string_view text, size_t pos, size_t width, int* out) {
  if (pos + width > text.size()) return false;
  for (size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  auto r = std::from_chars(text.data() + pos, text.data() + pos + width, *out);
  return r.ec == std::errc();
}

}  // namespace

StatusOr<int64_t> ParseDate(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !ParseFixed(text, 0, 4, &y) ||
      !ParseFixed(text, 5, 2, &m) || !ParseFixed(text, 8, 2, &d)) {
    return InvalidArgumentError(fmt::format("date '{}' is not YYYY-MM-DD", text));
  }
  auto days = DaysFromCivilChecked(y, m, d);
  if (!days) return InvalidArgumentError(fmt::format("date '{}' is not a calendar date", text));
  return *days * 86400;
}

StatusOr<int64_t> ParseDateTime(std::string_view text) {
  if (text.size() < 16 || (text[10] != ' ' && text[10] != 'T')) {
    return InvalidArgumentError(fmt::format("time '{}' is not YYYY-MM-DD hh:mm[:ss]", text));
  }
  auto date = ParseDate(text.substr(0, 10));
  if (!date.ok()) return InvalidArgumentError(fmt::format("time '{}' has a bad date", text));
  int hh = 0, mm = 0, ss = 0;
  bool ok = ParseFixed(text, 11, 2, &hh) && text[13] == ':' && ParseFixed(text, 14, 2, &mm);
  if (ok && text.size() != 16) {
    ok = text.size() == 19 && text[16] == ':' && ParseFixed(text, 17, 2, &ss);
  }
  if (!ok || hh > 23 || mm > 59 || ss > 60) {
    return InvalidArgumentError(fmt::format("time '{}' is not YYYY-MM-DD hh:mm[:ss]", text));
  }
  return *date + hh * 3600 + mm * 60 + ss;
}

std::string FormatDate(int64_t unix_seconds) { return FormatTimestampMs(unix_seconds * 1000).substr(0, 10); }

StatusOr<CutoffWindow> CutoffWindow::FromDate(std::string_view date, int window_days) {
  if (window_days < 1) {
    return InvalidArgumentError(fmt::format("target window must be >= 1 day, got {}", window_days));
  }
  ASSIGN_OR_RETURN(int64_t t, ParseDate(date));
  return CutoffWindow(t, window_days);
}

}  // namespace souk::eval
