// `souk recommend --scenario S [--user U] [--session X] [--item I]... [--n 10]
//  [--category C] [--lang en|zh] [--explain] [--json]`: recommendations from the
// model `souk train recommender` saved (models/recommender/CURRENT). The
// shopper's latest events are read from the store at request time, so a new
// view or purchase changes `home` and `next` without retraining.
//
// Scenarios: home (user), similar (--item), fbt (--item: the product or the
// cart), next (--session or --user: the live session), buy-again (user),
// trending. With trained intent models (`souk train intent`) the session's
// purchase intent is a ranker feature and switches home / next: high intent
// puts the cart and its complements first, low intent adds trending items
// (--no-intent-switch keeps the ranked list). Unknown users get trending items (with a note); an unknown item is
// an error for similar / fbt when no --item is known, and a note otherwise.
#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "app/app_context.h"
#include "app/rec_config.h"
#include "app/store_access.h"
#include "recommend/reasons.h"

namespace souk::app {
namespace {

struct RecommendArgs {
  LiveRequestArgs request;
  std::string lang = "en";
  bool explain = false;
  bool no_intent_switch = false;
};

void PrintReadable(const recommend::RecommendResult& r, const std::string& version, double ms,
                   bool explain) {
  fmt::print("{} for {} ({} items from {} candidates, {}, model {}, {:.1f} ms)\n", r.scenario,
             r.pipeline, r.items.size(), r.candidates,
             r.cold_start ? "cold start" : (r.ranked ? "ranked" : "rank fusion"), version, ms);
  for (const std::string& n : r.notes) fmt::print("note: {}\n", n);
  for (size_t i = 0; i < r.items.size(); ++i) {
    const auto& it = r.items[i];
    std::string sources;
    for (const auto& h : it.sources) sources += (sources.empty() ? "" : ",") + h.source;
    fmt::print("{:3}. {:<12} {:>8.4f}  {}\n", i + 1, it.external_id, it.score, it.title);
    fmt::print("       {}  [{}]\n", it.reason_text, sources);
    if (explain && !it.contributions.empty()) {
      std::vector<std::pair<std::string, float>> c(it.contributions.begin(), it.contributions.end());
      std::sort(c.begin(), c.end(), [](auto& a, auto& b) { return std::fabs(a.second) > std::fabs(b.second); });
      fmt::print("       ranker:");
      for (size_t k = 0; k < c.size() && k < 5; ++k) fmt::print(" {}{:+.3f}", c[k].first, c[k].second);
      fmt::print("\n");
    }
  }
}

Status RunRecommend(AppContext& ctx, const RecommendArgs& args) {
  ASSIGN_OR_RETURN(recommend::ReasonLanguage lang, recommend::ParseReasonLanguage(args.lang));
  if (args.request.n <= 0) {
    return InvalidArgumentError(fmt::format("--n must be at least 1, got {}", args.request.n));
  }
  ASSIGN_OR_RETURN(auto registries, RecommendRegistries::Make(ctx.data_dir, SessionGapMs(ctx.config)));
  std::string version;
  ASSIGN_OR_RETURN(auto model, recommend::LoadCurrentRecommender(
                                   RecommenderModelsDir(ctx.data_dir).string(), registries->deps(), &version));
  if (!model->config().scenarios.count(args.request.scenario)) {
    std::string known;
    for (const auto& [name, s] : model->config().scenarios) known += (known.empty() ? "" : ", ") + name;
    return InvalidArgumentError(
        fmt::format("unknown scenario '{}' (known: {})", args.request.scenario, known));
  }
  ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
  const auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(LiveRecommendation live,
                   RecommendLive(*store, *model, registries->intent(), args.request,
                                 {.explain = args.explain, .lang = lang}, !args.no_intent_switch));
  const recommend::RecommendResult& r = live.result;
  const std::string& intent_level = live.intent_level;
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (ctx.json) {
    nlohmann::json j = RecommendResultToJson(r, args.explain);
    j["model"] = version;
    if (!intent_level.empty()) j["intent_level"] = intent_level;
    j["took_ms"] = ms;
    if (!args.request.user.empty()) j["user"] = args.request.user;
    fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    if (!intent_level.empty()) {
      fmt::print("session purchase intent {:.3f} ({})\n", r.intent, intent_level);
    }
    PrintReadable(r, version, ms, args.explain);
  }
  return OkStatus();
}

}  // namespace

void RegisterCommand_recommend(CLI::App& app, AppContext& ctx) {
  auto args = std::make_shared<RecommendArgs>();
  auto* cmd = app.add_subcommand(
      "recommend", "recommend items (after `souk train recommender`): home, similar, fbt, next, "
                   "buy-again, trending");
  AddCommonOptions(cmd, &ctx, true);
  cmd->add_option("--scenario", args->request.scenario,
                  "home, similar, fbt, next, buy-again or trending")->capture_default_str();
  cmd->add_option("--user", args->request.user, "the shopper's id (their latest events are read now)");
  cmd->add_option("--session", args->request.session, "a live session id (its latest events)");
  cmd->add_option("--item", args->request.items, "context item: the product page, or the cart (repeatable)");
  cmd->add_option("--category", args->request.category, "only items under this category path prefix");
  cmd->add_option("--n", args->request.n, "how many items")->capture_default_str();
  cmd->add_option("--lang", args->lang, "language of the reasons: en or zh")->capture_default_str();
  cmd->add_flag("--explain", args->explain, "show the sources, features and ranker contributions");
  cmd->add_flag("--no-intent-switch", args->no_intent_switch,
                "keep the list as the scenario ranked it (no cart-first / exploration switch)");
  cmd->callback([&ctx, args] {
    throw CLI::RuntimeError(Run(ctx, [&] { return RunRecommend(ctx, *args); }));
  });
}

}  // namespace souk::app
