// ModelRegistry: the versions of every trained model kind under <data_dir>/models,
// which one is active, and switching between them (activate, rollback, prune).
//
// On-disk layout (shared with the trainers that write it):
//   <models_root>/<kind>/<version>/          one trained artifact (manifest.json inside)
//   <models_root>/<kind>/CURRENT             the active version: one line, "<version>\n"
//   <models_root>/<kind>/HISTORY.jsonl       one JSON object per Activate/Rollback:
//       {"ts_ms", "action": "activate"|"rollback", "version", "previous", "actor"}
// Kinds today: recommender, intent, ltr, bert. "hub" (pulled third-party models,
// not versions) is never reported as a kind. Version folders whose name starts
// with "." or ends in ".tmp" are in-progress writes or deletions and are skipped.
// Version names are Unix seconds, optionally with a suffix ("1712000000-2",
// "1712000000-pretrain").
//
// Names given to the registry (kinds, versions) must be a single path component
// without a leading "." (InvalidArgument otherwise), so a name from an HTTP
// request can never reach outside models_root.
//
// Thread-safety: every method locks one mutex per registry object. Across
// processes (a `souk train` writing CURRENT while the server activates) the
// atomic rename of CURRENT is the only guarantee: the last writer wins, and a
// reader always sees a whole line.
// Cost: List reads every version's manifest.json (a few KB each); the others read
// CURRENT and HISTORY.jsonl (one line per switch).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"

namespace souk::registry {

struct VersionInfo {
  std::string kind, version;
  std::filesystem::path dir;
  nlohmann::json manifest = nlohmann::json::object();  // manifest.json ({} when absent/unreadable)
  bool active = false;
  int64_t created_ms = 0;  // manifest "created_ms" / "created_at" when present, else folder mtime
  int64_t data_watermark = -1;  // manifest "data_watermark" or "watermark" when an integer
  int format_version = 0;       // manifest "format_version" or "format" when an integer
  nlohmann::json metrics = nlohmann::json::object();  // manifest "metrics" when present

  // {"kind","version","dir","active","created_ms","data_watermark","format_version",
  //  "metrics","model_kind" (manifest "kind", when present)}; the full manifest is left out.
  nlohmann::json ToJson() const;
};

class ModelRegistry {
 public:
  // `models_root` is <data_dir>/models; it need not exist yet. `clock` stamps
  // HISTORY records (nullptr = RealClock()); it must outlive the registry.
  explicit ModelRegistry(std::filesystem::path models_root, const Clock* clock = nullptr);

  const std::filesystem::path& root() const { return root_; }

  // Folders under the root that have a CURRENT file or at least one version
  // folder, sorted by name. Empty when the root does not exist.
  // Errors: Unavailable when the root cannot be read.
  StatusOr<std::vector<std::string>> Kinds() const;

  // Versions of a kind, newest first (by created_ms, then by name: numeric
  // prefix, then suffix). NotFound for an unknown kind.
  StatusOr<std::vector<VersionInfo>> List(const std::string& kind) const;

  // The version CURRENT names (first line, surrounding blanks trimmed), whether or
  // not its folder still exists. NotFound when there is no (non-empty) CURRENT.
  StatusOr<std::string> Active(const std::string& kind) const;

  // Makes `version` active: its folder must exist (NotFound naming it); writes
  // CURRENT atomically (temp file + fsync + rename + fsync of the folder) and
  // appends an "activate" record to HISTORY.jsonl. Activating the version that
  // is already active changes nothing and records nothing. `actor` is free text
  // for the audit trail ("api key 1a2b..", "cli").
  // Errors: InvalidArgument for a bad name, NotFound, Unavailable on I/O errors.
  Status Activate(const std::string& kind, const std::string& version,
                  const std::string& actor = "");

  // Goes back to the version that was active before the current one and returns
  // it. HISTORY.jsonl is replayed as a stack (activate pushes, rollback pops), so
  // repeated rollbacks walk further back; versions whose folder no longer exists
  // are skipped. When HISTORY has nothing usable (empty, or CURRENT was written by
  // a trainer after the last recorded switch), the newest existing version older
  // than the current one is used. Appends a "rollback" record.
  // Errors: FailedPrecondition when nothing is active or there is no target;
  // NotFound for an unknown kind; Unavailable on I/O errors.
  StatusOr<std::string> Rollback(const std::string& kind, const std::string& actor = "");

  // The version Rollback would switch to now, without switching.
  // FailedPrecondition when there is none.
  StatusOr<std::string> RollbackTarget(const std::string& kind) const;

  // Deletes every version but the newest `keep`, never the active one nor the
  // Rollback target. Each folder is first renamed to ".<version>.deleting" so a
  // crash never leaves a half-deleted folder that looks like a version. Returns
  // the deleted names, newest first. Errors: NotFound, Unavailable.
  StatusOr<std::vector<std::string>> Prune(const std::string& kind, size_t keep);

  // The newest `limit` HISTORY records, newest first, as a JSON array (empty when
  // there is no history). Unparsable lines (a torn append) are skipped.
  // Errors: NotFound for an unknown kind, Unavailable when the file cannot be read.
  StatusOr<nlohmann::json> History(const std::string& kind, size_t limit = 100) const;

 private:
  StatusOr<std::filesystem::path> KindDir(const std::string& kind) const;
  StatusOr<std::vector<VersionInfo>> ListLocked(const std::string& kind) const;
  StatusOr<std::string> ActiveLocked(const std::string& kind) const;
  StatusOr<std::vector<nlohmann::json>> ReadHistoryLocked(
      const std::filesystem::path& kind_dir) const;
  StatusOr<std::string> RollbackTargetLocked(const std::string& kind) const;
  Status SwitchLocked(const std::string& kind, const std::string& version,
                      const std::string& previous, const std::string& action,
                      const std::string& actor);

  const std::filesystem::path root_;
  const Clock& clock_;
  mutable std::mutex mu_;  // serializes every method (GUARDED_BY for the files under root_)
};

}  // namespace souk::registry
