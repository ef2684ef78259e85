// Tests of the server security library: API keys, scopes, rate limits, pseudonyms, PII.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/file.h"
#include "common/sha256.h"
#include "common/testing.h"
#include "server/api_keys.h"
#include "server/privacy.h"
#include "server/rate_limit.h"

namespace souk::server {
namespace {

namespace fs = std::filesystem;

void WriteText(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
}

mode_t FileMode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

// ---------------------------------------------------------------------------------------
// Scopes

TEST(Scope, ParseAndName) {
  for (Scope s : {Scope::kSearch, Scope::kIngest, Scope::kAdmin}) {
    ASSERT_OK_AND_ASSIGN(Scope parsed, ParseScope(ScopeName(s)));
    EXPECT_EQ(parsed, s);
  }
  StatusOr<Scope> bad = ParseScope("root");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("root"), std::string::npos);
  EXPECT_NE(bad.status().message().find("search, ingest or admin"), std::string::npos);
  EXPECT_FALSE(ParseScope("").ok());
  EXPECT_FALSE(ParseScope("Admin").ok());
}

TEST(Scope, AllowsTable) {
  const Scope all[] = {Scope::kSearch, Scope::kIngest, Scope::kAdmin};
  for (Scope have : all) {
    for (Scope need : all) {
      const bool expected = have == Scope::kAdmin || have == need;
      EXPECT_EQ(ScopeAllows(have, need), expected)
          << ScopeName(have) << " calling a " << ScopeName(need) << " route";
    }
  }
  EXPECT_FALSE(ScopeAllows(Scope::kSearch, Scope::kIngest));
  EXPECT_FALSE(ScopeAllows(Scope::kIngest, Scope::kSearch));
  EXPECT_FALSE(ScopeAllows(Scope::kIngest, Scope::kAdmin));
  EXPECT_TRUE(ScopeAllows(Scope::kAdmin, Scope::kSearch));
}

// ---------------------------------------------------------------------------------------
// KeyStore

bool LooksLikeKey(const std::string& key) {
  if (key.size() != 59 || key.rfind("sk_", 0) != 0 || key[15] != '_') return false;
  for (size_t i = 3; i < 15; ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(key[i])) || std::isupper(key[i])) return false;
  }
  for (size_t i = 16; i < key.size(); ++i) {
    const char c = key[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

TEST(KeyStore, CreateThenVerify) {
  const fs::path file = testing::TempDir("keys_create") / "keys.json";
  FakeClock clock(1'700'000'000'000'000);
  ASSERT_OK_AND_ASSIGN(auto store, KeyStore::Open(file, {.recheck_interval_ms = 1000, .clock = &clock}));
  EXPECT_EQ(store->size(), 0u);
  EXPECT_FALSE(fs::exists(file));  // created by the first Create

  ApiKeyInfo info;
  ASSERT_OK_AND_ASSIGN(std::string key, store->Create(Scope::kSearch, "storefront", &info));
  EXPECT_TRUE(LooksLikeKey(key)) << key;
  EXPECT_EQ(key.substr(3, 12), info.id);
  EXPECT_EQ(info.scope, Scope::kSearch);
  EXPECT_EQ(info.name, "storefront");
  EXPECT_EQ(info.created_ms, 1'700'000'000'000);
  EXPECT_FALSE(info.revoked);

  std::optional<ApiKeyInfo> v = store->Verify(key);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->id, info.id);
  EXPECT_EQ(v->scope, Scope::kSearch);
  EXPECT_EQ(v->name, "storefront");

  ASSERT_OK_AND_ASSIGN(std::string admin, store->Create(Scope::kAdmin, "ops"));
  EXPECT_NE(admin, key);
  EXPECT_NE(admin.substr(3, 12), key.substr(3, 12));
  ASSERT_TRUE(store->Verify(admin).has_value());
  EXPECT_EQ(store->Verify(admin)->scope, Scope::kAdmin);
  EXPECT_EQ(store->size(), 2u);
  const std::vector<ApiKeyInfo> list = store->List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "storefront");
  EXPECT_EQ(list[1].name, "ops");

  // Reopened from disk: the same keys verify.
  ASSERT_OK_AND_ASSIGN(auto reopened, KeyStore::Open(file));
  ASSERT_TRUE(reopened->Verify(key).has_value());
  EXPECT_EQ(reopened->Verify(key)->created_ms, 1'700'000'000'000);
  EXPECT_EQ(reopened->Verify(admin)->scope, Scope::kAdmin);
}

TEST(KeyStore, RejectsWrongAndMalformedKeys) {
  const fs::path dir = testing::TempDir("keys_reject");
  ASSERT_OK_AND_ASSIGN(auto store, KeyStore::Open(dir / "keys.json"));
  ASSERT_OK_AND_ASSIGN(std::string key, store->Create(Scope::kIngest, "importer"));
  ASSERT_TRUE(store->Verify(key).has_value());

  std::string wrong_secret = key;
  wrong_secret.back() = wrong_secret.back() == 'A' ? 'B' : 'A';
  std::string unknown_id = key;
  unknown_id[3] = unknown_id[3] == '0' ? '1' : '0';
  std::string upper_id = key;
  for (size_t i = 3; i < 15; ++i) upper_id[i] = static_cast<char>(std::toupper(upper_id[i]));
  const bool id_has_letter = upper_id != key;
  std::string bad_char = key;
  bad_char[30] = '=';

  EXPECT_FALSE(store->Verify(wrong_secret).has_value());
  EXPECT_FALSE(store->Verify(unknown_id).has_value());
  if (id_has_letter) {
    EXPECT_FALSE(store->Verify(upper_id).has_value());
  }
  EXPECT_FALSE(store->Verify(bad_char).has_value());
  EXPECT_FALSE(store->Verify("").has_value());
  EXPECT_FALSE(store->Verify("sk_").has_value());
  EXPECT_FALSE(store->Verify(key.substr(0, key.size() - 1)).has_value());
  EXPECT_FALSE(store->Verify(key + "A").has_value());
  EXPECT_FALSE(store->Verify(" " + key).has_value());
  EXPECT_FALSE(store->Verify("Bearer " + key).has_value());
  EXPECT_FALSE(store->Verify(key.substr(16)).has_value());
  EXPECT_FALSE(store->Verify("pk" + key.substr(2)).has_value());
  // A key of another store (same format, unknown here).
  ASSERT_OK_AND_ASSIGN(auto other, KeyStore::Open(dir / "other.json"));
  ASSERT_OK_AND_ASSIGN(std::string foreign, other->Create(Scope::kAdmin, "x"));
  EXPECT_FALSE(store->Verify(foreign).has_value());
  // Same id, secret of another key.
  const std::string spliced = key.substr(0, 16) + foreign.substr(16);
  EXPECT_FALSE(store->Verify(spliced).has_value());
}

TEST(KeyStore, RevokedKeysStopVerifying) {
  const fs::path file = testing::TempDir("keys_revoke") / "keys.json";
  ASSERT_OK_AND_ASSIGN(auto store, KeyStore::Open(file));
  ApiKeyInfo a_info;
  ASSERT_OK_AND_ASSIGN(std::string a, store->Create(Scope::kSearch, "a", &a_info));
  ASSERT_OK_AND_ASSIGN(std::string b, store->Create(Scope::kSearch, "b"));
  ASSERT_OK(store->Revoke(a_info.id));
  EXPECT_FALSE(store->Verify(a).has_value());
  EXPECT_TRUE(store->Verify(b).has_value());
  ASSERT_OK(store->Revoke(a_info.id));  // again: still fine
  const std::vector<ApiKeyInfo> list = store->List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_TRUE(list[0].revoked);
  EXPECT_FALSE(list[1].revoked);

  Status missing = store->Revoke("0123456789ab");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("0123456789ab"), std::string::npos);

  ASSERT_OK_AND_ASSIGN(auto reopened, KeyStore::Open(file));
  EXPECT_FALSE(reopened->Verify(a).has_value());
  EXPECT_TRUE(reopened->Verify(b).has_value());
}

