// `souk intent (--user U | --session S) [--lang en|zh] [--drivers K] [--json]`:
// the shopper's purchase intent now, from the store's latest events and the
// models `souk train intent` saved (models/intent/CURRENT): the live session's
// probability of ending with a purchase with its level and top drivers, the
// viewed/carted items' purchase probabilities, and the customer's probability
// of buying in the next 30 days.
#include <fmt/format.h>

#include <chrono>

#include "app/app_context.h"
#include "app/intent_config.h"
#include "app/store_access.h"

namespace souk::app {
namespace {

void PrintDrivers(const nlohmann::json& drivers) {
  for (const auto& d : drivers) {
    fmt::print("      {} {:<40} ({:+.3f})\n", d["contribution"].get<double>() >= 0 ? "+" : "-",
               d["text"].get<std::string>(), d["contribution"].get<double>());
  }
}

Status RunIntent(AppContext& ctx, const LiveIntentArgs& args) {
  if (args.lang != "en" && args.lang != "zh") {
    return InvalidArgumentError(fmt::format("--lang must be en or zh, got '{}'", args.lang));
  }
  ASSIGN_OR_RETURN(auto models, LoadCurrentIntentModels(ctx.data_dir));
  ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
  const auto t0 = std::chrono::steady_clock::now();
  LiveIntentArgs a = args;
  a.session_gap_ms = SessionGapMs(ctx.config);
  ASSIGN_OR_RETURN(nlohmann::json j, ScoreLiveIntent(*store, *models, a));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  j["took_ms"] = ms;
  if (ctx.json) {
    fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return OkStatus();
  }
  const auto& s = j["session_intent"];
  fmt::print("session {} ({} events): P(purchase) {:.3f}, {} intent   [model {}, {:.1f} ms]\n",
             j["session"].get<std::string>(), j["events"].get<int64_t>(),
             s["probability"].get<double>(), s["level"].get<std::string>(),
             j["model"].get<std::string>(), ms);
  PrintDrivers(s["drivers"]);
  if (!j["items"].empty()) {
    fmt::print("  items:\n");
    for (const auto& it : j["items"]) {
      fmt::print("    {:<16} P(bought in this session) {:.3f}\n", it["item"].get<std::string>(),
                 it["probability"].get<double>());
    }
  }
  if (!j["customer_intent"].is_null()) {
    fmt::print("  customer: P(buys in the next 30 days) {:.3f}\n",
               j["customer_intent"]["probability"].get<double>());
    PrintDrivers(j["customer_intent"]["drivers"]);
  }
  for (const auto& n : j["notes"]) fmt::print("note: {}\n", n.get<std::string>());
  return OkStatus();
}

}  // namespace

void RegisterCommand_intent(CLI::App& app, AppContext& ctx) {
  auto args = std::make_shared<LiveIntentArgs>();
  auto* cmd = app.add_subcommand(
      "intent", "purchase intent of a live session / shopper (after `souk train intent`)");
  AddCommonOptions(cmd, &ctx, true);
  cmd->add_option("--user", args->user, "the shopper's id (their latest session and history)");
  cmd->add_option("--session", args->session, "a live session id");
  cmd->add_option("--lang", args->lang, "language of the drivers: en or zh")->capture_default_str();
  cmd->add_option("--drivers", args->drivers, "how many drivers to show")->capture_default_str();
  cmd->callback([&ctx, args] {
    throw CLI::RuntimeError(Run(ctx, [&] { return RunIntent(ctx, *args); }));
  });
}

}  // namespace souk::app
