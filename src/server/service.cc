#include "server/service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "app/search_config.h"
#include "app/store_access.h"
#include "common/file.h"
#include "common/hash.h"
#include "index/autocomplete.h"
#include "ingest/quality.h"
#include "ingest/validator.h"
#include "recommend/reasons.h"
#include "registry/schedule.h"
#include "rank/gbdt_model.h"
#include "search/live_update.h"
#include "search/request.h"
#include "search/search_log.h"

namespace souk::server {

using nlohmann::json;
namespace fs = std::filesystem;

struct Service::Engines {
  // Shared with the next generation when the index and ranker did not change
  // (the lexical index holds its database's write lock while open).
  std::shared_ptr<const search::StoreSearch> search;
  std::shared_ptr<const index::Autocomplete> autocomplete;
  std::string search_error;
  std::string search_key;     // index manifest + ranker version the search was opened with
  std::string index_manifest;
  std::shared_ptr<app::RecommendRegistries> registries;
  std::shared_ptr<recommend::Recommender> rec;
  std::string rec_version, rec_error;
  std::string intent_error;
  int64_t loaded_ms = 0;
  int64_t generation = 0;
};

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ApiResponse Json(json body, int status = 200) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

json ItemToJson(const store::StoredItem& s) {
  const store::Item& it = s.item;
  json j = {{"id", it.external_id}, {"title", it.title}, {"description", it.description},
            {"brand", it.brand}, {"category", it.category}, {"currency", it.currency},
            {"language", it.language}, {"stub", it.is_stub}, {"deleted", s.deleted}};
  j["price"] = it.price ? json(*it.price) : json(nullptr);
  j["in_stock"] = it.in_stock ? json(*it.in_stock) : json(nullptr);
  j["attributes"] = json::parse(it.attributes_json, nullptr, false);
  if (j["attributes"].is_discarded()) j["attributes"] = json::object();
  j["images"] = json::parse(it.images_json, nullptr, false);
  if (j["images"].is_discarded()) j["images"] = json::array();
  j["created_at"] = it.created_at_ms;
  j["updated_at"] = it.updated_at_ms;
  return j;
}

Status NotAvailable(const std::string& what, const std::string& why) {
  return FailedPreconditionError(fmt::format("{} is not available: {}", what, why));
}

std::string ShortHash(std::string_view s) { return fmt::format("{:016x}", Fnv1a64(s)); }

}  // namespace

StatusOr<ServiceOptions> ServiceOptionsFrom(const Config& config) {
  ServiceOptions o;
  const int64_t body = config.GetInt("server.max_body_bytes");
  if (body < 1024) return InvalidArgumentError(fmt::format("server.max_body_bytes: must be at least 1024, got {}", body));
  o.max_body_bytes = static_cast<size_t>(body);
  o.rate.requests_per_second = config.GetDouble("server.rate_limit_per_second");
  o.rate.burst = std::max(1.0, config.GetDouble("server.rate_limit_burst"));
  o.privacy_mode = config.GetBool("privacy.mode");
  o.pseudonymize_users = config.GetBool("privacy.pseudonymize_users");
  ASSIGN_OR_RETURN(o.pii, ParsePiiPolicy(config.GetString("privacy.pii")));
  o.train_schedule = config.GetString("server.train_schedule");
  RETURN_IF_ERROR(registry::Schedule::Parse(o.train_schedule).status());
  return o;
}

Service::~Service() {
  jobs_.reset();  // stop training before the store closes
  if (tracker_) (void)tracker_->Checkpoint();
}

