#include "server/privacy.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "common/file.h"

namespace souk::server {

// ---------------------------------------------------------------------------------------
// Shared helpers (internal::)

namespace internal {

std::string HexLower(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * bytes.size(), '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHex[b >> 4];
    out[2 * i + 1] = kHex[b & 0xf];
  }
  return out;
}

StatusOr<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return UnavailableError("the system random number generator failed (RAND_bytes)");
  }
  return out;
}

namespace {

std::string Errno() { return std::strerror(errno); }

// Writes `data` into a new file "<path>.tmp.<random>" (mode 0600) and fsyncs it.
StatusOr<std::filesystem::path> WriteSyncedTemp(const std::filesystem::path& path,
                                                std::string_view data) {
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return UnavailableError(
          fmt::format("cannot create folder {}: {}", path.parent_path().string(), ec.message()));
    }
  }
  ASSIGN_OR_RETURN(const std::string suffix, RandomBytes(6));
  std::filesystem::path tmp = path.string() + ".tmp." + HexLower(suffix);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError(fmt::format("cannot create {}: {}", tmp.string(), Errno()));
  Status st;
  if (::fchmod(fd, 0600) != 0) {
    st = UnavailableError(fmt::format("cannot chmod {}: {}", tmp.string(), Errno()));
  }
  size_t done = 0;
  while (st.ok() && done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      st = UnavailableError(fmt::format("cannot write {}: {}", tmp.string(), Errno()));
      break;
    }
    done += static_cast<size_t>(w);
  }
  if (st.ok() && ::fsync(fd) != 0) {
    st = UnavailableError(fmt::format("cannot fsync {}: {}", tmp.string(), Errno()));
  }
  if (::close(fd) != 0 && st.ok()) {
    st = UnavailableError(fmt::format("cannot close {}: {}", tmp.string(), Errno()));
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return tmp;
}

// Makes a rename/link inside the folder of `path` durable (best effort: some file systems
// refuse fsync on folders).
void SyncParentFolder(const std::filesystem::path& path) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

Status WritePrivateFileAtomically(const std::filesystem::path& path, std::string_view data) {
  ASSIGN_OR_RETURN(const std::filesystem::path tmp, WriteSyncedTemp(path, data));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = Errno();
    ::unlink(tmp.c_str());
    return UnavailableError(fmt::format("cannot rename {} to {}: {}", tmp.string(),
                                        path.string(), err));
  }
  SyncParentFolder(path);
  return OkStatus();
}

// Creates `path` with `data` unless it exists. Returns true when this call created it,
// false when the file was already there (possibly made by a concurrent process).
static StatusOr<bool> CreatePrivateFileIfAbsent(const std::filesystem::path& path,
                                                std::string_view data) {
  ASSIGN_OR_RETURN(const std::filesystem::path tmp, WriteSyncedTemp(path, data));
  const int rc = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (link_errno == EEXIST) return false;
    return UnavailableError(
        fmt::format("cannot create {}: {}", path.string(), std::strerror(link_errno)));
  }
  SyncParentFolder(path);
  return true;
}

}  // namespace internal

// ---------------------------------------------------------------------------------------
// HMAC and pseudonyms

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static const unsigned char kNoKey[1] = {0};
  const void* key_ptr = key.empty() ? static_cast<const void*>(kNoKey) : key.data();
  // HMAC() with a non-null output buffer only fails on allocation failure.
  if (HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &len) == nullptr) {
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view TrimAsciiSpace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

StatusOr<std::string> DecodeSecret(const std::filesystem::path& file, std::string_view text) {
  const std::string_view hex = TrimAsciiSpace(text);
  if (hex.size() < 32 || hex.size() % 2 != 0) {
    return DataLossError(fmt::format(
        "{}: malformed privacy key: expected an even number (>= 32) of hex digits, found {} "
        "characters",
        file.string(), hex.size()));
  }
  std::string secret(hex.size() / 2, '\0');
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexValue(hex[i]);
    const int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return DataLossError(fmt::format(
          "{}: malformed privacy key: non-hex character at offset {}", file.string(),
          (hi < 0 ? i : i + 1) + static_cast<size_t>(hex.data() - text.data())));
    }
    secret[i / 2] = static_cast<char>(hi * 16 + lo);
  }
  return secret;
}

}  // namespace

