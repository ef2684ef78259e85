#include "store/types.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace souk::store {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

void Mix(uint64_t& h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  h ^= 0xff;  // field separator so ("ab","c") != ("a","bc")
  h *= kFnvPrime;
}

void Mix(uint64_t& h, const std::optional<double>& v) {
  if (!v) {
    Mix(h, std::string_view("\x01null", 5));
    return;
  }
  double d = *v;
  if (d == 0) d = 0;  // -0 == 0
  char buf[sizeof(double)];
  std::memcpy(buf, &d, sizeof d);
  Mix(h, std::string_view(buf, sizeof buf));
}

}  // namespace

std::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kImpression: return "impression";
    case EventType::kView: return "view";
    case EventType::kClick: return "click";
    case EventType::kAddToCart: return "add_to_cart";
    case EventType::kRemoveFromCart: return "remove_from_cart";
    case EventType::kPurchase: return "purchase";
    case EventType::kRating: return "rating";
    case EventType::kSearch: return "search";
    case EventType::kReturn: return "return";
  }
  return "unknown";
}

std::optional<EventType> ParseEventType(std::string_view s) {
  std::string l;
  l.reserve(s.size());
  for (char c : s) l.push_back(c == '-' || c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "impression") return EventType::kImpression;
  if (l == "view" || l == "detail_page_view" || l == "page_view") return EventType::kView;
  if (l == "click") return EventType::kClick;
  if (l == "add_to_cart" || l == "cart" || l == "addtocart") return EventType::kAddToCart;
  if (l == "remove_from_cart" || l == "remove_from_carts" || l == "removefromcart") return EventType::kRemoveFromCart;
  if (l == "purchase" || l == "transaction" || l == "buy") return EventType::kPurchase;
  if (l == "rating" || l == "rate") return EventType::kRating;
  if (l == "search") return EventType::kSearch;
  if (l == "return" || l == "cancel" || l == "refund") return EventType::kReturn;
  return std::nullopt;
}

uint64_t Item::ContentHash() const {
  uint64_t h = kFnvOffset;
  for (auto* s : {&external_id, &title, &description, &brand, &category, &currency,
                  &attributes_json, &images_json, &language}) {
    Mix(h, *s);
  }
  Mix(h, price);
  Mix(h, in_stock ? std::optional<double>(*in_stock ? 1.0 : 0.0) : std::nullopt);
  Mix(h, std::optional<double>(is_stub ? 1.0 : 0.0));
  return h;
}

uint64_t Event::ContentHash() const {
  uint64_t h = kFnvOffset;
  for (auto* s : {&user_id, &session_id, &item_id, &query, &context_json}) Mix(h, *s);
  Mix(h, std::optional<double>(static_cast<double>(type)));
  Mix(h, value);
  Mix(h, quantity);
  Mix(h, price);
  Mix(h, std::optional<double>(static_cast<double>(timestamp_ms)));
  return h;
}

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

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's algorithm.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

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
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const int64_t rem = ms - secs * 1000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  if (rem) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(rem));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return buf;
}

}  // namespace souk::store
