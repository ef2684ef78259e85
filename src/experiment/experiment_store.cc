#include "experiment/experiment_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <system_error>
#include <unordered_map>

namespace souk::experiment {
namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS experiments(
  name TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  status TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  stopped_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS exposures(
  experiment TEXT NOT NULL,
  variant TEXT NOT NULL,
  user TEXT NOT NULL,
  request_id TEXT,
  surface TEXT,
  ts_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS exposures_user ON exposures(user);
CREATE TABLE IF NOT EXISTS assignments(
  experiment TEXT NOT NULL,
  user TEXT NOT NULL,
  variant TEXT NOT NULL,
  first_ms INTEGER NOT NULL,
  exposures INTEGER NOT NULL,
  PRIMARY KEY(experiment, user)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS assignments_user ON assignments(user);
CREATE TABLE IF NOT EXISTS outcomes(
  user TEXT NOT NULL,
  type TEXT NOT NULL,
  revenue REAL NOT NULL,
  ts_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS outcomes_user_ts ON outcomes(user, ts_ms);
)sql";

// Per exposed user of experiment ?1: variant, exposures, and the user's
// clicks / carts / purchases / purchase revenue between the first exposure and ?2.
constexpr const char* kCountSql =
    "SELECT a.variant, a.exposures, "
    "  COALESCE(SUM(o.type = 'click'), 0), "
    "  COALESCE(SUM(o.type = 'add_to_cart'), 0), "
    "  COALESCE(SUM(o.type = 'purchase'), 0), "
    "  COALESCE(SUM(CASE WHEN o.type = 'purchase' THEN o.revenue ELSE 0 END), 0) "
    "FROM assignments a LEFT JOIN outcomes o "
    "  ON o.user = a.user AND o.ts_ms >= a.first_ms AND o.ts_ms <= ?2 "
    "WHERE a.experiment = ?1 AND a.first_ms <= ?2 "
    "GROUP BY a.user";

Status SqlError(sqlite3* db, int rc, const std::filesystem::path& file, std::string_view what) {
  const std::string m = fmt::format("{}: {}: {} (sqlite code {})", file.string(), what,
                                    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return ResourceExhaustedError(m);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(m);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(m);
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return FailedPreconditionError(m);
    default:
      return InternalError(m);
  }
}

// A prepared statement; reset (and its bindings cleared) by Reset().
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status Prepare(sqlite3* db, const std::filesystem::path& file, const char* sql) {
    db_ = db;
    file_ = &file;
    const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) return SqlError(db, rc, file, "preparing a statement");
    return OkStatus();
  }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  // Binds without copying: `s` must stay alive until the statement is reset.
  void Text(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  }
  void TextOrNull(int i, std::string_view s) {
    if (s.empty()) {
      sqlite3_bind_null(stmt_, i);
    } else {
      Text(i, s);
    }
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Double(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  // true for a row, false when done.
  StatusOr<bool> Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Status s = SqlError(db_, rc, *file_, fmt::format("running `{:.60}`", sqlite3_sql(stmt_)));
    sqlite3_reset(stmt_);
    return s;
  }
  Status Run() {
    ASSIGN_OR_RETURN(bool row, Step());
    (void)row;
    Reset();
    return OkStatus();
  }
  int64_t ColInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  double ColDouble(int i) const { return sqlite3_column_double(stmt_, i); }
  std::string ColText(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  const std::filesystem::path* file_ = nullptr;
};

Status Exec(sqlite3* db, const std::filesystem::path& file, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) {
    return SqlError(db, rc, file, fmt::format("executing `{:.60}`", sql));
  }
  return OkStatus();
}

bool IsOutcomeType(std::string_view t) {
  return t == "click" || t == "add_to_cart" || t == "purchase";
}

}  // namespace

struct ExperimentStore::Statements {
  Stmt begin, commit, rollback;
  Stmt insert_experiment, update_experiment;
  Stmt insert_exposure, upsert_assignment;
  Stmt user_exposed, insert_outcome;
  Stmt forget_exposures, forget_assignments, forget_outcomes;
  Stmt count_users;  // on the read connection; guarded by read_mu_
};

ExperimentStore::ExperimentStore(sqlite3* db, sqlite3* read_db, std::filesystem::path file,
                                 const ExperimentStoreOptions& options)
    : file_(std::move(file)),
      options_(options),
      clock_(options.clock ? *options.clock : RealClock()),
      db_(db),
      stmts_(std::make_unique<Statements>()),
      read_db_(read_db),
      running_(std::make_shared<const std::vector<ExperimentSpec>>()) {}

ExperimentStore::~ExperimentStore() {
  stmts_.reset();  // statements must be finalized before the connection closes
  sqlite3_close(read_db_);
  sqlite3_close(db_);
}

StatusOr<std::unique_ptr<ExperimentStore>> ExperimentStore::Open(
    const std::filesystem::path& file, const ExperimentStoreOptions& options) {
  if (file.empty()) return InvalidArgumentError("experiment store: empty file path");
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) {
      return FailedPreconditionError(fmt::format("{}: cannot create folder {}: {}", file.string(),
                                                 file.parent_path().string(), ec.message()));
    }
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqlError(db, rc, file, "opening the experiment store");
    sqlite3_close(db);
    return s;
  }
  // The read connection is opened after Init() created the schema.
  std::unique_ptr<ExperimentStore> store(new ExperimentStore(db, nullptr, file, options));
  RETURN_IF_ERROR(store->Init());
  {
    std::lock_guard<std::mutex> lock(store->read_mu_);
    rc = sqlite3_open_v2(file.c_str(), &store->read_db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                         nullptr);
    if (rc != SQLITE_OK) return SqlError(store->read_db_, rc, file, "opening a read connection");
    sqlite3_busy_timeout(store->read_db_, options.busy_timeout_ms);
    RETURN_IF_ERROR(store->stmts_->count_users.Prepare(store->read_db_, store->file_, kCountSql));
  }
  RETURN_IF_ERROR(store->LoadExperiments());
  return store;
}

