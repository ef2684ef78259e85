// Privacy helpers of the HTTP service: pseudonymized user ids (keyed HMAC-SHA256),
// detection and redaction of obvious PII (e-mail addresses, phone numbers, payment card
// numbers) in free text and in JSON request bodies.
//
// Thread-safety: Pseudonymizer is immutable after construction (concurrent Apply is safe);
// the free functions are pure.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace souk::server {

// HMAC-SHA256(key, data): the 32 raw digest bytes (OpenSSL). Pure; O(|data|).
std::string HmacSha256(std::string_view key, std::string_view data);

// Pseudonymizes user ids so that stored events and logs never hold the shop's raw user id:
// Apply(id) = "p_" + lowercase hex of the first 16 bytes of HMAC-SHA256(secret, id).
// Deterministic for a given secret (the same shopper keeps one pseudonym across restarts),
// not reversible without the secret, and different secrets give unrelated pseudonyms.
// Copyable value; immutable, so concurrent Apply calls are safe. Apply costs one HMAC.
class Pseudonymizer {
 public:
  // Length of a secret made by FromKeyFile(create = true), in bytes.
  static constexpr size_t kSecretBytes = 32;

  // Reads the secret from `file`: hex text (>= 32 hex digits, even count; surrounding
  // whitespace ignored), decoded to bytes. When the file is missing and `create` is true,
  // makes a new random secret (RAND_bytes, 32 bytes written as 64 hex digits + newline,
  // mode 0600, temp file + fsync, then linked into place only if nobody created the file in
  // the meantime -- a concurrent creator's secret wins and is read back).
  // Errors: NotFound naming the file (missing, create = false); DataLoss naming the file
  // (malformed content); Unavailable (cannot read/write, no randomness).
  static StatusOr<Pseudonymizer> FromKeyFile(const std::filesystem::path& file, bool create);
  // Uses `secret_bytes` as the HMAC key as given (tests, embedding).
  static Pseudonymizer FromSecret(std::string secret_bytes);

  // "p_" + 32 lowercase hex chars; "" stays "" (no user).
  std::string Apply(std::string_view user_id) const;

 private:
  explicit Pseudonymizer(std::string secret) : secret_(std::move(secret)) {}
  std::string secret_;
};

// What the service does with PII found in free-text fields of incoming requests.
enum class PiiPolicy {
  kOff,     // accept as is
  kRedact,  // replace each finding with "[email]" / "[phone]" / "[card]"
  kReject,  // refuse the request (InvalidArgument naming the field)
};
// "off" | "redact" | "reject"; InvalidArgument listing them otherwise.
StatusOr<PiiPolicy> ParsePiiPolicy(std::string_view s);
std::string_view PiiPolicyName(PiiPolicy p);

// One piece of PII in a text: kind is "email", "phone" or "card"; offset/length in bytes.
struct PiiFinding {
  std::string kind;
  size_t offset = 0, length = 0;
};

// Finds obvious PII in UTF-8 text, in order of offset, non-overlapping:
//  - e-mail addresses (local@domain.tld, ASCII);
//  - phone numbers: E.164 ("+" then 8-15 digits, spaces/dashes/dots/parentheses allowed
//    between digits), Chinese mobile numbers (1[3-9] + 9 digits, not part of a longer
//    digit run; also written 3-4-4 with spaces or dashes), North-American numbers written
//    "(xxx) xxx-xxxx" or "xxx-xxx-xxxx" (area code starting 2-9);
//  - payment card numbers: 13-19 digits, optionally grouped by single spaces or dashes,
//    passing the Luhn check, first digit 2-6 (the major networks' ranges: Mastercard,
//    Amex/JCB/Diners, Visa, Mastercard/Maestro, Discover/UnionPay/Maestro).
// Deliberately not flagged: prices ("19.99"), SKUs ("SKU-12345"), timestamps
// ("2024-01-05 10:00:00"), ISO dates, short numbers, order ids of 6-10 digits, 13-digit
// epoch milliseconds, and numbers continuing a product code ("SKU-4111111111111111",
// "ab12", ".../p/13800138000" are codes, not cards or mobiles). Digits are ASCII only (full-width digits are not recognized).
// Heuristic by nature: an EAN-13 barcode that happens to pass the Luhn check is reported
// as a card. Pure; O(|text|).
std::vector<PiiFinding> FindPii(std::string_view text);

// `text` with every FindPii finding replaced by "[email]", "[phone]" or "[card]".
std::string RedactPii(std::string_view text);

// Applies `policy` to every string of `j`, recursively through objects and arrays,
// object keys included. `field_path` is the JSON path of `j` itself in the request
// (e.g. "events[3].context"); children are named "<path>.<key>" and "<path>[<i>]".
//  - kOff: nothing changes.
//  - kRedact: strings (and keys) are rewritten in place; *redacted (when given) is set to
//    the number of findings replaced.
//  - kReject: the first string holding PII gives InvalidArgument
//    "<field_path> contains an e-mail address (PII); ..." -- the message names the path
//    and the kind, never the PII itself. `j` is left unchanged.
// Iterative (no recursion), so deeply nested input cannot overflow the stack.
Status ScrubPii(nlohmann::json& j, PiiPolicy policy, const std::string& field_path,
                size_t* redacted = nullptr);

namespace internal {
// Lowercase hex of `bytes`.
std::string HexLower(std::string_view bytes);
// `n` cryptographically random bytes (OpenSSL RAND_bytes); Unavailable when it fails.
StatusOr<std::string> RandomBytes(size_t n);
// Writes `data` to "<path>.tmp.<random>" created with mode 0600, fsyncs it, renames it onto
// `path` and fsyncs the folder (creating the folder first). For files holding secrets.
// Errors: Unavailable naming the file and the OS error.
Status WritePrivateFileAtomically(const std::filesystem::path& path, std::string_view data);
}  // namespace internal

}  // namespace souk::server
