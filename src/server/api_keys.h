// API keys of the HTTP service: scopes, and the key file that holds their digests.
//
// A key looks like "sk_<id>_<secret>": id = 12 lowercase hex chars (random, public: it
// names the key in listings and logs), secret = 32 random bytes in base64url without
// padding (43 chars). The plaintext is shown once by Create and never stored: the key file
// holds only {id, name, scope, created_ms, revoked, sha256 hex of the whole key}.
//
// Why SHA-256 and not a slow password hash (bcrypt/scrypt/argon2): slow hashes protect
// low-entropy secrets chosen by people against guessing after a leak of the file. These
// keys carry 256 bits from RAND_bytes, so guessing one from its digest is infeasible
// whatever the hash speed, and a fast digest keeps verification cheap on every request.
//
// Thread-safety: KeyStore is thread-safe (a shared_mutex: concurrent Verify/List, exclusive
// reload/Create/Revoke). Several processes may share one key file: writers take an
// exclusive flock on "<file>.lock" and re-read the file before changing it, readers pick
// up changes by re-reading it (see Verify).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace souk {
class Clock;
}

namespace souk::server {

// What a key may call.
enum class Scope {
  kSearch,  // read-only routes: search, autocomplete, recommendations, intent, item, explain
  kIngest,  // write routes for items and events
  kAdmin,   // everything: train, reload, experiments, forget user, keys, quality, ...
};

// "search" | "ingest" | "admin"; InvalidArgument listing them otherwise.
StatusOr<Scope> ParseScope(std::string_view s);
std::string_view ScopeName(Scope s);
// Whether a key with scope `have` may call a route that needs `need`: admin may call
// everything; otherwise only the same scope.
bool ScopeAllows(Scope have, Scope need);

struct ApiKeyInfo {
  std::string id;  // 12 lowercase hex chars
  Scope scope = Scope::kSearch;
  std::string name;  // free text given at creation (who/what uses the key)
  int64_t created_ms = 0;
  bool revoked = false;
};

class KeyStore {
 public:
  struct Options {
    // How often Verify() checks whether the key file changed on disk (stat of mtime, size
    // and inode), ms. 0 = on every call.
    int64_t recheck_interval_ms = 1000;
    // Source of created_ms and of the re-check timing; nullptr = the real clock. Not owned;
    // must outlive the store.
    const Clock* clock = nullptr;
  };

  // Opens the key file (JSON, e.g. <data_dir>/keys.json). A missing file means no keys yet
  // (it is created by the first Create). Errors: DataLoss naming the file and the bad field
  // ("keys[2].scope") for a damaged file; Unavailable when it cannot be read.
  static StatusOr<std::unique_ptr<KeyStore>> Open(const std::filesystem::path& file,
                                                  Options options);
  static StatusOr<std::unique_ptr<KeyStore>> Open(const std::filesystem::path& file) {
    return Open(file, Options());
  }
  ~KeyStore();

  // Makes a new key and returns its plaintext "sk_<id>_<secret>" (the only time it exists
  // outside the caller). Fills *info when given. The file is re-read under the lock file,
  // then rewritten atomically (temp + fsync + rename), mode 0600.
  // Errors: InvalidArgument (name longer than 200 bytes or with control characters),
  // DataLoss (the file on disk is damaged), Unavailable (cannot write, no randomness).
  StatusOr<std::string> Create(Scope scope, const std::string& name, ApiKeyInfo* info = nullptr);

  // The key's info when `presented` is a well-formed, known, unrevoked key; nullopt
  // otherwise (malformed, unknown id, wrong secret, revoked). Finds the record by the id in
  // the key, then compares SHA-256 digests in constant time (CRYPTO_memcmp). Keys created
  // or revoked by another process are seen: when recheck_interval_ms has passed since the
  // last check, the file is stat'ed and re-read if its mtime, size or inode changed (a
  // damaged or unreadable file keeps the keys already loaded). Cost: one SHA-256 of ~60
  // bytes and a hash lookup; a stat at most once per interval.
  std::optional<ApiKeyInfo> Verify(std::string_view presented) const;

  // Marks the key revoked (kept in the file for the audit trail). Revoking a revoked key is
  // OK. Errors: NotFound naming the id; DataLoss/Unavailable as for Create.
  Status Revoke(const std::string& id);

  // All keys (revoked ones included), oldest first; re-checks the file like Verify.
  std::vector<ApiKeyInfo> List() const;
  // Number of keys (revoked ones included); re-checks the file like Verify.
  size_t size() const;

  const std::filesystem::path& file() const;

 private:
  struct State;
  explicit KeyStore(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace souk::server
