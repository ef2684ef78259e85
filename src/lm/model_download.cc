#include "lm/model_download.h"

#include <fmt/format.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "common/file.h"
#include "common/sha256.h"
#include "common/time.h"

namespace souk::lm {
namespace {

constexpr char kDefaultEndpoint[] = "https://huggingface.co";
constexpr char kRecordFile[] = "souk-download.json";
constexpr int kMaxBackoffMs = 30000;

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsRepoChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

Status ValidateRepoId(const std::string& repo_id) {
  const size_t slash = repo_id.find('/');
  std::vector<std::string> parts;
  if (slash == std::string::npos) {
    parts.push_back(repo_id);
  } else {
    parts.push_back(repo_id.substr(0, slash));
    parts.push_back(repo_id.substr(slash + 1));
  }
  for (const std::string& p : parts) {
    if (p.empty() || p == "." || p == ".." || !std::all_of(p.begin(), p.end(), IsRepoChar)) {
      return InvalidArgumentError(fmt::format(
          "repo id '{}': expected 'org/name' made of letters, digits, '.', '_' and '-'", repo_id));
    }
  }
  return OkStatus();
}

Status ValidateFileName(const std::string& file) {
  if (file.empty() || file.front() == '/' || file.find('\\') != std::string::npos ||
      file.find('\0') != std::string::npos) {
    return InvalidArgumentError(
        fmt::format("file name '{}': expected a relative path inside the repository", file));
  }
  size_t start = 0;
  while (start <= file.size()) {
    size_t end = file.find('/', start);
    if (end == std::string::npos) end = file.size();
    const std::string_view part(file.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return InvalidArgumentError(
          fmt::format("file name '{}': empty, '.' or '..' path component", file));
    }
    start = end + 1;
  }
  return OkStatus();
}

// An absolute http(s) URL split into the origin httplib::Client takes and the path.
struct Url {
  std::string scheme;  // "http" / "https"
  std::string host;    // host[:port] as written
  std::string path;    // starts with '/'
  std::string Origin() const { return scheme + "://" + host; }
};

StatusOr<Url> ParseUrl(std::string_view url) {
  Url u;
  size_t rest = 0;
  if (url.starts_with("https://")) {
    u.scheme = "https";
    rest = 8;
  } else if (url.starts_with("http://")) {
    u.scheme = "http";
    rest = 7;
  } else {
    return InvalidArgumentError(fmt::format("URL '{}': expected http:// or https://", url));
  }
  const size_t slash = url.find('/', rest);
  u.host = std::string(
      url.substr(rest, slash == std::string_view::npos ? std::string_view::npos : slash - rest));
  u.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (u.host.empty()) return InvalidArgumentError(fmt::format("URL '{}': no host", url));
  return u;
}

// Resolves a Location header against the URL it came from.
StatusOr<Url> ResolveLocation(const Url& base, const std::string& location) {
  if (location.starts_with("http://") || location.starts_with("https://"))
    return ParseUrl(location);
  if (location.starts_with("//")) return ParseUrl(base.scheme + ":" + location);
  Url u = base;
  if (location.starts_with("/")) {
    u.path = location;
  } else {
    std::string dir = base.path.substr(0, base.path.find('?'));
    dir = dir.substr(0, dir.rfind('/') + 1);
    u.path = dir + location;
  }
  return u;
}

// Percent-encodes the characters of a revision that cannot stand in a path segment.
std::string EncodeRevision(const std::string& revision) {
  std::string out;
  for (unsigned char c : revision) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// "W/\"abc\"" -> "abc".
std::string StripEtag(std::string etag) {
  if (etag.starts_with("W/")) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return etag;
}

std::optional<uint64_t> ParseU64(const std::string& s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  try {
    return static_cast<uint64_t>(std::stoull(s));
  } catch (...) {
    return std::nullopt;
  }
}

// "bytes 500-999/1000" -> start 500, total 1000 (total nullopt for "*").
struct ContentRange {
  uint64_t start = 0;
  std::optional<uint64_t> total;
};
std::optional<ContentRange> ParseContentRange(const std::string& v) {
  if (!v.starts_with("bytes ")) return std::nullopt;
  const size_t dash = v.find('-', 6);
  const size_t slash = v.find('/', 6);
  if (dash == std::string::npos || slash == std::string::npos || dash > slash) return std::nullopt;
  ContentRange cr;
  auto start = ParseU64(v.substr(6, dash - 6));
  if (!start) return std::nullopt;
  cr.start = *start;
  cr.total = ParseU64(v.substr(slash + 1));
  return cr;
}

// Feeds a file's bytes into `hasher`; returns the byte count.
StatusOr<uint64_t> HashInto(const std::filesystem::path& path, Sha256* hasher) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return UnavailableError(fmt::format("cannot read {}", path.string()));
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize n = in.gcount();
    if (n <= 0) break;
    hasher->Update(buf.data(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  if (in.bad()) return UnavailableError(fmt::format("read error in {}", path.string()));
  return total;
}

struct PreviousEntry {
  std::string sha256;
  uint64_t size = 0;
  std::string verified_by;
  nlohmann::json raw;
};

// Entries of an earlier souk-download.json for the same repo (empty when absent,
// unreadable or for another repo).
struct PreviousRecord {
  std::string revision;
  std::string endpoint;
  std::map<std::string, PreviousEntry> files;
};

PreviousRecord ReadPreviousRecord(const std::filesystem::path& dest_dir,
                                  const std::string& repo_id) {
  PreviousRecord rec;
  std::ifstream in(dest_dir / kRecordFile);
  if (!in) return rec;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("repo", "") != repo_id || !j.contains("files") ||
      !j["files"].is_array()) {
    return rec;
  }
  rec.revision = j.value("revision", "");
  rec.endpoint = j.value("endpoint", "");
  for (const auto& f : j["files"]) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string()) continue;
    PreviousEntry e;
    e.sha256 = f.value("sha256", "");
    e.size = f.contains("size") && f["size"].is_number_unsigned() ? f["size"].get<uint64_t>() : 0;
    e.verified_by = f.value("verified_by", "");
    e.raw = f;
    rec.files[f["name"].get<std::string>()] = std::move(e);
  }
  return rec;
}

// Outcome of one request chain (initial URL plus redirects) for one file.
enum class AttemptResult {
  kComplete,  // a 200/206 body was received completely
  kNotFound,  // 404
  kAuth,      // 401/403
  kRetry,     // connection error, truncated body, 5xx, 429
  kRestart,   // 416 on a range request: the .part is dropped and the file fetched again
  kFatal,     // anything else (detail in `status`)
};

class FileDownload {
 public:
  FileDownload(const std::string& repo_id, const std::string& file, const Url& endpoint,
               const DownloadOptions& options, const std::filesystem::path& final_path,
               const ProgressOptions* progress)
      : repo_id_(repo_id),
        file_(file),
        endpoint_(endpoint),
        options_(options),
        final_(final_path),
        part_(final_path.string() + ".part"),
        progress_options_(progress) {}