StatusOr<std::unique_ptr<Service>> Service::Open(const app::AppContext& ctx, ServiceOptions options) {
  std::unique_ptr<Service> s(new Service());
  s->ctx_ = ctx;
  s->options_ = options;
  s->started_ms_ = NowMs();
  const fs::path dir(ctx.data_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  ASSIGN_OR_RETURN(s->store_, app::OpenStore(ctx, /*create=*/true));
  ASSIGN_OR_RETURN(ingest::ValidationOptions vo, ingest::ValidationOptions::FromConfig(ctx.config));
  s->validator_ = std::make_unique<ingest::Validator>(vo);
  online::TrackerOptions to;
  to.dir = (dir / "online").string();
  to.session_timeout_ms = app::SessionGapMs(ctx.config);
  ASSIGN_OR_RETURN(s->tracker_, online::SessionTracker::Open(to));
  {
    // A new tracker starts at the store's current end (history is for training);
    // one that was fed before catches up with what it missed (a crash between a
    // store commit and its journal append).
    ASSIGN_OR_RETURN(const int64_t store_end, s->store_->MaxEventId());
    const auto ts = s->tracker_->Stats();
    if (s->tracker_->source_position() == 0 && ts.events_observed == 0 && ts.sessions_kept == 0) {
      RETURN_IF_ERROR(s->tracker_->Observe({}, store_end).status());
    } else if (s->tracker_->source_position() < store_end) {
      s->tracker_needs_catch_up_ = true;
    }
  }
  ASSIGN_OR_RETURN(s->keys_, KeyStore::Open(dir / "keys.json"));
  s->limiter_ = std::make_unique<RateLimiter>(options.rate);
  if (options.pseudonymize_users) {
    ASSIGN_OR_RETURN(Pseudonymizer p, Pseudonymizer::FromKeyFile(dir / "privacy.key", /*create=*/true));
    s->pseudonymizer_ = std::move(p);
  }
  ASSIGN_OR_RETURN(s->experiments_, experiment::ExperimentStore::Open(dir / "experiments.db"));
  if (s->tracker_needs_catch_up_) RETURN_IF_ERROR(s->CatchUpTracker().status());
  s->registry_ = std::make_unique<registry::ModelRegistry>(dir / "models");
  s->jobs_ = std::make_unique<registry::JobRunner>(registry::JobRunner::Options{});
  {
    ASSIGN_OR_RETURN(auto snap, s->store_->OpenSnapshot());
    RETURN_IF_ERROR(snap->ForEachItem([&](const store::StoredItem& it) {
      if (it.deleted) s->deleted_items_.insert(it.item.external_id);
      return true;
    }));
  }
  s->BuildRoutes();
  if (options.load_engines) {
    RETURN_IF_ERROR(s->Reload());
  } else {
    auto e = std::make_shared<Engines>();
    e->search_error = e->rec_error = e->intent_error = "not loaded";
    s->engines_ = std::move(e);
  }
  ASSIGN_OR_RETURN(registry::Schedule schedule, registry::Schedule::Parse(options.train_schedule));
  if (!schedule.off()) {
    Service* self = s.get();
    s->jobs_->AddSchedule("train:all", schedule,
                          [self](registry::JobContext& job) { return self->RunTraining("all", job); });
  }
  return s;
}

std::string Service::UserKey(const std::string& raw) const {
  if (raw.empty() || !pseudonymizer_) return raw;
  return pseudonymizer_->Apply(raw);
}

std::shared_ptr<const Service::Engines> Service::engines() const {
  std::lock_guard lock(engines_mu_);
  return engines_;
}

StatusOr<std::shared_ptr<const Service::Engines>> Service::LoadEngines() const {
  auto e = std::make_shared<Engines>();
  e->loaded_ms = NowMs();
  const fs::path root(ctx_.data_dir);
  auto read = [](const fs::path& p) {
    auto t = ReadFileToString(p);
    return t.ok() ? *t : std::string();
  };
  e->index_manifest = read(root / "index" / "search.json");
  const std::string ltr_version = read(root / "models" / "ltr" / "CURRENT");
  e->search_key = e->index_manifest + "|" + ltr_version;
  std::shared_ptr<const Engines> prev = engines();
  if (prev && prev->search && prev->search_key == e->search_key) {
    e->search = prev->search;
    e->autocomplete = prev->autocomplete;
  } else if (prev && prev->search && prev->index_manifest == e->index_manifest && !e->index_manifest.empty()) {
    // Only the ranker changed: a new engine over the same index, catalog and encoder.
    search::SearchEngine::Parts parts = prev->search->engine->parts();
    parts.ranker = nullptr;
    std::string version;
    std::string v = ltr_version;
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
    if (!v.empty()) {
      ASSIGN_OR_RETURN(std::unique_ptr<rank::GbdtModel> model,
                       rank::GbdtModel::Load((root / "models" / "ltr" / v).string()));
      if (model->feature_names() == search::FeatureNames()) {
        parts.ranker = std::move(model);
        version = v;
      }
    }
    auto s = std::make_shared<search::StoreSearch>();
    s->analyzer = prev->search->analyzer;
    s->catalog = prev->search->catalog;
    s->profiles = prev->search->profiles;
    s->classifier = prev->search->classifier;
    s->manifest = prev->search->manifest;
    s->encoder = prev->search->encoder;
    s->unindexed_items = prev->search->unindexed_items;
    s->ranker_version = version;
    ASSIGN_OR_RETURN(s->engine, search::SearchEngine::Create(std::move(parts), prev->search->engine->options()));
    e->search = std::move(s);
    e->autocomplete = prev->autocomplete;
  } else {
    ASSIGN_OR_RETURN(auto snap, store_->OpenSnapshot());
    const search::StoreSearchConfig config = app::SearchConfigFrom(ctx_.config);
    auto s = search::OpenStoreSearch(*snap, ctx_.data_dir, config, nullptr);
    if (s.ok()) {
      std::shared_ptr<search::StoreSearch> opened = std::move(*s);
      // Items added or deleted while no server ran: into the lexical index now.
      auto caught = search::CatchUpIndex(*opened, ctx_.data_dir);
      if (!caught.ok()) {
        spdlog::warn("search: could not bring the index up to date: {}", caught.status().message());
      } else if (*caught > 0) {
        spdlog::info("search: {} documents brought up to date in the lexical index", *caught);
      }
      // Autocomplete over titles, brands and categories, weighted by behavior popularity.
      auto ac = std::make_shared<index::Autocomplete>(*opened->analyzer);
      const search::SearchCatalog& cat = *opened->catalog;
      for (uint32_t d = 0; d < cat.size(); ++d) {
        const auto& doc = cat.doc(d);
        const double w = 1.0 + cat.popularity(d);
        (void)ac->Add(doc.title, w, "title");
        if (!doc.brand.empty()) (void)ac->Add(doc.brand, 0.5 * w, "brand");
        if (!doc.category_path.empty()) (void)ac->Add(doc.category_path.back(), 0.5 * w, "category");
      }
      auto log = search::ReadSearchLog(*snap, cat);
      if (log.ok()) {
        for (const auto& q : *log) (void)ac->Add(q.query, 1.0, "query");
      }
      ac->Build();
      e->search = std::move(opened);
      e->autocomplete = std::move(ac);
    } else if (prev && prev->search) {
      // Keep serving the previous index rather than dropping search.
      spdlog::warn("search: keeping the previous index: {}", s.status().message());
      e->search = prev->search;
      e->autocomplete = prev->autocomplete;
      e->search_key = prev->search_key;
      e->index_manifest = prev->index_manifest;
    } else {
      e->search_error = s.status().message();
    }
  }
  auto regs = app::RecommendRegistries::Make(ctx_.data_dir, app::SessionGapMs(ctx_.config));
  if (!regs.ok()) return regs.status();
  e->registries = std::move(*regs);
  if (e->registries->intent() == nullptr) {
    auto m = app::LoadCurrentIntentModels(ctx_.data_dir);
    e->intent_error = m.ok() ? "not loaded" : m.status().message();
  }
  auto rec = recommend::LoadCurrentRecommender(app::RecommenderModelsDir(ctx_.data_dir).string(),
                                               e->registries->deps(), &e->rec_version);
  if (rec.ok()) {
    e->rec = std::move(*rec);
  } else {
    e->rec_error = rec.status().message();
  }
  return std::shared_ptr<const Engines>(std::move(e));
}

Status Service::Reload() {
  std::lock_guard reload_lock(reload_mu_);
  const auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::shared_ptr<const Engines> fresh, LoadEngines());
  const_cast<Engines&>(*fresh).generation = ++reloads_;
  {
    std::lock_guard lock(engines_mu_);
    engines_ = fresh;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  metrics_.AddCounter("souk_engine_reloads_total", "Engine reloads (hot swaps).", "", 1);
  metrics_.SetGauge("souk_engine_reload_seconds", "Duration of the last engine reload.", "", s);
  UpdateGauges();
  spdlog::info("engines loaded in {:.2f}s: search {}, recommender {}, intent {}", s,
               fresh->search ? "ready" : fresh->search_error, fresh->rec ? fresh->rec_version : fresh->rec_error,
               fresh->registries && fresh->registries->intent() ? fresh->registries->intent()->version
                                                                 : fresh->intent_error);
  return OkStatus();
}

void Service::UpdateGauges() {
  auto e = engines();
  if (auto st = store_->Stats(); st.ok()) {
    metrics_.SetGauge("souk_store_items", "Live items in the store.", "", static_cast<double>(st->items));
    metrics_.SetGauge("souk_store_events", "Events in the store.", "", static_cast<double>(st->events));
    metrics_.SetGauge("souk_store_users", "Users in the store.", "", static_cast<double>(st->users));
  }
  if (e && e->search) {
    metrics_.SetGauge("souk_index_documents", "Documents in the search catalog.", "",
                      static_cast<double>(e->search->catalog->size()));
  }
  auto kinds = registry_->Kinds();
  if (kinds.ok()) {
    for (const auto& k : *kinds) {
      auto a = registry_->Active(k);
      if (a.ok()) {
        metrics_.SetGauge("souk_model_active", "The active model version of each kind (value 1).",
                          fmt::format("kind=\"{}\",version=\"{}\"", Metrics::EscapeLabel(k), Metrics::EscapeLabel(*a)), 1);
      }
    }
  }
  const auto ts = tracker_->Stats();
  metrics_.SetGauge("souk_sessions_open", "Open live sessions.", "", static_cast<double>(ts.sessions_open));
}

json Service::Health() const {
  auto e = engines();
  json checks = json::object();
  bool store_ok = store_->MaxEventId().ok();
  checks["store"] = store_ok ? "ok" : "error";
  checks["search"] = e && e->search ? json("ready") : json(e ? e->search_error : "not loaded");
  checks["recommendations"] = e && e->rec ? json("ready") : json(e ? e->rec_error : "not loaded");
  checks["intent"] = e && e->registries && e->registries->intent() ? json("ready")
                                                                    : json(e ? e->intent_error : "not loaded");
  const bool ready = store_ok && e != nullptr;
  return {{"status", ready ? "ok" : "starting"}, {"ready", ready}, {"checks", checks},
          {"uptime_s", (NowMs() - started_ms_) / 1000.0}};
}

std::string Service::LogLine(const ApiRequest& req, const std::string& route, int status, double ms) const {
  json j = {{"ts", FormatTimestampMs(NowMs())}, {"request_id", req.request_id}, {"method", req.method},
            {"route", route}, {"status", status}, {"ms", std::round(ms * 1000) / 1000}};
  if (req.key) j["key_id"] = req.key->id;
  if (!options_.privacy_mode) {
    j["path"] = req.path;
    std::string q;
    for (const auto& [k, v] : req.query) q += (q.empty() ? "" : "&") + k + "=" + v;
    if (!q.empty()) j["query"] = q;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Status Service::Audit(const std::string& action, const ApiRequest& r, json details) {
  json j = {{"ts", FormatTimestampMs(NowMs())}, {"action", action}, {"request_id", r.request_id},
            {"key_id", r.key ? r.key->id : ""}, {"details", std::move(details)}};
  std::lock_guard lock(audit_mu_);
  const fs::path path = fs::path(ctx_.data_dir) / "audit.jsonl";
  std::ofstream out(path, std::ios::app);
  out << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  out.flush();
  if (!out) return UnavailableError(fmt::format("cannot append to the audit log {}", path.string()));
  return OkStatus();
}

// ---------------------------------------------------------------------------
// Routes

void Service::BuildRoutes() {
  // What each route does is documented in docs/openapi.json (checked against this table).
  auto add = [this](std::string method, std::string pattern, std::optional<Scope> scope,
                    StatusOr<ApiResponse> (Service::*fn)(const ApiRequest&)) {
    routes_.push_back({std::move(method), std::move(pattern), scope,
                       [this, fn](const ApiRequest& r) { return (this->*fn)(r); }});
  };
  const Scope kS = Scope::kSearch, kI = Scope::kIngest, kA = Scope::kAdmin;
  add("GET", "/healthz", std::nullopt, &Service::Healthz);
  add("GET", "/metrics", kA, &Service::MetricsText);
  add("GET", "/v1/openapi.json", kS, &Service::OpenApi);
  add("POST", "/v1/items", kI, &Service::UpsertItems);
  add("GET", "/v1/items", kS, &Service::ListItems);
  add("GET", "/v1/items/{id}", kS, &Service::GetItem);
  add("DELETE", "/v1/items/{id}", kI, &Service::DeleteItem);
  add("POST", "/v1/events", kI, &Service::IngestEvents);
  add("GET", "/v1/search", kS, &Service::Search);
  add("POST", "/v1/search", kS, &Service::Search);
  add("GET", "/v1/autocomplete", kS, &Service::Autocomplete);
  add("GET", "/v1/recommendations/{scenario}", kS, &Service::Recommend);
  add("GET", "/v1/intent", kS, &Service::Intent);
  add("GET", "/v1/sessions/{id}", kS, &Service::SessionState);
  add("GET", "/v1/explain/search", kS, &Service::ExplainSearch);
  add("GET", "/v1/users", kA, &Service::ListUsers);
  add("GET", "/v1/users/{id}/events", kA, &Service::UserEvents);
  add("DELETE", "/v1/users/{id}", kA, &Service::ForgetUser);
  add("POST", "/v1/experiments", kA, &Service::CreateExperiment);
  add("GET", "/v1/experiments", kA, &Service::ListExperiments);
  add("GET", "/v1/experiments/{name}", kA, &Service::GetExperiment);
  add("POST", "/v1/experiments/{name}/stop", kA, &Service::StopExperiment);
  add("GET", "/v1/experiments/{name}/results", kA, &Service::ExperimentResults);
  add("POST", "/v1/admin/train", kA, &Service::Train);
  add("GET", "/v1/admin/jobs", kA, &Service::ListJobs);
  add("GET", "/v1/admin/jobs/{id}", kA, &Service::GetJob);
  add("GET", "/v1/admin/status", kA, &Service::Status_);
  add("POST", "/v1/admin/reload", kA, &Service::ReloadRoute);
  add("GET", "/v1/admin/models", kA, &Service::ListModels);
  add("POST", "/v1/admin/models/{kind}/activate", kA, &Service::ActivateModel);
  add("POST", "/v1/admin/models/{kind}/rollback", kA, &Service::RollbackModel);
  add("GET", "/v1/admin/quality", kA, &Service::Quality);
  add("GET", "/v1/admin/quarantine", kA, &Service::Quarantine);
  add("GET", "/v1/admin/reports", kA, &Service::ListReports);
  add("GET", "/v1/admin/reports/{name}", kA, &Service::GetReport);
}

StatusOr<ApiResponse> Service::Healthz(const ApiRequest&) {
  json h = Health();
  return Json(h, h["ready"].get<bool>() ? 200 : 503);
}

StatusOr<ApiResponse> Service::MetricsText(const ApiRequest&) {
  UpdateGauges();
  const json js = jobs_->Stats();
  if (js.is_object() && js.contains("kinds") && js["kinds"].is_object()) {
    for (auto it = js["kinds"].begin(); it != js["kinds"].end(); ++it) {
      const std::string labels = fmt::format("kind=\"{}\"", Metrics::EscapeLabel(it.key()));
      if (it->contains("last_duration_s") && (*it)["last_duration_s"].is_number()) {
        metrics_.SetGauge("souk_job_last_duration_seconds", "Duration of the last background job of each kind.",
                          labels, (*it)["last_duration_s"].get<double>());
      }
      for (const char* state : {"succeeded", "failed"}) {
        if (it->contains(state) && (*it)[state].is_number()) {
          metrics_.SetGauge(fmt::format("souk_jobs_{}", state), fmt::format("Background jobs {} per kind.", state),
                            labels, (*it)[state].get<double>());
        }
      }
    }
  }
  ApiResponse r;
  r.text = metrics_.Render();
  r.content_type = "text/plain; version=0.0.4";
  return r;
}

StatusOr<ApiResponse> Service::OpenApi(const ApiRequest&) {
  // The document is compiled in (openapi_document.cc, generated from docs/openapi.json).
  extern const char* OpenApiDocument();
  json doc = json::parse(OpenApiDocument(), nullptr, false);
  if (doc.is_discarded()) return InternalError("the built-in OpenAPI document is not valid JSON");
  return Json(std::move(doc));
}

StatusOr<ApiResponse> Service::UpsertItems(const ApiRequest& r) {
  ASSIGN_OR_RETURN(json body, ParseJsonBody(r.body, options_.limits));
  ASSIGN_OR_RETURN(std::vector<store::Item> items, ParseItems(body, options_.limits, NowMs()));
  store::WriteBatch batch;
  for (size_t i = 0; i < items.size(); ++i) {
    if (auto rej = validator_->CheckItem(items[i])) {
      return InvalidArgumentError(fmt::format("items[{}]: {} ({})", i, rej->detail, rej->reason));
    }
    store::ItemWrite w;
    w.item = std::move(items[i]);
    w.mode = store::ItemWriteMode::kCatalog;
    w.source = "api";
    w.line = static_cast<int64_t>(i + 1);
    batch.items.push_back(std::move(w));
  }
  store::WriteResult wr;
  RETURN_IF_ERROR(store_->Write(batch, &wr));
  metrics_.AddCounter("souk_items_upserted_total", "Items written through the API.", "",
                      static_cast<double>(batch.items.size()));
  std::vector<search::LiveItemChange> changes;
  for (const store::ItemWrite& w : batch.items) changes.push_back({w.item.external_id, w.item});
  json live = ApplyLiveChanges(changes);
  return Json({{"received", batch.items.size()}, {"inserted", wr.items_inserted},
               {"updated", wr.items_updated}, {"unchanged", wr.items_unchanged}, {"live", live}});
}

StatusOr<ApiResponse> Service::GetItem(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  const std::string& id = r.path_params.at("id");
  ASSIGN_OR_RETURN(auto item, store_->GetItem(id));
  if (!item || item->deleted) return NotFoundError(fmt::format("id: no item '{}'", id));
  return Json(ItemToJson(*item));
}

StatusOr<ApiResponse> Service::ListItems(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {"limit", "offset"}));
  ASSIGN_OR_RETURN(int64_t limit, IntParam(r.query, "limit", 50, 1, 1000));
  ASSIGN_OR_RETURN(int64_t offset, IntParam(r.query, "offset", 0, 0, INT64_MAX / 2));
  ASSIGN_OR_RETURN(auto snap, store_->OpenSnapshot());
  json items = json::array();
  int64_t seen = 0;
  bool more = false;
  RETURN_IF_ERROR(snap->ForEachItem([&](const store::StoredItem& s) {
    if (s.deleted) return true;
    if (seen++ < offset) return true;
    if (static_cast<int64_t>(items.size()) == limit) {
      more = true;
      return false;
    }
    items.push_back(ItemToJson(s));
    return true;
  }));
  json out = {{"items", items}, {"offset", offset}, {"limit", limit}};
  out["next_offset"] = more ? json(offset + limit) : json(nullptr);
  return Json(out);
}

StatusOr<ApiResponse> Service::DeleteItem(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  const std::string& id = r.path_params.at("id");
  ASSIGN_OR_RETURN(auto item, store_->GetItem(id));
  if (!item || item->deleted) return NotFoundError(fmt::format("id: no item '{}'", id));
  store::WriteBatch batch;
  batch.delete_items.push_back(id);
  store::WriteResult wr;
  RETURN_IF_ERROR(store_->Write(batch, &wr));
  json live = ApplyLiveChanges({{id, std::nullopt}});
  return Json({{"deleted", id}, {"live", live}});
}

StatusOr<ApiResponse> Service::IngestEvents(const ApiRequest& r) {
  ASSIGN_OR_RETURN(json body, ParseJsonBody(r.body, options_.limits));
  // PII in free-text context: redacted or rejected before anything is parsed into events.
  if (auto ev = body.find("events"); ev != body.end() && ev->is_array()) {
    for (size_t i = 0; i < ev->size(); ++i) {
      auto& e = (*ev)[i];
      if (e.is_object() && e.contains("context")) {
        size_t redacted = 0;
        RETURN_IF_ERROR(ScrubPii(e["context"], options_.pii, fmt::format("events[{}].context", i), &redacted));
        if (redacted > 0) metrics_.AddCounter("souk_pii_redacted_total", "PII strings redacted at ingestion.", "", redacted);
      }
    }
  }
  ASSIGN_OR_RETURN(std::vector<ApiEvent> events, ParseEvents(body, options_.limits, NowMs()));
  std::string batch_key;
  if (auto h = r.headers.find("idempotency-key"); h != r.headers.end()) batch_key = h->second;
  store::WriteBatch batch;
  batch.events.reserve(events.size());
  std::set<std::string> stubbed;
  for (size_t i = 0; i < events.size(); ++i) {
    store::Event e = std::move(events[i].event);
    e.user_id = UserKey(e.user_id);
    if (auto rej = validator_->CheckEvent(e)) {
      return InvalidArgumentError(fmt::format("events[{}]: {} ({})", i, rej->detail, rej->reason));
    }
    e.import_key = EventImportKey(events[i].event_id, batch_key, i);
    if (!e.item_id.empty() && validator_->options().unknown_item == ingest::UnknownItemPolicy::kStub &&
        !stubbed.count(e.item_id) && !store_->HasItem(e.item_id)) {
      // An event naming an item the catalog does not have yet keeps a placeholder
      // (import.unknown_item = stub); with "quarantine" the store quarantines it.
      store::ItemWrite w;
      w.item.external_id = e.item_id;
      w.item.is_stub = true;
      if (e.price) w.item.price = e.price;
      w.mode = store::ItemWriteMode::kStub;
      w.source = "api";
      batch.items.push_back(std::move(w));
      stubbed.insert(e.item_id);
    }
    batch.events.push_back(std::move(e));
  }
  store::WriteResult wr;
  json sessions = json::array();
  {
    // The store write and the tracker's observation happen in order, one batch at a
    // time: the tracker records the store position it reached, so after a crash
    // between the two the next start (or the next batch) re-feeds what it missed.
    std::lock_guard ingest_lock(ingest_mu_);
    RETURN_IF_ERROR(store_->Write(batch, &wr));
    ASSIGN_OR_RETURN(const int64_t pos, store_->MaxEventId());
    const int64_t appended = wr.events_appended;
    std::vector<std::string> keys;
    // Fast path: the whole batch is new and the tracker has everything before it.
    // (Its position can be ahead when forgetting a user deleted the newest events
    // and SQLite reused their ids.)
    if (appended == static_cast<int64_t>(batch.events.size()) && tracker_->source_position() >= pos - appended) {
      std::vector<online::TrackedEvent> tracked;
      tracked.reserve(batch.events.size());
      for (const store::Event& e : batch.events) tracked.push_back(Tracked(e));
      ASSIGN_OR_RETURN(keys, tracker_->Observe(tracked, pos));
      RETURN_IF_ERROR(LogOutcomes(batch.events));
    } else if (appended > 0 || tracker_->source_position() < pos) {
      ASSIGN_OR_RETURN(keys, CatchUpTracker());
    }
    std::vector<std::string> uniq;
    for (auto& k : keys) {
      if (std::find(uniq.begin(), uniq.end(), k) == uniq.end()) uniq.push_back(k);
    }
    for (auto& k : uniq) sessions.push_back(k);
  }
  int64_t by_type[store::kNumEventTypes] = {};
  for (const store::Event& e : batch.events) ++by_type[static_cast<int>(e.type)];
  for (int t = 0; t < store::kNumEventTypes; ++t) {
    if (by_type[t] == 0) continue;
    metrics_.AddCounter("souk_events_ingested_total", "Events ingested through the API by type.",
                        fmt::format("type=\"{}\"", store::EventTypeName(static_cast<store::EventType>(t))),
                        static_cast<double>(by_type[t]));
  }
  return Json({{"received", batch.events.size()}, {"appended", wr.events_appended},
               {"duplicates", wr.events_already_present}, {"stubs_created", wr.stubs_created},
               {"quarantined", wr.quarantined}, {"sessions", sessions}});
}

json Service::ApplyLiveChanges(const std::vector<search::LiveItemChange>& changes) {
  {
    std::lock_guard lock(deleted_mu_);
    for (const auto& c : changes) {
      if (c.item) deleted_items_.erase(c.id); else deleted_items_.insert(c.id);
    }
  }
  std::lock_guard live_lock(reload_mu_);  // one writer of the engines at a time
  const auto t0 = std::chrono::steady_clock::now();
  std::shared_ptr<const Engines> cur = engines();
  json out = {{"search", "not available"}};
  if (cur && cur->search) {
    search::LiveUpdateStats st;
    auto updated = search::ApplyItemChanges(*cur->search, changes, ctx_.data_dir, &st);
    if (!updated.ok()) {
      spdlog::error("live search update failed: {}", updated.status().message());
      out["search"] = "update failed: " + updated.status().message();
    } else {
      auto next = std::make_shared<Engines>(*cur);
      next->search = std::move(*updated);
      {
        std::lock_guard lock(engines_mu_);
        engines_ = next;
      }
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      out["search"] = "updated";
      out["added"] = st.added;
      out["replaced"] = st.replaced;
      out["removed"] = st.removed;
      out["ms"] = std::round(ms * 10) / 10;
      metrics_.AddCounter("souk_live_item_updates_total", "Item changes applied to the live search index.", "",
                          static_cast<double>(changes.size()));
      metrics_.SetGauge("souk_live_update_last_ms", "Duration of the last live index update.", "", ms);
    }
  }
  return out;
}

bool Service::IsDeleted(const std::string& id) const {
  std::lock_guard lock(deleted_mu_);
  return deleted_items_.count(id) != 0;
}

online::TrackedEvent Service::Tracked(const store::Event& e) {
  online::TrackedEvent t;
  t.user_id = e.user_id;
  t.session_id = e.session_id;
  t.event.ts_ms = e.timestamp_ms;
  t.event.type = e.type;
  t.event.item_id = e.item_id;
  if (e.price) t.event.price = *e.price;
  if (e.quantity) t.event.quantity = *e.quantity;
  return t;
}

Status Service::LogOutcomes(const std::vector<store::Event>& events) {
  std::vector<experiment::Outcome> outcomes;
  for (const store::Event& e : events) {
    if (e.user_id.empty() || !(e.type == store::EventType::kClick || e.type == store::EventType::kAddToCart ||
                               e.type == store::EventType::kPurchase)) {
      continue;
    }
    experiment::Outcome o;
    o.user = e.user_id;
    o.type = std::string(store::EventTypeName(e.type));
    o.revenue = e.type == store::EventType::kPurchase ? e.price.value_or(0) * e.quantity.value_or(1) : 0;
    o.ts_ms = e.timestamp_ms;
    outcomes.push_back(std::move(o));
  }
  if (outcomes.empty()) return OkStatus();
  return experiments_->LogOutcomes(outcomes);
}

StatusOr<std::vector<std::string>> Service::CatchUpTracker() {
  const int64_t from = tracker_->source_position();
  ASSIGN_OR_RETURN(auto snap, store_->OpenSnapshot());
  if (snap->watermark() <= from) return std::vector<std::string>{};
  ASSIGN_OR_RETURN(std::vector<std::string> users, snap->UserIds());
  std::unordered_map<int64_t, std::string> items;
  RETURN_IF_ERROR(snap->ForEachItem([&](const store::StoredItem& it) {
    items.emplace(it.id, it.item.external_id);
    return true;
  }));
  std::vector<std::string> keys;
  std::vector<online::TrackedEvent> chunk;
  std::vector<store::Event> outcome_events;
  int64_t last = from;
  Status st = OkStatus();
  auto flush = [&]() -> Status {
    auto k = tracker_->Observe(chunk, last);
    if (!k.ok()) return k.status();
    keys.insert(keys.end(), k->begin(), k->end());
    RETURN_IF_ERROR(LogOutcomes(outcome_events));
    chunk.clear();
    outcome_events.clear();
    return OkStatus();
  };
  int64_t replayed = 0;
  RETURN_IF_ERROR(snap->ForEachEvent([&](const store::StoredEvent& se) {
    store::Event e;
    e.user_id = se.user > 0 && se.user < static_cast<int64_t>(users.size()) ? users[se.user] : "";
    e.session_id = se.session;
    if (se.item > 0) {
      auto it = items.find(se.item);
      if (it != items.end()) e.item_id = it->second;
    }
    e.type = se.type;
    e.timestamp_ms = se.timestamp_ms;
    e.price = se.price;
    e.quantity = se.quantity;
    last = se.id;
    ++replayed;
    if (!e.user_id.empty() || !e.session_id.empty()) {
      chunk.push_back(Tracked(e));
      outcome_events.push_back(std::move(e));
    }
    if (chunk.size() >= 1000) {
      st = flush();
      if (!st.ok()) return false;
    }
    return true;
  }, from));
  RETURN_IF_ERROR(st);
  last = std::max(last, snap->watermark());
  RETURN_IF_ERROR(flush());
  if (replayed > 0) spdlog::info("session tracker: caught up {} store events after position {}", replayed, from);
  return keys;
}

std::string Service::ExposeVariant(const std::string& surface, const std::string& user,
                                   const std::string& request_id, json* variant_config, std::string* experiment_name) {
  if (user.empty()) return "";
  for (const experiment::ExperimentSpec& spec : experiments_->Running(surface)) {
    const std::string v = experiment::Assign(spec, user);
    if (v.empty()) continue;
    for (const auto& var : spec.variants) {
      if (var.name == v) *variant_config = var.config;
    }
    *experiment_name = spec.name;
    experiment::Exposure x;
    x.experiment = spec.name;
    x.variant = v;
    x.user = user;
    x.request_id = request_id;
    x.surface = surface;
    x.ts_ms = NowMs();
    (void)experiments_->LogExposures({x});
    return v;  // one experiment per request and surface
  }
  return "";
}

StatusOr<ApiResponse> Service::Search(const ApiRequest& r) {
  ApiSearch s;
  if (r.method == "POST") {
    RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
    ASSIGN_OR_RETURN(json body, ParseJsonBody(r.body, options_.limits));
    ASSIGN_OR_RETURN(s, ParseSearchBody(body, options_.limits));
  } else {
    ASSIGN_OR_RETURN(s, ParseSearchParams(r.query, options_.limits));
  }
  auto e = engines();
  if (!e->search) return NotAvailable("search", e->search_error);
  const std::string user = UserKey(s.user);
  json vconf;
  std::string exp_name;
  const std::string variant = ExposeVariant("search", user, r.request_id, &vconf, &exp_name);
  search::SearchRequest req;
  req.query = s.query;
  ASSIGN_OR_RETURN(req.filter, search::ParseFilters(s.filters, *e->search->catalog));
  std::string sort = s.sort;
  if (vconf.is_object() && vconf.contains("sort") && vconf["sort"].is_string()) sort = vconf["sort"].get<std::string>();
  ASSIGN_OR_RETURN(req.sort, search::ParseSort(sort));
  req.facets = s.facets;
  req.user_id = user;
  if (vconf.is_object() && vconf.value("personalize", true) == false) req.user_id.clear();
  req.limit = static_cast<size_t>(s.limit);
  req.offset = static_cast<size_t>(s.offset);
  req.explain = s.explain;
  if (vconf.is_object() && vconf.contains("pipeline") && vconf["pipeline"].is_string() &&
      search::ParsePipeline(vconf["pipeline"].get<std::string>()).ok()) {
    s.pipeline = vconf["pipeline"].get<std::string>();  // the experiment's variant decides
  }
  ASSIGN_OR_RETURN(req.pipeline, search::ParsePipeline(s.pipeline));
  ASSIGN_OR_RETURN(search::SearchResponse resp, e->search->engine->Search(req));
  json j = resp.ToJson(s.explain);
  j["pipeline"] = s.pipeline;
  j["encoder"] = e->search->encoder;
  j["offset"] = s.offset;
  j["limit"] = s.limit;
  j["next_offset"] = static_cast<int64_t>(s.offset + s.limit) < static_cast<int64_t>(resp.total)
                         ? json(s.offset + s.limit) : json(nullptr);
  if (!variant.empty()) j["experiment"] = {{"name", exp_name}, {"variant", variant}};
  j["request_id"] = r.request_id;
  return Json(std::move(j));
}

StatusOr<ApiResponse> Service::Autocomplete(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {"q", "limit"}));
  ASSIGN_OR_RETURN(int64_t limit, IntParam(r.query, "limit", 8, 1, 50));
  const std::string q = Param(r.query, "q").value_or("");
  if (q.empty()) return InvalidArgumentError("q: is required (the prefix typed so far)");
  auto e = engines();
  if (!e->autocomplete) return NotAvailable("autocomplete", e->search_error);
  json out = json::array();
  for (const auto& c : e->autocomplete->Complete(q, static_cast<size_t>(limit))) {
    out.push_back({{"text", c.display.empty() ? c.text : c.display}, {"score", c.weight}, {"source", c.source}});
  }
  return Json({{"prefix", q}, {"completions", out}});
}