TEST(KeyStore, FileHoldsDigestsOnlyWithMode0600) {
  const fs::path file = testing::TempDir("keys_file") / "keys.json";
  ASSERT_OK_AND_ASSIGN(auto store, KeyStore::Open(file));
  ASSERT_OK_AND_ASSIGN(std::string key, store->Create(Scope::kAdmin, "ops"));
  ASSERT_OK_AND_ASSIGN(std::string text, ReadFileToString(file));
  EXPECT_EQ(text.find(key), std::string::npos);
  EXPECT_EQ(text.find(key.substr(16)), std::string::npos);  // the secret alone
  EXPECT_NE(text.find(Sha256Hex(key)), std::string::npos);
  EXPECT_EQ(FileMode(file), 0600u);
  const nlohmann::json doc = nlohmann::json::parse(text);
  ASSERT_EQ(doc["keys"].size(), 1u);
  EXPECT_EQ(doc["keys"][0]["id"], key.substr(3, 12));
  EXPECT_EQ(doc["keys"][0]["scope"], "admin");
  EXPECT_EQ(doc["keys"][0]["sha256"], Sha256Hex(key));
  // No temporary files left behind.
  for (const auto& entry : fs::directory_iterator(file.parent_path())) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST(KeyStore, SecondStoreSeesOtherProcessChangesAfterRecheck) {
  const fs::path file = testing::TempDir("keys_shared") / "keys.json";
  FakeClock clock;
  const KeyStore::Options opts{.recheck_interval_ms = 1000, .clock = &clock};
  ASSERT_OK_AND_ASSIGN(auto writer, KeyStore::Open(file, opts));
  ASSERT_OK_AND_ASSIGN(auto reader, KeyStore::Open(file, opts));

  ApiKeyInfo info;
  ASSERT_OK_AND_ASSIGN(std::string key, writer->Create(Scope::kSearch, "late", &info));
  // Before the interval passed, the reader does not look at the file again.
  EXPECT_FALSE(reader->Verify(key).has_value());
  clock.Advance(1'001'000);
  ASSERT_TRUE(reader->Verify(key).has_value());
  EXPECT_EQ(reader->size(), 1u);

  // A revocation elsewhere is picked up the same way.
  ASSERT_OK(writer->Revoke(info.id));
  EXPECT_TRUE(reader->Verify(key).has_value());
  clock.Advance(1'001'000);
  EXPECT_FALSE(reader->Verify(key).has_value());

  // The reader writing does not lose the writer's records (it re-reads before writing).
  ASSERT_OK_AND_ASSIGN(std::string key2, writer->Create(Scope::kIngest, "second"));
  ASSERT_OK_AND_ASSIGN(std::string key3, reader->Create(Scope::kAdmin, "third"));
  EXPECT_EQ(reader->size(), 3u);
  EXPECT_TRUE(reader->Verify(key2).has_value());
  clock.Advance(1'001'000);
  EXPECT_TRUE(writer->Verify(key3).has_value());
  EXPECT_EQ(writer->List().size(), 3u);
}

TEST(KeyStore, RecheckIntervalZeroSeesChangesAtOnce) {
  const fs::path file = testing::TempDir("keys_zero") / "keys.json";
  ASSERT_OK_AND_ASSIGN(auto writer, KeyStore::Open(file));
  ASSERT_OK_AND_ASSIGN(auto reader, KeyStore::Open(file, {.recheck_interval_ms = 0}));
  ASSERT_OK_AND_ASSIGN(std::string key, writer->Create(Scope::kSearch, "now"));
  EXPECT_TRUE(reader->Verify(key).has_value());
}

TEST(KeyStore, DamagedFileIsDataLossNamingTheFile) {
  const fs::path dir = testing::TempDir("keys_damaged");
  const fs::path file = dir / "keys.json";
  WriteText(file, "{\"version\": 1, \"keys\": [");
  StatusOr<std::unique_ptr<KeyStore>> st = KeyStore::Open(file);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(st.status().message().find(file.string()), std::string::npos) << st.status().message();

  const std::string sha(64, 'a');
  WriteText(file, R"({"version": 1, "keys": [{"id": "0123456789ab", "name": "x", "scope": "root",
                     "created_ms": 1, "revoked": false, "sha256": ")" + sha + "\"}]}");
  st = KeyStore::Open(file);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(st.status().message().find("keys[0].scope"), std::string::npos) << st.status().message();

  WriteText(file, R"({"version": 1, "keys": [{"id": "0123456789ab", "name": "x", "scope": "admin",
                     "created_ms": 1, "revoked": false, "sha256": "abc"}]})");
  st = KeyStore::Open(file);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("keys[0].sha256"), std::string::npos);

  WriteText(file, R"({"version": 7, "keys": []})");
  st = KeyStore::Open(file);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(st.status().message().find("version 7"), std::string::npos);

  WriteText(file, "[]");
  EXPECT_EQ(KeyStore::Open(file).status().code(), StatusCode::kDataLoss);

  // A valid file loads.
  WriteText(file, R"({"version": 1, "keys": []})");
  ASSERT_OK_AND_ASSIGN(auto ok, KeyStore::Open(file));
  EXPECT_EQ(ok->size(), 0u);
}