  ~FileDownload() { CloseSink(); }

  // Runs the download with retries. On success the verified file has its final name.
  StatusOr<DownloadedFile> Run(const std::string& expected_sha256) {
    DownloadedFile result;
    result.name = file_;
    std::error_code ec;
    if (std::filesystem::exists(part_, ec)) {
      ASSIGN_OR_RETURN(have_, HashInto(part_, &hasher_));
    }

    int failures = 0;
    Status last_error;
    while (true) {
      Status attempt_status;
      const AttemptResult r = Attempt(&attempt_status);
      CloseSink();
      if (io_error_.ok() == false) return io_error_;
      if (r == AttemptResult::kComplete) break;
      if (r == AttemptResult::kNotFound) return attempt_status;
      if (r == AttemptResult::kAuth) return attempt_status;
      if (r == AttemptResult::kFatal) return attempt_status;
      if (r == AttemptResult::kRestart) RETURN_IF_ERROR(DropPart());
      ++failures;
      last_error = attempt_status;
      if (failures > options_.max_retries) {
        return UnavailableError(fmt::format("{}: {}: giving up after {} attempts: {}", repo_id_,
                                            file_, failures, last_error.message()));
      }
      if (r == AttemptResult::kRetry) {
        const int64_t delay =
            std::min<int64_t>(kMaxBackoffMs, static_cast<int64_t>(options_.retry_base_delay_ms)
                                                 << std::min(failures - 1, 16));
        std::this_thread::sleep_for(std::chrono::milliseconds(std::max<int64_t>(0, delay)));
      }
    }
    result.resumed = resumed_;
    if (progress_) progress_->Finish();

    // Size: the hub's X-Linked-Size, else the total the final response announced.
    const std::optional<uint64_t> expected_size = linked_size_ ? linked_size_ : announced_total_;
    const std::string actual_sha = hasher_.HexDigest();
    const uint64_t received = have_;
    if (expected_size && *expected_size != received) {
      RETURN_IF_ERROR(DropPart());
      return DataLossError(
          fmt::format("{}: {}: size mismatch: expected {} bytes, received {}; the partial "
                      "download was deleted",
                      repo_id_, file_, *expected_size, received));
    }
    std::string expected = Lower(expected_sha256);
    std::string verified_by = expected.empty() ? "" : "expected";
    if (expected.empty()) {
      for (const std::string& tag : {linked_etag_, final_etag_}) {
        if (IsHex64(tag)) {
          expected = Lower(tag);
          verified_by = "etag";
          break;
        }
      }
    }
    if (!expected.empty() && expected != actual_sha) {
      RETURN_IF_ERROR(DropPart());
      return DataLossError(
          fmt::format("{}: {}: sha256 mismatch: expected {}, got {} ({} bytes); the partial "
                      "download was deleted",
                      repo_id_, file_, expected, actual_sha, received));
    }
    RETURN_IF_ERROR(SyncPart());
    std::filesystem::rename(part_, final_, ec);
    if (ec)
      return UnavailableError(
          fmt::format("cannot rename {} to {}: {}", part_.string(), final_.string(), ec.message()));
    result.bytes = have_;
    result.sha256 = actual_sha;
    result.verified_against = !expected.empty();
    result.verified_by = verified_by;
    return result;
  }