Status ExperimentStore::Init() {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_busy_timeout(db_, options_.busy_timeout_ms);
  RETURN_IF_ERROR(Exec(db_, file_, "PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(Exec(db_, file_, "PRAGMA synchronous=NORMAL"));
  RETURN_IF_ERROR(Exec(db_, file_, "BEGIN IMMEDIATE"));
  Status s = [&]() -> Status {
    RETURN_IF_ERROR(Exec(
        db_, file_, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"));
    Stmt get;
    RETURN_IF_ERROR(get.Prepare(db_, file_, "SELECT value FROM meta WHERE key='schema_version'"));
    ASSIGN_OR_RETURN(bool found, get.Step());
    if (found) {
      const std::string version = get.ColText(0);
      if (version != std::to_string(kSchemaVersion)) {
        return FailedPreconditionError(
            fmt::format("{}: experiment store schema version {} is not supported (this build "
                        "reads version {})",
                        file_.string(), version, kSchemaVersion));
      }
    } else {
      Stmt put;
      RETURN_IF_ERROR(
          put.Prepare(db_, file_, "INSERT INTO meta(key, value) VALUES('schema_version', ?)"));
      const std::string version = std::to_string(kSchemaVersion);  // outlives the bind
      put.Text(1, version);
      RETURN_IF_ERROR(put.Run());
    }
    return Exec(db_, file_, kSchemaSql);
  }();
  if (!s.ok()) {
    Exec(db_, file_, "ROLLBACK").IgnoreError();
    return s;
  }
  RETURN_IF_ERROR(Exec(db_, file_, "COMMIT"));

  Statements& st = *stmts_;
  RETURN_IF_ERROR(st.begin.Prepare(db_, file_, "BEGIN IMMEDIATE"));
  RETURN_IF_ERROR(st.commit.Prepare(db_, file_, "COMMIT"));
  RETURN_IF_ERROR(st.rollback.Prepare(db_, file_, "ROLLBACK"));
  RETURN_IF_ERROR(st.insert_experiment.Prepare(
      db_, file_,
      "INSERT INTO experiments(name, spec, status, created_ms, stopped_ms) VALUES(?,?,?,?,?)"));
  RETURN_IF_ERROR(st.update_experiment.Prepare(
      db_, file_, "UPDATE experiments SET spec=?, status=?, stopped_ms=? WHERE name=?"));
  RETURN_IF_ERROR(st.insert_exposure.Prepare(
      db_, file_,
      "INSERT INTO exposures(experiment, variant, user, request_id, surface, ts_ms) "
      "VALUES(?,?,?,?,?,?)"));
  RETURN_IF_ERROR(st.upsert_assignment.Prepare(
      db_, file_,
      "INSERT INTO assignments(experiment, user, variant, first_ms, exposures) "
      "VALUES(?,?,?,?,1) ON CONFLICT(experiment, user) DO UPDATE SET "
      "exposures = exposures + 1, first_ms = MIN(first_ms, excluded.first_ms)"));
  RETURN_IF_ERROR(
      st.user_exposed.Prepare(db_, file_, "SELECT 1 FROM assignments WHERE user=? LIMIT 1"));
  RETURN_IF_ERROR(st.insert_outcome.Prepare(
      db_, file_, "INSERT INTO outcomes(user, type, revenue, ts_ms) VALUES(?,?,?,?)"));
  RETURN_IF_ERROR(st.forget_exposures.Prepare(db_, file_, "DELETE FROM exposures WHERE user=?"));
  RETURN_IF_ERROR(
      st.forget_assignments.Prepare(db_, file_, "DELETE FROM assignments WHERE user=?"));
  RETURN_IF_ERROR(st.forget_outcomes.Prepare(db_, file_, "DELETE FROM outcomes WHERE user=?"));
  return OkStatus();
}

Status ExperimentStore::LoadExperiments() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt all;
  RETURN_IF_ERROR(all.Prepare(db_, file_, "SELECT name, spec FROM experiments"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, all.Step());
    if (!row) break;
    const std::string name = all.ColText(0);
    nlohmann::json j = nlohmann::json::parse(all.ColText(1), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return DataLossError(
          fmt::format("{}: experiment '{}': stored spec is not valid JSON", file_.string(), name));
    }
    StatusOr<ExperimentSpec> spec = SpecFromJson(j);
    if (!spec.ok()) {
      return DataLossError(fmt::format("{}: experiment '{}': stored spec is invalid: {}",
                                       file_.string(), name, spec.status().message()));
    }
    if (spec->name != name) {
      return DataLossError(fmt::format("{}: experiment '{}': stored spec is named '{}'",
                                       file_.string(), name, spec->name));
    }
    specs_[name] = std::move(spec).value();
  }
  PublishRunningLocked();
  return OkStatus();
}

void ExperimentStore::PublishRunningLocked() {
  auto running = std::make_shared<std::vector<ExperimentSpec>>();
  for (const auto& [name, spec] : specs_) {
    if (spec.status == "running") running->push_back(spec);
  }
  std::sort(running->begin(), running->end(), [](const ExperimentSpec& a, const ExperimentSpec& b) {
    return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.name < b.name;
  });
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  running_ = std::move(running);
}

Status ExperimentStore::Create(const ExperimentSpec& spec_in) {
  RETURN_IF_ERROR(ValidateSpec(spec_in));
  if (spec_in.status != "running") {
    return InvalidArgumentError(
        fmt::format("status: a new experiment must be running, got '{}'", spec_in.status));
  }
  ExperimentSpec spec = spec_in;
  if (spec.control.empty()) spec.control = spec.variants.front().name;
  if (spec.created_ms == 0) spec.created_ms = clock_.NowMillis();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = specs_.find(spec.name);
  if (it != specs_.end()) {
    return AlreadyExistsError(
        fmt::format("experiment '{}' already exists (status {}); experiment names cannot be reused",
                    spec.name, it->second.status));
  }
  Stmt& ins = stmts_->insert_experiment;
  const std::string json =
      SpecToJson(spec).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  ins.Text(1, spec.name);
  ins.Text(2, json);
  ins.Text(3, spec.status);
  ins.Int(4, spec.created_ms);
  ins.Int(5, spec.stopped_ms);
  RETURN_IF_ERROR(ins.Run());
  specs_[spec.name] = std::move(spec);
  PublishRunningLocked();
  return OkStatus();
}

Status ExperimentStore::Stop(const std::string& name, int64_t now_ms) {
  if (now_ms < 0)
    return InvalidArgumentError(fmt::format("stop time must be >= 0, got {}", now_ms));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = specs_.find(name);
  if (it == specs_.end()) return NotFoundError(fmt::format("no experiment named '{}'", name));
  if (it->second.status == "stopped") return OkStatus();
  ExperimentSpec spec = it->second;
  spec.status = "stopped";
  spec.stopped_ms = std::max(now_ms, spec.created_ms);
  Stmt& up = stmts_->update_experiment;
  const std::string json =
      SpecToJson(spec).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  up.Text(1, json);
  up.Text(2, spec.status);
  up.Int(3, spec.stopped_ms);
  up.Text(4, name);
  RETURN_IF_ERROR(up.Run());
  it->second = std::move(spec);
  PublishRunningLocked();
  return OkStatus();
}

StatusOr<ExperimentSpec> ExperimentStore::Get(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = specs_.find(name);
  if (it == specs_.end()) return NotFoundError(fmt::format("no experiment named '{}'", name));
  return it->second;
}

StatusOr<std::vector<ExperimentSpec>> ExperimentStore::List() const {
  std::vector<ExperimentSpec> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, spec] : specs_) out.push_back(spec);
  }
  std::sort(out.begin(), out.end(), [](const ExperimentSpec& a, const ExperimentSpec& b) {
    return a.created_ms != b.created_ms ? a.created_ms > b.created_ms : a.name < b.name;
  });
  return out;
}

