#include "ingest/parse.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace souk::ingest {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::optional<double> ParseNumber(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string NormalizeNumericId(std::string_view s) {
  s = Trim(s);
  if (s.size() > 2 && s.substr(s.size() - 2) == ".0") {
    bool digits = true;
    for (char c : s.substr(0, s.size() - 2)) digits &= (c >= '0' && c <= '9');
    if (digits) return std::string(s.substr(0, s.size() - 2));
  }
  return std::string(s);
}

std::string JsonQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

bool HashSet64::Insert(uint64_t h) {
  if (h == 0) {
    if (has_zero_) return false;
    has_zero_ = true;
    ++size_;
    return true;
  }
  if ((size_ + 1) * 10 >= capacity_ * 7) Grow();
  size_t mask = capacity_ - 1;
  size_t i = (h * 0x9E3779B97F4A7C15ULL) >> 7 & mask;
  for (;;) {
    if (slots_[i] == 0) {
      slots_[i] = h;
      ++size_;
      return true;
    }
    if (slots_[i] == h) return false;
    i = (i + 1) & mask;
  }
}

void HashSet64::Grow() {
  size_t cap = capacity_ ? capacity_ * 2 : 1024;
  std::unique_ptr<uint64_t[]> next(new uint64_t[cap]());
  size_t mask = cap - 1;
  for (size_t k = 0; k < capacity_; ++k) {
    uint64_t h = slots_[k];
    if (!h) continue;
    size_t i = (h * 0x9E3779B97F4A7C15ULL) >> 7 & mask;
    while (next[i]) i = (i + 1) & mask;
    next[i] = h;
  }
  slots_ = std::move(next);
  capacity_ = cap;
}

void HashSet64::Clear() {
  slots_.reset();
  capacity_ = 0;
  size_ = 0;
  has_zero_ = false;
}

}  // namespace souk::ingest