 private:
  AttemptResult Attempt(Status* status) {
    Url url = endpoint_;
    url.path = fmt::format("{}/{}/resolve/{}/{}", endpoint_.path == "/" ? "" : endpoint_.path,
                           repo_id_, EncodeRevision(options_.revision), file_);
    const std::string where =
        fmt::format("{}: {} (revision {})", repo_id_, file_, options_.revision);
    for (int hop = 0; hop <= options_.max_redirects; ++hop) {
      httplib::Client cli(url.Origin());
      if (!cli.is_valid()) {
        *status =
            InvalidArgumentError(fmt::format("{}: cannot connect to {}", where, url.Origin()));
        return AttemptResult::kFatal;
      }
      cli.set_follow_location(false);
      cli.set_connection_timeout(options_.timeout_seconds);
      cli.set_read_timeout(options_.timeout_seconds);
      cli.set_write_timeout(options_.timeout_seconds);
      cli.set_keep_alive(false);
      httplib::Headers headers = {{"Accept-Encoding", "identity"},
                                  {"User-Agent", "souk-model-pull/1"}};
      if (have_ > 0) headers.emplace("Range", fmt::format("bytes={}-", have_));
      // The token goes to the hub only, never to the CDN host a redirect points to.
      if (!options_.token.empty() && url.Origin() == endpoint_.Origin()) {
        headers.emplace("Authorization", "Bearer " + options_.token);
      }

      int http_status = -1;
      httplib::Headers response_headers;
      bool body_started = false;
      Status handler_error;
      auto on_response = [&](const httplib::Response& res) {
        http_status = res.status;
        response_headers = res.headers;
        if (res.status != 200 && res.status != 206) return true;  // body ignored
        Status s = StartBody(res);
        if (!s.ok()) {
          handler_error = s;
          return false;
        }
        body_started = true;
        return true;
      };
      auto on_data = [&](const char* data, size_t n) {
        if (!body_started) return true;
        if (std::fwrite(data, 1, n, sink_) != n) {
          io_error_ = UnavailableError(
              fmt::format("cannot write {}: {}", part_.string(), std::strerror(errno)));
          return false;
        }
        hasher_.Update(data, n);
        have_ += n;
        if (progress_) progress_->Add(n);
        return true;
      };
      httplib::Result res = cli.Get(url.path, headers, on_response, on_data);

      if (!handler_error.ok()) {
        *status = handler_error;
        return handler_error.code() == StatusCode::kDataLoss ? AttemptResult::kRestart
                                                             : AttemptResult::kFatal;
      }
      if (!io_error_.ok()) {
        *status = io_error_;
        return AttemptResult::kFatal;
      }
      // Hub metadata may come on any hop (X-Linked-* on the redirect to the CDN).
      auto header = [&](const char* key) {
        auto it = response_headers.find(key);
        return it == response_headers.end() ? std::string() : it->second;
      };
      if (const std::string v = StripEtag(header("X-Linked-Etag")); !v.empty()) linked_etag_ = v;
      if (auto v = ParseU64(header("X-Linked-Size"))) linked_size_ = v;
      if (!res) {
        *status =
            UnavailableError(fmt::format("{}: {} from {}{}", where, httplib::to_string(res.error()),
                                         url.Origin(), body_started ? " (body cut short)" : ""));
        return AttemptResult::kRetry;
      }
      if (http_status == 200 || http_status == 206) {
        final_etag_ = StripEtag(header("ETag"));
        return AttemptResult::kComplete;
      }
      if (http_status == 301 || http_status == 302 || http_status == 303 || http_status == 307 ||
          http_status == 308) {
        const std::string location = header("Location");
        if (location.empty()) {
          *status = UnavailableError(
              fmt::format("{}: HTTP {} without a Location header", where, http_status));
          return AttemptResult::kFatal;
        }
        auto next = ResolveLocation(url, location);
        if (!next.ok()) {
          *status = next.status().WithContext(where);
          return AttemptResult::kFatal;
        }
        url = *next;
        continue;
      }
      const std::string hub_error = header("X-Error-Code");
      const std::string hub_detail = hub_error.empty() ? "" : fmt::format(" ({})", hub_error);
      if (http_status == 404) {
        *status = NotFoundError(
            fmt::format("{}: not found on {}{}", where, endpoint_.Origin(), hub_detail));
        return AttemptResult::kNotFound;
      }
      if (http_status == 401 || http_status == 403) {
        *status = FailedPreconditionError(fmt::format(
            "{}: HTTP {}{}: the repository is private, gated or does not exist; accept its terms "
            "on the hub "
            "and set HF_TOKEN to an access token{}",
            where, http_status, hub_detail, options_.token.empty() ? "" : " (a token was sent)"));
        return AttemptResult::kAuth;
      }
      if (http_status == 416) {
        *status = DataLossError(fmt::format("{}: HTTP 416 for a resume at byte {}", where, have_));
        return AttemptResult::kRestart;
      }
      if (http_status >= 500 || http_status == 429 || http_status == 408) {
        *status =
            UnavailableError(fmt::format("{}: HTTP {} from {}", where, http_status, url.Origin()));
        return AttemptResult::kRetry;
      }
      *status = UnavailableError(fmt::format("{}: unexpected HTTP {} from {}{}", where, http_status,
                                             url.Origin(), hub_detail));
      return AttemptResult::kFatal;
    }
    *status =
        UnavailableError(fmt::format("{}: more than {} redirects", where, options_.max_redirects));
    return AttemptResult::kFatal;
  }