std::shared_ptr<const std::vector<ExperimentSpec>> ExperimentStore::RunningSnapshot() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return running_;
}

std::vector<ExperimentSpec> ExperimentStore::Running(const std::string& surface) const {
  const auto snapshot = RunningSnapshot();
  std::vector<ExperimentSpec> out;
  for (const ExperimentSpec& spec : *snapshot) {
    if (spec.surface == surface || spec.surface == "any") out.push_back(spec);
  }
  return out;
}

Status ExperimentStore::LogExposures(const std::vector<Exposure>& batch) {
  if (batch.empty()) return OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  // Validate everything first so a bad row leaves the store untouched.
  for (size_t i = 0; i < batch.size(); ++i) {
    const Exposure& e = batch[i];
    auto it = specs_.find(e.experiment);
    if (it == specs_.end()) {
      return InvalidArgumentError(
          fmt::format("exposures[{}].experiment: unknown experiment '{}'", i, e.experiment));
    }
    if (FindVariant(it->second, e.variant) < 0) {
      return InvalidArgumentError(
          fmt::format("exposures[{}].variant: '{}' is not a variant of experiment '{}'", i,
                      e.variant, e.experiment));
    }
    if (e.user.empty()) {
      return InvalidArgumentError(fmt::format("exposures[{}].user: must not be empty", i));
    }
    if (e.ts_ms < 0) {
      return InvalidArgumentError(
          fmt::format("exposures[{}].ts_ms: must be >= 0, got {}", i, e.ts_ms));
    }
  }
  return InTransactionLocked([&](Statements& st) -> Status {
    for (const Exposure& e : batch) {
      if (options_.keep_exposure_log) {
        Stmt& ins = st.insert_exposure;
        ins.Text(1, e.experiment);
        ins.Text(2, e.variant);
        ins.Text(3, e.user);
        ins.TextOrNull(4, e.request_id);
        ins.TextOrNull(5, e.surface);
        ins.Int(6, e.ts_ms);
        RETURN_IF_ERROR(ins.Run());
      }
      Stmt& up = st.upsert_assignment;
      up.Text(1, e.experiment);
      up.Text(2, e.user);
      up.Text(3, e.variant);
      up.Int(4, e.ts_ms);
      RETURN_IF_ERROR(up.Run());
    }
    return OkStatus();
  });
}

