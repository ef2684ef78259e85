#include "text/quantity.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace souk::text {
namespace {

struct UnitDef {
  std::string_view name;  // lower-case spelling as it appears after the number
  Dimension dimension;
  double factor;          // base units per unit
  bool attached_only;     // must follow the number directly (no space)
};

constexpr double kOunceG = 28.349523125;
constexpr double kFluidOunceMl = 29.5735295625;

// Longest spelling wins, so order does not matter.
constexpr UnitDef kUnits[] = {
    // volume
    {"ml", Dimension::kVolume, 1, false},
    {"mls", Dimension::kVolume, 1, false},
    {"milliliter", Dimension::kVolume, 1, false},
    {"milliliters", Dimension::kVolume, 1, false},
    {"millilitre", Dimension::kVolume, 1, false},
    {"millilitres", Dimension::kVolume, 1, false},
    {"cl", Dimension::kVolume, 10, false},
    {"dl", Dimension::kVolume, 100, false},
    {"l", Dimension::kVolume, 1000, false},
    {"ltr", Dimension::kVolume, 1000, false},
    {"liter", Dimension::kVolume, 1000, false},
    {"liters", Dimension::kVolume, 1000, false},
    {"litre", Dimension::kVolume, 1000, false},
    {"litres", Dimension::kVolume, 1000, false},
    {"fl oz", Dimension::kVolume, kFluidOunceMl, false},
    {"fl. oz", Dimension::kVolume, kFluidOunceMl, false},
    {"fl. oz.", Dimension::kVolume, kFluidOunceMl, false},
    {"fl oz.", Dimension::kVolume, kFluidOunceMl, false},
    {"floz", Dimension::kVolume, kFluidOunceMl, false},
    {"gal", Dimension::kVolume, 3785.411784, false},
    {"gal.", Dimension::kVolume, 3785.411784, false},
    {"gallon", Dimension::kVolume, 3785.411784, false},
    {"gallons", Dimension::kVolume, 3785.411784, false},
    {"qt", Dimension::kVolume, 946.352946, false},
    {"qt.", Dimension::kVolume, 946.352946, false},
    {"quart", Dimension::kVolume, 946.352946, false},
    {"quarts", Dimension::kVolume, 946.352946, false},
    {"毫升", Dimension::kVolume, 1, false},
    {"升", Dimension::kVolume, 1000, false},
    {"公升", Dimension::kVolume, 1000, false},
    // mass
    {"mg", Dimension::kMass, 0.001, false},
    {"g", Dimension::kMass, 1, false},
    {"gr", Dimension::kMass, 1, false},
    {"gram", Dimension::kMass, 1, false},
    {"grams", Dimension::kMass, 1, false},
    {"gramme", Dimension::kMass, 1, false},
    {"grammes", Dimension::kMass, 1, false},
    {"kg", Dimension::kMass, 1000, false},
    {"kgs", Dimension::kMass, 1000, false},
    {"kilo", Dimension::kMass, 1000, false},
    {"kilos", Dimension::kMass, 1000, false},
    {"kilogram", Dimension::kMass, 1000, false},
    {"kilograms", Dimension::kMass, 1000, false},
    {"oz", Dimension::kMass, kOunceG, false},
    {"oz.", Dimension::kMass, kOunceG, false},
    {"ounce", Dimension::kMass, kOunceG, false},
    {"ounces", Dimension::kMass, kOunceG, false},
    {"lb", Dimension::kMass, 453.59237, false},
    {"lb.", Dimension::kMass, 453.59237, false},
    {"lbs", Dimension::kMass, 453.59237, false},
    {"lbs.", Dimension::kMass, 453.59237, false},
    {"pound", Dimension::kMass, 453.59237, false},
    {"pounds", Dimension::kMass, 453.59237, false},
    {"毫克", Dimension::kMass, 0.001, false},
    {"克", Dimension::kMass, 1, false},
    {"千克", Dimension::kMass, 1000, false},
    {"公斤", Dimension::kMass, 1000, false},
    {"斤", Dimension::kMass, 500, false},
    // length
    {"mm", Dimension::kLength, 0.1, false},
    {"cm", Dimension::kLength, 1, false},
    {"m", Dimension::kLength, 100, false},
    {"meter", Dimension::kLength, 100, false},
    {"meters", Dimension::kLength, 100, false},
    {"metre", Dimension::kLength, 100, false},
    {"metres", Dimension::kLength, 100, false},
    {"km", Dimension::kLength, 100000, false},
    {"in", Dimension::kLength, 2.54, true},  // "3 in 1" is not a length
    {"in.", Dimension::kLength, 2.54, false},
    {"inch", Dimension::kLength, 2.54, false},
    {"inches", Dimension::kLength, 2.54, false},
    {"\"", Dimension::kLength, 2.54, true},
    {"ft", Dimension::kLength, 30.48, false},
    {"ft.", Dimension::kLength, 30.48, false},
    {"foot", Dimension::kLength, 30.48, false},
    {"feet", Dimension::kLength, 30.48, false},
    {"'", Dimension::kLength, 30.48, true},
    {"yd", Dimension::kLength, 91.44, false},
    {"yd.", Dimension::kLength, 91.44, false},
    {"yard", Dimension::kLength, 91.44, false},
    {"yards", Dimension::kLength, 91.44, false},
    {"毫米", Dimension::kLength, 0.1, false},
    {"厘米", Dimension::kLength, 1, false},
    {"公分", Dimension::kLength, 1, false},
    {"米", Dimension::kLength, 100, false},
    {"千米", Dimension::kLength, 100000, false},
    {"公里", Dimension::kLength, 100000, false},
    {"英寸", Dimension::kLength, 2.54, false},
};

constexpr size_t kMaxDigits = 15;  // longer digit runs are not quantities

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiAlnum(char c) { return IsDigit(c) || IsAsciiLetter(c); }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

size_t DigitRun(std::string_view s, size_t pos) {
  size_t n = 0;
  while (pos + n < s.size() && IsDigit(s[pos + n])) ++n;
  return n;
}

struct ParsedNumber {
  double value = 0;
  size_t end = 0;            // byte just past the number
  bool has_thousands = false;
};

// Parses the number starting at `pos` (a digit). Returns nullopt when the digit
// run is unreasonably long.
std::optional<ParsedNumber> ParseNumber(std::string_view s, size_t pos) {
  std::string digits;  // cleaned "1234.5"
  size_t i = pos;
  size_t n = DigitRun(s, i);
  if (n > kMaxDigits) return std::nullopt;
  digits.append(s.substr(i, n));
  i += n;
  ParsedNumber out;
  // Thousands groups: ",ddd" not followed by another digit, after 1-3 leading digits.
  if (n <= 3) {
    while (i + 3 < s.size() && s[i] == ',' && DigitRun(s, i + 1) == 3 &&
           digits.size() + 3 <= kMaxDigits) {
      digits.append(s.substr(i + 1, 3));
      i += 4;
      out.has_thousands = true;
    }
  }
  // Fractions: "3/4" and mixed "1-1/2" (Home Depot style).
  if (!out.has_thousands) {
    size_t k = i;
    std::string whole;
    if (k + 1 < s.size() && s[k] == '-' && IsDigit(s[k + 1])) {
      whole = digits;
      ++k;
    }
    const size_t num_len = whole.empty() ? 0 : DigitRun(s, k);
    const size_t slash = k + num_len;
    const size_t den_len = slash < s.size() && s[slash] == '/' ? DigitRun(s, slash + 1) : 0;
    if (den_len > 0 && den_len <= 4 && num_len <= 4) {
      const std::string_view num = whole.empty() ? std::string_view(digits) : s.substr(k, num_len);
      double a = 0, b = 0, w = 0;
      std::from_chars(num.data(), num.data() + num.size(), a);
      std::from_chars(s.data() + slash + 1, s.data() + slash + 1 + den_len, b);
      if (!whole.empty()) std::from_chars(whole.data(), whole.data() + whole.size(), w);
      if (b > 0 && (whole.empty() || num_len > 0)) {
        out.value = w + a / b;
        out.end = slash + 1 + den_len;
        return out;
      }
    }
  }
  // Decimal part: ".d+" or (without thousands groups) ",d" / ",dd".
  if (i + 1 < s.size() && (s[i] == '.' || s[i] == ',') && IsDigit(s[i + 1])) {
    const size_t frac = DigitRun(s, i + 1);
    const bool comma = s[i] == ',';
    if (!comma || (!out.has_thousands && frac <= 2)) {
      if (frac > kMaxDigits) return std::nullopt;
      digits.push_back('.');
      digits.append(s.substr(i + 1, frac));
      i += 1 + frac;
    }
  }
  double value = 0;
  const auto res = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (res.ec != std::errc()) return std::nullopt;
  out.value = value;
  out.end = i;
  return out;
}

// Matches the longest unit at `pos`; returns the unit and the byte after it.
const UnitDef* MatchUnit(std::string_view s, size_t pos, bool attached, size_t* unit_end) {
  const UnitDef* best = nullptr;
  size_t best_len = 0;
  for (const UnitDef& u : kUnits) {
    if (u.name.size() <= best_len || pos + u.name.size() > s.size()) continue;
    if (u.attached_only && !attached) continue;
    bool eq = true;
    for (size_t k = 0; k < u.name.size(); ++k) {
      if (Lower(s[pos + k]) != u.name[k]) {
        eq = false;
        break;
      }
    }
    if (!eq) continue;
    // An ASCII unit must not run on into a word ("5 gb", "3 inside"); "10cmx20cm"
    // and "5kg*2" are fine.
    const size_t after = pos + u.name.size();
    if (IsAsciiAlnum(u.name.back()) && after < s.size() && IsAsciiAlnum(s[after])) {
      const bool multiplier = (Lower(s[after]) == 'x') &&
                              (after + 1 >= s.size() || IsDigit(s[after + 1]));
      if (!multiplier) continue;
    }
    best = &u;
    best_len = u.name.size();
  }
  if (best != nullptr) *unit_end = pos + best_len;
  return best;
}

}  // namespace