StatusOr<Pseudonymizer> Pseudonymizer::FromKeyFile(const std::filesystem::path& file,
                                                   bool create) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    if (!create) {
      return NotFoundError(fmt::format("{}: privacy key file not found", file.string()));
    }
    ASSIGN_OR_RETURN(const std::string secret, internal::RandomBytes(kSecretBytes));
    ASSIGN_OR_RETURN(const bool created,
                     internal::CreatePrivateFileIfAbsent(file, internal::HexLower(secret) + "\n"));
    if (created) return Pseudonymizer(secret);
    // Someone else created it first: theirs is the secret.
  }
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(file));
  ASSIGN_OR_RETURN(std::string secret, DecodeSecret(file, text));
  return Pseudonymizer(std::move(secret));
}

Pseudonymizer Pseudonymizer::FromSecret(std::string secret_bytes) {
  return Pseudonymizer(std::move(secret_bytes));
}

std::string Pseudonymizer::Apply(std::string_view user_id) const {
  if (user_id.empty()) return std::string();
  const std::string mac = HmacSha256(secret_, user_id);
  return "p_" + internal::HexLower(std::string_view(mac).substr(0, 16));
}

// ---------------------------------------------------------------------------------------
// PII policy

StatusOr<PiiPolicy> ParsePiiPolicy(std::string_view s) {
  if (s == "off") return PiiPolicy::kOff;
  if (s == "redact") return PiiPolicy::kRedact;
  if (s == "reject") return PiiPolicy::kReject;
  return InvalidArgumentError(
      fmt::format("unknown PII policy \"{}\": expected off, redact or reject", s));
}

std::string_view PiiPolicyName(PiiPolicy p) {
  switch (p) {
    case PiiPolicy::kOff: return "off";
    case PiiPolicy::kRedact: return "redact";
    case PiiPolicy::kReject: return "reject";
  }
  return "off";
}

// ---------------------------------------------------------------------------------------
// PII detection

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }

// ASCII letter, digit or '_' before position i (a number glued to a word is a code).
bool WordCharBefore(std::string_view t, size_t i) {
  return i > 0 && (IsAlnum(t[i - 1]) || t[i - 1] == '_');
}
// A number that continues a product code ("SKU-4111...", "ab_123", "/p/138...") is part of
// that code: a word character before it, or "-" or "/" preceded by a letter or digit.
bool CodeBefore(std::string_view t, size_t i) {
  if (WordCharBefore(t, i)) return true;
  return i >= 2 && (t[i - 1] == '-' || t[i - 1] == '/') && IsAlnum(t[i - 2]);
}
bool DigitAt(std::string_view t, size_t i) { return i < t.size() && IsDigit(t[i]); }

// Number of consecutive digits starting at i.
size_t DigitRun(std::string_view t, size_t i) {
  size_t k = i;
  while (k < t.size() && IsDigit(t[k])) ++k;
  return k - i;
}

// --- e-mail addresses ---

bool IsLocalChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsDomainChar(char c) { return IsAlnum(c) || c == '.' || c == '-'; }

