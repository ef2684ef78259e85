#include "common/time.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>

namespace souk {

namespace {

bool ParseInt(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> DaysFromCivilChecked(int y, int m, int d) {
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::optional<int64_t> ParseTimestampMs(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  // Epoch seconds (<= 10 digits) or milliseconds (13 digits), optional fraction.
  bool all_digits = true;
  for (char c : s) all_digits &= std::isdigit(static_cast<unsigned char>(c)) != 0;
  if (all_digits) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc()) return std::nullopt;
    if (s.size() <= 10) return v * 1000;
    if (s.size() == 13) return v;
    return std::nullopt;
  }
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') {
    // M/D/YYYY H:MM (UCI Online Retail original format)
    unsigned mm = 0, dd = 0, yy = 0, hh = 0, mn = 0;
    int consumed = 0;
    std::string tmp(s);
    if (std::sscanf(tmp.c_str(), "%u/%u/%u %u:%u%n", &mm, &dd, &yy, &hh, &mn, &consumed) == 5 &&
        consumed == static_cast<int>(tmp.size()) && mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31 &&
        hh < 24 && mn < 60 && yy >= 1000) {
      return (DaysFromCivil(yy, mm, dd) * 86400 + hh * 3600 + mn * 60) * 1000;
    }
    return std::nullopt;
  }
  if (!ParseInt(s, 0, 4, &y) || !ParseInt(s, 5, 2, &mo) || !ParseInt(s, 8, 2, &d)) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  size_t pos = 10;
  int64_t frac_ms = 0;
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != ' ') return std::nullopt;
    ++pos;
    if (!ParseInt(s, pos, 2, &h) || pos + 2 >= s.size() || s[pos + 2] != ':' ||
        !ParseInt(s, pos + 3, 2, &mi)) {
      return std::nullopt;
    }
    pos += 5;
    if (pos < s.size() && s[pos] == ':') {
      if (!ParseInt(s, pos + 1, 2, &sec)) return std::nullopt;
      pos += 3;
    }
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      int digits = 0;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        if (digits < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (int i = digits; i < 3; ++i) frac_ms *= 10;
    }
    std::string_view rest = s.substr(pos);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest == "Z" || rest == "UTC" || rest.empty()) {
    } else if ((rest[0] == '+' || rest[0] == '-') && (rest.size() == 6 || rest.size() == 5 || rest.size() == 3)) {
      int oh = 0, om = 0;
      if (!ParseInt(rest, 1, 2, &oh)) return std::nullopt;
      if (rest.size() == 6) {
        if (rest[3] != ':' || !ParseInt(rest, 4, 2, &om)) return std::nullopt;
      } else if (rest.size() == 5) {
        if (!ParseInt(rest, 3, 2, &om)) return std::nullopt;
      }
      offset_s = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
    } else {
      return std::nullopt;
    }
  }
  if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * 1000 + frac_ms;
}

std::string FormatTimestampMs(int64_t ms) {
  const int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const int64_t rem = ms - secs * 1000;
  const int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const int64_t sod = secs - days * 86400;
  // Civil date from days since 1970-01-01 (proleptic Gregorian, 400-year eras).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[64];
  if (rem) {
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y),
                  static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(sod / 3600),
                  static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60), static_cast<long long>(rem));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", static_cast<long long>(y),
                  static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(sod / 3600),
                  static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60));
  }
  return buf;
}

}  // namespace souk
