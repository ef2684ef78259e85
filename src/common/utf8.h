// UTF-8 helpers without ICU: validation (the readers, the text module, the
// fuzzers) and cutting text to a byte budget at a character boundary.
#pragma once

#include <cstddef>
#include <string_view>

namespace souk {

// Returns the offset of the first byte of the first invalid UTF-8 sequence in
// `text`, or std::string_view::npos when `text` is entirely valid UTF-8.
// Invalid means (RFC 3629): a stray continuation byte, a truncated sequence,
// an overlong encoding, a surrogate (U+D800..U+DFFF), or a code point above
// U+10FFFF. Cost: O(n), with an 8-bytes-at-a-time fast path for ASCII.
// Thread-safe (pure function).
size_t ValidateUtf8(std::string_view text);

inline bool IsValidUtf8(std::string_view text) {
  return ValidateUtf8(text) == std::string_view::npos;
}

// The longest prefix of `text` of at most `max_bytes` bytes that does not end
// inside a multi-byte character (for quoting values in messages and keeping
// bounded raw records).
std::string_view Utf8Prefix(std::string_view text, size_t max_bytes);

}  // namespace souk