  // Called on a 200/206 response: opens the .part for appending (206 at our offset)
  // or truncates it (200, or a range the server did not honor), and sets up progress.
  // A DataLoss return means "restart from zero".
  Status StartBody(const httplib::Response& res) {
    std::optional<uint64_t> content_length;
    if (res.has_header("Content-Length"))
      content_length = ParseU64(res.get_header_value("Content-Length"));
    bool append = false;
    if (res.status == 206) {
      auto cr = ParseContentRange(res.get_header_value("Content-Range"));
      if (!cr || cr->start != have_) {
        return DataLossError(
            fmt::format("{}: server answered the resume at byte {} with Content-Range '{}'", file_,
                        have_, res.get_header_value("Content-Range")));
      }
      append = true;
      announced_total_ = cr->total;
      if (!announced_total_ && content_length) announced_total_ = have_ + *content_length;
    } else {
      announced_total_ = content_length;
    }
    if (!append && have_ > 0) {  // the server ignored Range: start over
      have_ = 0;
      hasher_ = Sha256();
    }
    resumed_ = append;
    std::error_code ec;  // folders are made only for files that exist on the hub
    std::filesystem::create_directories(final_.parent_path(), ec);
    if (ec)
      return UnavailableError(
          fmt::format("cannot create {}: {}", final_.parent_path().string(), ec.message()));
    sink_ = std::fopen(part_.c_str(), append ? "ab" : "wb");
    if (sink_ == nullptr) {
      return UnavailableError(
          fmt::format("cannot open {}: {}", part_.string(), std::strerror(errno)));
    }
    if (progress_options_ != nullptr) {
      const uint64_t total = announced_total_.value_or(linked_size_.value_or(0));
      if (!progress_) {
        ProgressOptions po = *progress_options_;
        po.bytes = true;
        progress_ = std::make_unique<Progress>("download " + file_, total, po);
      }
      progress_->SetTotal(total);
      progress_->Set(have_);
    }
    return OkStatus();
  }

