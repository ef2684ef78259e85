// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3): the
// one non-cryptographic hash used for deterministic splits, file checksums and
// content fingerprints. Not for security (use sha256.h).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace souk {

inline constexpr uint64_t kFnv1a64Offset = 0xcbf29ce484222325ULL;
inline constexpr uint64_t kFnv1a64Prime = 0x100000001b3ULL;

// Continues the hash `h` over n bytes at `data` (start with kFnv1a64Offset).
inline uint64_t Fnv1a64(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= kFnv1a64Prime;
  }
  return h;
}

// The hash of the bytes of `data`.
inline uint64_t Fnv1a64(std::string_view data) {
  return Fnv1a64(kFnv1a64Offset, data.data(), data.size());
}

}  // namespace souk