TEST(KeyStore, DamagedFileAfterOpenKeepsLoadedKeys) {
  const fs::path file = testing::TempDir("keys_damaged_later") / "keys.json";
  ASSERT_OK_AND_ASSIGN(auto store, KeyStore::Open(file, {.recheck_interval_ms = 0}));
  ASSERT_OK_AND_ASSIGN(std::string key, store->Create(Scope::kSearch, "a"));
  WriteText(file, "garbage that is longer than the file was");
  EXPECT_TRUE(store->Verify(key).has_value());
  // Writing refuses to overwrite a damaged file.
  StatusOr<std::string> created = store->Create(Scope::kSearch, "b");
  EXPECT_EQ(created.status().code(), StatusCode::kDataLoss);
}

TEST(KeyStore, RejectsBadNames) {
  ASSERT_OK_AND_ASSIGN(auto store, KeyStore::Open(testing::TempDir("keys_names") / "keys.json"));
  EXPECT_EQ(store->Create(Scope::kSearch, "line\nbreak").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Create(Scope::kSearch, std::string(201, 'x')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->size(), 0u);
  EXPECT_OK(store->Create(Scope::kSearch, "商店 front-end").status());
}

TEST(KeyStore, ConcurrentVerifyWhileCreating) {
  const fs::path file = testing::TempDir("keys_concurrent") / "keys.json";
  ASSERT_OK_AND_ASSIGN(auto store, KeyStore::Open(file, {.recheck_interval_ms = 0}));
  ASSERT_OK_AND_ASSIGN(std::string key, store->Create(Scope::kSearch, "hot"));
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        if (!store->Verify(key).has_value()) ++failures;
        if (store->Verify(key.substr(0, 58) + "!").has_value()) ++failures;
      }
    });
  }
  std::vector<std::string> made;
  for (int i = 0; i < 8; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string k, store->Create(Scope::kIngest, "k" + std::to_string(i)));
    // Visible at once to this process, whatever the readers reload meanwhile.
    EXPECT_TRUE(store->Verify(k).has_value()) << i;
    made.push_back(k);
  }
  stop = true;
  for (auto& th : readers) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->size(), 9u);
  for (const std::string& k : made) EXPECT_TRUE(store->Verify(k).has_value());
}

