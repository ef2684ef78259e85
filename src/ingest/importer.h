// Importer: the sink every dataset adapter writes into. It validates each
// record (Validator), quarantines bad ones with source, line and reason,
// detects exact duplicate events and conflicting items, creates stub items or
// quarantines events that name unknown items (policy), and writes the rest to
// the Store in batches of `batch_size`, one transaction per batch: a batch is
// durable when the Store acknowledges it.
//
// Idempotency: each event gets an import key (source id << 40 | ordinal of the
// event within its source), so importing the same file again adds nothing, and
// importing a file that has grown adds only the new events.
//
//   Importer imp(&store, options);
//   RETURN_IF_ERROR(imp.Begin("rees46", paths));
//   ... adapter: imp.OpenSource(path); imp.AddEvent(e, ref); ...
//   ASSIGN_OR_RETURN(ImportSummary s, imp.Finish());
//
// Pipelining: a full batch is handed to a writer thread while the adapter keeps
// parsing the next one (at most one batch in flight), so parsing/validation and
// SQLite overlap on two cores. Errors of the writer surface at the next Add*/Finish.
//
// Thread-safety: not thread-safe; one adapter drives one Importer.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/progress.h"
#include "ingest/parse.h"
#include "ingest/validator.h"
#include "store/store.h"

namespace souk::ingest {

struct ImportOptions {
  // Behavior
  ValidationOptions validation;             // ranges, policies
  size_t quarantine_raw_bytes = 4096;       // how much raw text a quarantine row keeps
  // Performance
  size_t batch_size = 20000;                // records per transaction
  ProgressOptions progress;                 // how progress is shown
  // Drop the secondary event indexes during the import and rebuild them at the
  // end: "auto" (when the input is large: >= 500k estimated events and more than
  // the store holds), "always" or "never".
  std::string defer_indexes = "auto";
  // Called after each acknowledged batch with the running totals (for crash tests, logs).
  std::function<void(int64_t events_acknowledged, int64_t records_acknowledged)> on_commit;

  static StatusOr<ImportOptions> FromConfig(const Config& config);
};

// Where a record came from, for quarantine rows and error messages.
struct RecordRef {
  int64_t line = 0;          // 1-based line (0 = not line-based)
  int64_t byte_offset = -1;
  std::string_view raw;      // the raw record text
};

struct ImportSummary {
  std::string format;
  std::vector<std::string> sources;
  int64_t run_id = 0;
  int64_t records = 0;             // records offered by the adapter (accepted + quarantined)
  int64_t items = 0;               // catalog records accepted (inserted + updated + unchanged)
  int64_t items_inserted = 0, items_updated = 0, items_unchanged = 0, stubs_created = 0;
  int64_t users = 0;               // user records accepted
  int64_t users_created = 0;       // users first seen in this import
  int64_t events = 0;              // events accepted (new + already present)
  int64_t events_new = 0, events_already_present = 0;
  int64_t judgments = 0;
  int64_t accepted = 0;
  int64_t quarantined = 0;
  std::map<std::string, int64_t> reasons;      // quarantine count per reason
  std::map<std::string, int64_t> event_types;  // accepted events per type
  std::vector<std::string> notes;              // e.g. "empty file: ..."
  double seconds = 0;

  nlohmann::json ToJson() const;
  std::string ToText() const;
};

class Importer {
 public:
  Importer(store::Store* store, ImportOptions options);
  ~Importer();

  // Starts an import run over these files (for the run record and byte progress).
  Status Begin(const std::string& format, const std::vector<std::string>& paths);
  // Announces the file the next records come from. Returns its canonical name.
  StatusOr<std::string> OpenSource(const std::string& path);
  // Bytes of the current source consumed so far (progress).
  void SetSourceProgress(uint64_t bytes);

  Status AddItem(store::Item item, store::ItemWriteMode mode, const RecordRef& ref);
  Status AddUser(store::User user, const RecordRef& ref);
  Status AddEvent(store::Event event, const RecordRef& ref);
  Status AddJudgment(store::Judgment j, const RecordRef& ref);
  // Quarantines a record the adapter could not turn into a store record.
  Status Reject(const RecordRef& ref, std::string reason, std::string detail);
  // Adds a note to the summary (e.g. an empty file).
  void Note(std::string note);

  // Flushes the last batch and records the run. The summary is final.
  StatusOr<ImportSummary> Finish();
  // Records a failed run (what was acknowledged stays).
  void Abort(const Status& why);

  const Validator& validator() const { return validator_; }
  const std::string& current_source() const { return source_; }

 private:
  Status MaybeFlush();
  // Starts writing the open batch (after waiting for the one in flight).
  Status Flush();
  // Waits for the batch in flight and folds its result into the summary.
  Status WaitInflight();
  bool KnownItem(const std::string& id);
  void Count(const std::string& reason);

  store::Store* store_;
  ImportOptions o_;
  Validator validator_;
  ImportSummary summary_;
  store::WriteBatch batch_;
  // Item ids the store has or that this import has queued (written before any
  // later event), so most events need no store lookup.
  std::unordered_set<std::string> known_items_;
  store::WriteBatch inflight_;
  std::future<Status> inflight_status_;
  store::WriteResult inflight_result_;
  size_t inflight_users_ = 0;
  int64_t waited_us_ = 0;  // time the adapter thread spent waiting for the writer
  HashSet64 event_hashes_;                          // content hashes seen in this run
  std::string source_;
  int64_t source_id_ = 0;
  int64_t ordinal_ = 0;
  uint64_t bytes_done_before_ = 0;  // bytes of earlier sources
  uint64_t current_size_ = 0;
  std::unique_ptr<Progress> progress_;
  int64_t start_us_ = 0;
  bool finished_ = false;
  bool indexes_deferred_ = false;
};

}  // namespace souk::ingest