StatusOr<ApiResponse> Service::Recommend(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {"user", "session", "item", "category", "n", "lang", "explain",
                                             "intent_switch"}));
  auto e = engines();
  if (!e->rec) return NotAvailable("recommendations", e->rec_error);
  app::LiveRequestArgs args;
  args.scenario = r.path_params.at("scenario");
  args.user = UserKey(Param(r.query, "user").value_or(""));
  args.session = Param(r.query, "session").value_or("");
  args.items = Params(r.query, "item");
  args.category = Param(r.query, "category").value_or("");
  ASSIGN_OR_RETURN(int64_t n, IntParam(r.query, "n", 10, 1, options_.limits.max_limit));
  args.n = static_cast<int>(n);
  ASSIGN_OR_RETURN(bool explain, BoolParam(r.query, "explain", false));
  ASSIGN_OR_RETURN(bool intent_switch, BoolParam(r.query, "intent_switch", true));
  ASSIGN_OR_RETURN(recommend::ReasonLanguage lang,
                   recommend::ParseReasonLanguage(Param(r.query, "lang").value_or("en")));
  json vconf;
  std::string exp_name;
  const std::string variant = ExposeVariant("recommend", args.user, r.request_id, &vconf, &exp_name);
  if (vconf.is_object()) {
    if (vconf.contains("scenario") && vconf["scenario"].is_string() && args.scenario == vconf.value("for", args.scenario)) {
      args.scenario = vconf["scenario"].get<std::string>();
    }
    if (vconf.contains("intent_switch") && vconf["intent_switch"].is_boolean()) {
      intent_switch = vconf["intent_switch"].get<bool>();
    }
  }
  if (!e->rec->config().scenarios.count(args.scenario)) {
    std::string known;
    for (const auto& [name, sc] : e->rec->config().scenarios) known += (known.empty() ? "" : ", ") + name;
    return NotFoundError(fmt::format("scenario: unknown scenario '{}' (known: {})", args.scenario, known));
  }
  ASSIGN_OR_RETURN(app::LiveRecommendation live,
                   app::RecommendLive(*store_, *e->rec, e->registries->intent(), args,
                                      {.explain = explain, .lang = lang}, intent_switch));
  recommend::RecommendResult& res = live.result;
  const std::string& level = live.intent_level;
  // Items deleted since the model was trained leave at once.
  std::erase_if(res.items, [this](const recommend::RecommendedItem& it) { return IsDeleted(it.external_id); });
  json j = app::RecommendResultToJson(res, explain);
  j["model"] = e->rec_version;
  if (!level.empty()) j["intent_level"] = level;
  if (!variant.empty()) j["experiment"] = {{"name", exp_name}, {"variant", variant}};
  j["request_id"] = r.request_id;
  return Json(std::move(j));
}

