// Small UTF-8 helpers shared by the text module: decoding with U+FFFD
// substitution (keeping byte spans), encoding, and validity checks.
//
// Thread-safety: pure functions; safe from any thread. Cost: linear in input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/utf8.h"  // IsValidUtf8, ValidateUtf8

namespace souk::text {

// One decoded code point and the bytes [begin, end) of the input it came from.
// An ill-formed sequence (maximal subpart, per Unicode's U+FFFD practice)
// decodes to U+FFFD spanning exactly the bytes it replaced.
struct CodePoint {
  char32_t cp = 0;
  uint32_t begin = 0;
  uint32_t end = 0;
};

// Decodes `text` (possibly ill-formed UTF-8) into code points with byte spans.
std::vector<CodePoint> DecodeUtf8(std::string_view text);

// Appends the UTF-8 encoding of `cp` to `out` (surrogates and values above
// U+10FFFF are written as U+FFFD).
void AppendUtf8(char32_t cp, std::string& out);

// True when `text` is well-formed UTF-8 (no surrogates, no overlongs).


// Returns `text` with every ill-formed sequence replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view text);

}  // namespace souk::text
