#include "common/sha256.h"

#include <openssl/evp.h>

#include <fstream>
#include <vector>

namespace souk {

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
  bool started = false;
  State() : ctx(EVP_MD_CTX_new()) {}
  ~State() { EVP_MD_CTX_free(ctx); }
  void Start() {
    if (!started) {
      EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
      started = true;
    }
  }
};

Sha256::Sha256() : state_(std::make_unique<State>()) {}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(const void* data, size_t size) {
  state_->Start();
  if (size > 0) EVP_DigestUpdate(state_->ctx, data, size);
}

std::string Sha256::HexDigest() {
  state_->Start();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, digest, &len);
  state_->started = false;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * len, '0');
  for (unsigned int i = 0; i < len; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 15];
  }
  return hex;
}

std::string Sha256Hex(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.HexDigest();
}

StatusOr<std::string> Sha256File(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return NotFoundError("no such file: " + path.string());
    return UnavailableError("cannot open " + path.string());
  }
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.Update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return UnavailableError("read error in " + path.string());
  return h.HexDigest();
}

}  // namespace souk