  void CloseSink() {
    if (sink_ != nullptr) {
      if (std::fclose(sink_) != 0 && io_error_.ok()) {
        io_error_ = UnavailableError(
            fmt::format("cannot write {}: {}", part_.string(), std::strerror(errno)));
      }
      sink_ = nullptr;
    }
  }

  Status DropPart() {
    CloseSink();
    std::error_code ec;
    std::filesystem::remove(part_, ec);
    if (ec)
      return UnavailableError(fmt::format("cannot delete {}: {}", part_.string(), ec.message()));
    have_ = 0;
    hasher_ = Sha256();
    return OkStatus();
  }

  Status SyncPart() {
    FILE* f = std::fopen(part_.c_str(), "ab");
    if (f == nullptr) {
      return UnavailableError(
          fmt::format("cannot open {}: {}", part_.string(), std::strerror(errno)));
    }
    const bool ok = ::fsync(fileno(f)) == 0;
    std::fclose(f);
    if (!ok)
      return UnavailableError(
          fmt::format("cannot sync {}: {}", part_.string(), std::strerror(errno)));
    return OkStatus();
  }

  const std::string& repo_id_;
  const std::string& file_;
  const Url& endpoint_;
  const DownloadOptions& options_;
  const std::filesystem::path final_;
  const std::filesystem::path part_;
  const ProgressOptions* progress_options_;

  Sha256 hasher_;
  uint64_t have_ = 0;     // bytes in the .part, all fed to hasher_
  bool resumed_ = false;  // the last body was appended to earlier bytes (206)
  FILE* sink_ = nullptr;
  Status io_error_;
  std::unique_ptr<Progress> progress_;
  std::string linked_etag_;
  std::string final_etag_;
  std::optional<uint64_t> linked_size_;
  std::optional<uint64_t> announced_total_;
};

// Whether an existing final file can be kept: it matches the expected sha256, or
// the record of an earlier pull of the same repo/revision/endpoint.
StatusOr<std::optional<DownloadedFile>> CheckExisting(const std::filesystem::path& final_path,
                                                      const std::string& file,
                                                      const std::string& expected,
                                                      const PreviousRecord& previous,
                                                      const DownloadOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(final_path, ec)) return std::optional<DownloadedFile>();
  const uint64_t size = std::filesystem::file_size(final_path, ec);
  if (ec) return std::optional<DownloadedFile>();
  std::string want = Lower(expected);
  std::string verified_by = "expected";
  if (want.empty()) {
    auto it = previous.files.find(file);
    if (it == previous.files.end() || previous.revision != options.revision ||
        previous.endpoint != options.endpoint || !IsHex64(it->second.sha256) ||
        it->second.size != size) {
      return std::optional<DownloadedFile>();
    }
    want = Lower(it->second.sha256);
    verified_by = "previous-pull";
  }
  ASSIGN_OR_RETURN(std::string actual, Sha256File(final_path));
  if (actual != want) return std::optional<DownloadedFile>();
  DownloadedFile f;
  f.name = file;
  f.bytes = size;
  f.sha256 = actual;
  f.verified_against = true;
  f.verified_by = verified_by;
  f.skipped_existing = true;
  return std::optional<DownloadedFile>(f);
}

