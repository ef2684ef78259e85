#include "registry/schedule.h"

#include <fmt/format.h>

#include <cctype>
#include <limits>

namespace souk::registry {
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr std::string_view kAcceptedForms =
    "accepted: \"off\", \"every <N>m\", \"every <N>h\", \"every <N>d\" (at least 1 minute), "
    "\"hourly\", \"daily HH:MM\" (UTC), \"nightly\" (= daily 03:00)";

Status BadSpec(std::string_view spec, std::string_view why) {
  return InvalidArgumentError(fmt::format("schedule \"{}\": {}; {}", spec, why, kAcceptedForms));
}

std::string Normalize(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string out;
  bool space = false;
  for (size_t i = b; i < e; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c)) {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(std::tolower(c)));
  }
  return out;
}

// Parses a run of decimal digits into a non-negative integer (no sign, no overflow).
std::optional<int64_t> ParseDigits(std::string_view s) {
  if (s.empty() || s.size() > 12) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

StatusOr<Schedule> Schedule::Parse(std::string_view spec) {
  const std::string s = Normalize(spec);
  Schedule out;
  if (s.empty() || s == "off" || s == "never") return out;
  if (s == "hourly") return Parse("every 1h");
  if (s == "nightly") return Parse("daily 03:00");
  if (s.rfind("every ", 0) == 0) {
    std::string_view rest = std::string_view(s).substr(6);
    // Allow "every 30 m" as well as "every 30m".
    std::string compact;
    for (char c : rest) {
      if (c != ' ') compact.push_back(c);
    }
    if (compact.size() < 2) return BadSpec(spec, "expected a number and a unit (m, h, d)");
    const char unit = compact.back();
    int64_t unit_ms = 0;
    switch (unit) {
      case 'm':
        unit_ms = kMinuteMs;
        break;
      case 'h':
        unit_ms = kHourMs;
        break;
      case 'd':
        unit_ms = kDayMs;
        break;
      default:
        return BadSpec(spec, fmt::format("unknown unit '{}' (use m, h or d)", unit));
    }
    const std::optional<int64_t> n =
        ParseDigits(std::string_view(compact).substr(0, compact.size() - 1));
    if (!n) return BadSpec(spec, "the interval must be a whole number");
    if (*n < 1) return BadSpec(spec, "the interval must be at least 1 minute");
    if (*n > std::numeric_limits<int64_t>::max() / unit_ms / 4)
      return BadSpec(spec, "the interval is too large");
    out.kind_ = Kind::kEvery;
    out.interval_ms_ = *n * unit_ms;
    return out;
  }
  if (s.rfind("daily", 0) == 0) {
    std::string_view rest = std::string_view(s).substr(5);
    if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) return BadSpec(spec, "\"daily\" needs a time of day HH:MM (UTC)");
    const size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return BadSpec(spec, "the time of day must be HH:MM");
    const auto hh = ParseDigits(rest.substr(0, colon));
    const auto mm = ParseDigits(rest.substr(colon + 1));
    if (!hh || !mm || rest.substr(colon + 1).size() != 2 || colon > 2) {
      return BadSpec(spec, "the time of day must be HH:MM");
    }
    if (*hh > 23 || *mm > 59) return BadSpec(spec, "the time of day must lie in 00:00..23:59");
    out.kind_ = Kind::kDaily;
    out.minute_of_day_ = static_cast<int>(*hh * 60 + *mm);
    return out;
  }
  return BadSpec(spec, "not a schedule");
}

std::optional<int64_t> Schedule::Next(int64_t after_ms) const {
  switch (kind_) {
    case Kind::kOff:
      return std::nullopt;
    case Kind::kEvery:
      return FloorDiv(after_ms, interval_ms_) * interval_ms_ + interval_ms_;
    case Kind::kDaily: {
      const int64_t day_start = FloorDiv(after_ms, kDayMs) * kDayMs;
      const int64_t today = day_start + minute_of_day_ * kMinuteMs;
      return today > after_ms ? today : today + kDayMs;
    }
  }
  return std::nullopt;
}

std::string Schedule::ToString() const {
  switch (kind_) {
    case Kind::kOff:
      return "off";
    case Kind::kEvery:
      if (interval_ms_ % kDayMs == 0) return fmt::format("every {}d", interval_ms_ / kDayMs);
      if (interval_ms_ % kHourMs == 0) return fmt::format("every {}h", interval_ms_ / kHourMs);
      return fmt::format("every {}m", interval_ms_ / kMinuteMs);
    case Kind::kDaily:
      return fmt::format("daily {:02d}:{:02d}", minute_of_day_ / 60, minute_of_day_ % 60);
  }
  return "off";
}

}  // namespace souk::registry