// ---------------------------------------------------------------------------------------
// RateLimiter

TEST(RateLimiter, BurstThenRefusalWithRetryAfter) {
  RateLimiter limiter({.requests_per_second = 10, .burst = 5});
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Allow("k", 0)) << i;
  double retry = -1;
  EXPECT_FALSE(limiter.Allow("k", 0, &retry));
  EXPECT_NEAR(retry, 0.1, 1e-9);
  // Half a token later, half the wait remains.
  EXPECT_FALSE(limiter.Allow("k", 50, &retry));
  EXPECT_NEAR(retry, 0.05, 1e-9);
  EXPECT_TRUE(limiter.Allow("k", 100));
  EXPECT_FALSE(limiter.Allow("k", 100));
}

TEST(RateLimiter, RefillsOverTimeUpToBurst) {
  RateLimiter limiter({.requests_per_second = 2, .burst = 3});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow("k", 1000));
  EXPECT_FALSE(limiter.Allow("k", 1000));
  // 1 s later: two tokens.
  EXPECT_TRUE(limiter.Allow("k", 2000));
  EXPECT_TRUE(limiter.Allow("k", 2000));
  EXPECT_FALSE(limiter.Allow("k", 2000));
  // A long idle period refills to the burst only.
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += limiter.Allow("k", 100000) ? 1 : 0;
  EXPECT_EQ(allowed, 3);
  // A clock going backwards refills nothing.
  EXPECT_FALSE(limiter.Allow("k", 50000));
  // Sustained rate: one request per 500 ms is always allowed.
  for (int64_t t = 100500; t < 110000; t += 500) EXPECT_TRUE(limiter.Allow("k", t)) << t;
}

