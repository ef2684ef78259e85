// Service: everything `souk serve` answers from one data directory -- the
// store, the serving engines (search, recommendations, intent), live session
// state, API keys, rate limits, privacy, experiments, the model registry and
// background training -- and the route table of the HTTP API (http_server.h
// binds it to sockets; tests call it directly too).
//
// Hot swap: the engines live in one immutable `Engines` object behind a
// shared_ptr. Every request takes its own reference at the start, so a reload
// (after training, an activation or a rollback) builds the new engines aside
// and swaps the pointer: requests in flight finish on the old ones, no request
// fails.
//
// Thread-safety: Handle() may run on many threads at once.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/app_context.h"
#include "app/intent_config.h"
#include "app/rec_config.h"
#include "common/status.h"
#include "experiment/experiment_store.h"
#include "ingest/validator.h"
#include "online/session_tracker.h"
#include "registry/job_runner.h"
#include "registry/model_registry.h"
#include "search/live_update.h"
#include "search/store_search.h"
#include "server/api.h"
#include "server/api_keys.h"
#include "server/metrics.h"
#include "server/privacy.h"
#include "server/rate_limit.h"
#include "store/sqlite_store.h"

namespace souk::server {

// One request as the route handlers see it (independent of the HTTP library).
struct ApiRequest {
  std::string method;                          // "GET", "POST", "DELETE"
  std::string path;
  std::map<std::string, std::string> path_params;  // {id} -> value
  QueryParams query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string request_id;
  std::optional<ApiKeyInfo> key;               // the verified key (routes without auth: none)
  std::string client;                          // remote address
};

struct ApiResponse {
  int status = 200;
  nlohmann::json body;                         // JSON answer (when text is empty)
  std::string text;                            // non-JSON answer (metrics, assets)
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
};

// A route: method + pattern ("/v1/items/{id}"), the scope it needs
// (nullopt = no key needed), its handler.
struct Route {
  std::string method;
  std::string pattern;
  std::optional<Scope> scope;
  std::function<StatusOr<ApiResponse>(const ApiRequest&)> handler;
};

struct ServiceOptions {
  RequestLimits limits;
  size_t max_body_bytes = 8u << 20;
  RateLimiter::Options rate;                   // per key
  bool privacy_mode = false;                   // logs never carry raw ids / query text
  bool pseudonymize_users = false;             // HMAC user ids at ingestion and lookup
  PiiPolicy pii = PiiPolicy::kRedact;          // free text in event context
  std::string train_schedule;                  // registry::Schedule spec ("" = off)
  bool load_engines = true;                    // false: start with nothing loaded (tests)
};

// server.* keys of the configuration.
StatusOr<ServiceOptions> ServiceOptionsFrom(const Config& config);

class Service {
 public:
  // Opens the store (creating it when absent), the session tracker
  // (<data>/online), keys (<data>/keys.json), experiments (<data>/experiments.db)
  // and loads the engines that exist (a missing model is not an error: its
  // routes answer 503 not_available saying what to run).
  static StatusOr<std::unique_ptr<Service>> Open(const app::AppContext& ctx, ServiceOptions options);
  ~Service();

  const std::vector<Route>& routes() const { return routes_; }
  const ServiceOptions& options() const { return options_; }
  Metrics& metrics() { return metrics_; }
  KeyStore& keys() { return *keys_; }
  RateLimiter& limiter() { return *limiter_; }

  // Rebuilds the engines from the data directory and swaps them in.
  Status Reload();
  // Readiness: the store answers and the engines were loaded once.
  nlohmann::json Health() const;
  // A request-log line (JSON) for a finished request; respects privacy mode.
  std::string LogLine(const ApiRequest& req, const std::string& route, int status, double ms) const;
  // The user id the engine stores for an id a client sends (pseudonymized when configured).
  std::string UserKey(const std::string& raw) const;

  struct Engines;

 private:
  Service() = default;
  void BuildRoutes();
  std::shared_ptr<const Engines> engines() const;
  StatusOr<std::shared_ptr<const Engines>> LoadEngines() const;
  void UpdateGauges();

