#include "server/api_keys.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/file.h"
#include "server/privacy.h"

namespace souk::server {

// ---------------------------------------------------------------------------------------
// Scopes

StatusOr<Scope> ParseScope(std::string_view s) {
  if (s == "search") return Scope::kSearch;
  if (s == "ingest") return Scope::kIngest;
  if (s == "admin") return Scope::kAdmin;
  return InvalidArgumentError(
      fmt::format("unknown scope \"{}\": expected search, ingest or admin", s));
}

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kSearch: return "search";
    case Scope::kIngest: return "ingest";
    case Scope::kAdmin: return "admin";
  }
  return "search";
}

bool ScopeAllows(Scope have, Scope need) { return have == Scope::kAdmin || have == need; }

// ---------------------------------------------------------------------------------------
// Key format and digests

namespace {

constexpr std::string_view kKeyPrefix = "sk_";
constexpr size_t kIdChars = 12;
constexpr size_t kSecretBytes = 32;
constexpr size_t kSecretChars = 43;  // base64url of 32 bytes, no padding
constexpr size_t kKeyChars = 3 + kIdChars + 1 + kSecretChars;
constexpr size_t kMaxNameBytes = 200;
constexpr int kFileVersion = 1;

using Digest = std::array<unsigned char, 32>;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsBase64Url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_';
}

std::string Base64UrlNoPad(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = byte(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

Digest Sha256Of(std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

bool DecodeHexDigest(std::string_view hex, Digest* out) {
  if (hex.size() != 64 || !IsLowerHex(hex)) return false;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i < 32; ++i) {
    (*out)[i] = static_cast<unsigned char>(nibble(hex[2 * i]) * 16 + nibble(hex[2 * i + 1]));
  }
  return true;
}

// The id of a well-formed "sk_<12 hex>_<43 base64url>" key; nullopt when malformed.
std::optional<std::string_view> KeyId(std::string_view key) {
  if (key.size() != kKeyChars || key.substr(0, kKeyPrefix.size()) != kKeyPrefix) {
    return std::nullopt;
  }
  const std::string_view id = key.substr(kKeyPrefix.size(), kIdChars);
  if (!IsLowerHex(id) || key[kKeyPrefix.size() + kIdChars] != '_') return std::nullopt;
  for (char c : key.substr(kKeyPrefix.size() + kIdChars + 1)) {
    if (!IsBase64Url(c)) return std::nullopt;
  }
  return id;
}

struct Record {
  ApiKeyInfo info;
  Digest digest{};
};

// What identifies one version of the key file on disk.
struct FileSignature {
  bool exists = false;
  int64_t mtime_ns = 0;
  int64_t size = 0;
  uint64_t inode = 0;
  bool operator==(const FileSignature&) const = default;
};

FileSignature StatFile(const std::filesystem::path& file) {
  struct stat st {};
  FileSignature sig;
  if (::stat(file.c_str(), &st) != 0) return sig;
  sig.exists = true;
  sig.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  sig.size = static_cast<int64_t>(st.st_size);
  sig.inode = static_cast<uint64_t>(st.st_ino);
  return sig;
}

// --- the key file ---

Status Damaged(const std::filesystem::path& file, std::string_view what) {
  return DataLossError(fmt::format("{}: damaged key file: {}", file.string(), what));
}

StatusOr<std::vector<Record>> ParseKeyFile(const std::filesystem::path& file,
                                           const std::string& text) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Damaged(file, fmt::format("not valid JSON ({})", e.what()));
  }
  if (!doc.is_object()) return Damaged(file, "the top level is not a JSON object");
  const auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer()) {
    return Damaged(file, "\"version\" is missing or not an integer");
  }
  if (version->get<int64_t>() != kFileVersion) {
    return Damaged(file, fmt::format("unsupported version {} (this build reads version {})",
                                     version->get<int64_t>(), kFileVersion));
  }
  const auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    return Damaged(file, "\"keys\" is missing or not an array");
  }
  std::vector<Record> records;
  records.reserve(keys->size());
  std::unordered_map<std::string, size_t> seen;
  for (size_t i = 0; i < keys->size(); ++i) {
    const nlohmann::json& k = (*keys)[i];
    const std::string where = fmt::format("keys[{}]", i);
    if (!k.is_object()) return Damaged(file, where + " is not an object");
    auto field = [&](const char* name) -> const nlohmann::json* {
      const auto it = k.find(name);
      return it == k.end() ? nullptr : &*it;
    };
    Record r;
    const nlohmann::json* id = field("id");
    if (id == nullptr || !id->is_string() || id->get_ref<const std::string&>().size() != kIdChars ||
        !IsLowerHex(id->get_ref<const std::string&>())) {
      return Damaged(file, where + ".id: expected 12 lowercase hex characters");
    }
    r.info.id = id->get<std::string>();
    if (!seen.emplace(r.info.id, i).second) {
      return Damaged(file, fmt::format("{}.id: \"{}\" repeats keys[{}]", where, r.info.id,
                                       seen[r.info.id]));
    }
    const nlohmann::json* scope = field("scope");
    if (scope == nullptr || !scope->is_string()) {
      return Damaged(file, where + ".scope: expected a string");
    }
    StatusOr<Scope> parsed = ParseScope(scope->get_ref<const std::string&>());
    if (!parsed.ok()) return Damaged(file, where + ".scope: " + parsed.status().message());
    r.info.scope = *parsed;
    const nlohmann::json* name = field("name");
    if (name == nullptr || !name->is_string()) {
      return Damaged(file, where + ".name: expected a string");
    }
    r.info.name = name->get<std::string>();
    const nlohmann::json* created = field("created_ms");
    if (created == nullptr || !created->is_number_integer()) {
      return Damaged(file, where + ".created_ms: expected an integer");
    }
    r.info.created_ms = created->get<int64_t>();
    const nlohmann::json* revoked = field("revoked");
    if (revoked == nullptr || !revoked->is_boolean()) {
      return Damaged(file, where + ".revoked: expected true or false");
    }
    r.info.revoked = revoked->get<bool>();
    const nlohmann::json* sha = field("sha256");
    if (sha == nullptr || !sha->is_string() ||
        !DecodeHexDigest(sha->get_ref<const std::string&>(), &r.digest)) {
      return Damaged(file, where + ".sha256: expected 64 lowercase hex characters");
    }
    records.push_back(std::move(r));
  }
  return records;
}