StatusOr<ApiResponse> Service::Intent(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {"user", "session", "lang", "drivers"}));
  auto e = engines();
  const app::IntentModels* im = e->registries ? e->registries->intent() : nullptr;
  if (im == nullptr) return NotAvailable("intent", e->intent_error);
  app::LiveIntentArgs a;
  a.user = UserKey(Param(r.query, "user").value_or(""));
  a.session = Param(r.query, "session").value_or("");
  a.lang = Param(r.query, "lang").value_or("en");
  if (a.lang != "en" && a.lang != "zh") return InvalidArgumentError(fmt::format("lang: must be en or zh, got '{}'", a.lang));
  ASSIGN_OR_RETURN(int64_t drivers, IntParam(r.query, "drivers", 5, 0, 40));
  a.drivers = static_cast<int>(drivers);
  if (a.user.empty() && a.session.empty()) return InvalidArgumentError("user: give a user or a session");
  a.session_gap_ms = app::SessionGapMs(ctx_.config);
  ASSIGN_OR_RETURN(json j, app::ScoreLiveIntent(*store_, *im, a));
  if (options_.pseudonymize_users && !Param(r.query, "user").value_or("").empty()) {
    j["user"] = Param(r.query, "user").value_or("");
  }
  j["request_id"] = r.request_id;
  return Json(std::move(j));
}