Status ExperimentStore::LogOutcomes(const std::vector<Outcome>& batch) {
  if (batch.empty()) return OkStatus();
  for (size_t i = 0; i < batch.size(); ++i) {
    const Outcome& o = batch[i];
    if (o.user.empty()) {
      return InvalidArgumentError(fmt::format("outcomes[{}].user: must not be empty", i));
    }
    if (!IsOutcomeType(o.type)) {
      return InvalidArgumentError(fmt::format(
          "outcomes[{}].type: must be click, add_to_cart or purchase, got '{}'", i, o.type));
    }
    if (!std::isfinite(o.revenue) || o.revenue < 0) {
      return InvalidArgumentError(
          fmt::format("outcomes[{}].revenue: must be a finite number >= 0, got {}", i, o.revenue));
    }
    if (o.ts_ms < 0) {
      return InvalidArgumentError(
          fmt::format("outcomes[{}].ts_ms: must be >= 0, got {}", i, o.ts_ms));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  return InTransactionLocked([&](Statements& st) -> Status {
    for (const Outcome& o : batch) {
      Stmt& probe = st.user_exposed;
      probe.Text(1, o.user);
      StatusOr<bool> exposed = probe.Step();
      probe.Reset();
      RETURN_IF_ERROR(exposed.status());
      if (!*exposed) continue;
      Stmt& ins = st.insert_outcome;
      ins.Text(1, o.user);
      ins.Text(2, o.type);
      ins.Double(3, o.revenue);
      ins.Int(4, o.ts_ms);
      RETURN_IF_ERROR(ins.Run());
    }
    return OkStatus();
  });
}

Status ExperimentStore::ForgetUser(const std::string& user) {
  if (user.empty()) return InvalidArgumentError("user: must not be empty");
  std::lock_guard<std::mutex> lock(mu_);
  return InTransactionLocked([&](Statements& st) -> Status {
    for (Stmt* del : {&st.forget_exposures, &st.forget_assignments, &st.forget_outcomes}) {
      del->Text(1, user);
      RETURN_IF_ERROR(del->Run());
    }
    return OkStatus();
  });
}

Status ExperimentStore::InTransactionLocked(const std::function<Status(Statements&)>& body) {
  Statements& st = *stmts_;
  RETURN_IF_ERROR(st.begin.Run());
  Status s = body(st);
  if (s.ok()) s = st.commit.Run();
  if (!s.ok()) st.rollback.Run().IgnoreError();
  return s;
}

StatusOr<std::vector<VariantCounts>> ExperimentStore::CountsLocked(
    const ExperimentSpec& spec) const {
  std::vector<VariantCounts> counts(spec.variants.size());
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < spec.variants.size(); ++i) {
    counts[i].name = spec.variants[i].name;
    index[spec.variants[i].name] = i;
  }
  Stmt& q = stmts_->count_users;
  q.Text(1, spec.name);
  q.Int(2, spec.status == "stopped" ? spec.stopped_ms : std::numeric_limits<int64_t>::max());
  Status s = [&]() -> Status {
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return OkStatus();
      auto it = index.find(q.ColText(0));
      if (it == index.end()) {
        return DataLossError(
            fmt::format("{}: experiment '{}' has assignments to unknown variant "
                        "'{}'",
                        file_.string(), spec.name, q.ColText(0)));
      }
      VariantCounts& c = counts[it->second];
      c.users += 1;
      c.exposures += q.ColInt(1);
      c.click_users += q.ColInt(2) > 0;
      c.cart_users += q.ColInt(3) > 0;
      const int64_t purchases = q.ColInt(4);
      c.purchase_users += purchases > 0;
      c.purchases += purchases;
      const double revenue = q.ColDouble(5);
      c.revenue += revenue;
      c.revenue_per_user.Add(revenue);
    }
  }();
  q.Reset();
  RETURN_IF_ERROR(s);
  return counts;
}

StatusOr<std::vector<VariantCounts>> ExperimentStore::Counts(const std::string& name) const {
  ExperimentSpec spec;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = specs_.find(name);
    if (it == specs_.end()) return NotFoundError(fmt::format("no experiment named '{}'", name));
    spec = it->second;
  }
  std::lock_guard<std::mutex> lock(read_mu_);
  return CountsLocked(spec);
}

StatusOr<nlohmann::json> ExperimentStore::Analyze(const std::string& name,
                                                  const AnalyzeOptions& options) const {
  ASSIGN_OR_RETURN(ExperimentSpec spec, Get(name));
  std::vector<VariantCounts> counts;
  {
    std::lock_guard<std::mutex> lock(read_mu_);
    ASSIGN_OR_RETURN(counts, CountsLocked(spec));
  }
  return AnalyzeCounts(spec, counts, options, clock_.NowMillis());
}

}  // namespace souk::experiment
