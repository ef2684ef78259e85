// ExperimentStore: the durable record of experiments, their exposures and the
// outcomes (clicks, carts, purchases) of exposed users, in one SQLite file
// (e.g. <data_dir>/experiments.db, WAL journal, synchronous=NORMAL).
//
// Attribution: an outcome of user U counts for experiment E when U was exposed
// to E and the outcome happened at or after U's first exposure to E (and, for a
// stopped experiment, no later than stopped_ms). Outcomes are stored once per
// user and attributed to every experiment the user is in.
//
// Tables (schema version 1, in table `meta`):
//   experiments(name PK, spec JSON, status, created_ms, stopped_ms)
//   exposures(experiment, variant, user, request_id, surface, ts_ms)   -- raw log
//   assignments(experiment, user PK, variant, first_ms, exposures)    -- one row per exposed user
//   outcomes(user, type, revenue, ts_ms)                               -- exposed users only
// A file with another schema version fails to open with FailedPrecondition.
//
// Thread-safety: thread-safe. Writes go through one SQLite connection guarded
// by a mutex; Analyze / Counts read through a second connection (WAL readers do
// not block the writer), so a long analysis does not stall exposure logging.
// The running experiments are kept in an immutable snapshot so the per-request
// lookup (Running / RunningSnapshot) never touches SQLite. One process owns the
// file: experiments created by another process are not seen until reopening.
//
// Cost: LogExposures / LogOutcomes run one transaction per batch with prepared
// statements (tens of thousands of rows per second on one core). Analyze scans
// the experiment's assignments joined with those users' outcomes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "experiment/analysis.h"
#include "experiment/experiment.h"

struct sqlite3;

namespace souk::experiment {

// One request of a user that was served under a variant.
struct Exposure {
  std::string experiment;  // a known experiment
  std::string variant;     // a variant of it (normally Assign(spec, user))
  std::string user;        // non-empty (pseudonymized) user id
  std::string request_id;  // optional, kept in the raw log
  std::string surface;     // optional ("search" / "recommend"), kept in the raw log
  int64_t ts_ms = 0;       // Unix ms, >= 0
};

// One behavioral event of a user.
struct Outcome {
  std::string user;    // non-empty
  std::string type;    // "click" | "add_to_cart" | "purchase"
  double revenue = 0;  // >= 0; only purchase revenue enters the revenue metrics
  int64_t ts_ms = 0;   // Unix ms, >= 0
};

struct ExperimentStoreOptions {
  // Behavior
  const Clock* clock = nullptr;   // time for created/computed stamps; nullptr = RealClock()
  bool keep_exposure_log = true;  // also append every exposure to the raw `exposures` table
  // Performance
  int busy_timeout_ms = 5000;  // how long to wait on a lock held by another process
};

class ExperimentStore {
 public:
  // Opens or creates the database file (parent folders are created).
  // Errors: FailedPrecondition when the file cannot be opened or has another
  // schema version; DataLoss when it is corrupt or a stored spec is invalid.
  static StatusOr<std::unique_ptr<ExperimentStore>> Open(
      const std::filesystem::path& file, const ExperimentStoreOptions& options = {});
  ~ExperimentStore();
  ExperimentStore(const ExperimentStore&) = delete;
  ExperimentStore& operator=(const ExperimentStore&) = delete;

  // Validates and stores a new running experiment; created_ms = now when 0,
  // control filled in. Errors: InvalidArgument (invalid spec, or status not
  // "running"), AlreadyExists naming it (names are never reused, even after stop,
  // because assignments and logs are keyed by name).
  Status Create(const ExperimentSpec& spec);

  // Stops a running experiment at `now_ms` (no-op when already stopped).
  // Errors: NotFound naming it.
  Status Stop(const std::string& name, int64_t now_ms);

  // Errors: NotFound naming it.
  StatusOr<ExperimentSpec> Get(const std::string& name) const;

  // All experiments, newest (created_ms) first.
  StatusOr<std::vector<ExperimentSpec>> List() const;

  // Running experiments of `surface` (exact match) plus those of surface "any",
  // in creation order. Served from memory; no I/O.
  std::vector<ExperimentSpec> Running(const std::string& surface) const;

  // All running experiments as an immutable snapshot (replaced on Create/Stop);
  // the cheapest way to read them per request.
  std::shared_ptr<const std::vector<ExperimentSpec>> RunningSnapshot() const;

  // Appends a batch in one transaction. The whole batch is rejected (nothing
  // written) when a row names an unknown experiment or variant, has an empty
  // user or a negative timestamp: InvalidArgument "exposures[i].field: ...".
  // Exposures of stopped experiments are accepted (they race with Stop); users
  // first exposed after stopped_ms are left out of the analysis (their late
  // exposures still count in `exposures` of already-exposed users).
  // The variant is stored as given; the first exposure fixes a user's variant.
  Status LogExposures(const std::vector<Exposure>& batch);

  // Appends the outcomes of users that have at least one exposure, in one
  // transaction; outcomes of never-exposed users are dropped (one index probe
  // each). Rejects the whole batch on a bad row: InvalidArgument
  // "outcomes[i].field: ...".
  Status LogOutcomes(const std::vector<Outcome>& batch);

  // Deletes every exposure, assignment and outcome of `user` (privacy). OK when
  // there is nothing to delete.
  Status ForgetUser(const std::string& user);

  // The results JSON of experiment `name` (see analysis.h).
  // Errors: NotFound naming it; InvalidArgument for bad options.
  StatusOr<nlohmann::json> Analyze(const std::string& name,
                                   const AnalyzeOptions& options = {}) const;

  // The per-variant aggregates behind Analyze (spec order). Errors: NotFound.
  StatusOr<std::vector<VariantCounts>> Counts(const std::string& name) const;

 private:
  struct Statements;
  ExperimentStore(sqlite3* db, sqlite3* read_db, std::filesystem::path file,
                  const ExperimentStoreOptions& options);
  Status Init();
  Status LoadExperiments();
  void PublishRunningLocked();
  // Runs `body` in one write transaction: commits when it succeeds, rolls back
  // otherwise. Requires mu_.
  Status InTransactionLocked(const std::function<Status(Statements&)>& body);
  // Requires read_mu_.
  StatusOr<std::vector<VariantCounts>> CountsLocked(const ExperimentSpec& spec) const;

  const std::filesystem::path file_;
  const ExperimentStoreOptions options_;
  const Clock& clock_;

  mutable std::mutex mu_;
  sqlite3* db_;                                  // GUARDED_BY(mu_)
  std::unique_ptr<Statements> stmts_;            // GUARDED_BY(mu_)
  std::map<std::string, ExperimentSpec> specs_;  // GUARDED_BY(mu_); all experiments

  mutable std::mutex read_mu_;  // the read connection's statement
  sqlite3* read_db_;            // GUARDED_BY(read_mu_)

  mutable std::mutex snapshot_mu_;
  std::shared_ptr<const std::vector<ExperimentSpec>> running_;  // GUARDED_BY(snapshot_mu_)
};

}  // namespace souk::experiment