std::string SerializeKeyFile(const std::vector<Record>& records) {
  nlohmann::json keys = nlohmann::json::array();
  for (const Record& r : records) {
    keys.push_back({{"id", r.info.id},
                    {"name", r.info.name},
                    {"scope", std::string(ScopeName(r.info.scope))},
                    {"created_ms", r.info.created_ms},
                    {"revoked", r.info.revoked},
                    {"sha256", internal::HexLower(std::string_view(
                                   reinterpret_cast<const char*>(r.digest.data()), 32))}});
  }
  nlohmann::json doc = {{"format", "souk-api-keys"}, {"version", kFileVersion}, {"keys", keys}};
  return doc.dump(2) + "\n";
}

// The records of `file` (none when it does not exist).
StatusOr<std::vector<Record>> LoadKeyFile(const std::filesystem::path& file) {
  StatusOr<std::string> text = ReadFileToString(file);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::vector<Record>();
    return text.status();
  }
  return ParseKeyFile(file, *text);
}

// An exclusive flock on "<file>.lock" for the lifetime of the object: serializes writers of
// the key file across processes.
class WriterLock {
 public:
  static StatusOr<WriterLock> Acquire(const std::filesystem::path& file) {
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    const std::string lock_path = file.string() + ".lock";
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return UnavailableError(
          fmt::format("cannot open lock file {}: {}", lock_path, std::strerror(errno)));
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      ::close(fd);
      return UnavailableError(fmt::format("cannot lock {}: {}", lock_path, err));
    }
    return WriterLock(fd);
  }
  WriterLock(WriterLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  WriterLock& operator=(WriterLock&&) = delete;
  ~WriterLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
  }

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// KeyStore

struct KeyStore::State {
  std::filesystem::path file;
  Options options;
  const Clock* clock = nullptr;

  mutable std::shared_mutex mu;
  std::vector<Record> records;                     // guarded by mu; creation order
  std::unordered_map<std::string, size_t> by_id;  // guarded by mu; id -> index in records
  FileSignature signature;                         // guarded by mu; the version loaded

  mutable std::atomic<int64_t> next_check_ms{0};  // monotonic ms of the next stat

  int64_t MonotonicMs() const { return clock->MonotonicMicros() / 1000; }

  // Requires mu held exclusively.
  void Install(std::vector<Record> r, const FileSignature& sig) {
    records = std::move(r);
    by_id.clear();
    for (size_t i = 0; i < records.size(); ++i) by_id.emplace(records[i].info.id, i);
    signature = sig;
  }

  // Re-reads the file when the interval has passed and it changed on disk.
  void MaybeReload() {
    const int64_t now = MonotonicMs();
    int64_t due = next_check_ms.load(std::memory_order_relaxed);
    if (now < due) return;
    // One thread checks; the others go on with the keys they have.
    if (!next_check_ms.compare_exchange_strong(due, now + options.recheck_interval_ms,
                                               std::memory_order_relaxed)) {
      return;
    }
    const FileSignature sig = StatFile(file);
    FileSignature seen;
    {
      std::shared_lock<std::shared_mutex> lock(mu);
      if (sig == signature) return;
      seen = signature;
    }
    StatusOr<std::vector<Record>> loaded = LoadKeyFile(file);
    std::unique_lock<std::shared_mutex> lock(mu);
    // A write of this process installed a version at least as new meanwhile: keep it.
    if (!(signature == seen)) return;
    if (!loaded.ok()) {
      spdlog::warn("keeping the API keys loaded before: {}", loaded.status().message());
      signature = sig;  // do not re-read the same damaged version every interval
      return;
    }
    Install(std::move(loaded).value(), sig);
  }

