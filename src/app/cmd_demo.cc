// `souk demo`: the first thing a new user runs. Generates a bilingual synthetic
// store, imports it, checks its quality and says where to look next. The demo is
// a list of named stages so later capabilities (train, serve, console) add a
// stage instead of rewriting the command.
#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "app/app_context.h"
#include "app/commands.h"
#include "server/api_keys.h"
#include "app/store_access.h"
#include "common/clock.h"
#include "eval/builtin_protocols.h"
#include "eval/protocol.h"
#include "ingest/generator.h"
#include "ingest/quality.h"
#include "app/intent_config.h"
#include "app/rec_config.h"
#include "app/search_config.h"
#include "search/store_search.h"

namespace souk::app {
namespace {

struct DemoState {
  AppContext* ctx = nullptr;
  gen::GeneratorSummary generated;
  std::unique_ptr<store::SqliteStore> store;
  nlohmann::json report = nlohmann::json::object();
};

struct DemoStage {
  std::string name;
  std::string title;
  std::function<Status(DemoState&)> run;
};

std::vector<DemoStage> DemoStages(int64_t items, int64_t users, int days) {
  std::vector<DemoStage> stages;
  stages.push_back({"generate", "Generating a bilingual (English + Chinese) store", [=](DemoState& st) -> Status {
    gen::GeneratorOptions o;
    o.items = items;
    o.users = users;
    o.days = days;
    o.seed = static_cast<uint64_t>(st.ctx->config.GetInt("generate.seed"));
    o.languages = {"en", "zh"};
    o.out_dir = (std::filesystem::path(st.ctx->data_dir) / "generated").string();
    o.progress = st.ctx->MakeProgressOptions();
    ASSIGN_OR_RETURN(st.generated, gen::GenerateStore(o));
    fmt::print("  {} items, {} users, {} sessions, {} events ({} held out as ground truth) in {}\n",
               st.generated.items, st.generated.users, st.generated.sessions, st.generated.events,
               st.generated.events_holdout, st.generated.out_dir);
    st.report["generate"] = gen::SummaryToJson(st.generated);
    return OkStatus();
  }});
  stages.push_back({"import", "Importing it with validation", [](DemoState& st) -> Status {
    ASSIGN_OR_RETURN(st.store, OpenStore(*st.ctx, true));
    ASSIGN_OR_RETURN(auto s, RunImport(*st.ctx, st.store.get(), "souk", {st.generated.out_dir}, {}));
    std::string text = s.ToText();
    for (size_t p = 0; (p = text.find('\n', p)) != std::string::npos && p + 1 < text.size(); p += 3) text.insert(p + 1, "  ");
    fmt::print("  {}", text);
    st.report["import"] = s.ToJson();
    return OkStatus();
  }});
  stages.push_back({"quality", "Checking data quality", [](DemoState& st) -> Status {
    ASSIGN_OR_RETURN(auto snap, st.store->OpenSnapshot());
    const quality::QualityOptions qo = QualityOptionsFromConfig(st.ctx->config);
    ASSIGN_OR_RETURN(quality::QualityReport r, quality::ComputeQuality(*snap, *st.store, qo, nullptr));
    const auto dir = std::filesystem::path(st.ctx->data_dir) / "reports";
    const nlohmann::json j = quality::QualityReportToJson(r);
    const std::string text = quality::QualityReportToText(r);
    RETURN_IF_ERROR(WriteTextFile(dir / "quality.json", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
    RETURN_IF_ERROR(WriteTextFile(dir / "quality.txt", text));
    fmt::print("{}", text);
    st.report["quality"] = j;
    return OkStatus();
  }});
  stages.push_back({"index", "Building the search indexes (BM25 + a sub-word encoder learned from the catalog)", [](DemoState& st) -> Status {
    ASSIGN_OR_RETURN(auto snap, st.store->OpenSnapshot());
    const ProgressOptions po = st.ctx->MakeProgressOptions();
    ASSIGN_OR_RETURN(search::IndexBuildSummary sum,
                     search::BuildStoreSearchIndex(*snap, st.ctx->data_dir, SearchConfigFrom(st.ctx->config), &po));
    fmt::print("  {} items indexed in {:.1f}s (encoder {}), {} past queries teach spelling, {} synonyms mined\n",
               sum.items, sum.total_s, sum.encoder, sum.spelling_queries, sum.synonyms);
    st.report["index"] = sum.ToJson();
    return OkStatus();
  }});
  stages.push_back({"train-ranker", "Learning to rank from the shoppers' searches, clicks and purchases", [](DemoState& st) -> Status {
    ASSIGN_OR_RETURN(auto snap, st.store->OpenSnapshot());
    const search::StoreSearchConfig config = SearchConfigFrom(st.ctx->config);
    const ProgressOptions po = st.ctx->MakeProgressOptions();
    ASSIGN_OR_RETURN(auto s, search::OpenStoreSearch(*snap, st.ctx->data_dir, config, &po, false));
    ASSIGN_OR_RETURN(auto log, search::ReadSearchLog(*snap, *s->catalog));
    ASSIGN_OR_RETURN(search::RankerTrainingResult r, search::TrainRankerFromLog(*s->engine, log, config, &po));
    ASSIGN_OR_RETURN(std::string version, search::SaveRanker(*r.model, st.ctx->data_dir,
        {{"trained_from", "search log"}, {"data_watermark", snap->watermark()}, {"metrics", r.metrics}}));
    fmt::print("  ranker {} trained on {} searches; on the latest {} held-out searches:\n", version,
               r.train_searches, r.holdout_searches);
    if (r.metrics.contains("fusion")) {
      fmt::print("    BM25+dense fusion  MRR@10 {:.3f}   with the ranker  MRR@10 {:.3f}\n",
                 r.metrics["fusion"]["mrr@10"].get<double>(), r.metrics["ltr"]["mrr@10"].get<double>());
    }
    st.report["ranker"] = r.metrics;
    return OkStatus();
  }});
  stages.push_back({"search", "Searching (typos, Chinese in traditional characters, price phrases)", [](DemoState& st) -> Status {
    ASSIGN_OR_RETURN(auto snap, st.store->OpenSnapshot());
    const search::StoreSearchConfig config = SearchConfigFrom(st.ctx->config);
    const ProgressOptions po = st.ctx->MakeProgressOptions();
    ASSIGN_OR_RETURN(auto s, search::OpenStoreSearch(*snap, st.ctx->data_dir, config, &po));
    nlohmann::json shown = nlohmann::json::array();
    for (const char* q : {"wireles headphnes", "智能手機", "earbuds under 50", "耳机 300元以下"}) {
      search::SearchRequest req;
      req.query = q;
      req.limit = 3;
      req.facets = {"brand"};
      ASSIGN_OR_RETURN(search::SearchResponse r, s->engine->Search(req));
      fmt::print("  \"{}\"  {} matches, {:.1f} ms", q, r.total, r.took_ms);
      if (!r.parsed.did_you_mean.empty()) fmt::print(", did you mean \"{}\"", r.parsed.did_you_mean);
      for (const auto& e : r.parsed.extractions) {
        if (e.as_filter) fmt::print(", {} filter {}", e.kind, e.value);
      }
      fmt::print("\n");
      for (const auto& h : r.hits) fmt::print("      {}  {}\n", h.external_id, h.title);
      shown.push_back(r.ToJson(false));
    }
    fmt::print("  (souk search \"...\" --explain --data-dir {} shows every score component)\n", st.ctx->data_dir);
    st.report["search"] = shown;
    return OkStatus();
  }});
  stages.push_back({"intent", "Learning purchase intent from the sessions (session, item, customer models)", [](DemoState& st) -> Status {
    auto trained = TrainIntentModels(*st.ctx, *st.store);
    if (!trained.ok() && trained.status().code() == StatusCode::kFailedPrecondition) {
      fmt::print("  skipped: {}\n", trained.status().message());  // a store too small to learn from
      return OkStatus();
    }
    ASSIGN_OR_RETURN(nlohmann::json j, std::move(trained));
    for (const auto& [name, m] : j["models"].items()) {
      if (m.contains("skipped")) {
        fmt::print("  {:<9} skipped: {}\n", name, m["skipped"].get<std::string>());
      } else {
        fmt::print("  {:<9} {} rows, out-of-fold ROC-AUC {:.3f}, calibration error {:.3f}\n", name,
                   m["rows"].get<int64_t>(), m["oof_roc_auc"].get<double>(), m["oof_ece"].get<double>());
      }
    }
    st.report["intent"] = j;
    return OkStatus();
  }});
  stages.push_back({"recommend", "Recommending (candidate sources, a learned ranker with the intent score, reasons)", [](DemoState& st) -> Status {
    auto trained = TrainRecommender(*st.ctx, *st.store, "");
    if (!trained.ok() && trained.status().code() == StatusCode::kFailedPrecondition) {
      fmt::print("  skipped: {}\n", trained.status().message());
      return OkStatus();
    }
    ASSIGN_OR_RETURN(TrainRecommenderResult r, std::move(trained));
    ASSIGN_OR_RETURN(auto registries, RecommendRegistries::Make(st.ctx->data_dir, SessionGapMs(st.ctx->config)));
    ASSIGN_OR_RETURN(auto model, recommend::Recommender::Load(r.dir.string(), registries->deps()));
    const std::string truth =
        (std::filesystem::path(st.generated.out_dir) / "ground_truth" / "future_purchases.csv").string();
    ASSIGN_OR_RETURN(nlohmann::json held, EvaluateFuturePurchases(*model, truth, 20));
    fmt::print("  held-out purchases of {} shoppers: recall@20 {:.3f} (most popular items {:.3f})\n",
               held["users"].get<int64_t>(), held["recall"].get<double>(),
               held["recall_popular"].get<double>());
    {
      // Saved as an evaluation report, with the accuracy-versus-exposure curve of
      // the long-tail reranker, so the console can plot both.
      eval::EvalReport rep;
      rep.protocol = "synthetic-holdout";
      rep.task = "rec";
      rep.dataset = "demo store: held-out future purchases";
      rep.metrics["recall@20"] = held["recall"].get<double>();
      rep.metrics["users"] = held["users"].get<double>();
      rep.ablations["most_popular"]["recall@20"] = held["recall_popular"].get<double>();
      rep.extra = {{"long_tail_curve", held["long_tail_curve"]}, {"scenario", held["scenario"]}};
      const auto& curve = held["long_tail_curve"];
      if (curve.size() >= 2) {
        const auto& a = curve.front();
        const auto& b = curve.back();
        fmt::print("  long tail: raising the tail items' share of the top 20 from {:.2f} to {:.2f} moves recall@20 {:.3f} -> {:.3f}\n",
                   a["tail_share"].get<double>(), b["tail_share"].get<double>(), a["recall"].get<double>(),
                   b["recall"].get<double>());
      }
      ASSIGN_OR_RETURN(std::string path, eval::SaveReport(rep, st.ctx->data_dir, RealClock().NowMicros()));
      fmt::print("  report saved to {}\n", path);
    }
    // One shopper: intent now, and the home page with reasons.
    const recommend::InteractionData& data = model->data();
    // A shopper with a long history, preferably one whose latest event is an add-to-cart.
    int32_t user = -1;
    for (int32_t u = 0; u < data.num_users(); ++u) {
      const auto h = data.UserHistory(u);
      if (h.size() < 8) continue;
      if (user < 0) user = u;
      if (h.back().type == store::EventType::kAddToCart) {
        user = u;
        break;
      }
    }
    if (user >= 0) {
      LiveRequestArgs a;
      a.scenario = "home";
      a.user = data.user_id(user);
      a.n = 5;
      std::vector<std::string> notes;
      ASSIGN_OR_RETURN(recommend::RecommendRequest req, BuildLiveRequest(*st.store, *model, a, &notes));
      ASSIGN_OR_RETURN(recommend::RecommendResult res, model->Recommend(req, {}));
      std::string level;
      if (registries->intent() && std::isfinite(res.intent)) {
        level = IntentLevel(*registries->intent(), res.intent);
        ApplyIntentSwitch(*model, req, level, recommend::ReasonLanguage::kEnglish, &res);
        fmt::print("  shopper {}: session purchase intent {:.2f} ({})\n", a.user, res.intent, level);
      }
      for (const auto& it : res.items) {
        fmt::print("      {}  {}  -- {}\n", it.external_id, it.title, it.reason_text);
      }
      if (registries->intent() != nullptr) {
        fmt::print("  (souk recommend --user {} --explain, souk intent --user {} --data-dir {})\n",
                   a.user, a.user, st.ctx->data_dir);
      } else {
        fmt::print("  (souk recommend --user {} --explain --data-dir {})\n", a.user, st.ctx->data_dir);
      }
    }
    st.report["recommend"] = {{"train", r.report}, {"held_out_purchases", held}};
    return OkStatus();
  }});
  stages.push_back({"evaluate", "Evaluating purchase intent against the generator's ground truth (EVAL.md D; the console plots it)", [](DemoState& st) -> Status {
    eval::ProtocolRegistry registry;
    RETURN_IF_ERROR(eval::RegisterBuiltinProtocols(registry));
    ASSIGN_OR_RETURN(eval::EvalProtocol * protocol, registry.Find(std::string(eval::kTaskIntent), "synthetic"));
    eval::EvalContext ectx;
    ectx.task = std::string(eval::kTaskIntent);
    ectx.inputs.dir = st.generated.out_dir;
    ectx.data_dir = st.ctx->data_dir;
    ectx.progress = st.ctx->MakeProgressOptions();
    auto report = eval::RunProtocol(*protocol, ectx);
    if (!report.ok()) {
      // A store too small to evaluate (too few held-out buyers to calibrate, ...):
      // the demo goes on; the evaluation is there to look at, not to gate.
      fmt::print("  skipped: {}\n", report.status().message());
      return OkStatus();
    }
    ASSIGN_OR_RETURN(std::string path, eval::SaveReport(*report, st.ctx->data_dir, RealClock().NowMicros()));
    auto metric = [&](const std::map<std::string, double>& m, const char* k) {
      auto it = m.find(k);
      return it == m.end() ? std::nan("") : it->second;
    };
    fmt::print("  session model on held-out sessions: ROC-AUC {:.3f}, PR-AUC {:.3f}, calibration error {:.3f}\n",
               metric(report->metrics, "roc_auc"), metric(report->metrics, "pr_auc"), metric(report->metrics, "ece"));
    for (const char* b : {"logistic_regression", "has_add_to_cart"}) {
      auto it = report->ablations.find(b);
      if (it != report->ablations.end()) {
        fmt::print("    baseline {:<20} ROC-AUC {:.3f}, PR-AUC {:.3f}\n", b, metric(it->second, "roc_auc"),
                   metric(it->second, "pr_auc"));
      }
    }
    fmt::print("  report saved to {}\n", path);
    st.report["evaluate"] = {{"report", path}, {"metrics", report->metrics}};
    return OkStatus();
  }});
  return stages;
}

}  // namespace

void RegisterCommand_demo(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("demo", "generate a bilingual demo store, import it, check its quality, index it, learn to rank, search, learn purchase intent, recommend");
  AddCommonOptions(cmd, &ctx, true);
  auto items = std::make_shared<int64_t>(5000);
  auto users = std::make_shared<int64_t>(2000);
  auto days = std::make_shared<int>(60);
  cmd->add_option("--items", *items, "demo catalog size")->capture_default_str();
  cmd->add_option("--users", *users, "demo shoppers")->capture_default_str();
  cmd->add_option("--days", *days, "demo days of behavior")->capture_default_str();
  auto no_serve = std::make_shared<bool>(false);
  auto port = std::make_shared<int>(8080);
  cmd->add_flag("--no-serve", *no_serve, "stop after the demo instead of serving the HTTP API");
  cmd->add_option("--port", *port, "port the demo serves on at the end (0 = any free port)")->capture_default_str();
  cmd->callback([&ctx, items, users, days, no_serve, port] {
    throw CLI::RuntimeError(Run(ctx, [&]() -> Status {
      const int64_t t0 = RealClock().MonotonicMicros();
      std::error_code ec;
      // A fresh store each time: the demo shows a first import, not a re-import.
      std::filesystem::remove(ctx.DbPath(), ec);
      std::filesystem::remove(ctx.DbPath() + "-wal", ec);
      std::filesystem::remove(ctx.DbPath() + "-shm", ec);
      // ... and fresh live state, experiments and audit log that belonged to the old store.
      std::filesystem::remove_all(std::filesystem::path(ctx.data_dir) / "online", ec);
      for (const char* f : {"experiments.db", "experiments.db-wal", "experiments.db-shm", "audit.jsonl"}) {
        std::filesystem::remove(std::filesystem::path(ctx.data_dir) / f, ec);
      }
      DemoState st;
      st.ctx = &ctx;
      auto stages = DemoStages(*items, *users, *days);
      for (size_t i = 0; i < stages.size(); ++i) {
        fmt::print("\n[{}/{}] {}\n", i + 1, stages.size(), stages[i].title);
        std::fflush(stdout);
        Status s = stages[i].run(st);
        if (!s.ok()) return s.WithContext("demo stage '" + stages[i].name + "'");
      }
      const double secs = (RealClock().MonotonicMicros() - t0) / 1e6;
      fmt::print(
          "\nDone in {:.1f}s. Where to look next:\n"
          "  {}/souk.db                     the store (SQLite: items, events, quarantine, ...)\n"
          "  {}/reports/quality.txt         the full data-quality report (quality.json for machines)\n"
          "  {}/generated/ground_truth/     what the generator knows (future purchases, bots, complements)\n"
          "  souk quality --data-dir {}     re-check quality; add --fail-on to gate a pipeline\n"
          "  souk search \"red dress\" --explain --data-dir {}   search, with every score explained\n"
          "  souk recommend --scenario home --user U000001 --explain --data-dir {}   recommendations with reasons\n"
          "  souk intent --user U000001 --data-dir {}   a shopper's purchase intent and its drivers\n"
          "  {}/reports/eval-synthetic-*.json   the intent evaluation (souk eval intent --protocol synthetic --dir {}/generated)\n"
          "  souk import --list-formats       import your own catalog and events\n",
          secs, ctx.data_dir, ctx.data_dir, ctx.data_dir, ctx.data_dir, ctx.data_dir, ctx.data_dir,
          ctx.data_dir, ctx.data_dir, ctx.data_dir);
      if (*no_serve || ctx.json) return OkStatus();
      // The demo ends serving the store over HTTP, with an admin key to try it.
      ASSIGN_OR_RETURN(auto keys, server::KeyStore::Open(std::filesystem::path(ctx.data_dir) / "keys.json"));
      ASSIGN_OR_RETURN(std::string key, keys->Create(server::Scope::kAdmin, "demo admin"));
      const std::string banner = fmt::format(
          "admin key (shown once): {}\n"
          "the console:  http://127.0.0.1:{}/console/?key={}\n"
          "try:  curl -s -H 'Authorization: Bearer {}' 'http://127.0.0.1:{}/v1/search?q=dress&limit=3'\n"
          "      curl -s -H 'Authorization: Bearer {}' 'http://127.0.0.1:{}/v1/recommendations/home?user=U000001&n=5'\n"
          "the routes: docs/openapi.json (also GET /v1/openapi.json); stop with Ctrl-C\n",
          key, *port, key, key, *port, key, *port);
      return ServeForever(ctx, "127.0.0.1", *port, 0, "", banner);
    }));
  });
}

}  // namespace souk::app