  // Handlers.
  StatusOr<ApiResponse> Healthz(const ApiRequest& r);
  StatusOr<ApiResponse> MetricsText(const ApiRequest& r);
  StatusOr<ApiResponse> OpenApi(const ApiRequest& r);
  StatusOr<ApiResponse> UpsertItems(const ApiRequest& r);
  StatusOr<ApiResponse> GetItem(const ApiRequest& r);
  StatusOr<ApiResponse> ListItems(const ApiRequest& r);
  StatusOr<ApiResponse> DeleteItem(const ApiRequest& r);
  StatusOr<ApiResponse> IngestEvents(const ApiRequest& r);
  StatusOr<ApiResponse> Search(const ApiRequest& r);
  StatusOr<ApiResponse> Autocomplete(const ApiRequest& r);
  StatusOr<ApiResponse> Recommend(const ApiRequest& r);
  StatusOr<ApiResponse> Intent(const ApiRequest& r);
  StatusOr<ApiResponse> SessionState(const ApiRequest& r);
  StatusOr<ApiResponse> ExplainSearch(const ApiRequest& r);
  StatusOr<ApiResponse> ForgetUser(const ApiRequest& r);
  StatusOr<ApiResponse> CreateExperiment(const ApiRequest& r);
  StatusOr<ApiResponse> ListExperiments(const ApiRequest& r);
  StatusOr<ApiResponse> GetExperiment(const ApiRequest& r);
  StatusOr<ApiResponse> StopExperiment(const ApiRequest& r);
  StatusOr<ApiResponse> ExperimentResults(const ApiRequest& r);
  StatusOr<ApiResponse> Train(const ApiRequest& r);
  StatusOr<ApiResponse> ListJobs(const ApiRequest& r);
  StatusOr<ApiResponse> GetJob(const ApiRequest& r);
  StatusOr<ApiResponse> Status_(const ApiRequest& r);
  StatusOr<ApiResponse> ReloadRoute(const ApiRequest& r);
  StatusOr<ApiResponse> ListModels(const ApiRequest& r);
  StatusOr<ApiResponse> ActivateModel(const ApiRequest& r);
  StatusOr<ApiResponse> RollbackModel(const ApiRequest& r);
  StatusOr<ApiResponse> Quality(const ApiRequest& r);
  StatusOr<ApiResponse> Quarantine(const ApiRequest& r);
  StatusOr<ApiResponse> ListReports(const ApiRequest& r);
  StatusOr<ApiResponse> GetReport(const ApiRequest& r);
  StatusOr<ApiResponse> ListUsers(const ApiRequest& r);
  StatusOr<ApiResponse> UserEvents(const ApiRequest& r);

  // Item changes into the live search (and the deleted set recommendations are
  // filtered by); returns what happened, for the response.
  nlohmann::json ApplyLiveChanges(const std::vector<search::LiveItemChange>& changes);
  bool IsDeleted(const std::string& id) const;
  static online::TrackedEvent Tracked(const store::Event& e);
  Status LogOutcomes(const std::vector<store::Event>& events);
  // Feeds the tracker every store event after its source position.
  StatusOr<std::vector<std::string>> CatchUpTracker();
  // Experiment variant for a request (logs the exposure); "" when none.
  std::string ExposeVariant(const std::string& surface, const std::string& user,
                            const std::string& request_id, nlohmann::json* variant_config,
                            std::string* experiment);
  StatusOr<nlohmann::json> RunTraining(const std::string& kind, registry::JobContext& job);
  Status Audit(const std::string& action, const ApiRequest& r, nlohmann::json details);

  app::AppContext ctx_;
  ServiceOptions options_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<ingest::Validator> validator_;   // import.* rules, read once at Open
  std::unique_ptr<online::SessionTracker> tracker_;
  std::unique_ptr<KeyStore> keys_;
  std::unique_ptr<RateLimiter> limiter_;
  std::optional<Pseudonymizer> pseudonymizer_;
  std::unique_ptr<experiment::ExperimentStore> experiments_;
  std::unique_ptr<registry::ModelRegistry> registry_;
  std::unique_ptr<registry::JobRunner> jobs_;
  Metrics metrics_;
  std::vector<Route> routes_;

  mutable std::mutex engines_mu_;
  std::shared_ptr<const Engines> engines_;
  std::mutex reload_mu_;                // one reload at a time
  std::mutex audit_mu_;
  std::mutex ingest_mu_;                // store write + tracker observe, in order
  bool tracker_needs_catch_up_ = false;
  mutable std::mutex deleted_mu_;
  std::unordered_set<std::string> deleted_items_;  // deleted in the store (recommendations skip them)
  std::atomic<int64_t> reloads_{0};
  int64_t started_ms_ = 0;
};

}  // namespace souk::server
