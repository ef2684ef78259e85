#include "registry/model_registry.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <set>
#include <string_view>
#include <thread>

#include "common/file.h"
#include "common/time.h"

namespace souk::registry {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kCurrentFile = "CURRENT";
constexpr std::string_view kHistoryFile = "HISTORY.jsonl";
constexpr std::string_view kManifestFile = "manifest.json";
// Folders under the models root that hold models but are not versioned kinds.
constexpr std::string_view kNotKinds[] = {"hub"};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// An in-progress write or deletion, never a version.
bool IsHiddenName(std::string_view name) {
  return name.empty() || name.front() == '.' || EndsWith(name, ".tmp");
}

Status CheckName(std::string_view what, const std::string& name) {
  if (name.empty()) return InvalidArgumentError(fmt::format("{} name is empty", what));
  if (name.size() > 255)
    return InvalidArgumentError(fmt::format("{} name is longer than 255 bytes", what));
  for (char c : name) {
    if (c == '/' || c == '\\' || c == '\0' || c == '\n' || c == '\r') {
      return InvalidArgumentError(
          fmt::format("{} name {} must be one path component (no '/', '\\', NUL or line breaks)",
                      what, json(name).dump(-1, ' ', false, json::error_handler_t::replace)));
    }
  }
  if (name.front() == '.') {
    return InvalidArgumentError(fmt::format("{} name '{}' must not start with '.'", what, name));
  }
  return OkStatus();
}

std::string Trim(std::string_view s) {
  const char* ws = " \t\r\n\v\f";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

std::string ErrnoText() { return std::strerror(errno); }

// Natural order of version names: runs of digits compare as numbers, the rest
// as bytes; -1, 0, 1.
int CompareVersionNames(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && digit(a[ie])) ++ie;
      while (je < b.size() && digit(b[je])) ++je;
      std::string_view na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      while (na.size() > 1 && na.front() == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb.front() == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size() ? -1 : 1;
      if (const int c = na.compare(nb); c != 0) return c < 0 ? -1 : 1;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j])
      return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
    ++i;
    ++j;
  }
  if (i == a.size() && j == b.size()) return 0;
  return i == a.size() ? -1 : 1;
}

std::optional<int64_t> IntField(const json& m, const char* key) {
  auto it = m.find(key);
  if (it == m.end()) return std::nullopt;
  if (it->is_number_integer() || it->is_number_unsigned()) return it->get<int64_t>();
  return std::nullopt;
}

int64_t FolderMtimeMs(const fs::path& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

VersionInfo ReadVersion(const std::string& kind, const std::string& version, const fs::path& dir) {
  VersionInfo v;
  v.kind = kind;
  v.version = version;
  v.dir = dir;
  auto text = ReadFileToString(dir / kManifestFile);
  if (text.ok()) {
    json m = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (m.is_object()) v.manifest = std::move(m);
  }
  const json& m = v.manifest;
  std::optional<int64_t> created = IntField(m, "created_ms");
  if (!created) {
    for (const char* key : {"created_at", "trained_at"}) {
      auto it = m.find(key);
      if (it != m.end() && it->is_string()) {
        created = ParseTimestampMs(it->get<std::string>());
        if (created) break;
      }
    }
  }
  v.created_ms = created ? *created : FolderMtimeMs(dir);
  if (auto w = IntField(m, "data_watermark")) {
    v.data_watermark = *w;
  } else if (auto w2 = IntField(m, "watermark")) {
    v.data_watermark = *w2;
  }
  if (auto f = IntField(m, "format_version")) {
    v.format_version = static_cast<int>(*f);
  } else if (auto f2 = IntField(m, "format")) {
    v.format_version = static_cast<int>(*f2);
  }
  if (auto it = m.find("metrics"); it != m.end() && !it->is_null()) v.metrics = *it;
  return v;
}

Status FsyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return UnavailableError(fmt::format("cannot open folder {}: {}", dir.string(), ErrnoText()));
  const int rc = ::fsync(fd);
  const std::string err = rc != 0 ? ErrnoText() : "";
  ::close(fd);
  if (rc != 0)
    return UnavailableError(fmt::format("fsync of folder {} failed: {}", dir.string(), err));
  return OkStatus();
}

