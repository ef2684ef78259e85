// SHA-256 digests (through OpenSSL's libcrypto), for verifying downloaded model
// weights against published sizes and hashes, and for content-addressed caches.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace souk {

// Incremental hasher: Update() any number of times, then HexDigest() once.
// Not thread-safe; cheap to create. Resumed downloads feed the bytes already on
// disk first, then the new ones.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // Lower-case hex of the 32-byte digest. Ends the computation: later Update()
  // or HexDigest() calls start a fresh digest.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Hex SHA-256 of a string.
std::string Sha256Hex(std::string_view data);

// Hex SHA-256 of a file's bytes, read in 1 MiB blocks.
// Errors: NotFound / Unavailable naming the file.
StatusOr<std::string> Sha256File(const std::filesystem::path& path);

}  // namespace souk