// A domain "label(.label)+", labels non-empty, not starting/ending with '-', TLD of >= 2
// letters.
bool ValidDomain(std::string_view d) {
  if (d.empty()) return false;
  size_t labels = 0;
  size_t start = 0;
  while (start <= d.size()) {
    size_t dot = d.find('.', start);
    if (dot == std::string_view::npos) dot = d.size();
    const std::string_view label = d.substr(start, dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    ++labels;
    if (dot == d.size()) {
      if (label.size() < 2) return false;
      for (char c : label) {
        if (!IsAlpha(c)) return false;
      }
      break;
    }
    start = dot + 1;
  }
  return labels >= 2;
}

void FindEmails(std::string_view t, std::vector<PiiFinding>* out) {
  for (size_t at = t.find('@'); at != std::string_view::npos; at = t.find('@', at + 1)) {
    size_t begin = at;
    while (begin > 0 && IsLocalChar(t[begin - 1])) --begin;
    while (begin < at && t[begin] == '.') ++begin;
    if (begin == at) continue;
    size_t end = at + 1;
    while (end < t.size() && IsDomainChar(t[end])) ++end;
    while (end > at + 1 && (t[end - 1] == '.' || t[end - 1] == '-')) --end;
    if (!ValidDomain(t.substr(at + 1, end - at - 1))) continue;
    out->push_back({"email", begin, end - begin});
  }
}

// --- phone numbers ---

// "+" followed by 8-15 digits (first one 1-9), separators " -.()" between them (at most
// two in a row). Takes the longest prefix ending at a digit group with <= 15 digits.
void FindE164(std::string_view t, std::vector<PiiFinding>* out) {
  for (size_t i = t.find('+'); i != std::string_view::npos; i = t.find('+', i + 1)) {
    if (WordCharBefore(t, i) || (i > 0 && t[i - 1] == '+')) continue;
    size_t p = i + 1;
    if (p < t.size() && t[p] == '(') ++p;
    if (!DigitAt(t, p) || t[p] == '0') continue;
    size_t digits = 0, best_end = 0, best_digits = 0;
    int seps = 0;
    while (p < t.size()) {
      const char c = t[p];
      if (IsDigit(c)) {
        ++digits;
        ++p;
        seps = 0;
        if (!DigitAt(t, p)) {  // end of a digit group
          if (digits > 15) break;
          best_end = p;
          best_digits = digits;
        }
      } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
        if (++seps > 2) break;
        ++p;
      } else {
        break;
      }
    }
    if (best_digits < 8) continue;
    out->push_back({"phone", i, best_end - i});
  }
}

// Chinese mobile numbers: 1[3-9] + 9 digits, contiguous or written 3-4-4 with one kind of
// separator (space or dash); not part of a longer digit run or glued to a word.
void FindChineseMobile(std::string_view t, std::vector<PiiFinding>* out) {
  for (size_t i = 0; i + 11 <= t.size(); ++i) {
    if (t[i] != '1' || CodeBefore(t, i)) continue;
    if (t[i + 1] < '3' || t[i + 1] > '9') continue;
    const size_t run = DigitRun(t, i);
    if (run == 11) {
      out->push_back({"phone", i, 11});
      i += 10;
      continue;
    }
    if (run != 3 || i + 13 > t.size()) continue;
    const char sep = t[i + 3];
    if (sep != ' ' && sep != '-') continue;
    if (DigitRun(t, i + 4) != 4 || t[i + 8] != sep || DigitRun(t, i + 9) != 4) continue;
    out->push_back({"phone", i, 13});
    i += 12;
  }
}

// North-American numbers "(xxx) xxx-xxxx", "(xxx)xxx-xxxx" and "xxx-xxx-xxxx", area code
// starting 2-9; not glued to a word or followed by more digits.
void FindNorthAmerican(std::string_view t, std::vector<PiiFinding>* out) {
  auto tail_ok = [&](size_t p) {  // "xxx-xxxx" at p, then no more digits
    return DigitRun(t, p) == 3 && p + 3 < t.size() && t[p + 3] == '-' &&
           DigitRun(t, p + 4) == 4 && !(p + 8 < t.size() && t[p + 8] == '-' && DigitAt(t, p + 9));
  };
  for (size_t i = 0; i < t.size(); ++i) {
    if (WordCharBefore(t, i)) continue;
    if (t[i] == '(') {
      if (DigitRun(t, i + 1) != 3 || t[i + 1] < '2' || i + 4 >= t.size() || t[i + 4] != ')') {
        continue;
      }
      size_t p = i + 5;
      if (p < t.size() && t[p] == ' ') ++p;
      if (!tail_ok(p)) continue;
      out->push_back({"phone", i, p + 8 - i});
      i = p + 7;
    } else if (IsDigit(t[i]) && (i == 0 || !IsDigit(t[i - 1]))) {
      if (t[i] < '2' || DigitRun(t, i) != 3 || i + 3 >= t.size() || t[i + 3] != '-') continue;
      if (!tail_ok(i + 4)) continue;
      out->push_back({"phone", i, 12});
      i += 11;
    }
  }
}