  // Under the writer lock and mu (exclusive): the current file content.
  Status ReloadForWrite() {
    const FileSignature sig = StatFile(file);
    ASSIGN_OR_RETURN(std::vector<Record> loaded, LoadKeyFile(file));
    Install(std::move(loaded), sig);
    return OkStatus();
  }

  // Under the writer lock and mu (exclusive): writes `r` and installs it.
  Status Write(std::vector<Record> r) {
    RETURN_IF_ERROR(internal::WritePrivateFileAtomically(file, SerializeKeyFile(r)));
    Install(std::move(r), StatFile(file));
    return OkStatus();
  }
};

KeyStore::KeyStore(std::unique_ptr<State> state) : state_(std::move(state)) {}
KeyStore::~KeyStore() = default;

StatusOr<std::unique_ptr<KeyStore>> KeyStore::Open(const std::filesystem::path& file,
                                                   Options options) {
  auto state = std::make_unique<State>();
  state->file = file;
  state->options = options;
  state->clock = options.clock != nullptr ? options.clock : &RealClock();
  const FileSignature sig = StatFile(file);
  ASSIGN_OR_RETURN(std::vector<Record> records, LoadKeyFile(file));
  state->Install(std::move(records), sig);
  state->next_check_ms = state->MonotonicMs() + options.recheck_interval_ms;
  return std::unique_ptr<KeyStore>(new KeyStore(std::move(state)));
}

StatusOr<std::string> KeyStore::Create(Scope scope, const std::string& name, ApiKeyInfo* info) {
  if (name.size() > kMaxNameBytes) {
    return InvalidArgumentError(
        fmt::format("key name: {} bytes, at most {} allowed", name.size(), kMaxNameBytes));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError(fmt::format("key name: control character at byte {}", i));
    }
  }
  ASSIGN_OR_RETURN(WriterLock writer, WriterLock::Acquire(state_->file));
  std::unique_lock<std::shared_mutex> lock(state_->mu);
  RETURN_IF_ERROR(state_->ReloadForWrite());

  std::string id;
  do {
    ASSIGN_OR_RETURN(const std::string id_bytes, internal::RandomBytes(kIdChars / 2));
    id = internal::HexLower(id_bytes);
  } while (state_->by_id.count(id) > 0);
  ASSIGN_OR_RETURN(const std::string secret, internal::RandomBytes(kSecretBytes));
  std::string key = fmt::format("{}{}_{}", kKeyPrefix, id, Base64UrlNoPad(secret));

  Record r;
  r.info.id = id;
  r.info.scope = scope;
  r.info.name = name;
  r.info.created_ms = state_->clock->NowMillis();
  r.info.revoked = false;
  r.digest = Sha256Of(key);
  std::vector<Record> next = state_->records;
  next.push_back(r);
  RETURN_IF_ERROR(state_->Write(std::move(next)));
  if (info != nullptr) *info = r.info;
  return key;
}

std::optional<ApiKeyInfo> KeyStore::Verify(std::string_view presented) const {
  state_->MaybeReload();
  const std::optional<std::string_view> id = KeyId(presented);
  if (!id) return std::nullopt;
  const Digest digest = Sha256Of(presented);
  std::shared_lock<std::shared_mutex> lock(state_->mu);
  const auto it = state_->by_id.find(std::string(*id));
  if (it == state_->by_id.end()) return std::nullopt;
  const Record& r = state_->records[it->second];
  if (CRYPTO_memcmp(r.digest.data(), digest.data(), digest.size()) != 0) return std::nullopt;
  if (r.info.revoked) return std::nullopt;
  return r.info;
}

Status KeyStore::Revoke(const std::string& id) {
  ASSIGN_OR_RETURN(WriterLock writer, WriterLock::Acquire(state_->file));
  std::unique_lock<std::shared_mutex> lock(state_->mu);
  RETURN_IF_ERROR(state_->ReloadForWrite());
  const auto it = state_->by_id.find(id);
  if (it == state_->by_id.end()) {
    return NotFoundError(fmt::format("no API key with id \"{}\" in {}", id, state_->file.string()));
  }
  if (state_->records[it->second].info.revoked) return OkStatus();
  std::vector<Record> next = state_->records;
  next[it->second].info.revoked = true;
  return state_->Write(std::move(next));
}

std::vector<ApiKeyInfo> KeyStore::List() const {
  state_->MaybeReload();
  std::shared_lock<std::shared_mutex> lock(state_->mu);
  std::vector<ApiKeyInfo> out;
  out.reserve(state_->records.size());
  for (const Record& r : state_->records) out.push_back(r.info);
  return out;
}

size_t KeyStore::size() const {
  state_->MaybeReload();
  std::shared_lock<std::shared_mutex> lock(state_->mu);
  return state_->records.size();
}

const std::filesystem::path& KeyStore::file() const { return state_->file; }

}  // namespace souk::server