Status WriteRecord(const std::filesystem::path& dest_dir, const std::string& repo_id,
                   const DownloadOptions& options, const std::vector<DownloadedFile>& files,
                   const PreviousRecord& previous) {
  nlohmann::json j;
  j["repo"] = repo_id;
  j["revision"] = options.revision;
  j["endpoint"] = options.endpoint;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  j["time"] = FormatTimestampMs(now_ms);
  nlohmann::json list = nlohmann::json::array();
  std::set<std::string> names;
  for (const DownloadedFile& f : files) {
    names.insert(f.name);
    list.push_back({{"name", f.name},
                    {"size", f.bytes},
                    {"sha256", f.sha256},
                    {"verified_by", f.verified_by},
                    {"skipped_existing", f.skipped_existing}});
  }
  // Files of an earlier pull of the same revision that this pull did not touch.
  if (previous.revision == options.revision && previous.endpoint == options.endpoint) {
    for (const auto& [name, e] : previous.files) {
      std::error_code ec;
      if (names.count(name) == 0 && std::filesystem::is_regular_file(dest_dir / name, ec))
        list.push_back(e.raw);
    }
  }
  std::sort(list.begin(), list.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a.value("name", "") < b.value("name", "");
  });
  j["files"] = std::move(list);
  return WriteFileAtomically(dest_dir / kRecordFile, j.dump(1) + "\n");
}

}  // namespace

std::vector<std::string> DefaultModelFiles() {
  return {"config.json",
          "tokenizer.json",
          "vocab.txt",
          "tokenizer_config.json",
          "special_tokens_map.json",
          "modules.json",
          "sentence_bert_config.json",
          "config_sentence_transformers.json",
          "1_Pooling/config.json",
          "model.safetensors"};
}

void ApplyHubEnvironment(DownloadOptions* options) {
  if (options->endpoint == kDefaultEndpoint) {
    if (const char* e = std::getenv("HF_ENDPOINT"); e != nullptr && *e != '\0')
      options->endpoint = e;
  }
  if (options->token.empty()) {
    if (const char* t = std::getenv("HF_TOKEN"); t != nullptr && *t != '\0') options->token = t;
  }
}

StatusOr<std::filesystem::path> HubModelDir(const std::filesystem::path& data_dir,
                                            const std::string& repo_id) {
  RETURN_IF_ERROR(ValidateRepoId(repo_id));
  std::string name = repo_id;
  if (const size_t slash = name.find('/'); slash != std::string::npos) name.replace(slash, 1, "--");
  return data_dir / "models" / "hub" / name;
}

StatusOr<std::vector<DownloadedFile>> PullModel(const std::string& repo_id,
                                                const std::filesystem::path& dest_dir,
                                                const DownloadOptions& options,
                                                const ProgressOptions* progress) {
  RETURN_IF_ERROR(ValidateRepoId(repo_id));
  if (options.revision.empty()) return InvalidArgumentError("revision: empty");
  std::string endpoint_str = options.endpoint;
  while (endpoint_str.size() > 1 && endpoint_str.back() == '/') endpoint_str.pop_back();
  ASSIGN_OR_RETURN(Url endpoint, ParseUrl(endpoint_str));
  if (endpoint.path.find('?') != std::string::npos) {
    return InvalidArgumentError(
        fmt::format("endpoint '{}': a query string is not supported", options.endpoint));
  }
  const bool default_set = options.files.empty();
  const std::vector<std::string> files = default_set ? DefaultModelFiles() : options.files;
  const std::set<std::string> required =
      default_set ? std::set<std::string>{"config.json", "model.safetensors"}
                  : std::set<std::string>(options.files.begin(), options.files.end());
  for (const std::string& f : files) RETURN_IF_ERROR(ValidateFileName(f));
  for (const auto& [f, hex] : options.expected_sha256) {
    if (!IsHex64(hex)) {
      return InvalidArgumentError(
          fmt::format("expected sha256 for '{}': '{}' is not 64 hex digits", f, hex));
    }
  }

  std::error_code ec;
  std::filesystem::create_directories(dest_dir, ec);
  if (ec)
    return UnavailableError(fmt::format("cannot create {}: {}", dest_dir.string(), ec.message()));
  const PreviousRecord previous = ReadPreviousRecord(dest_dir, repo_id);
  DownloadOptions record_options = options;
  record_options.endpoint = endpoint_str;

  std::vector<DownloadedFile> done;
  for (const std::string& file : files) {
    const std::filesystem::path final_path = dest_dir / file;
    auto exp_it = options.expected_sha256.find(file);
    const std::string expected = exp_it == options.expected_sha256.end() ? "" : exp_it->second;
    ASSIGN_OR_RETURN(std::optional<DownloadedFile> existing,
                     CheckExisting(final_path, file, expected, previous, record_options));
    if (existing) {
      done.push_back(*existing);
      continue;
    }
    FileDownload download(repo_id, file, endpoint, options, final_path, progress);
    StatusOr<DownloadedFile> got = download.Run(expected);
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound && required.count(file) == 0) continue;
      return got.status();
    }
    done.push_back(*got);
  }
  if (default_set) {
    const bool has_tokenizer = std::any_of(done.begin(), done.end(), [](const DownloadedFile& f) {
      return f.name == "tokenizer.json" || f.name == "vocab.txt";
    });
    if (!has_tokenizer) {
      return NotFoundError(
          fmt::format("{} (revision {}): neither tokenizer.json nor vocab.txt exists on {}",
                      repo_id, options.revision, endpoint_str));
    }
  }
  RETURN_IF_ERROR(WriteRecord(dest_dir, repo_id, record_options, done, previous));
  return done;
}