// --- payment cards ---

bool LuhnValid(const std::string& digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

struct DigitGroup {
  size_t begin = 0, end = 0;  // byte range of the digits
  char sep_before = 0;        // ' ' or '-' before this group (0 for the first)
};

// 13-19 digits passing Luhn with first digit 2-6, either contiguous or grouped by one kind
// of single separator with groups of 4-6 digits (the last one 1-6). From each group of a
// grouped run, the longest valid candidate wins.
void FindCards(std::string_view t, std::vector<PiiFinding>* out) {
  size_t i = 0;
  while (i < t.size()) {
    if (!IsDigit(t[i]) || (i > 0 && IsDigit(t[i - 1]))) {
      ++i;
      continue;
    }
    // Collect the run of digit groups joined by single spaces or dashes.
    std::vector<DigitGroup> groups;
    size_t p = i;
    char sep = 0;
    while (true) {
      const size_t len = DigitRun(t, p);
      groups.push_back({p, p + len, sep});
      p += len;
      if (p + 1 < t.size() && (t[p] == ' ' || t[p] == '-') && IsDigit(t[p + 1])) {
        sep = t[p];
        ++p;
      } else {
        break;
      }
    }
    const size_t run_end = p;
    const bool glued = CodeBefore(t, i);
    size_t s = glued ? 1 : 0;  // a number continuing a code ("SKU-4111...") is not a card
    while (s < groups.size()) {
      size_t best_e = SIZE_MAX;
      std::string digits;
      for (size_t e = s; e < groups.size(); ++e) {
        const size_t len = groups[e].end - groups[e].begin;
        if (e > s && groups[e].sep_before != groups[s + 1].sep_before) break;
        if (e > s) {
          const size_t prev = groups[e - 1].end - groups[e - 1].begin;
          if (prev < 4 || prev > 6) break;  // inner groups hold 4-6 digits
          if (len > 6) break;
        }
        digits.append(t.substr(groups[e].begin, len));
        if (digits.size() > 19) break;
        if (digits.size() >= 13 && digits[0] >= '2' && digits[0] <= '6' && LuhnValid(digits)) {
          best_e = e;
        }
      }
      if (best_e != SIZE_MAX) {
        out->push_back({"card", groups[s].begin, groups[best_e].end - groups[s].begin});
        s = best_e + 1;
      } else {
        ++s;
      }
    }
    i = run_end;
  }
}

std::string_view PlaceholderOf(std::string_view kind) {
  if (kind == "email") return "[email]";
  if (kind == "phone") return "[phone]";
  return "[card]";
}

std::string_view KindPhrase(std::string_view kind) {
  if (kind == "email") return "an e-mail address";
  if (kind == "phone") return "a phone number";
  return "a payment card number";
}

}  // namespace

std::vector<PiiFinding> FindPii(std::string_view text) {
  std::vector<PiiFinding> all;
  FindEmails(text, &all);
  FindE164(text, &all);
  FindChineseMobile(text, &all);
  FindNorthAmerican(text, &all);
  FindCards(text, &all);
  std::sort(all.begin(), all.end(), [](const PiiFinding& a, const PiiFinding& b) {
    if (a.offset != b.offset) return a.offset < b.offset;
    return a.length > b.length;
  });
  std::vector<PiiFinding> kept;
  size_t covered_to = 0;
  for (PiiFinding& f : all) {
    if (!kept.empty() && f.offset < covered_to) continue;
    covered_to = f.offset + f.length;
    kept.push_back(std::move(f));
  }
  return kept;
}

