// Quantities: numbers with units found in normalized shop text ("500ml",
// "1,5 kg", "12 oz", "3斤", "2.5 inch") converted to a base unit per dimension
// (volume -> ml, mass -> g, length -> cm) and given one canonical token, so
// that "5 L", "5l" and "5000 ml" index and match as the same term "5000ml".
//
// Input is the output of Normalizer (half-width, lower case); ASCII unit names
// are matched case-insensitively anyway. Numbers use '.' or a decimal comma
// ("1,5"); a comma followed by exactly three digits is a thousands separator
// ("1,500 ml" = 1500 ml). Plain numbers with thousands separators ("12,000")
// are reported with Dimension::kNone and canonical "12000".
//
// Thread-safety: pure functions. Cost: linear in the text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace souk::text {

enum class Dimension {
  kNone,    // a plain number (only reported when it has thousands separators)
  kVolume,  // base unit ml
  kMass,    // base unit g
  kLength,  // base unit cm
};

std::string_view DimensionName(Dimension d);

struct Quantity {
  double value = 0;                   // in the base unit of `dimension`
  Dimension dimension = Dimension::kNone;
  std::string canonical;              // e.g. "5000ml", "340.2g", "91.44cm", "12000"
  uint32_t begin = 0;                 // byte span of number + unit in the text
  uint32_t end = 0;
};

// All quantities in `normalized_text`, in order, non-overlapping.
std::vector<Quantity> ExtractQuantities(std::string_view normalized_text);

// Canonical token of a value already in the base unit: at most 4 significant
// digits after the integer part is written out, trailing zeros dropped
// (340.1943 g -> "340.2g", 6.35 cm -> "6.35cm", 1500 g -> "1500g").
std::string CanonicalQuantity(double value, Dimension dimension);

}  // namespace souk::text