TEST(RateLimiter, KeysAreIsolated) {
  RateLimiter limiter({.requests_per_second = 1, .burst = 2});
  EXPECT_TRUE(limiter.Allow("alice", 0));
  EXPECT_TRUE(limiter.Allow("alice", 0));
  EXPECT_FALSE(limiter.Allow("alice", 0));
  EXPECT_TRUE(limiter.Allow("bob", 0));
  EXPECT_TRUE(limiter.Allow("bob", 0));
  EXPECT_FALSE(limiter.Allow("bob", 0));
  EXPECT_EQ(limiter.size(), 2u);
}

TEST(RateLimiter, NonPositiveRateIsUnlimited) {
  RateLimiter limiter({.requests_per_second = 0, .burst = 1});
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(limiter.Allow("k", 0));
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(RateLimiter, MemoryStaysBounded) {
  RateLimiter limiter({.requests_per_second = 1, .burst = 10, .max_keys = 64});
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(limiter.Allow("client-" + std::to_string(i), i));
    ASSERT_LE(limiter.size(), 64u);
  }
  EXPECT_GT(limiter.size(), 16u);
}

TEST(RateLimiter, EvictsIdleBucketsBeforeActiveOnes) {
  RateLimiter limiter({.requests_per_second = 1, .burst = 2, .max_keys = 1600});
  // "hot" empties its bucket; 1000 others take one token each.
  EXPECT_TRUE(limiter.Allow("hot", 0));
  EXPECT_TRUE(limiter.Allow("hot", 0));
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Allow("old-" + std::to_string(i), 0));
  // 1.5 s later the others are full again (idle); "hot" holds 1.5 tokens.
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Allow("new-" + std::to_string(i), 1500));
  EXPECT_LE(limiter.size(), 1600u);
  EXPECT_LT(limiter.size(), 2001u);  // something was evicted
  // "hot" kept its state: one token, not a fresh full bucket of two.
  EXPECT_TRUE(limiter.Allow("hot", 1500));
  EXPECT_FALSE(limiter.Allow("hot", 1500));
}

TEST(RateLimiter, ConcurrentCallersShareOneBudget) {
  RateLimiter limiter({.requests_per_second = 1, .burst = 100});
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) allowed += limiter.Allow("shared", 0) ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 100);
}

// ---------------------------------------------------------------------------------------
// HMAC and pseudonyms