std::string RedactPii(std::string_view text) {
  const std::vector<PiiFinding> found = FindPii(text);
  if (found.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const PiiFinding& f : found) {
    out.append(text.substr(pos, f.offset - pos));
    out.append(PlaceholderOf(f.kind));
    pos = f.offset + f.length;
  }
  out.append(text.substr(pos));
  return out;
}

// ---------------------------------------------------------------------------------------
// JSON scrubbing

namespace {

// Redacts `s` in place; returns the number of findings.
size_t RedactInPlace(std::string* s) {
  const std::vector<PiiFinding> found = FindPii(*s);
  if (!found.empty()) *s = RedactPii(*s);
  return found.size();
}

std::string ChildPath(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

// `subject` names the offending field ("events[3].context.note").
Status PiiError(std::string_view subject, std::string_view kind) {
  return InvalidArgumentError(fmt::format(
      "{} contains {} (PII); remove it, or have the server redact it (PII policy \"redact\")",
      subject, KindPhrase(kind)));
}

}  // namespace

Status ScrubPii(nlohmann::json& j, PiiPolicy policy, const std::string& field_path,
                size_t* redacted) {
  if (redacted != nullptr) *redacted = 0;
  if (policy == PiiPolicy::kOff) return OkStatus();
  size_t count = 0;
  struct Pending {
    nlohmann::json* node;
    std::string path;
  };
  std::vector<Pending> stack;
  stack.push_back({&j, field_path});
  while (!stack.empty()) {
    Pending cur = std::move(stack.back());
    stack.pop_back();
    nlohmann::json& node = *cur.node;
    if (node.is_string()) {
      auto& s = node.get_ref<std::string&>();
      if (policy == PiiPolicy::kReject) {
        const std::vector<PiiFinding> found = FindPii(s);
        if (!found.empty()) {
          return PiiError(cur.path.empty() ? std::string("the request") : cur.path,
                          found.front().kind);
        }
      } else {
        count += RedactInPlace(&s);
      }
    } else if (node.is_array()) {
      for (size_t k = node.size(); k-- > 0;) {
        stack.push_back({&node[k], fmt::format("{}[{}]", cur.path, k)});
      }
    } else if (node.is_object()) {
      // Keys first: a key holding PII is renamed (redact) or refused (reject).
      std::vector<std::pair<std::string, std::string>> renames;
      for (auto it = node.begin(); it != node.end(); ++it) {
        const std::vector<PiiFinding> found = FindPii(it.key());
        if (found.empty()) continue;
        if (policy == PiiPolicy::kReject) {
          return PiiError(cur.path.empty() ? std::string("a field name of the request")
                                           : fmt::format("a field name of {}", cur.path),
                          found.front().kind);
        }
        count += found.size();
        renames.emplace_back(it.key(), RedactPii(it.key()));
      }
      for (auto& [old_key, new_key] : renames) {
        std::string unique = new_key;
        for (int n = 2; node.contains(unique); ++n) unique = fmt::format("{}#{}", new_key, n);
        nlohmann::json value = std::move(node[old_key]);
        node.erase(old_key);
        node[unique] = std::move(value);
      }
      std::vector<Pending> children;
      for (auto it = node.begin(); it != node.end(); ++it) {
        children.push_back({&it.value(), ChildPath(cur.path, it.key())});
      }
      for (auto it = children.rbegin(); it != children.rend(); ++it) {
        stack.push_back(std::move(*it));
      }
    }
  }
  if (redacted != nullptr) *redacted = count;
  return OkStatus();
}

}  // namespace souk::server