StatusOr<ApiResponse> Service::SessionState(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  const std::string& id = r.path_params.at("id");
  auto s = tracker_->Session(id);
  if (!s) return NotFoundError(fmt::format("id: no live session '{}'", id));
  const auto& c = s->counters;
  json events = json::array();
  for (const auto& ev : s->events) {
    events.push_back({{"ts", ev.ts_ms}, {"type", store::EventTypeName(ev.type)}, {"item", ev.item_id}});
  }
  return Json({{"session", s->key}, {"open", s->open}, {"events", events},
               {"counters", {{"events", c.events}, {"views", c.views}, {"clicks", c.clicks},
                             {"carts", c.carts}, {"removes", c.removes}, {"purchases", c.purchases},
                             {"searches", c.searches}, {"repeat_views", c.repeat_views},
                             {"distinct_items", c.item_views.size()}, {"categories", c.category_views.size()},
                             {"first_ms", c.first_ms}, {"last_ms", c.last_ms}}}});
}

StatusOr<ApiResponse> Service::ExplainSearch(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {"q", "item", "user", "filter"}));
  const std::string item = Param(r.query, "item").value_or("");
  if (item.empty()) return InvalidArgumentError("item: is required (the item to explain)");
  auto e = engines();
  if (!e->search) return NotAvailable("search", e->search_error);
  search::SearchRequest req;
  req.query = Param(r.query, "q").value_or("");
  ASSIGN_OR_RETURN(req.filter, search::ParseFilters(Params(r.query, "filter"), *e->search->catalog));
  req.user_id = UserKey(Param(r.query, "user").value_or(""));
  req.limit = 1000;
  req.explain = true;
  ASSIGN_OR_RETURN(search::SearchResponse resp, e->search->engine->Search(req));
  json j = resp.ToJson(true);
  json out = {{"query", req.query}, {"item", item}, {"understanding", j.value("parsed", json::object())},
              {"total", resp.total}};
  out["rank"] = nullptr;
  const json& hits = j["hits"];
  for (size_t i = 0; i < hits.size(); ++i) {
    if (hits[i].value("id", "") == item) {
      out["rank"] = i + 1;
      out["hit"] = hits[i];
      break;
    }
  }
  if (out["rank"].is_null()) {
    out["note"] = fmt::format("'{}' is not among the first {} results of this query", item, hits.size());
  }
  return Json(std::move(out));
}