Status WriteAll(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return UnavailableError(fmt::format("write to {} failed: {}", path.string(), ErrnoText()));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

// Replaces dir/name with `data` durably: a uniquely named hidden temp file in the
// same folder, fsync, rename over the target, fsync of the folder. The temp file
// is removed on every error path.
Status ReplaceFileDurably(const fs::path& dir, std::string_view name, std::string_view data) {
  const fs::path target = dir / name;
  const size_t tid = std::hash<std::thread::id>()(std::this_thread::get_id()) & 0xffffff;
  fs::path tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = dir / fmt::format(".{}.{}-{:x}-{}.tmp", name, ::getpid(), tid, attempt);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) {
      return UnavailableError(fmt::format("cannot create {}: {}", tmp.string(), ErrnoText()));
    }
  }
  if (fd < 0)
    return UnavailableError(
        fmt::format("cannot create a temporary file next to {}", target.string()));
  Status st = WriteAll(fd, data, tmp);
  if (st.ok() && ::fsync(fd) != 0)
    st = UnavailableError(fmt::format("fsync of {} failed: {}", tmp.string(), ErrnoText()));
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), target.c_str()) != 0) {
    st = UnavailableError(
        fmt::format("cannot rename {} to {}: {}", tmp.string(), target.string(), ErrnoText()));
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return FsyncDir(dir);
}

// Appends one line (plus "\n") to `path` with a single write, after a "\n" when
// the file ends in a torn line, then fsyncs.
Status AppendLineDurably(const fs::path& path, std::string_view line) {
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return UnavailableError(fmt::format("cannot open {}: {}", path.string(), ErrnoText()));
  std::string data;
  struct stat st_buf;
  if (::fstat(fd, &st_buf) == 0 && st_buf.st_size > 0) {
    char last = '\n';
    if (::pread(fd, &last, 1, st_buf.st_size - 1) == 1 && last != '\n') data.push_back('\n');
  }
  data.append(line);
  data.push_back('\n');
  Status st = WriteAll(fd, data, path);
  if (st.ok() && ::fsync(fd) != 0)
    st = UnavailableError(fmt::format("fsync of {} failed: {}", path.string(), ErrnoText()));
  ::close(fd);
  return st;
}

}  // namespace

json VersionInfo::ToJson() const {
  json j = {{"kind", kind},
            {"version", version},
            {"dir", dir.string()},
            {"active", active},
            {"created_ms", created_ms},
            {"data_watermark", data_watermark},
            {"format_version", format_version},
            {"metrics", metrics}};
  if (auto it = manifest.find("kind"); it != manifest.end() && it->is_string())
    j["model_kind"] = *it;
  return j;
}

ModelRegistry::ModelRegistry(fs::path models_root, const Clock* clock)
    : root_(std::move(models_root)), clock_(clock != nullptr ? *clock : RealClock()) {}

StatusOr<fs::path> ModelRegistry::KindDir(const std::string& kind) const {
  RETURN_IF_ERROR(CheckName("model kind", kind));
  const fs::path dir = root_ / kind;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return NotFoundError(fmt::format("model kind '{}': no folder {}", kind, dir.string()));
  }
  return dir;
}

StatusOr<std::vector<std::string>> ModelRegistry::Kinds() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return out;
  fs::directory_iterator it(root_, ec);
  if (ec) return UnavailableError(fmt::format("cannot read {}: {}", root_.string(), ec.message()));
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec)
      return UnavailableError(fmt::format("cannot read {}: {}", root_.string(), ec.message()));
    const std::string name = it->path().filename().string();
    if (IsHiddenName(name) || !it->is_directory(ec)) continue;
    if (std::find(std::begin(kNotKinds), std::end(kNotKinds), name) != std::end(kNotKinds))
      continue;
    bool is_kind = fs::exists(it->path() / kCurrentFile, ec);
    if (!is_kind) {
      fs::directory_iterator sub(it->path(), ec);
      for (; !ec && sub != fs::directory_iterator(); sub.increment(ec)) {
        if (!IsHiddenName(sub->path().filename().string()) && sub->is_directory(ec)) {
          is_kind = true;
          break;
        }
      }
      ec.clear();
    }
    if (is_kind) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

StatusOr<std::vector<VersionInfo>> ModelRegistry::List(const std::string& kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ListLocked(kind);
}