TEST(Privacy, HmacMatchesRfc4231) {
  // Test case 2.
  EXPECT_EQ(internal::HexLower(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 1: key = 20 bytes of 0x0b.
  EXPECT_EQ(internal::HexLower(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(Privacy, PseudonymIsTruncatedHmac) {
  const Pseudonymizer p = Pseudonymizer::FromSecret("Jefe");
  EXPECT_EQ(p.Apply("what do ya want for nothing?"), "p_5bdcc146bf60754e6a042426089575c7");
  EXPECT_EQ(p.Apply("user-42"), p.Apply("user-42"));
  EXPECT_NE(p.Apply("user-42"), p.Apply("user-43"));
  EXPECT_EQ(p.Apply("user-42").size(), 34u);
  EXPECT_EQ(p.Apply(""), "");
  const Pseudonymizer other = Pseudonymizer::FromSecret("another secret");
  EXPECT_NE(other.Apply("user-42"), p.Apply("user-42"));
}

TEST(Privacy, KeyFileCreateAndReload) {
  const fs::path file = testing::TempDir("privacy_key") / "privacy.key";
  StatusOr<Pseudonymizer> missing = Pseudonymizer::FromKeyFile(file, false);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(file.string()), std::string::npos);

  ASSERT_OK_AND_ASSIGN(Pseudonymizer made, Pseudonymizer::FromKeyFile(file, true));
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(FileMode(file), 0600u);
  ASSERT_OK_AND_ASSIGN(std::string text, ReadFileToString(file));
  EXPECT_EQ(text.size(), 65u);
  EXPECT_EQ(text.back(), '\n');

  ASSERT_OK_AND_ASSIGN(Pseudonymizer loaded, Pseudonymizer::FromKeyFile(file, false));
  EXPECT_EQ(loaded.Apply("shopper@1"), made.Apply("shopper@1"));
  // create = true on an existing file keeps its secret.
  ASSERT_OK_AND_ASSIGN(Pseudonymizer again, Pseudonymizer::FromKeyFile(file, true));
  EXPECT_EQ(again.Apply("shopper@1"), made.Apply("shopper@1"));

  // A second file gets a different secret.
  ASSERT_OK_AND_ASSIGN(Pseudonymizer second,
                       Pseudonymizer::FromKeyFile(file.parent_path() / "second.key", true));
  EXPECT_NE(second.Apply("shopper@1"), made.Apply("shopper@1"));

  // The secret is the hex-decoded file content.
  const fs::path jefe = file.parent_path() / "jefe.key";
  WriteText(jefe, "  4a6566654a6566654a6566654a656665\n");  // "JefeJefeJefeJefe"
  ASSERT_OK_AND_ASSIGN(Pseudonymizer from_hex, Pseudonymizer::FromKeyFile(jefe, false));
  EXPECT_EQ(from_hex.Apply("u"), Pseudonymizer::FromSecret("JefeJefeJefeJefe").Apply("u"));
}

TEST(Privacy, MalformedKeyFileIsDataLoss) {
  const fs::path dir = testing::TempDir("privacy_bad");
  for (const std::string& content :
       {std::string("short"), std::string(31, 'a'), std::string(33, 'a'),
        std::string(63, 'a') + "g", std::string("")}) {
    const fs::path file = dir / "privacy.key";
    WriteText(file, content);
    StatusOr<Pseudonymizer> p = Pseudonymizer::FromKeyFile(file, true);
    ASSERT_FALSE(p.ok()) << content;
    EXPECT_EQ(p.status().code(), StatusCode::kDataLoss) << content;
    EXPECT_NE(p.status().message().find(file.string()), std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------
// PII

TEST(Pii, ParsePolicy) {
  EXPECT_EQ(*ParsePiiPolicy("off"), PiiPolicy::kOff);
  EXPECT_EQ(*ParsePiiPolicy("redact"), PiiPolicy::kRedact);
  EXPECT_EQ(*ParsePiiPolicy("reject"), PiiPolicy::kReject);
  StatusOr<PiiPolicy> bad = ParsePiiPolicy("drop");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("off, redact or reject"), std::string::npos);
  for (PiiPolicy p : {PiiPolicy::kOff, PiiPolicy::kRedact, PiiPolicy::kReject}) {
    EXPECT_EQ(*ParsePiiPolicy(PiiPolicyName(p)), p);
  }
}

struct Positive {
  std::string text;
  std::string kind;
  std::string found;  // the exact substring expected to be flagged
};

TEST(Pii, FindsObviousPii) {
  const std::vector<Positive> cases = {
      {"mail john.doe@example.com please", "email", "john.doe@example.com"},
      {"<first.last+tag@mail.example.co.uk>", "email", "first.last+tag@mail.example.co.uk"},
      {"联系邮箱:zhang_san@qq.com。", "email", "zhang_san@qq.com"},
      {"call +86 138 0013 8000 now", "phone", "+86 138 0013 8000"},
      {"tel +44 20 7946 0958", "phone", "+44 20 7946 0958"},
      {"US: +1 (555) 123-4567.", "phone", "+1 (555) 123-4567"},
      {"+8613800138000", "phone", "+8613800138000"},
      {"my number 13800138000", "phone", "13800138000"},
      {"手机 139-1234-5678", "phone", "139-1234-5678"},
      {"office (555) 123-4567 ext", "phone", "(555) 123-4567"},
      {"cell 555-123-4567", "phone", "555-123-4567"},
      {"card 4111 1111 1111 1111 exp 12/27", "card", "4111 1111 1111 1111"},
      {"4111-1111-1111-1111", "card", "4111-1111-1111-1111"},
      {"mc 5555555555554444", "card", "5555555555554444"},
      {"amex 378282246310005", "card", "378282246310005"},
      {"amex 3782 822463 10005!", "card", "3782 822463 10005"},
      {"discover 6011111111111117", "card", "6011111111111117"},
      {"pay with 4111 1111 1111 1111 2 items", "card", "4111 1111 1111 1111"},
  };
  for (const Positive& c : cases) {
    const std::vector<PiiFinding> found = FindPii(c.text);
    ASSERT_EQ(found.size(), 1u) << c.text;
    EXPECT_EQ(found[0].kind, c.kind) << c.text;
    EXPECT_EQ(c.text.substr(found[0].offset, found[0].length), c.found) << c.text;
  }
}

TEST(Pii, LeavesShopDataAlone) {
  const std::vector<std::string> negatives = {
      "price 19.99 USD",
      "now $1,299.00 (was $1,499.00)",
      "SKU-12345",
      "SKU-4111111111111111",
      "SKU-13800138000",
      "2024-01-05 10:00:00",
      "delivered 2024-01-05",
      "2024-01-05T10:00:00Z",
      "order 12345678",
      "订单号 1234567890 已发货",
      "qty 3, size 38-42",
      "ISBN 978-3-16-148410-0",
      "ts 1704448800000",
      "card 4111 1111 1111 1112",  // fails Luhn
      "138001380001",              // 12 digits
      "8613800138000",             // mobile inside a longer digit run
      "+12345",
      "v1.2.3 build 10.0.19045",
      "root@localhost",
      "open 10:30-11:45",
      "UPS 1Z999AA10123456784",
      "model XJ-900-2000",
      "3 x 4 = 12",
      "",
  };
  for (const std::string& text : negatives) {
    const std::vector<PiiFinding> found = FindPii(text);
    EXPECT_TRUE(found.empty()) << "\"" << text << "\" flagged as " << found[0].kind << " \""
                               << text.substr(found[0].offset, found[0].length) << "\"";
  }
}

TEST(Pii, ChineseTextAroundMobileNumber) {
  const std::string text = "请联系我13812345678，谢谢";
  const std::vector<PiiFinding> found = FindPii(text);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, "phone");
  EXPECT_EQ(found[0].offset, std::string("请联系我").size());
  EXPECT_EQ(text.substr(found[0].offset, found[0].length), "13812345678");
  EXPECT_EQ(RedactPii(text), "请联系我[phone]，谢谢");
}

TEST(Pii, FindsSeveralInOrder) {
  const std::string text =
      "mail john@example.com or call +1 (555) 123-4567, card 4111 1111 1111 1111.";
  const std::vector<PiiFinding> found = FindPii(text);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].kind, "email");
  EXPECT_EQ(found[1].kind, "phone");
  EXPECT_EQ(found[2].kind, "card");
  EXPECT_LT(found[0].offset, found[1].offset);
  EXPECT_LT(found[1].offset, found[2].offset);
  EXPECT_EQ(RedactPii(text), "mail [email] or call [phone], card [card].");
  EXPECT_EQ(RedactPii("nothing here 19.99"), "nothing here 19.99");
}

TEST(Pii, ScrubRejectNamesTheFieldPath) {
  nlohmann::json body = nlohmann::json::parse(R"({
    "events": [
      {"user": "u1", "context": {"note": "gift wrap"}},
      {"user": "u2", "context": {"note": "price 19.99"}},
      {"user": "u3", "context": {"tags": ["x", "y"]}},
      {"user": "u4", "context": {"note": "write me at a.b@shop.example.com"}}
    ]
  })");
  const nlohmann::json before = body;
  Status st = ScrubPii(body, PiiPolicy::kReject, "");
  ASSERT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message().rfind("events[3].context.note contains an e-mail address (PII)", 0), 0u)
      << st.message();
  EXPECT_EQ(st.message().find("a.b@shop"), std::string::npos);  // never echoes the PII
  EXPECT_EQ(body, before);

  // The path of `j` itself prefixes the children.
  nlohmann::json context = body["events"][3]["context"];
  st = ScrubPii(context, PiiPolicy::kReject, "events[3].context");
  EXPECT_EQ(st.message().rfind("events[3].context.note contains an e-mail", 0), 0u);

  nlohmann::json text = "call 13800138000";
  st = ScrubPii(text, PiiPolicy::kReject, "query");
  EXPECT_EQ(st.message().rfind("query contains a phone number (PII)", 0), 0u) << st.message();

  nlohmann::json clean = body["events"][1];
  EXPECT_OK(ScrubPii(clean, PiiPolicy::kReject, "events[1]"));
}

TEST(Pii, ScrubNestedArraysAndKeys) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "a": [["x", "call 13800138000"], [{"b": "card 4111111111111111 and mail c@d.io"}]],
    "n": 4111111111111111,
    "ok": "SKU-12345",
    "john@example.com": "key holds PII"
  })");
  // Keys of an object are checked before its values.
  nlohmann::json rejected = j;
  Status st = ScrubPii(rejected, PiiPolicy::kReject, "body");
  ASSERT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message().rfind("a field name of body contains an e-mail address", 0), 0u)
      << st.message();
  rejected.erase("john@example.com");
  st = ScrubPii(rejected, PiiPolicy::kReject, "body");
  ASSERT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message().rfind("body.a[0][1] contains a phone number (PII)", 0), 0u)
      << st.message();

  size_t redacted = 0;
  ASSERT_OK(ScrubPii(j, PiiPolicy::kRedact, "body", &redacted));
  EXPECT_EQ(redacted, 4u);
  EXPECT_EQ(j["a"][0][0], "x");
  EXPECT_EQ(j["a"][0][1], "call [phone]");
  EXPECT_EQ(j["a"][1][0]["b"], "card [card] and mail [email]");
  EXPECT_EQ(j["n"], 4111111111111111);  // numbers are not text
  EXPECT_EQ(j["ok"], "SKU-12345");
  EXPECT_FALSE(j.contains("john@example.com"));
  ASSERT_TRUE(j.contains("[email]"));
  EXPECT_EQ(j["[email]"], "key holds PII");

  // A key holding PII is refused under reject, naming the object.
  nlohmann::json keyed = {{"ctx", {{"+44 20 7946 0958", 1}}}};
  st = ScrubPii(keyed, PiiPolicy::kReject, "events[0]");
  ASSERT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message().rfind("a field name of events[0].ctx contains a phone number", 0), 0u)
      << st.message();
}

TEST(Pii, ScrubOffChangesNothing) {
  nlohmann::json j = {{"note", "john@example.com"}};
  const nlohmann::json before = j;
  size_t redacted = 99;
  ASSERT_OK(ScrubPii(j, PiiPolicy::kOff, "", &redacted));
  EXPECT_EQ(redacted, 0u);
  EXPECT_EQ(j, before);
}

TEST(Pii, ScrubHandlesDeepNesting) {
  nlohmann::json j = "mail x@example.org";
  for (int i = 0; i < 5000; ++i) j = nlohmann::json::array({std::move(j)});
  size_t redacted = 0;
  ASSERT_OK(ScrubPii(j, PiiPolicy::kRedact, "deep", &redacted));
  EXPECT_EQ(redacted, 1u);
  const nlohmann::json* p = &j;
  while (p->is_array()) p = &(*p)[0];
  EXPECT_EQ(*p, "mail [email]");
}

}  // namespace
}  // namespace souk::server