StatusOr<ApiResponse> Service::ForgetUser(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  const std::string raw = r.path_params.at("id");
  const std::string user = UserKey(raw);
  ASSIGN_OR_RETURN(int64_t events, store_->ForgetUser(user));
  ASSIGN_OR_RETURN(int64_t sessions, tracker_->ForgetUser(user));
  RETURN_IF_ERROR(experiments_->ForgetUser(user));
  json details = {{"user_hash", ShortHash(user)}, {"events_removed", events}, {"sessions_removed", sessions}};
  RETURN_IF_ERROR(Audit("forget_user", r, details));
  details["note"] = "models stop using this user at their next training";
  return Json(details);
}

StatusOr<ApiResponse> Service::CreateExperiment(const ApiRequest& r) {
  ASSIGN_OR_RETURN(json body, ParseJsonBody(r.body, options_.limits));
  ASSIGN_OR_RETURN(experiment::ExperimentSpec spec, experiment::SpecFromJson(body));
  spec.created_ms = NowMs();
  spec.status = "running";
  RETURN_IF_ERROR(experiments_->Create(spec));
  RETURN_IF_ERROR(Audit("create_experiment", r, {{"name", spec.name}}));
  ASSIGN_OR_RETURN(experiment::ExperimentSpec stored, experiments_->Get(spec.name));
  return Json(experiment::SpecToJson(stored), 201);
}

StatusOr<ApiResponse> Service::ListExperiments(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  ASSIGN_OR_RETURN(auto list, experiments_->List());
  json out = json::array();
  for (const auto& s : list) out.push_back(experiment::SpecToJson(s));
  return Json({{"experiments", out}});
}

StatusOr<ApiResponse> Service::GetExperiment(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  ASSIGN_OR_RETURN(auto spec, experiments_->Get(r.path_params.at("name")));
  return Json(experiment::SpecToJson(spec));
}

StatusOr<ApiResponse> Service::StopExperiment(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  const std::string& name = r.path_params.at("name");
  RETURN_IF_ERROR(experiments_->Stop(name, NowMs()));
  RETURN_IF_ERROR(Audit("stop_experiment", r, {{"name", name}}));
  ASSIGN_OR_RETURN(auto spec, experiments_->Get(name));
  return Json(experiment::SpecToJson(spec));
}

StatusOr<ApiResponse> Service::ExperimentResults(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {"confidence"}));
  experiment::AnalyzeOptions o;
  if (auto c = Param(r.query, "confidence")) {
    char* end = nullptr;
    const double v = std::strtod(c->c_str(), &end);
    if (c->empty() || end != c->c_str() + c->size() || !(v > 0.5 && v < 1)) {
      return InvalidArgumentError(fmt::format("confidence: must be a number between 0.5 and 1, got '{}'", c->substr(0, 20)));
    }
    o.confidence = v;
  }
  ASSIGN_OR_RETURN(json res, experiments_->Analyze(r.path_params.at("name"), o));
  return Json(std::move(res));
}