StatusOr<std::vector<VersionInfo>> ModelRegistry::ListLocked(const std::string& kind) const {
  ASSIGN_OR_RETURN(const fs::path dir, KindDir(kind));
  const StatusOr<std::string> active = ActiveLocked(kind);
  std::vector<VersionInfo> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return UnavailableError(fmt::format("cannot read {}: {}", dir.string(), ec.message()));
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return UnavailableError(fmt::format("cannot read {}: {}", dir.string(), ec.message()));
    const std::string name = it->path().filename().string();
    if (IsHiddenName(name) || !it->is_directory(ec)) continue;
    VersionInfo v = ReadVersion(kind, name, it->path());
    v.active = active.ok() && *active == name;
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const VersionInfo& a, const VersionInfo& b) {
    if (a.created_ms != b.created_ms) return a.created_ms > b.created_ms;
    return CompareVersionNames(a.version, b.version) > 0;
  });
  return out;
}

StatusOr<std::string> ModelRegistry::Active(const std::string& kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ActiveLocked(kind);
}

StatusOr<std::string> ModelRegistry::ActiveLocked(const std::string& kind) const {
  ASSIGN_OR_RETURN(const fs::path dir, KindDir(kind));
  auto text = ReadFileToString(dir / kCurrentFile);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return NotFoundError(fmt::format("model kind '{}' has no active version ({} is missing)",
                                       kind, (dir / kCurrentFile).string()));
    }
    return text.status();
  }
  const size_t nl = text->find('\n');
  std::string v = Trim(std::string_view(*text).substr(0, nl));
  if (v.empty()) {
    return NotFoundError(fmt::format("model kind '{}' has no active version ({} is empty)", kind,
                                     (dir / kCurrentFile).string()));
  }
  return v;
}

StatusOr<std::vector<json>> ModelRegistry::ReadHistoryLocked(const fs::path& kind_dir) const {
  std::vector<json> out;
  auto text = ReadFileToString(kind_dir / kHistoryFile);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return out;
    return text.status();
  }
  std::string_view rest = *text;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (Trim(line).empty()) continue;
    json r = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!r.is_object() || !r.contains("version") || !r["version"].is_string()) continue;
    out.push_back(std::move(r));
  }
  return out;
}

StatusOr<std::string> ModelRegistry::RollbackTarget(const std::string& kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  return RollbackTargetLocked(kind);
}

StatusOr<std::string> ModelRegistry::RollbackTargetLocked(const std::string& kind) const {
  ASSIGN_OR_RETURN(const fs::path dir, KindDir(kind));
  const StatusOr<std::string> current = ActiveLocked(kind);
  if (!current.ok()) {
    if (current.status().code() == StatusCode::kNotFound) {
      return FailedPreconditionError(fmt::format("model kind '{}': nothing to roll back from: {}",
                                                 kind, current.status().message()));
    }
    return current.status();
  }
  auto exists = [&](const std::string& v) {
    std::error_code ec;
    return CheckName("version", v).ok() && fs::is_directory(dir / v, ec);
  };

  // Replay the history as a stack of active versions.
  ASSIGN_OR_RETURN(const std::vector<json> records, ReadHistoryLocked(dir));
  std::vector<std::string> stack;
  for (const json& r : records) {
    const std::string action = r.value("action", "");
    const std::string version = r.value("version", "");
    const std::string previous =
        r.contains("previous") && r["previous"].is_string() ? r["previous"].get<std::string>() : "";
    if (action == "activate") {
      if (!previous.empty() && (stack.empty() || stack.back() != previous))
        stack.push_back(previous);
      stack.push_back(version);
    } else if (action == "rollback") {
      if (!stack.empty() && stack.back() == previous) stack.pop_back();
      while (!stack.empty() && stack.back() != version) stack.pop_back();
      if (stack.empty()) stack.push_back(version);
    }
  }
  if (!stack.empty() && stack.back() == *current) {
    for (size_t i = stack.size() - 1; i-- > 0;) {
      if (stack[i] != *current && exists(stack[i])) return stack[i];
    }
  }

  // Nothing usable in the history: the newest existing version older than the current one.
  ASSIGN_OR_RETURN(const std::vector<VersionInfo> versions, ListLocked(kind));
  auto pos = std::find_if(versions.begin(), versions.end(),
                          [&](const VersionInfo& v) { return v.version == *current; });
  auto from = pos == versions.end() ? versions.begin() : pos + 1;
  for (auto it = from; it != versions.end(); ++it) {
    if (it->version != *current) return it->version;
  }
  return FailedPreconditionError(
      fmt::format("model kind '{}': no version to roll back to from '{}' (no earlier version in {} "
                  "or its history)",
                  kind, *current, dir.string()));
}