// --- Weight verification ---------------------------------------------------

StatusOr<std::vector<WeightCheck>> VerifyWeights(const std::filesystem::path& model_dir,
                                                 const std::filesystem::path& records_json) {
  std::ifstream in(records_json);
  if (!in)
    return NotFoundError(fmt::format("weight records {}: cannot open", records_json.string()));
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError(
        fmt::format("weight records {}: not a JSON object", records_json.string()));
  }
  std::vector<WeightCheck> checks;
  for (const auto& [name, entry] : j.items()) {
    const std::string where =
        fmt::format("weight records {}: entry '{}'", records_json.string(), name);
    RETURN_IF_ERROR(ValidateFileName(name).WithContext(where));
    if (!entry.is_object() || !entry.contains("sha256") || !entry["sha256"].is_string() ||
        !entry.contains("size") || !entry["size"].is_number_unsigned()) {
      return InvalidArgumentError(where + ": expected {\"sha256\": \"<hex>\", \"size\": <bytes>}");
    }
    WeightCheck c;
    c.name = name;
    c.expected_sha256 = Lower(entry["sha256"].get<std::string>());
    c.expected_size = entry["size"].get<uint64_t>();
    if (!IsHex64(c.expected_sha256))
      return InvalidArgumentError(where + ": sha256 is not 64 hex digits");
    const std::filesystem::path path = model_dir / name;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      c.problem = "not present";
      checks.push_back(std::move(c));
      continue;
    }
    c.present = true;
    c.actual_size = std::filesystem::file_size(path, ec);
    if (ec) return UnavailableError(fmt::format("cannot stat {}: {}", path.string(), ec.message()));
    if (c.actual_size != c.expected_size) {
      c.problem = fmt::format("size {} bytes, expected {}", c.actual_size, c.expected_size);
    } else {
      ASSIGN_OR_RETURN(c.actual_sha256, Sha256File(path));
      if (c.actual_sha256 != c.expected_sha256) {
        c.problem = fmt::format("sha256 {}, expected {}", c.actual_sha256, c.expected_sha256);
      } else {
        c.ok = true;
      }
    }
    checks.push_back(std::move(c));
  }
  std::sort(checks.begin(), checks.end(),
            [](const WeightCheck& a, const WeightCheck& b) { return a.name < b.name; });
  return checks;
}

Status WeightChecksStatus(const std::vector<WeightCheck>& checks) {
  std::string bad;
  for (const WeightCheck& c : checks) {
    if (!c.present || c.ok) continue;
    if (!bad.empty()) bad += "; ";
    bad += c.name + ": " + c.problem;
  }
  if (bad.empty()) return OkStatus();
  return DataLossError("weight files do not match their records: " + bad);
}

}  // namespace souk::lm