StatusOr<json> Service::RunTraining(const std::string& kind, registry::JobContext& job) {
  json report = json::object();
  const bool all = kind == "all";
  std::vector<std::string> steps;
  if (all) {
    steps = {"index", "ranker", "recommender", "intent"};
  } else {
    steps = {kind};
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string& step = steps[i];
    if (job.cancelled()) return CancelledError("training cancelled");
    job.SetProgress(static_cast<double>(i) / steps.size(), "training " + step);
    const auto t0 = std::chrono::steady_clock::now();
    Status st = OkStatus();
    if (step == "index") {
      ASSIGN_OR_RETURN(auto snap, store_->OpenSnapshot());
      auto sum = search::BuildStoreSearchIndex(*snap, ctx_.data_dir, app::SearchConfigFrom(ctx_.config), nullptr);
      if (sum.ok()) report["index"] = sum->ToJson(); else st = sum.status();
    } else if (step == "ranker") {
      ASSIGN_OR_RETURN(auto snap, store_->OpenSnapshot());
      const search::StoreSearchConfig config = app::SearchConfigFrom(ctx_.config);
      auto s = search::OpenStoreSearch(*snap, ctx_.data_dir, config, nullptr, /*load_ranker=*/false);
      if (!s.ok()) {
        st = s.status();
      } else {
        auto log = search::ReadSearchLog(*snap, *(*s)->catalog);
        if (!log.ok()) {
          st = log.status();
        } else {
          auto tr = search::TrainRankerFromLog(*(*s)->engine, *log, config, nullptr);
          if (!tr.ok()) {
            st = tr.status();
          } else {
            json extra = {{"trained_from", "search log"}, {"data_watermark", snap->watermark()}, {"metrics", tr->metrics}};
            auto v = search::SaveRanker(*tr->model, ctx_.data_dir, extra);
            if (v.ok()) report["ranker"] = {{"version", *v}, {"metrics", tr->metrics}}; else st = v.status();
          }
        }
      }
    } else if (step == "recommender") {
      auto res = app::TrainRecommender(ctx_, *store_, "");
      if (res.ok()) report["recommender"] = res->report; else st = res.status();
    } else if (step == "intent") {
      auto res = app::TrainIntentModels(ctx_, *store_);
      if (res.ok()) report["intent"] = *res; else st = res.status();
    } else {
      return InvalidArgumentError(fmt::format("unknown training kind '{}'", step));
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    metrics_.SetGauge("souk_training_seconds", "Duration of the last training of each kind.",
                      fmt::format("kind=\"{}\"", step), secs);
    if (!st.ok()) {
      // In a full retraining a kind without enough data is skipped; alone it fails the job.
      if (!all) return st;
      report[step] = {{"skipped", st.message()}};
    }
  }
  job.SetProgress(1.0, "swapping in the new models");
  RETURN_IF_ERROR(Reload());
  report["reloaded"] = true;
  return report;
}

StatusOr<ApiResponse> Service::Train(const ApiRequest& r) {
  std::vector<std::string> kinds;
  if (!r.body.empty()) {
    ASSIGN_OR_RETURN(json body, ParseJsonBody(r.body, options_.limits));
    for (auto it = body.begin(); it != body.end(); ++it) {
      if (it.key() != "kinds") return InvalidArgumentError(fmt::format("body.{}: unknown field (known: kinds)", it.key()));
    }
    if (body.contains("kinds")) {
      const json& k = body["kinds"];
      if (!k.is_array()) return InvalidArgumentError("kinds: must be an array of strings");
      for (size_t i = 0; i < k.size(); ++i) {
        if (!k[i].is_string()) return InvalidArgumentError(fmt::format("kinds[{}]: must be a string", i));
        const std::string s = k[i].get<std::string>();
        if (s != "index" && s != "ranker" && s != "recommender" && s != "intent" && s != "all") {
          return InvalidArgumentError(fmt::format(
              "kinds[{}]: unknown kind '{}' (known: index, ranker, recommender, intent, all)", i, s));
        }
        kinds.push_back(s);
      }
    }
  }
  if (kinds.empty()) kinds = {"all"};
  json jobs = json::array();
  for (const std::string& k : kinds) {
    const int64_t id = jobs_->Submit("train:" + k, "api", [this, k](registry::JobContext& job) {
      return RunTraining(k, job);
    });
    jobs.push_back({{"id", id}, {"kind", "train:" + k}});
  }
  RETURN_IF_ERROR(Audit("train", r, {{"kinds", kinds}}));
  return Json({{"jobs", jobs}}, 202);
}

namespace {
json JobToJson(const registry::JobInfo& j) {
  return {{"id", j.id}, {"kind", j.kind}, {"state", j.state}, {"trigger", j.trigger},
          {"queued_ms", j.queued_ms}, {"started_ms", j.started_ms}, {"finished_ms", j.finished_ms},
          {"progress", j.progress}, {"message", j.message}, {"result", j.result}};
}
}  // namespace

StatusOr<ApiResponse> Service::ListJobs(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  json out = json::array();
  for (const auto& j : jobs_->List()) out.push_back(JobToJson(j));
  return Json({{"jobs", out}});
}

StatusOr<ApiResponse> Service::GetJob(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  const std::string& s = r.path_params.at("id");
  int64_t id = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), id);
  if (res.ec != std::errc() || res.ptr != s.data() + s.size()) {
    return InvalidArgumentError(fmt::format("id: must be an integer job id, got '{}'", s.substr(0, 40)));
  }
  auto j = jobs_->Get(id);
  if (!j) return NotFoundError(fmt::format("id: no job {}", id));
  return Json(JobToJson(*j));
}

StatusOr<ApiResponse> Service::Status_(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  json out = Health();
  ASSIGN_OR_RETURN(store::StoreStats st, store_->Stats());
  out["store"] = {{"items", st.items}, {"users", st.users}, {"events", st.events}, {"sessions", st.sessions},
                  {"quarantined", st.quarantined}, {"deleted_items", st.deleted_items}};
  json by_type = json::object();
  for (int t = 0; t < store::kNumEventTypes; ++t) {
    if (st.events_by_type[t] > 0) by_type[std::string(store::EventTypeName(static_cast<store::EventType>(t)))] = st.events_by_type[t];
  }
  out["store"]["events_by_type"] = std::move(by_type);
  json models = json::object();
  if (auto kinds = registry_->Kinds(); kinds.ok()) {
    for (const auto& k : *kinds) {
      auto a = registry_->Active(k);
      models[k] = a.ok() ? json(*a) : json(nullptr);
    }
  }
  out["models"] = models;
  auto e = engines();
  out["engines"] = {{"generation", e->generation}, {"loaded_ms", e->loaded_ms},
                    {"recommender", e->rec_version}};
  const auto ts = tracker_->Stats();
  out["sessions"] = {{"open", ts.sessions_open}, {"kept", ts.sessions_kept}, {"users", ts.users},
                     {"events_observed", ts.events_observed}};
  out["jobs"] = jobs_->Stats();
  out["privacy"] = {{"mode", options_.privacy_mode}, {"pseudonymize_users", options_.pseudonymize_users}};
  out["keys"] = keys_->size();
  return Json(std::move(out));
}

StatusOr<ApiResponse> Service::ReloadRoute(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  RETURN_IF_ERROR(Reload());
  return Json({{"reloaded", true}, {"generation", engines()->generation}});
}

StatusOr<ApiResponse> Service::ListModels(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  json out = json::object();
  ASSIGN_OR_RETURN(auto kinds, registry_->Kinds());
  for (const auto& k : kinds) {
    ASSIGN_OR_RETURN(auto list, registry_->List(k));
    json arr = json::array();
    for (const auto& v : list) {
      arr.push_back({{"version", v.version}, {"active", v.active}, {"created_ms", v.created_ms},
                     {"data_watermark", v.data_watermark}, {"format_version", v.format_version},
                     {"metrics", v.metrics}});
    }
    out[k] = arr;
  }
  return Json({{"models", out}});
}

StatusOr<ApiResponse> Service::ActivateModel(const ApiRequest& r) {
  ASSIGN_OR_RETURN(json body, ParseJsonBody(r.body, options_.limits));
  if (!body.contains("version") || !body["version"].is_string()) {
    return InvalidArgumentError("version: is required (a string naming the version to activate)");
  }
  const std::string kind = r.path_params.at("kind");
  const std::string version = body["version"].get<std::string>();
  RETURN_IF_ERROR(registry_->Activate(kind, version, r.key ? "api key " + r.key->id : "api"));
  RETURN_IF_ERROR(Audit("activate_model", r, {{"kind", kind}, {"version", version}}));
  RETURN_IF_ERROR(Reload());
  return Json({{"kind", kind}, {"active", version}});
}

StatusOr<ApiResponse> Service::RollbackModel(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  const std::string kind = r.path_params.at("kind");
  ASSIGN_OR_RETURN(std::string version, registry_->Rollback(kind, r.key ? "api key " + r.key->id : "api"));
  RETURN_IF_ERROR(Audit("rollback_model", r, {{"kind", kind}, {"version", version}}));
  RETURN_IF_ERROR(Reload());
  return Json({{"kind", kind}, {"active", version}});
}