Status ModelRegistry::SwitchLocked(const std::string& kind, const std::string& version,
                                   const std::string& previous, const std::string& action,
                                   const std::string& actor) {
  const fs::path dir = root_ / kind;
  RETURN_IF_ERROR(ReplaceFileDurably(dir, kCurrentFile, version + "\n"));
  const json record = {{"ts_ms", clock_.NowMillis()},
                       {"action", action},
                       {"version", version},
                       {"previous", previous},
                       {"actor", actor}};
  Status st = AppendLineDurably(dir / kHistoryFile,
                                record.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!st.ok()) {
    // CURRENT already switched; the audit trail missing one record is reported, not undone.
    return st.WithContext(fmt::format(
        "model kind '{}' switched to '{}' but the history was not written", kind, version));
  }
  spdlog::info("models/{}: {} {} (was {}){}", kind, action, version,
               previous.empty() ? "none" : previous, actor.empty() ? "" : " by " + actor);
  return OkStatus();
}

Status ModelRegistry::Activate(const std::string& kind, const std::string& version,
                               const std::string& actor) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(const fs::path dir, KindDir(kind));
  RETURN_IF_ERROR(CheckName("version", version));
  std::error_code ec;
  if (IsHiddenName(version) || !fs::is_directory(dir / version, ec)) {
    return NotFoundError(fmt::format("model kind '{}': version '{}' does not exist (no folder {})",
                                     kind, version, (dir / version).string()));
  }
  const StatusOr<std::string> current = ActiveLocked(kind);
  if (!current.ok() && current.status().code() != StatusCode::kNotFound) return current.status();
  const std::string previous = current.ok() ? *current : "";
  if (previous == version) return OkStatus();
  return SwitchLocked(kind, version, previous, "activate", actor);
}

StatusOr<std::string> ModelRegistry::Rollback(const std::string& kind, const std::string& actor) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(const std::string target, RollbackTargetLocked(kind));
  ASSIGN_OR_RETURN(const std::string current, ActiveLocked(kind));
  RETURN_IF_ERROR(SwitchLocked(kind, target, current, "rollback", actor));
  return target;
}

StatusOr<std::vector<std::string>> ModelRegistry::Prune(const std::string& kind, size_t keep) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(const std::vector<VersionInfo> versions, ListLocked(kind));
  std::set<std::string> protect;
  if (auto a = ActiveLocked(kind); a.ok()) protect.insert(*a);
  if (auto t = RollbackTargetLocked(kind); t.ok()) protect.insert(*t);
  std::vector<std::string> deleted;
  for (size_t i = keep; i < versions.size(); ++i) {
    const VersionInfo& v = versions[i];
    if (protect.count(v.version) > 0) continue;
    const fs::path doomed =
        v.dir.parent_path() / fmt::format(".{}.deleting-{}", v.version, ::getpid());
    std::error_code ec;
    fs::remove_all(doomed, ec);
    fs::rename(v.dir, doomed, ec);
    if (ec) {
      return UnavailableError(fmt::format("cannot delete {} (deleted so far: {}): {}",
                                          v.dir.string(), fmt::join(deleted, ", "), ec.message()));
    }
    deleted.push_back(v.version);
    fs::remove_all(doomed, ec);
    if (ec)
      spdlog::warn("models/{}: {} hidden but not fully removed: {}", kind, doomed.string(),
                   ec.message());
  }
  if (!deleted.empty()) spdlog::info("models/{}: pruned {}", kind, fmt::join(deleted, ", "));
  return deleted;
}

StatusOr<json> ModelRegistry::History(const std::string& kind, size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(const fs::path dir, KindDir(kind));
  ASSIGN_OR_RETURN(std::vector<json> records, ReadHistoryLocked(dir));
  json out = json::array();
  for (auto it = records.rbegin(); it != records.rend() && out.size() < limit; ++it)
    out.push_back(std::move(*it));
  return out;
}

}  // namespace souk::registry