std::string_view DimensionName(Dimension d) {
  switch (d) {
    case Dimension::kNone: return "none";
    case Dimension::kVolume: return "volume";
    case Dimension::kMass: return "mass";
    case Dimension::kLength: return "length";
  }
  return "unknown";
}

std::string CanonicalQuantity(double value, Dimension dimension) {
  int decimals = 0;
  const double magnitude = std::fabs(value);
  if (magnitude >= 1) {
    const int int_digits = static_cast<int>(std::floor(std::log10(magnitude))) + 1;
    decimals = std::clamp(4 - int_digits, 0, 3);
  } else if (magnitude > 0) {
    decimals = std::clamp(3 - static_cast<int>(std::floor(std::log10(magnitude))), 0, 9);
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  std::string s(buf);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  switch (dimension) {
    case Dimension::kNone: break;
    case Dimension::kVolume: s += "ml"; break;
    case Dimension::kMass: s += "g"; break;
    case Dimension::kLength: s += "cm"; break;
  }
  return s;
}

std::vector<Quantity> ExtractQuantities(std::string_view s) {
  std::vector<Quantity> out;
  size_t i = 0;
  while (i < s.size()) {
    if (!IsDigit(s[i])) {
      ++i;
      continue;
    }
    // A number glued to a preceding ASCII word ("mate60", "p40") is a model code.
    // "10x20cm" / "10cmx20cm": a number after a dimension separator 'x' is fine.
    const bool after_times = i >= 2 && Lower(s[i - 1]) == 'x' &&
                             (IsDigit(s[i - 2]) || (!out.empty() && out.back().end == i - 1));
    if (i > 0 && !after_times &&
        (IsAsciiLetter(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == ',' || s[i - 1] == '/')) {
      while (i < s.size() && (IsAsciiAlnum(s[i]) || s[i] == '.' || s[i] == ',' || s[i] == '/')) {
        ++i;
      }
      continue;
    }
    const std::optional<ParsedNumber> number = ParseNumber(s, i);
    if (!number) {
      while (i < s.size() && IsDigit(s[i])) ++i;
      continue;
    }
    size_t j = number->end;
    bool attached = true;
    if (j < s.size() && (s[j] == ' ' || s[j] == '-')) {
      ++j;
      attached = false;
    }
    size_t unit_end = 0;
    const UnitDef* unit = (j < s.size()) ? MatchUnit(s, j, attached, &unit_end) : nullptr;
    // A number must not continue into letters/digits unless a unit consumed them.
    if (unit != nullptr) {
      Quantity q;
      q.value = number->value * unit->factor;
      q.dimension = unit->dimension;
      q.canonical = CanonicalQuantity(q.value, q.dimension);
      q.begin = static_cast<uint32_t>(i);
      q.end = static_cast<uint32_t>(unit_end);
      out.push_back(std::move(q));
      i = unit_end;
      continue;
    }
    const bool glued = number->end < s.size() && IsAsciiAlnum(s[number->end]);
    if (number->has_thousands && !glued) {
      Quantity q;
      q.value = number->value;
      q.dimension = Dimension::kNone;
      q.canonical = CanonicalQuantity(q.value, Dimension::kNone);
      q.begin = static_cast<uint32_t>(i);
      q.end = static_cast<uint32_t>(number->end);
      out.push_back(std::move(q));
    }
    i = number->end;
  }
  return out;
}

}  // namespace souk::text