StatusOr<ApiResponse> Service::Quality(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {"refresh"}));
  ASSIGN_OR_RETURN(bool refresh, BoolParam(r.query, "refresh", false));
  const fs::path path = fs::path(ctx_.data_dir) / "reports" / "quality.json";
  if (!refresh && fs::exists(path)) {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
    json j = json::parse(text, nullptr, false);
    if (!j.is_discarded()) return Json(std::move(j));
  }
  const quality::QualityOptions qo = app::QualityOptionsFromConfig(ctx_.config);
  ASSIGN_OR_RETURN(auto snapshot, store_->OpenSnapshot());
  ASSIGN_OR_RETURN(quality::QualityReport report, quality::ComputeQuality(*snapshot, *store_, qo, nullptr));
  json j = quality::QualityReportToJson(report);
  RETURN_IF_ERROR(app::WriteTextFile(path, j.dump(2, ' ', false, json::error_handler_t::replace) + "\n"));
  return Json(std::move(j));
}

StatusOr<ApiResponse> Service::Quarantine(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {"limit", "offset", "reason"}));
  ASSIGN_OR_RETURN(int64_t limit, IntParam(r.query, "limit", 50, 1, 1000));
  ASSIGN_OR_RETURN(int64_t offset, IntParam(r.query, "offset", 0, 0, INT64_MAX / 2));
  const std::string reason = Param(r.query, "reason").value_or("");
  ASSIGN_OR_RETURN(auto reasons, store_->QuarantineReasons());
  ASSIGN_OR_RETURN(auto rows, store_->ListQuarantine(limit, offset, reason));
  int64_t total = 0;
  for (const auto& [name, n] : reasons) {
    if (reason.empty() || name == reason) total += n;
  }
  json out_rows = json::array();
  for (const store::QuarantineRecord& q : rows) {
    out_rows.push_back({{"source", q.source}, {"line", q.line}, {"byte_offset", q.byte_offset},
                        {"reason", q.reason}, {"detail", q.detail}, {"raw", q.raw}});
  }
  json out = {{"total", total}, {"reasons", reasons}, {"rows", out_rows}, {"offset", offset}, {"limit", limit}};
  out["next_offset"] = offset + static_cast<int64_t>(rows.size()) < total ? json(offset + limit) : json(nullptr);
  return Json(std::move(out));
}

namespace {

// Report files are named eval-<protocol>-<UTC time>.json by souk eval.
bool IsReportName(std::string_view name) {
  if (name.size() < 10 || name.substr(0, 5) != "eval-" || name.substr(name.size() - 5) != ".json") return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return name.find("..") == std::string_view::npos;
}

}  // namespace

StatusOr<ApiResponse> Service::ListReports(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {"task", "protocol"}));
  const std::string task = Param(r.query, "task").value_or("");
  const std::string protocol = Param(r.query, "protocol").value_or("");
  const fs::path dir = fs::path(ctx_.data_dir) / "reports";
  json reports = json::array();
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    std::vector<json> found;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_regular_file(ec) || !IsReportName(name)) continue;
      auto text = ReadFileToString(entry.path());
      if (!text.ok()) continue;
      json j = json::parse(*text, nullptr, false);
      if (j.is_discarded() || !j.is_object()) continue;  // a half-written or foreign file
      json row = {{"name", name}, {"task", j.value("task", "")}, {"protocol", j.value("protocol", "")},
                  {"dataset", j.value("dataset", "")}, {"bytes", static_cast<int64_t>(text->size())}};
      if (!task.empty() && row["task"] != task) continue;
      if (!protocol.empty() && row["protocol"] != protocol) continue;
      const auto mtime = fs::last_write_time(entry.path(), ec);
      const auto sys = std::chrono::system_clock::now() +
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(
                           mtime - fs::file_time_type::clock::now());
      row["created_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
      if (j.contains("seconds") && j["seconds"].is_number()) row["seconds"] = j["seconds"];
      if (j.contains("metrics") && j["metrics"].is_object()) row["metrics"] = j["metrics"];
      found.push_back(std::move(row));
    }
    // Newest first: the UTC time in the name sorts, and ties fall back to the name.
    std::sort(found.begin(), found.end(), [](const json& a, const json& b) {
      const std::string na = a["name"], nb = b["name"];
      const std::string ta = na.size() > 21 ? na.substr(na.size() - 21) : na;
      const std::string tb = nb.size() > 21 ? nb.substr(nb.size() - 21) : nb;
      return ta != tb ? ta > tb : na > nb;
    });
    for (json& row : found) reports.push_back(std::move(row));
  }
  return Json({{"reports", reports}});
}

StatusOr<ApiResponse> Service::GetReport(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {}));
  const std::string& name = r.path_params.at("name");
  if (!IsReportName(name)) {
    return InvalidArgumentError(fmt::format("name: '{}' is not a report name (eval-<protocol>-<time>.json)", name));
  }
  const fs::path path = fs::path(ctx_.data_dir) / "reports" / name;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return NotFoundError(fmt::format("name: no report '{}'", name));
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return FailedPreconditionError(fmt::format("name: report '{}' is not valid JSON (still being written?)", name));
  }
  return Json(std::move(j));
}

StatusOr<ApiResponse> Service::ListUsers(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {"prefix", "sort", "limit", "offset"}));
  store::ListUsersQuery q;
  q.prefix = Param(r.query, "prefix").value_or("");
  const std::string sort = Param(r.query, "sort").value_or("id");
  if (sort != "id" && sort != "events") {
    return InvalidArgumentError(fmt::format("sort: must be id or events, got '{}'", sort));
  }
  q.by_events = sort == "events";
  ASSIGN_OR_RETURN(q.limit, IntParam(r.query, "limit", 20, 1, 1000));
  ASSIGN_OR_RETURN(q.offset, IntParam(r.query, "offset", 0, 0, INT64_MAX / 2));
  ASSIGN_OR_RETURN(auto users, store_->ListUsers(q));
  json out = json::array();
  for (const store::UserSummary& u : users) {
    out.push_back({{"id", u.external_id}, {"events", u.events}, {"last_event_ms", u.last_event_ms}});
  }
  json j = {{"users", out}, {"sort", sort}, {"offset", q.offset}, {"limit", q.limit}};
  j["next_offset"] = static_cast<int64_t>(users.size()) == q.limit ? json(q.offset + q.limit) : json(nullptr);
  if (options_.pseudonymize_users) j["note"] = "user ids are pseudonyms (privacy.pseudonymize_users)";
  return Json(std::move(j));
}

StatusOr<ApiResponse> Service::UserEvents(const ApiRequest& r) {
  RETURN_IF_ERROR(CheckKnownParams(r.query, {"limit", "session"}));
  const std::string& id = r.path_params.at("id");
  ASSIGN_OR_RETURN(int64_t limit, IntParam(r.query, "limit", 100, 1, 1000));
  store::RecentEventsQuery q;
  q.user_id = UserKey(id);
  q.session_id = Param(r.query, "session").value_or("");
  q.limit = limit;
  ASSIGN_OR_RETURN(auto events, store_->RecentEvents(q));
  std::unordered_map<std::string, json> items;  // item id -> {title, category, price}
  json out = json::array();
  for (const store::RecentEvent& ev : events) {
    json row = {{"type", store::EventTypeName(ev.type)}, {"timestamp_ms", ev.timestamp_ms}, {"session", ev.session}};
    if (!ev.item_id.empty()) {
      row["item"] = ev.item_id;
      auto it = items.find(ev.item_id);
      if (it == items.end()) {
        json info = json::object();
        ASSIGN_OR_RETURN(auto stored, store_->GetItem(ev.item_id));
        if (stored) {
          info = {{"title", stored->item.title}, {"category", stored->item.category}, {"brand", stored->item.brand}};
          if (stored->item.price) info["price"] = *stored->item.price;
          if (stored->deleted) info["deleted"] = true;
        }
        it = items.emplace(ev.item_id, std::move(info)).first;
      }
      for (const auto& [k, v] : it->second.items()) row[k] = v;
    }
    if (!ev.query.empty()) row["query"] = ev.query;
    if (ev.value) row["value"] = *ev.value;
    if (ev.quantity) row["quantity"] = *ev.quantity;
    out.push_back(std::move(row));
  }
  return Json({{"user", id}, {"events", out}});
}

}  // namespace souk::server
